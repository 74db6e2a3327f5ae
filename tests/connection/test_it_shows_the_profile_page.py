"""The profile page: the client reads it in calm, plain words, her care team with instruments and
scores; every element says where it comes from; strangers get a 404 (audited) whatever the
method; and the page costs the same number of queries however much data there is."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client, User
from kithkin.audit.models import AuditEvent
from tests import factories
from tests.conftest import World, signed_in
from tests.connection.profile_data import (
    checkin,
    contacts_in_weeks,
    factors,
    five_s,
    keyed,
    profile_url,
    rich_client,
)


def _words(page: str) -> str:
    """The text a reader sees, without markup."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _some_data(client: Client) -> None:
    now = timezone.now()
    checkin(client, "protective_factors", factors(4, inclusion=1), days_ago=30, now=now)
    checkin(client, "protective_factors", factors(4, inclusion=2), days_ago=1, now=now)
    checkin(client, "five_s", five_s(3), days_ago=1, now=now)
    checkin(client, "ucla3", keyed("ucla3", 1), days_ago=60, now=now)
    checkin(client, "ucla3", keyed("ucla3", 2), days_ago=1, now=now)
    quin = factories.person_of(client, "Quinlan", helps_safe=True, gives_practical=True)
    factories.person_of(client, "Drew", not_safe=True, helps_safe=True)
    contacts_in_weeks(quin, [1, 1, 0, 1], now=now)


def test_it_speaks_to_the_client_in_plain_words(world: World) -> None:
    _some_data(world.client_a)
    response = signed_in(world.client_a_user).get(profile_url(world.client_a))
    assert response.status_code == 200
    page = response.content.decode()
    words = _words(page)
    assert "Your connections" in words
    assert "What helps you stay well when apart" in words
    assert "From your Protective factors check-in on" in words
    assert "From your support map and contact log" in words
    assert "From your support map" in words
    assert "Only one person on your map helps you feel safe" in words
    assert "You have often felt lonely lately." in words
    assert "Harder lately" in words  # loneliness rose
    # The other side's questionnaires have not been filled in: a calm note, no list of names.
    assert "More will show here as you fill in check-ins." in words
    for jargon in ("UCLA-3", "SCS-SF", "SSPS", "FCS", "cut-off", "Jacobson", "Weak point", "range"):
        assert jargon not in words, jargon
    assert "Drew" not in words


def test_it_gives_the_care_team_instruments_scores_and_sources(world: World) -> None:
    _some_data(world.client_a)
    response = signed_in(world.clinician).get(profile_url(world.client_a))
    assert response.status_code == 200
    words = _words(response.content.decode())
    assert "Connection and resilience profile: Alex Rivers" in words
    assert "Seven protective factors" in words and "Five S's coverage" in words
    assert "Protective factors," in words and "(2 responses)" in words
    assert "UCLA-3 6 (range 3 to 9)" in words
    assert "3 → 6 since" in words and "direction only: no reliable-change data" in words
    assert "Not completed yet: SCS-SF, SSPS." in words
    assert "Not completed yet: FCS." in words
    assert "Contact log and contact rhythms" in words
    assert "Only one person on the map provides “safe”" in words
    assert "Drew" not in words


def test_it_links_to_the_pages_it_draws_on(world: World) -> None:
    page = signed_in(world.client_a_user).get(profile_url(world.client_a)).content.decode()
    client_id = world.client_a.pk
    for name in ("network_map", "connection_rhythm", "measures_overview"):
        assert reverse(name, kwargs={"client_id": client_id}) in page


def test_it_invites_a_client_with_no_data_to_start(world: World) -> None:
    page = signed_in(world.client_a_user).get(profile_url(world.client_a)).content.decode()
    assert "Nothing to show yet." in page
    assert "Something you could try" not in page
    clinician = signed_in(world.clinician).get(profile_url(world.client_a)).content.decode()
    assert "No data for the profile yet." in clinician
    assert "No data: assign the Protective factors check-in." in clinician


def _users(world: World) -> dict[str, User]:
    return {
        "stranger": world.stranger,
        "colleague": world.colleague,
        "client_b": world.client_b_user,
        "member": world.member,
        "admin": world.admin,
    }


@pytest.mark.parametrize("who", ["stranger", "colleague", "client_b", "member", "admin"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_refuses_everyone_else_alike(world: World, who: str, method: str) -> None:
    _some_data(world.client_a)
    http = signed_in(_users(world)[who])
    response = getattr(http, method)(profile_url(world.client_a))
    assert response.status_code == 404
    assert "Quinlan" not in response.content.decode()
    assert "Alex Rivers" not in response.content.decode()
    denied = AuditEvent.objects.filter(
        action="connection.profile.view", object_id=str(world.client_a.pk), outcome="denied"
    )
    assert denied.count() == 1


def test_it_refuses_a_visitor_who_is_not_signed_in(world: World) -> None:
    from django.test import Client as HttpClient

    response = HttpClient().get(profile_url(world.client_a))
    assert response.status_code == 302 and "login" in response["Location"]


def test_it_audits_the_read_and_only_answers_get(world: World) -> None:
    http = signed_in(world.clinician)
    assert http.get(profile_url(world.client_a)).status_code == 200
    assert AuditEvent.objects.filter(
        action="connection.profile.view",
        object_id=str(world.client_a.pk),
        actor_id=world.clinician.pk,
        outcome="success",
    ).exists()
    assert http.post(profile_url(world.client_a)).status_code == 405


def _queries(world: World, user: User) -> int:
    http = signed_in(user)
    http.get(profile_url(world.client_a))  # warm up: sessions, caches
    with CaptureQueriesContext(connection) as queries:
        assert http.get(profile_url(world.client_a)).status_code == 200
    return len(queries)


def test_its_query_count_does_not_grow_with_the_data(world: World) -> None:
    now = timezone.now()
    rich_client(world.client_a, scale=1, now=now)
    small = {_queries(world, user) for user in (world.client_a_user, world.clinician)}
    rich_client(world.client_a, scale=6, now=now)
    large = {_queries(world, user) for user in (world.client_a_user, world.clinician)}
    assert small == large
