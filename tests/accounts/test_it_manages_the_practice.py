from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kithkin.accounts.models import CareTeamMember, Client, Invitation, Role, User
from kithkin.audit.models import AuditEvent
from tests import factories
from tests.conftest import World, signed_in

CONCERNS = "Panic in crowded places"
STRANGERS = ["stranger", "clinician", "colleague", "client_a_user", "member"]


def _team(client: Client) -> set[str]:
    return set(
        CareTeamMember.objects.filter(client=client).values_list("user__display_name", flat=True)
    )


def _lead(client: Client) -> str:
    return str(CareTeamMember.objects.get(client=client, is_lead=True).user.display_name)


# --- the practice page ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_the_admin_staff_clients_and_invitations(world: World) -> None:
    world.client_a.presenting_concerns = CONCERNS
    world.client_a.save()
    http = signed_in(world.admin)
    http.post(
        reverse("practice_invite_staff"),
        {"display_name": "Nia New", "email": "nia@example.test", "role": "clinician"},
    )
    response = http.get(reverse("practice"))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ["Ada Admin", "Cleo Clinician", world.clinician.email, "Alex Rivers", "Bea Stone"]:
        assert text in body
    assert "nia@example.test" in body and "Revoke" in body
    assert "Oli Other" not in body  # another practice's client
    assert CONCERNS not in body
    assert AuditEvent.objects.filter(action="practice.view", actor_id=world.admin.pk).exists()


@pytest.mark.django_db
def test_it_orders_and_paginates_clients_by_name(world: World) -> None:
    for index in range(30):
        factories.client_of(world.practice, world.clinician, display_name=f"Zed {index:02d}")
    http = signed_in(world.admin)
    first = http.get(reverse("practice")).content.decode()
    assert first.index("Alex Rivers") < first.index("Bea Stone") < first.index("Zed 00")
    assert "Zed 23" not in first  # 25 per page
    second = http.get(reverse("practice") + "?page=2").content.decode()
    assert "Zed 23" in second and "Alex Rivers" not in second


def _grow(world: World, size: int) -> None:
    for index in range(size):
        staff = factories.staff(world.practice, Role.CLINICIAN, display_name=f"Staff {index}")
        factories.client_of(world.practice, staff, world.clinician, portal=index % 2 == 0)
        Invitation.objects.create(
            practice=world.practice,
            role=Role.CLINICIAN,
            email=f"x{index}@example.test",
            secret_hash=Invitation.make_secret()[1],
            invited_by=world.admin,
        )


