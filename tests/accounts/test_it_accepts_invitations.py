from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import signing
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts import invitations
from kithkin.accounts.invitations import AcceptanceRefused, Problem
from kithkin.accounts.models import Client, Invitation, Membership, NetworkMember, Role, User
from kithkin.audit.models import AuditEvent
from tests.conftest import World, signed_in

NEW_PASSWORD = "quiet harbour lanterns glow"


def _make(
    world: World, role: Role, client: Client | None = None, **extra: Any
) -> tuple[Invitation, str]:
    secret, secret_hash = Invitation.make_secret()
    invitation = Invitation.objects.create(
        practice=world.practice,
        role=role,
        client=client,
        email=extra.pop("email", "new.person@example.test"),
        display_name="New Person",
        relationship=extra.pop("relationship", ""),
        secret_hash=secret_hash,
        invited_by=world.clinician,
        **extra,
    )
    return invitation, invitations.make_token(invitation, secret)


def _url(token: str) -> str:
    return reverse("invitation_accept", kwargs={"token": token})


def _form(**overrides: str) -> dict[str, str]:
    return {
        "display_name": "Nova Person",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **overrides,
    }


def _denied(reason: str) -> bool:
    return AuditEvent.objects.filter(
        action="invitation.accept", outcome="denied", detail__reason=reason
    ).exists()


# --- success ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_who_invited_them_with_the_name_prefilled(world: World) -> None:
    _, token = _make(world, Role.CLINICIAN)
    response = HttpClient().get(_url(token))
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "Cleo Clinician has invited you to join Harbour Practice on Kithkin as a clinician" in body
    )
    assert 'value="New Person"' in body
    assert "new.person@example.test" in body


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN])
def test_it_creates_staff_accounts_and_signs_them_in(world: World, role: Role) -> None:
    invitation, token = _make(world, role)
    http = HttpClient()
    response = http.post(_url(token), _form())
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(email="new.person@example.test")
    assert user.display_name == "Nova Person" and user.check_password(NEW_PASSWORD)
    assert user.membership.practice == world.practice and user.membership.role == role
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.accepted_by == user
    assert int(http.session["_auth_user_id"]) == user.pk
    event = AuditEvent.objects.get(action="invitation.accept", outcome="success")
    assert event.actor_id == user.pk and "example.test" not in str(event.detail)


@pytest.mark.django_db
def test_it_binds_a_client_login(world: World) -> None:
    world.client_b.user = None
    world.client_b.save()
    _, token = _make(world, Role.CLIENT, world.client_b)
    HttpClient().post(_url(token), _form())
    world.client_b.refresh_from_db()
    assert world.client_b.user is not None
    assert world.client_b.user.email == "new.person@example.test"
    assert not Membership.objects.filter(user=world.client_b.user).exists()


@pytest.mark.django_db
def test_it_binds_a_network_member_to_that_client_only(world: World) -> None:
    _, token = _make(world, Role.MEMBER, world.client_a, relationship="Cousin")
    HttpClient().post(_url(token), _form())
    user = User.objects.get(email="new.person@example.test")
    membership = NetworkMember.objects.get(user=user)
    assert membership.client == world.client_a and membership.relationship == "Cousin"
    assert not Membership.objects.filter(user=user).exists()


# --- every way it can fail --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "garbage",
        lambda token: signing.dumps({"i": "0" * 32, "s": "guess"}, salt=invitations.SALT),
        lambda token: signing.dumps({"i": "nonsense", "s": 1}, salt=invitations.SALT),
        lambda token: signing.dumps({"i": "0" * 32}, salt="another.salt"),
    ],
)
def test_it_refuses_tampered_links(world: World, mangle: Any) -> None:
    _, token = _make(world, Role.CLINICIAN)
    response = HttpClient().post(_url(mangle(token)), _form())
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()
    assert not User.objects.filter(email="new.person@example.test").exists()
    assert _denied("tampered")


@pytest.mark.django_db
def test_it_refuses_a_link_with_the_wrong_secret(world: World) -> None:
    invitation, _ = _make(world, Role.CLINICIAN)
    forged = signing.dumps({"i": invitation.pk.hex, "s": "not-the-secret"}, salt=invitations.SALT)
    response = HttpClient().get(_url(forged))
    assert response.status_code == 404


@pytest.mark.django_db
def test_it_refuses_an_expired_link(world: World) -> None:
    _, token = _make(world, Role.CLINICIAN)
    later = timezone.now() + timedelta(days=8)
    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        response = HttpClient().post(_url(token), _form())
    assert response.status_code == 410
    assert "This invitation has expired" in response.content.decode()
    assert not User.objects.filter(email="new.person@example.test").exists()
    assert _denied("expired")


