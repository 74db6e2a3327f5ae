"""Each role lands on its own home page, showing only what that role may see."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import CareTeamMember, Invitation, Membership, NetworkMember, Role
from kithkin.audit.models import AuditEvent
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _home(user: object) -> str:
    response = signed_in(user).get(reverse("home"))  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def test_it_shows_the_clinician_their_caseload(world: World) -> None:
    world.client_a.birth_year = timezone.localdate().year - 34
    world.client_a.save(update_fields=["birth_year"])
    body = _home(world.clinician)
    assert "Your caseload" in body
    assert "Alex Rivers" in body
    assert reverse("client_overview", kwargs={"client_id": world.client_a.pk}) in body
    assert ">34<" in body
    assert "Lead clinician" in body
    # Only names and ages: the encrypted presenting concerns never reach a list.
    assert "Sleep, low mood" not in body
    assert "Bea Stone" not in body


def test_it_shows_the_stranger_clinician_never_client_a(world: World) -> None:
    body = _home(world.stranger)
    assert "Oli Other" in body
    assert "Alex Rivers" not in body
    assert str(world.client_a.pk) not in body


def test_it_shows_a_colleague_only_their_own_clients(world: World) -> None:
    body = _home(world.colleague)
    assert "Bea Stone" in body
    assert "Alex Rivers" not in body


def test_it_shows_the_caseload_in_name_order_without_discharged_clients(world: World) -> None:
    factories.client_of(world.practice, world.clinician, display_name="Aaron Able")
    gone = factories.client_of(world.practice, world.clinician, display_name="Zed Gone")
    gone.discharged_at = timezone.now()
    gone.save(update_fields=["discharged_at"])
    body = _home(world.clinician)
    assert body.index("Aaron Able") < body.index("Alex Rivers")
    assert "Zed Gone" not in body


def test_it_shows_a_non_lead_clinician_as_care_team(world: World) -> None:
    CareTeamMember.objects.create(client=world.client_a, user=world.colleague, is_lead=False)
    body = _home(world.colleague)
    assert "Alex Rivers" in body
    assert body.count("badge--primary") == 1  # Bea Stone only, where the colleague leads


def test_it_shows_the_caseload_audited_once_with_a_count(world: World) -> None:
    factories.client_of(world.practice, world.clinician)
    http = signed_in(world.clinician)
    before = AuditEvent.objects.count()
    assert http.get(reverse("home")).status_code == 200
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["caseload.view"]
    assert events[0].detail == {"count": 2}
    assert events[0].actor_id == world.clinician.pk
    assert events[0].client_id == ""


def test_it_shows_the_caseload_paginated_by_25(world: World) -> None:
    for index in range(26):
        factories.client_of(world.practice, world.clinician, display_name=f"Pat {index:02d}")
    first = _home(world.clinician)
    assert "Page 1 of 2" in first
    assert "Pat 23" in first and "Pat 24" not in first
    second = signed_in(world.clinician).get(reverse("home") + "?page=2").content.decode()
    assert "Pat 24" in second and "Pat 25" in second
    assert "Alex Rivers" not in second


def _caseload_queries(world: World, size: int) -> int:
    clinician = factories.staff(world.practice, Role.CLINICIAN, display_name=f"Size {size}")
    for index in range(size):
        factories.client_of(world.practice, clinician, display_name=f"Q{size} {index}")
    http = signed_in(clinician)
    http.get(reverse("home"))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = http.get(reverse("home"))
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == size + 1
    return len(queries)


def test_it_shows_the_caseload_in_a_constant_number_of_queries(world: World) -> None:
    assert _caseload_queries(world, 2) == _caseload_queries(world, 12)


def test_it_shows_the_practice_admin_a_summary(world: World) -> None:
    Invitation.objects.create(
        practice=world.practice, role=Role.CLINICIAN, email="new@example.test", secret_hash="x"
    )
    body = _home(world.admin)
    assert "Harbour Practice" in body
    assert reverse("practice") in body
    assert "invitation waiting for a reply" in body
    assert '>2</span><span class="stat__label">clinicians' in body
    assert '>2</span><span class="stat__label">current clients' in body
    # Not on any care team: no caseload, and no client names.
    assert "Your caseload" not in body
    assert "Alex Rivers" not in body


def test_it_shows_the_practice_admin_their_caseload_when_on_a_care_team(world: World) -> None:
    CareTeamMember.objects.create(client=world.client_a, user=world.admin)
    body = _home(world.admin)
    assert "Your practice at a glance" in body
    assert "Your caseload" in body
    assert "Alex Rivers" in body
    assert "Bea Stone" not in body


def test_it_shows_the_client_a_warm_home(world: World) -> None:
    http = signed_in(world.client_a_user)
    before = AuditEvent.objects.count()
    body = http.get(reverse("home")).content.decode()
    assert "Welcome, Alex" in body
    assert "Cleo Clinician" in body
    assert "Colin Colleague" not in body
    map_url = reverse("network_map", kwargs={"client_id": world.client_a.pk})
    assert f'href="{map_url}"' in body
    assert "Your support map" in body
    assert "If you need help now" in body
    assert "Your caseload" not in body
    assert "Sleep, low mood" not in body
    event = AuditEvent.objects.order_by("id")[before:].get()
    assert event.action == "client.home.view"
    assert event.client_id == str(world.client_a.pk)


def test_it_shows_client_b_nothing_of_client_a(world: World) -> None:
    body = _home(world.client_b_user)
    assert "Welcome, Bea" in body
    assert "Alex" not in body
    assert "Cleo Clinician" not in body


def test_it_shows_the_client_their_preferred_name(world: World) -> None:
    world.client_a.preferred_name = "Lex"
    world.client_a.save(update_fields=["preferred_name"])
    assert "Welcome, Lex" in _home(world.client_a_user)


def test_it_shows_the_network_member_their_circle_and_nothing_else(world: World) -> None:
    body = _home(world.member)
    assert "You are part of Alex's support circle" in body
    assert f"/circles/{world.client_a.pk}/" in body
    assert "Rivers" not in body  # first name only
    assert "Sister" not in body
    assert "Cleo Clinician" not in body
    assert "Your caseload" not in body


def test_it_shows_an_ended_member_the_no_access_page(world: World) -> None:
    NetworkMember.objects.filter(user=world.member).update(ended_at=timezone.now())
    body = _home(world.member)
    assert "does not give access to anything yet" in body
    assert "Alex" not in body


def test_it_shows_a_member_of_two_circles_both(world: World) -> None:
    NetworkMember.objects.create(client=world.client_b, user=world.member)
    body = _home(world.member)
    assert "Alex's support circle" in body
    assert "Bea's support circle" in body


def test_it_shows_a_user_without_a_role_a_calm_page(world: World) -> None:
    Membership.objects.filter(user=world.colleague).delete()
    body = _home(world.colleague)
    assert "does not give access to anything yet" in body
    assert "ask your practice admin" in body
    assert "Bea Stone" not in body


def test_it_shows_dates_added_in_the_users_time_zone(world: World) -> None:
    CareTeamMember.objects.filter(client=world.client_a).update(
        added_at=datetime.datetime(2024, 3, 10, 2, 0, tzinfo=datetime.UTC)
    )
    assert "10 Mar 2024" in _home(world.clinician)
    world.clinician.time_zone = "America/New_York"
    world.clinician.save(update_fields=["time_zone"])
    body = _home(world.clinician)
    assert "9 Mar 2024" in body
    assert "10 Mar 2024" not in body


def test_it_shows_home_only_to_signed_in_people(world: World) -> None:
    response = HttpClient().get(reverse("home"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login.required", outcome="denied").exists()
