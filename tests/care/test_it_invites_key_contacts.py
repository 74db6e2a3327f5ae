from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.http import HttpRequest
from django.test import Client as HttpClient

from kithkin.accounts.models import Invitation, NetworkMember, Role, User
from kithkin.audit.models import AuditEvent
from kithkin.care import plan
from kithkin.care.models import KeyContact
from kithkin.network.models import Category
from tests import factories
from tests.care import plan_data
from tests.care.plan_data import url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

CONCERNS = "Flashbacks since the accident"


@pytest.fixture
def rob(world: World) -> KeyContact:
    world.client_a.presenting_concerns = CONCERNS
    world.client_a.save()
    person = factories.person_of(world.client_a, "Rob", category=Category.FAMILY)
    return plan_data.key_contact(world.client_a, person, why="Brother who visits")


def _invite(http: HttpClient, world: World, contact: KeyContact, email: str) -> Any:
    return http.post(
        url("care_contact_invite", world.client_a, contact_id=contact.pk),
        {"display_name": "Rob Rivers", "email": email},
    )


def test_it_invites_a_key_contact_by_email(world: World, rob: KeyContact) -> None:
    http = signed_in(world.clinician)
    page = url("care_contact_invite", world.client_a, contact_id=rob.pk)
    assert 'value="Rob"' in http.get(page).content.decode()  # their name from the map
    response = _invite(http, world, rob, "Rob@Example.test")
    assert response["Location"] == url("care_contact", world.client_a, contact_id=rob.pk)
    invitation = Invitation.objects.get()
    assert (invitation.role, invitation.client, invitation.email) == (
        Role.MEMBER,
        world.client_a,
        "rob@example.test",
    )
    assert invitation.relationship == "Family" and invitation.invited_by == world.clinician
    rob.refresh_from_db()
    assert rob.invitation == invitation
    assert plan.status_of(rob) is plan.ContactStatus.INVITED
    [message] = mail.outbox
    assert message.to == ["rob@example.test"]
    text = str(message.subject) + str(message.body)
    plan_data.invitation_link(message.body)
    assert "Cleo Clinician" in text and "Harbour Practice" in text
    assert message.body.startswith("Hello Rob Rivers,")  # greeted as the form promises
    assert "Alex" in text  # the client's first name only, so they know whom they support
    assert "Alex Rivers" not in text
    assert CONCERNS not in text and "Brother who visits" not in text
    event = AuditEvent.objects.get(action="care.contact.invite")
    assert event.object_id == str(rob.pk) and event.detail == {"invitation": str(invitation.pk)}
    assert "rob" not in str(event.detail).lower().replace(str(invitation.pk), "")


def test_when_the_client_invites_the_email_names_her_by_first_name_only(
    world: World, rob: KeyContact
) -> None:
    _invite(signed_in(world.client_a_user), world, rob, "rob@example.test")
    [message] = mail.outbox
    text = str(message.subject) + str(message.body)
    assert message.body.startswith("Hello Rob Rivers,")
    assert "Alex would like you to be part of their support circle on Kithkin" in text
    assert "Rivers has invited" not in text and "Alex Rivers" not in text
    assert CONCERNS not in text
    # The acceptance page says the same, and still nothing more about her.
    page = HttpClient().get(plan_data.invitation_link(message.body)).content.decode()
    assert "Alex would like you to be part of their support circle" in page
    assert "Alex Rivers" not in page
    # A stranger cannot send invitations from her plan.
    assert _invite(signed_in(world.stranger), world, rob, "x@example.test").status_code == 404
    assert len(mail.outbox) == 1


def test_it_links_the_key_contact_once_the_invitation_is_accepted(
    world: World, rob: KeyContact
) -> None:
    _invite(signed_in(world.client_a_user), world, rob, "rob@example.test")
    invitation = Invitation.objects.get()
    assert invitation.invited_by == world.client_a_user
    plan_data.accept(plan_data.invitation_link(mail.outbox[0].body))
    rob.refresh_from_db()
    member = NetworkMember.objects.get(user__email="rob@example.test")
    assert rob.network_member == member and member.client == world.client_a
    assert member.relationship == "Family"
    assert plan.status_of(rob) is plan.ContactStatus.JOINED
    body = signed_in(world.clinician).get(url("care_plan", world.client_a)).content.decode()
    assert "Joined" in body

    # Joined: no second invitation, whatever is posted.
    http = signed_in(world.clinician)
    page = url("care_contact_invite", world.client_a, contact_id=rob.pk)
    assert "has already joined, so they need no invitation" in http.get(page).content.decode()
    response = _invite(http, world, rob, "rob2@example.test")
    assert "Rob has already joined, so they need no invitation." in response.content.decode()
    assert Invitation.objects.count() == 1 and len(mail.outbox) == 1


