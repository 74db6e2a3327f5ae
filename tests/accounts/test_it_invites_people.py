from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from kithkin.accounts.models import Invitation, Role, User
from kithkin.audit.models import AuditEvent
from tests import factories
from tests.care import plan_data
from tests.conftest import World, signed_in

STRANGERS = ["stranger", "colleague", "client_a_user", "client_b_user", "member"]


def _link(body: object) -> str:
    body = str(body)
    match = re.search(re.escape(settings.SITE_URL) + r"/invite/[^/\s]+/", body)
    assert match, body
    return match.group(0)


# --- staff ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_invites_staff_by_email(world: World) -> None:
    response = signed_in(world.admin).post(
        reverse("practice_invite_staff"),
        {"display_name": "Nia New", "email": "Nia@Example.test", "role": "admin"},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.role, invitation.email, invitation.client) == (
        "admin",
        "nia@example.test",
        None,
    )
    assert invitation.practice == world.practice and invitation.invited_by == world.admin
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nia@example.test"]
    assert "Harbour Practice" in message.subject
    assert "Ada Admin" in message.body and "practice admin" in message.body
    link = _link(message.body)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert invitation.secret_hash not in link
    assert len(invitation.secret_hash) == 64 and token not in invitation.secret_hash
    event = AuditEvent.objects.get(action="invitation.create")
    assert event.object_id == str(invitation.pk)
    assert "nia" not in str(event.detail).lower()


@pytest.mark.django_db
def test_it_refuses_an_email_that_already_has_an_account(world: World) -> None:
    response = signed_in(world.admin).post(
        reverse("practice_invite_staff"),
        {"display_name": "Cleo", "email": world.clinician.email.upper(), "role": "clinician"},
    )
    assert response.status_code == 200
    assert "already has a Kithkin account" in response.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox


@pytest.mark.django_db
def test_it_refuses_a_second_pending_invitation_for_the_same_email(world: World) -> None:
    http = signed_in(world.admin)
    data = {"display_name": "Nia New", "email": "nia@example.test", "role": "clinician"}
    http.post(reverse("practice_invite_staff"), data)
    response = http.post(reverse("practice_invite_staff"), data)
    assert (
        "An invitation to nia@example.test for this is already waiting" in response.content.decode()
    )
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
def test_it_explains_bad_input(world: World) -> None:
    response = signed_in(world.admin).post(
        reverse("practice_invite_staff"),
        {"display_name": "", "email": "not-an-email", "role": "boss"},
    )
    body = response.content.decode()
    assert "Enter a valid email address." in body
    assert "Select a valid choice." in body
    assert not Invitation.objects.exists()


# --- clients' portal --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "colleague"])
def test_it_invites_a_client_to_the_portal(world: World, who: str) -> None:
    # The admin manages; the colleague is on Bea's care team.
    url = reverse("client_invite_portal", kwargs={"client_id": world.client_b.pk})
    world.client_b.user = None
    world.client_b.save()
    response = signed_in(getattr(world, who)).post(url, {"email": "bea@example.test"})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.role, invitation.client) == (Role.CLIENT, world.client_b)
    body = mail.outbox[0].body
    assert "set up your own Kithkin login" in body
    assert "Sleep, low mood" not in body
    _link(body)


@pytest.mark.django_db
def test_it_refuses_a_portal_invitation_when_the_client_has_a_login(world: World) -> None:
    url = reverse("client_invite_portal", kwargs={"client_id": world.client_a.pk})
    response = signed_in(world.clinician).post(url, {"email": "alex@example.test"})
    assert "This client already has a portal login." in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_second_portal_invitation(world: World) -> None:
    world.client_b.user = None
    world.client_b.save()
    url = reverse("client_invite_portal", kwargs={"client_id": world.client_b.pk})
    signed_in(world.admin).post(url, {"email": "bea@example.test"})
    response = signed_in(world.admin).post(url, {"email": "bea2@example.test"})
    assert "A portal invitation for this client is already waiting" in response.content.decode()
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", STRANGERS)
def test_it_refuses_portal_invitations_to_strangers(world: World, who: str) -> None:
    url = reverse("client_invite_portal", kwargs={"client_id": world.client_a.pk})
    response = signed_in(getattr(world, who)).post(url, {"email": "x@example.test"})
    assert response.status_code == 404
    assert not Invitation.objects.exists()


# --- revoking ---------------------------------------------------------------------------


def _invite_staff(world: World) -> Invitation:
    signed_in(world.admin).post(
        reverse("practice_invite_staff"),
        {"display_name": "Nia New", "email": "nia@example.test", "role": "clinician"},
    )
    return Invitation.objects.get()


@pytest.mark.django_db
def test_it_revokes_an_invitation(world: World) -> None:
    invitation = _invite_staff(world)
    url = reverse("invitation_revoke", kwargs={"invitation_id": invitation.pk})
    response = signed_in(world.admin).post(url, {"from": "practice"}, follow=True)
    assert "no longer works" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEvent.objects.filter(action="invitation.revoke", outcome="success").exists()
    assert not Invitation.objects.pending().exists()
    assert (
        "nia@example.test" not in signed_in(world.admin).get(reverse("practice")).content.decode()
    )


@pytest.mark.django_db
def test_it_lets_the_care_team_revoke_its_clients_invitations(world: World) -> None:
    # Network members are invited from the case plan's key contacts (kithkin.care).
    contact = plan_data.key_contact(world.client_a, factories.person_of(world.client_a, "Rob"))
    url = reverse(
        "care_contact_invite",
        kwargs={"client_id": world.client_a.pk, "contact_id": contact.pk},
    )
    signed_in(world.clinician).post(url, {"display_name": "Rob", "email": "rob@example.test"})
    invitation = Invitation.objects.get()
    revoke = reverse("invitation_revoke", kwargs={"invitation_id": invitation.pk})
    assert signed_in(world.colleague).post(revoke).status_code == 404
    response = signed_in(world.clinician).post(revoke, {"from": "client"})
    assert response["Location"] == reverse(
        "client_overview", kwargs={"client_id": world.client_a.pk}
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("who", [*STRANGERS, "clinician"])
def test_it_refuses_revoking_to_strangers(world: World, who: str) -> None:
    invitation = _invite_staff(world)
    url = reverse("invitation_revoke", kwargs={"invitation_id": invitation.pk})
    http = signed_in(getattr(world, who))
    assert http.get(url).status_code == 404
    assert http.post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert AuditEvent.objects.filter(action="invitation.revoke", outcome="denied").exists()


@pytest.mark.django_db
def test_it_needs_a_post_to_revoke(world: World) -> None:
    invitation = _invite_staff(world)
    url = reverse("invitation_revoke", kwargs={"invitation_id": invitation.pk})
    assert signed_in(world.admin).get(url).status_code == 405
    assert User.objects.filter(email="nia@example.test").count() == 0
