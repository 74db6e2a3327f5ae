"""File exports and the caseload search are rate-limited per user in the shared store: over the
limit, a calm 429 with Retry-After, audited; other people keep their own allowance."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from kithkin.audit.models import AuditEvent
from kithkin.security import limits, throttle
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _use_up(scope: str, user_pk: int, times: int, window_seconds: int) -> None:
    for _ in range(times):
        throttle.add(scope, f"user:{user_pk}", window_seconds=window_seconds)


def _export_urls(world: World) -> list[str]:
    client = {"client_id": world.client_a.pk}
    some = uuid.uuid4()
    return [
        reverse("network_export_download", kwargs=client) + "?format=csv",
        reverse("network_map_pdf", kwargs=client),
        reverse("measures_export_fhir", kwargs=client),
        reverse("measures_response_fhir", kwargs={**client, "response_id": some}),
        reverse("care_report_pdf", kwargs=client),
        reverse("care_session_pdf", kwargs={**client, "session_id": some}),
        reverse("care_session_ics", kwargs={**client, "session_id": some}),
        reverse("circle_session_pdf", kwargs={**client, "session_id": some}),
        reverse("circle_session_ics", kwargs={**client, "session_id": some}),
    ]


def test_an_export_within_the_limit_works_and_the_next_is_refused(world: World) -> None:
    http = signed_in(world.clinician)
    url = reverse("measures_export_fhir", kwargs={"client_id": world.client_a.pk})
    _use_up(
        "export.file",
        world.clinician.pk,
        limits.FILE_EXPORT_LIMIT - 1,
        limits.FILE_EXPORT_WINDOW_SECONDS,
    )
    assert http.get(url).status_code == 200
    refused = http.get(url)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= limits.FILE_EXPORT_WINDOW_SECONDS
    assert "Too many tries. Please wait" in refused.content.decode()
    event = AuditEvent.objects.get(action="throttle.refused")
    assert event.detail == {"scope": "export.file"}
    assert event.actor_id == world.clinician.pk


def test_every_file_export_is_limited(world: World) -> None:
    _use_up(
        "export.file",
        world.clinician.pk,
        limits.FILE_EXPORT_LIMIT,
        limits.FILE_EXPORT_WINDOW_SECONDS,
    )
    http = signed_in(world.clinician)
    answers = {url: http.get(url).status_code for url in _export_urls(world)}
    assert answers == dict.fromkeys(answers, 429)


def test_one_persons_limit_leaves_others_theirs_and_strangers_stay_refused(world: World) -> None:
    _use_up(
        "export.file",
        world.clinician.pk,
        limits.FILE_EXPORT_LIMIT,
        limits.FILE_EXPORT_WINDOW_SECONDS,
    )
    url = reverse("measures_export_fhir", kwargs={"client_id": world.client_a.pk})
    assert signed_in(world.clinician).get(url).status_code == 429
    # The stranger has an allowance of their own, and is refused the client as ever.
    assert signed_in(world.stranger).get(url).status_code in {403, 404}


def test_the_caseload_search_is_limited_per_user(world: World) -> None:
    url = reverse("caseload_search")
    _use_up(
        "caseload.search",
        world.clinician.pk,
        limits.SEARCH_LIMIT - 1,
        limits.SEARCH_WINDOW_SECONDS,
    )
    http = signed_in(world.clinician)
    assert http.post(url, {"q": "Alex"}).status_code == 200
    refused = http.post(url, {"q": "Alex"})
    assert refused.status_code == 429
    assert "Alex Rivers" not in refused.content.decode()
    # Opening the empty search page is not a search and is not counted.
    assert http.get(url).status_code == 200
    # A colleague searches as usual.
    assert signed_in(world.colleague).post(url, {"q": "Bea"}).status_code == 200
    assert AuditEvent.objects.get(action="throttle.refused").detail == {"scope": "caseload.search"}


def test_searching_thirty_times_in_a_minute_is_allowed_and_the_next_is_not(world: World) -> None:
    http = signed_in(world.clinician)
    url = reverse("caseload_search")
    codes = [http.post(url, {"q": "Alex"}).status_code for _ in range(limits.SEARCH_LIMIT + 1)]
    assert codes == [200] * limits.SEARCH_LIMIT + [429]
