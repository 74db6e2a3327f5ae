from __future__ import annotations

import pytest
from django.urls import reverse

from kithkin.accounts.models import CareTeamMember, Client, User
from kithkin.audit.models import AuditEvent
from tests.conftest import World, signed_in

CONCERNS = "Nightmares after the flood"


def _url(client: Client) -> str:
    return reverse("client_overview", kwargs={"client_id": client.pk})


@pytest.fixture
def with_concerns(world: World) -> World:
    world.client_a.presenting_concerns = CONCERNS
    world.client_a.save()
    return world


@pytest.mark.django_db
def test_it_shows_the_care_team_the_clinical_overview(with_concerns: World) -> None:
    world = with_concerns
    response = signed_in(world.clinician).get(_url(world.client_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert CONCERNS in body
    assert "Alex Rivers" in body
    assert "Mel Member" in body and "Sister" in body
    assert "Cleo Clinician" in body
    assert reverse("client_audit", kwargs={"client_id": world.client_a.pk}) in body
    assert reverse("care_contacts", kwargs={"client_id": world.client_a.pk}) in body
    assert AuditEvent.objects.filter(
        action="client.view", client_id=str(world.client_a.pk), actor_id=world.clinician.pk
    ).exists()


@pytest.mark.django_db
def test_it_shows_an_admin_off_the_care_team_the_administrative_record_only(
    with_concerns: World,
) -> None:
    world = with_concerns
    response = signed_in(world.admin).get(_url(world.client_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alex Rivers" in body
    assert "Cleo Clinician" in body
    assert CONCERNS not in body
    assert "Sister" not in body  # network relationships are clinical too
    assert reverse("care_contacts", kwargs={"client_id": world.client_a.pk}) not in body
    assert reverse("client_edit", kwargs={"client_id": world.client_a.pk}) in body


@pytest.mark.django_db
def test_it_shows_an_admin_on_the_care_team_the_clinical_overview(with_concerns: World) -> None:
    world = with_concerns
    CareTeamMember.objects.create(client=world.client_a, user=world.admin)
    response = signed_in(world.admin).get(_url(world.client_a))
    assert CONCERNS in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["stranger", "colleague", "client_a_user", "client_b_user", "member"]
)
def test_it_refuses_strangers(with_concerns: World, who: str) -> None:
    world = with_concerns
    user: User = getattr(world, who)
    response = signed_in(user).get(_url(world.client_a))
    assert response.status_code == 404
    assert CONCERNS not in response.content.decode()
    assert AuditEvent.objects.filter(
        action="client.view", actor_id=user.pk, outcome="denied"
    ).exists()


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_sign_in(world: World) -> None:
    from django.test import Client as HttpClient

    response = HttpClient().get(_url(world.client_a))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