@pytest.mark.django_db
def test_it_refuses_an_invitation_past_its_stored_expiry(world: World) -> None:
    _, token = _make(world, Role.CLINICIAN, expires_at=timezone.now() - timedelta(minutes=1))
    response = HttpClient().post(_url(token), _form())
    assert response.status_code == 410
    assert "This invitation has expired" in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_a_used_link(world: World) -> None:
    _, token = _make(world, Role.CLINICIAN)
    assert HttpClient().post(_url(token), _form()).status_code == 302
    response = HttpClient().post(_url(token), _form(display_name="Someone Else"))
    assert response.status_code == 410
    assert "This invitation has already been used" in response.content.decode()
    assert User.objects.filter(email="new.person@example.test").count() == 1
    assert _denied("used")


@pytest.mark.django_db
def test_it_refuses_a_revoked_link(world: World) -> None:
    invitation, token = _make(world, Role.CLINICIAN)
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    response = HttpClient().get(_url(token))
    assert response.status_code == 410
    assert "This invitation was withdrawn" in response.content.decode()
    assert _denied("revoked")


@pytest.mark.django_db
def test_it_refuses_an_email_that_already_has_an_account(world: World) -> None:
    _, token = _make(world, Role.MEMBER, world.client_a, email=world.colleague.email.upper())
    response = HttpClient().post(_url(token), _form())
    assert response.status_code == 409
    body = response.content.decode()
    assert "You already have an account" in body and "sign in" in body
    assert not NetworkMember.objects.filter(user=world.colleague).exists()
    assert _denied("account_exists")
    assert not any("example" in str(e.detail) for e in AuditEvent.objects.all())


@pytest.mark.django_db
def test_it_refuses_a_client_invitation_when_the_client_already_has_a_login(world: World) -> None:
    _, token = _make(world, Role.CLIENT, world.client_a)
    response = HttpClient().post(_url(token), _form())
    assert response.status_code == 409
    assert "This portal already has a login" in response.content.decode()
    assert not User.objects.filter(email="new.person@example.test").exists()


@pytest.mark.django_db
def test_it_checks_passwords(world: World) -> None:
    _, token = _make(world, Role.CLINICIAN)
    http = HttpClient()
    body = http.post(_url(token), _form(password2="something else entirely")).content.decode()
    assert "The two passwords are not the same" in body
    body = http.post(_url(token), _form(password1="short", password2="short")).content.decode()
    assert "This password is too short" in body
    body = http.post(
        _url(token), _form(password1="new.person@example", password2="new.person@example")
    ).content.decode()
    assert "too similar" in body
    assert not User.objects.filter(email="new.person@example.test").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["stranger", "client_b_user", "member"])
def test_it_refuses_signed_in_people_without_touching_their_account(world: World, who: str) -> None:
    _, token = _make(world, Role.MEMBER, world.client_a)
    response = signed_in(getattr(world, who)).post(_url(token), _form())
    assert response.status_code == 409
    assert "You are already signed in" in response.content.decode()
    assert not User.objects.filter(email="new.person@example.test").exists()


# --- races and half-made accounts -------------------------------------------------------


@pytest.mark.django_db
def test_it_accepts_once_when_two_claims_race(world: World, rf: Any) -> None:
    invitation, token = _make(world, Role.MEMBER, world.client_a)
    # Both requests read the invitation as pending before either claims it.
    stale = Invitation.objects.get(pk=invitation.pk)
    with mock.patch.object(invitations, "read_token", return_value=(stale, "x")):
        request = rf.post("/")
        request.user = mock.Mock(is_authenticated=False)
        first = invitations.accept(request, token, display_name="First", password=NEW_PASSWORD)
        with pytest.raises(AcceptanceRefused) as refused:
            invitations.accept(request, token, display_name="Second", password=NEW_PASSWORD)
    assert refused.value.problem is Problem.USED
    assert User.objects.filter(email="new.person@example.test").get() == first
    assert NetworkMember.objects.filter(client=world.client_a, user=first).count() == 1
    assert AuditEvent.objects.filter(action="invitation.accept", outcome="success").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "target"),
    [
        (Role.CLINICIAN, "kithkin.accounts.models.Membership.objects.create"),
        (Role.MEMBER, "kithkin.accounts.models.NetworkMember.objects.create"),
        (Role.CLINICIAN, "kithkin.accounts.models.UserManager.create_user"),
    ],
)
def test_it_leaves_nothing_half_made_when_a_step_fails(
    world: World, role: Role, target: str
) -> None:
    invitation, token = _make(world, role, world.client_a if role == Role.MEMBER else None)
    users_before = User.objects.count()
    with (
        mock.patch(target, side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        HttpClient(raise_request_exception=True).post(_url(token), _form())
    assert User.objects.count() == users_before
    invitation.refresh_from_db()
    assert invitation.accepted_at is None and invitation.accepted_by is None
    assert not AuditEvent.objects.filter(action="invitation.accept", outcome="success").exists()
    # The link still works once the fault is gone.
    assert HttpClient().post(_url(token), _form()).status_code == 302
