"""The client's own consent records: append-only versions against a versioned notice, changed
from her portal and read by her care team."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kithkin.accounts.models import Role
from kithkin.audit.models import AuditEvent
from kithkin.privacy import services
from kithkin.privacy.models import (
    AppendOnlyConsentError,
    ConsentDecision,
    ConsentRecord,
    ConsentTopic,
)
from tests import factories
from tests.conftest import World, signed_in

MY_CONSENT = reverse("privacy_my_consent")


def as_client(world: World) -> HttpRequest:
    request = RequestFactory().post("/")
    request.user = world.client_a_user
    return request


def history_url(world: World) -> str:
    return reverse("privacy_client_consent", kwargs={"client_id": world.client_a.pk})


@pytest.mark.django_db
def test_each_decision_is_a_new_version_against_the_current_notice(world: World) -> None:
    http = signed_in(world.client_a_user)
    page = http.get(MY_CONSENT).content.decode()
    assert "Not answered yet" in page
    for decision in ("given", "withdrawn", "given"):
        response = http.post(MY_CONSENT, {"topic": "data_processing", "decision": decision})
        assert response.status_code == 302
    records = list(
        ConsentRecord.objects.filter(client=world.client_a, topic="data_processing").order_by(
            "version"
        )
    )
    assert [(r.version, r.decision) for r in records] == [
        (1, "given"),
        (2, "withdrawn"),
        (3, "given"),
    ]
    notice = services.NOTICES[ConsentTopic.DATA_PROCESSING]
    assert {r.notice_version for r in records} == {notice.version}
    assert all(r.recorded_by == world.client_a_user for r in records)
    assert AuditEvent.objects.filter(action="privacy.consent.record").count() == 3
    states = {s.notice.topic: s for s in services.consent_states(world.client_a)}
    assert states[ConsentTopic.DATA_PROCESSING].is_given
    assert states[ConsentTopic.TREATMENT].current is None


@pytest.mark.django_db
def test_a_changed_notice_asks_for_renewal(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    request = as_client(world)
    services.record_consent(request, world.client_a, topic="treatment", decision="given")
    old = services.NOTICES[ConsentTopic.TREATMENT]
    monkeypatch.setitem(
        services.NOTICES,
        ConsentTopic.TREATMENT,
        services.Notice(old.topic, "2099-1", old.title, old.text),
    )
    state = {s.notice.topic: s for s in services.consent_states(world.client_a)}["treatment"]
    assert state.needs_renewal
    page = signed_in(world.client_a_user).get(MY_CONSENT).content.decode()
    assert "The notice has changed" in page


@pytest.mark.django_db
def test_records_are_never_changed(world: World) -> None:
    record = services.record_consent(
        as_client(world), world.client_a, topic="treatment", decision="given"
    )
    record.decision = ConsentDecision.WITHDRAWN
    with pytest.raises(AppendOnlyConsentError):
        record.save()
    with pytest.raises(AppendOnlyConsentError):
        ConsentRecord.objects.filter(pk=record.pk).update(decision="withdrawn")


@pytest.mark.django_db
def test_bad_choices_are_refused_with_a_message(world: World) -> None:
    http = signed_in(world.client_a_user)
    response = http.post(MY_CONSENT, {"topic": "marketing", "decision": "given"}, follow=True)
    assert "could not be saved" in response.content.decode()
    assert not ConsentRecord.objects.exists()


@pytest.mark.django_db
def test_the_care_team_reads_the_history(world: World) -> None:
    request = as_client(world)
    services.record_consent(request, world.client_a, topic="treatment", decision="given")
    for user in (world.clinician, world.admin):
        page = signed_in(user).get(history_url(world))
        assert page.status_code == 200
        assert "Care and treatment" in page.content.decode()
    assert signed_in(world.clinician).post(history_url(world)).status_code == 405


@pytest.mark.django_db
def test_it_refuses_strangers(world: World) -> None:
    refused = [
        world.stranger,
        factories.staff(world.other_practice, Role.ADMIN),
        world.colleague,
        world.member,
        world.client_b_user,
        world.client_a_user,
    ]
    for user in refused:
        assert signed_in(user).get(history_url(world)).status_code == 404
    # Only clients have consent of their own to record here.
    for user in (world.stranger, world.member, world.clinician):
        http = signed_in(user)
        assert http.get(MY_CONSENT).status_code == 404
        assert http.post(MY_CONSENT, {"topic": "treatment", "decision": "given"}).status_code == 404
    assert not ConsentRecord.objects.exists()


@pytest.mark.django_db
def test_the_history_page_queries_do_not_grow(world: World) -> None:
    request = as_client(world)
    http = signed_in(world.clinician)

    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(history_url(world)).status_code == 200
        return len(queries.captured_queries)

    services.record_consent(request, world.client_a, topic="treatment", decision="given")
    small = measure()
    for n in range(12):
        services.record_consent(
            request,
            world.client_a,
            topic=("treatment", "data_processing", "network_involvement")[n % 3],
            decision=("given", "withdrawn")[n % 2],
        )
    assert measure() == small
