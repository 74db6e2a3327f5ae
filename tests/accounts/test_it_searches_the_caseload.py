"""Staff find their own current clients by name or preferred name, by POST (no names in URLs),
audited with the count only, in a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

URL = reverse("caseload_search")


def _search(user: Any, text: str) -> str:
    response = signed_in(user).post(URL, {"q": text})
    assert response.status_code == 200
    return response.content.decode()


def test_it_finds_own_clients_by_name_in_any_letter_case(world: World) -> None:
    page = _search(world.clinician, "aLEx")
    assert "Alex Rivers" in page
    assert reverse("client_overview", args=[world.client_a.pk]) in page
    assert "1 client found." in page


def test_it_finds_by_preferred_name(world: World) -> None:
    world.client_a.preferred_name = "Lexi"
    world.client_a.save()
    page = _search(world.clinician, "lex")
    assert "Alex Rivers" in page and "prefers Lexi" in page


def test_it_never_finds_clients_off_the_care_team_or_discharged(world: World) -> None:
    # Bea is a client of the same practice on a colleague's care team.
    page = _search(world.clinician, "Bea")
    assert "Bea Stone" not in page
    assert "0 clients found." in page
    world.client_a.discharged_at = timezone.now()
    world.client_a.save()
    assert "Alex Rivers" not in _search(world.clinician, "Alex")


def test_a_stranger_finds_nothing_and_clients_and_members_are_refused(world: World) -> None:
    page = _search(world.stranger, "Alex")
    assert "Alex Rivers" not in page
    assert AuditEvent.objects.filter(action="caseload.search").latest("id").detail == {"count": 0}
    for user in (world.client_a_user, world.member):
        assert signed_in(user).post(URL, {"q": "Alex"}).status_code == 403
    assert AuditEvent.objects.filter(action="caseload.search", outcome="denied").count() == 2


def test_the_search_is_audited_with_the_count_only(world: World) -> None:
    _search(world.clinician, "Alex Rivers")
    event = AuditEvent.objects.filter(action="caseload.search").latest("id")
    assert event.detail == {"count": 1}
    assert event.actor_id == world.clinician.pk
    assert "Alex" not in str(event.detail) and "Alex" not in event.object_id


def test_bad_input_gets_a_clear_message(world: World) -> None:
    assert "Type at least two letters of a name." in _search(world.clinician, " a ")
    assert "Type at least two letters of a name." in _search(world.clinician, "")
    assert "type at most 60 letters" in _search(world.clinician, "x" * 61)
    assert not AuditEvent.objects.filter(action="caseload.search").exists()


def test_the_search_goes_by_post_and_the_home_page_offers_it(world: World) -> None:
    home = signed_in(world.clinician).get(reverse("home")).content.decode()
    assert f'method="post" action="{URL}"' in home
    assert 'role="search"' in home
    # GET shows an empty form and ignores any query string.
    page = signed_in(world.clinician).get(URL + "?q=Alex").content.decode()
    assert "Alex Rivers" not in page


def _queries_for(user: Any, text: str) -> int:
    http = signed_in(user)
    http.post(URL, {"q": text})  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        response = http.post(URL, {"q": text})
    assert response.status_code == 200
    return len(queries)


def test_its_query_count_does_not_grow_with_the_caseload(world: World) -> None:
    for n in range(3):
        factories.client_of(world.practice, world.clinician, display_name=f"Search Person {n}")
    small = _queries_for(world.clinician, "Search Person")
    for n in range(3, 40):
        factories.client_of(world.practice, world.clinician, display_name=f"Search Person {n}")
    large = _queries_for(world.clinician, "Search Person")
    assert small == large
    page = _search(world.clinician, "Search Person")
    assert "25 clients found." in page
    assert "Only the first 25 are shown" in page