def test_it_refuses_to_invite_someone_since_marked_not_safe(world: World, rob: KeyContact) -> None:
    rob.person.not_safe = True
    rob.person.save()
    http = signed_in(world.client_a_user)
    page = url("care_contact_invite", world.client_a, contact_id=rob.pk)
    assert "Send the invitation" not in http.get(page).content.decode()
    response = _invite(http, world, rob, "rob@example.test")
    assert "Rob is marked as not safe for you, so they cannot be involved." in (
        response.content.decode()
    )
    request = HttpRequest()
    request.user = world.clinician
    with pytest.raises(plan.PlanError, match="not safe for the client"):
        plan.invite(request, rob, email="r@example.test", display_name="Rob", audience="clinician")
    assert not Invitation.objects.exists() and not mail.outbox
    rob.refresh_from_db()
    assert rob.invitation is None


def test_it_names_a_bad_email_address(world: World, rob: KeyContact) -> None:
    response = _invite(signed_in(world.clinician), world, rob, "rob at example")
    body = response.content.decode()
    assert "“rob at example” is not an email address. Check it and try again." in body
    assert not Invitation.objects.exists() and not mail.outbox


def test_it_refuses_an_email_that_already_has_an_account(world: World, rob: KeyContact) -> None:
    response = _invite(signed_in(world.clinician), world, rob, world.member.email.upper())
    assert "already has a Kithkin account" in response.content.decode()
    assert not Invitation.objects.exists()


def test_it_refuses_a_second_waiting_invitation_to_the_same_address(
    world: World, rob: KeyContact
) -> None:
    ann = plan_data.key_contact(world.client_a, factories.person_of(world.client_a, "Ann"))
    http = signed_in(world.clinician)
    _invite(http, world, rob, "family@example.test")
    response = _invite(http, world, ann, "family@example.test")
    assert "An invitation to family@example.test for this is already waiting" in (
        response.content.decode()
    )
    ann.refresh_from_db()
    assert ann.invitation is None and Invitation.objects.count() == 1


def test_it_sends_a_new_invitation_that_replaces_the_waiting_one(
    world: World, rob: KeyContact
) -> None:
    http = signed_in(world.clinician)
    _invite(http, world, rob, "rob@example.test")
    first_link = plan_data.invitation_link(mail.outbox[0].body)
    page = url("care_contact_invite", world.client_a, contact_id=rob.pk)
    assert "stops the earlier link from working" in http.get(page).content.decode()
    _invite(http, world, rob, "rob.rivers@example.test")
    first, second = Invitation.objects.order_by("created_at")
    assert first.revoked_at is not None and second.revoked_at is None
    rob.refresh_from_db()
    assert rob.invitation == second
    assert HttpClient().get(first_link).status_code == 410
    plan_data.accept(plan_data.invitation_link(mail.outbox[1].body))
    rob.refresh_from_db()
    assert rob.network_member is not None
    assert rob.network_member.user.email == "rob.rivers@example.test"


def test_it_leaves_nothing_half_made_when_the_email_cannot_go(
    world: World, rob: KeyContact, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("mail server down")

    monkeypatch.setattr("kithkin.accounts.invitations.send_mail", broken)
    request = HttpRequest()
    request.user = world.clinician
    with pytest.raises(OSError):
        plan.invite(request, rob, email="rob@example.test", display_name="Rob", audience="x")
    rob.refresh_from_db()
    assert rob.invitation is None and not Invitation.objects.exists()
    assert not User.objects.filter(email="rob@example.test").exists()


@pytest.mark.parametrize("who", plan_data.STRANGERS)
def test_it_refuses_strangers(world: World, rob: KeyContact, who: str) -> None:
    http = signed_in(getattr(world, who))
    page = url("care_contact_invite", world.client_a, contact_id=rob.pk)
    assert http.get(page).status_code == 404
    assert _invite(http, world, rob, "rob@example.test").status_code == 404
    assert not Invitation.objects.exists() and not mail.outbox