@pytest.mark.django_db
def test_it_keeps_the_practice_page_query_count_constant(world: World) -> None:
    http = signed_in(world.admin)
    counts = []
    for size in (2, 10):
        _grow(world, size)
        with CaptureQueriesContext(connection) as queries:
            response = http.get(reverse("practice"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
@pytest.mark.parametrize("who", STRANGERS)
@pytest.mark.parametrize("name", ["practice", "practice_invite_staff", "practice_client_create"])
def test_it_refuses_the_practice_pages_to_anyone_but_admins(
    world: World, who: str, name: str
) -> None:
    user: User = getattr(world, who)
    http = signed_in(user)
    assert http.get(reverse(name)).status_code == 403
    assert http.post(reverse(name), {"email": "x@example.test"}).status_code == 403
    assert Client.objects.count() == 3


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_sign_in(world: World) -> None:
    response = HttpClient().get(reverse("practice"))
    assert response.status_code == 302


# --- adding and editing clients ---------------------------------------------------------


@pytest.mark.django_db
def test_it_adds_a_client_with_a_care_team(world: World) -> None:
    response = signed_in(world.admin).post(
        reverse("practice_client_create"),
        {
            "display_name": "Dana Fields",
            "preferred_name": "Dee",
            "birth_year": "1988",
            "presenting_concerns": CONCERNS,
            "care_team": [world.clinician.pk, world.colleague.pk],
            "lead": world.colleague.pk,
        },
    )
    client = Client.objects.get(display_name="Dana Fields")
    assert response.status_code == 302
    assert response["Location"] == reverse("client_overview", kwargs={"client_id": client.pk})
    assert client.practice == world.practice
    assert client.presenting_concerns == CONCERNS
    assert _team(client) == {"Cleo Clinician", "Colin Colleague"}
    assert _lead(client) == "Colin Colleague"
    event = AuditEvent.objects.get(action="client.create")
    assert event.client_id == str(client.pk)
    assert CONCERNS not in str(event.detail)


@pytest.mark.django_db
def test_it_refuses_a_client_without_a_care_team_or_with_a_stranger(world: World) -> None:
    http = signed_in(world.admin)
    base = {"display_name": "Dana Fields", "birth_year": "1988"}
    response = http.post(reverse("practice_client_create"), {**base, "lead": world.clinician.pk})
    assert "Choose at least one clinician for the care team." in response.content.decode()
    response = http.post(
        reverse("practice_client_create"),
        {**base, "care_team": [world.stranger.pk], "lead": world.stranger.pk},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = http.post(
        reverse("practice_client_create"),
        {**base, "care_team": [world.clinician.pk], "lead": world.colleague.pk},
    )
    assert "The lead clinician must also be ticked in the care team." in response.content.decode()
    response = http.post(
        reverse("practice_client_create"),
        {
            **base,
            "birth_year": "1700",
            "care_team": [world.clinician.pk],
            "lead": world.clinician.pk,
        },
    )
    assert "Year of birth" in response.content.decode()
    assert not Client.objects.filter(display_name="Dana Fields").exists()
    assert not AuditEvent.objects.filter(action="client.create").exists()


@pytest.mark.django_db
def test_it_edits_administrative_fields_only(world: World) -> None:
    world.client_a.presenting_concerns = CONCERNS
    world.client_a.save()
    url = reverse("client_edit", kwargs={"client_id": world.client_a.pk})
    http = signed_in(world.admin)
    page = http.get(url).content.decode()
    assert "Alex Rivers" in page and CONCERNS not in page
    response = http.post(
        url,
        {
            "display_name": "Alexandra Rivers",
            "preferred_name": "Alex",
            "birth_year": "1991",
            "presenting_concerns": "overwritten?",
        },
    )
    assert response.status_code == 302
    world.client_a.refresh_from_db()
    assert world.client_a.display_name == "Alexandra Rivers"
    assert world.client_a.birth_year == 1991
    assert world.client_a.presenting_concerns == CONCERNS
    event = AuditEvent.objects.get(action="client.update")
    assert event.detail == {"fields": ["display_name", "preferred_name", "birth_year"]}


@pytest.mark.django_db
@pytest.mark.parametrize("who", [*STRANGERS, "client_b_user"])
def test_it_refuses_editing_to_anyone_but_the_practice_admin(world: World, who: str) -> None:
    url = reverse("client_edit", kwargs={"client_id": world.client_a.pk})
    response = signed_in(getattr(world, who)).post(url, {"display_name": "Hacked"})
    assert response.status_code == 404
    world.client_a.refresh_from_db()
    assert world.client_a.display_name == "Alex Rivers"


@pytest.mark.django_db
def test_it_refuses_another_practices_admin(world: World) -> None:
    other_admin = factories.staff(world.other_practice, Role.ADMIN, display_name="Other Admin")
    url = reverse("client_edit", kwargs={"client_id": world.client_a.pk})
    assert signed_in(other_admin).get(url).status_code == 404
    assert (
        signed_in(other_admin)
        .get(reverse("client_overview", kwargs={"client_id": world.client_a.pk}))
        .status_code
        == 404
    )


# --- the care team ----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_adds_removes_and_changes_the_lead(world: World) -> None:
    url = reverse("client_care_team", kwargs={"client_id": world.client_a.pk})
    http = signed_in(world.admin)
    assert "Colin Colleague" in http.get(url).content.decode()
    http.post(url, {"add-user": world.colleague.pk, "add-lead": "on"})
    assert _team(world.client_a) == {"Cleo Clinician", "Colin Colleague"}
    assert _lead(world.client_a) == "Colin Colleague"
    http.post(url, {"user": world.clinician.pk, "change": "lead"})
    assert _lead(world.client_a) == "Cleo Clinician"
    response = http.post(url, {"user": world.clinician.pk, "change": "remove"}, follow=True)
    assert "Cleo Clinician left the care team." in response.content.decode()
    assert _team(world.client_a) == {"Colin Colleague"}
    assert _lead(world.client_a) == "Colin Colleague"  # the lead passed on
    changes = [e.detail["change"] for e in AuditEvent.objects.filter(action="care_team.update")]
    assert changes == ["add", "lead", "remove"]


@pytest.mark.django_db
def test_it_keeps_at_least_one_clinician_on_the_team(world: World) -> None:
    url = reverse("client_care_team", kwargs={"client_id": world.client_a.pk})
    response = signed_in(world.admin).post(
        url, {"user": world.clinician.pk, "change": "remove"}, follow=True
    )
    assert "the only clinician on this care team" in response.content.decode()
    assert _team(world.client_a) == {"Cleo Clinician"}
    assert not AuditEvent.objects.filter(action="care_team.update").exists()


@pytest.mark.django_db
def test_it_refuses_adding_staff_of_another_practice(world: World) -> None:
    url = reverse("client_care_team", kwargs={"client_id": world.client_a.pk})
    response = signed_in(world.admin).post(url, {"add-user": world.stranger.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert _team(world.client_a) == {"Cleo Clinician"}


@pytest.mark.django_db
@pytest.mark.parametrize("who", [*STRANGERS, "client_b_user"])
def test_it_refuses_care_team_changes_to_anyone_but_the_admin(world: World, who: str) -> None:
    url = reverse("client_care_team", kwargs={"client_id": world.client_a.pk})
    response = signed_in(getattr(world, who)).post(url, {"add-user": world.colleague.pk})
    assert response.status_code == 404
    assert _team(world.client_a) == {"Cleo Clinician"}
