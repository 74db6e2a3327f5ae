"""Invitations: the only way an account comes into being.

An invitation link carries ``signing.dumps({"i": <invitation id>, "s": <secret>})``: the
signature (with its timestamp) proves we issued it and when, and the secret proves it is this
invitation's link. Only sha256(secret) is stored, so reading the database is not enough to accept
an invitation. Accepting claims the invitation with one conditional UPDATE, so a link works once
even when two requests race, and creates and binds the account in the same transaction."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts.models import (
    Client,
    Invitation,
    Membership,
    NetworkMember,
    Practice,
    Role,
    User,
)
from kithkin.accounts.signals import member_joined
from kithkin.audit import services as audit

SALT = "kithkin.invitation"
STAFF_ROLES = (Role.ADMIN, Role.CLINICIAN)


class InvitationError(Exception):
    """An invitation that cannot be made; the message names the problem for the person."""


class Problem(enum.Enum):
    """Why a link cannot be accepted. Each has its own message (see the accept template)."""

    TAMPERED = "tampered"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"
    ACCOUNT_EXISTS = "account_exists"
    CLIENT_HAS_LOGIN = "client_has_login"


class AcceptanceRefused(Exception):
    def __init__(self, problem: Problem, invitation: Invitation | None = None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.invitation = invitation


# --- tokens ------------------------------------------------------------------------------


def make_token(invitation: Invitation, secret: str) -> str:
    return signing.dumps({"i": invitation.pk.hex, "s": secret}, salt=SALT)


def max_age() -> timedelta:
    return timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


def invitation_url(token: str) -> str:
    return settings.SITE_URL + reverse("invitation_accept", kwargs={"token": token})


def read_token(token: str) -> tuple[Invitation, str]:
    """The invitation a token names and its secret, or AcceptanceRefused (tampered/expired).

    Only a token that we signed and whose secret matches counts: otherwise every problem is
    "tampered", so a guessed or altered link learns nothing about which invitations exist."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired:
        # The signature is ours but old. Look the invitation up only to audit which one it was.
        raise AcceptanceRefused(Problem.EXPIRED, _unverified_invitation(token)) from None
    except signing.BadSignature:
        raise AcceptanceRefused(Problem.TAMPERED) from None
    invitation, secret = _match(payload)
    if invitation is None:
        raise AcceptanceRefused(Problem.TAMPERED)
    return invitation, secret


def _match(payload: Any) -> tuple[Invitation | None, str]:
    if not isinstance(payload, dict):
        return None, ""
    raw_id, secret = payload.get("i"), payload.get("s")
    if not isinstance(raw_id, str) or not isinstance(secret, str):
        return None, ""
    try:
        invitation_id = uuid.UUID(hex=raw_id)
    except ValueError:
        return None, ""
    invitation = (
        Invitation.objects.select_related("practice", "client", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.secret_matches(secret):
        return None, ""
    return invitation, secret


def _unverified_invitation(token: str) -> Invitation | None:
    try:
        # The signature was checked as ours by the caller; only its age failed.
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return _match(payload)[0]


def state_problem(invitation: Invitation) -> Problem | None:
    """What stops this invitation being accepted now, judged from its stored state."""
    if invitation.revoked_at is not None:
        return Problem.REVOKED
    if invitation.accepted_at is not None:
        return Problem.USED
    if invitation.is_expired:
        return Problem.EXPIRED
    if User.objects.filter(email__iexact=invitation.email).exists():
        return Problem.ACCOUNT_EXISTS
    client = invitation.client
    if invitation.role == Role.CLIENT and client is not None and client.user_id is not None:
        return Problem.CLIENT_HAS_LOGIN
    return None


def check(token: str) -> Invitation:
    """The invitation behind a token, if it can be accepted now; AcceptanceRefused otherwise."""
    invitation, _secret = read_token(token)
    problem = state_problem(invitation)
    if problem is not None:
        raise AcceptanceRefused(problem, invitation)
    return invitation


# --- making ------------------------------------------------------------------------------


def _refuse_duplicates(email: str, pending: Any) -> None:
    if User.objects.filter(email__iexact=email).exists():
        raise InvitationError(
            _(
                "%(email)s already has a Kithkin account, so it cannot be invited again. "
                "If this is the right person, they can sign in with it."
            )
            % {"email": email}
        )
    if pending.filter(email__iexact=email).exists():
        raise InvitationError(
            _(
                "An invitation to %(email)s for this is already waiting. Revoke it first if "
                "you want to send a new one."
            )
            % {"email": email}
        )


@dataclass(frozen=True)
class Sent:
    invitation: Invitation
    url: str


def _create(
    request: HttpRequest,
    *,
    practice: Practice,
    role: Role,
    email: str,
    display_name: str = "",
    client: Client | None = None,
    relationship: str = "",
) -> Sent:
    email = email.strip().lower()
    secret, secret_hash = Invitation.make_secret()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            practice=practice,
            role=role,
            client=client,
            email=email,
            display_name=display_name,
            relationship=relationship,
            secret_hash=secret_hash,
            invited_by=request.user if request.user.is_authenticated else None,
        )
        audit.record(
            request,
            action="invitation.create",
            object_type="invitation",
            object_id=invitation.pk,
            client=client,
            detail={"role": role.value},
        )
        url = invitation_url(make_token(invitation, secret))
        # Sent last and inside the transaction: if sending fails, no invitation is left
        # behind that nobody received.
        _send(invitation, url)
    return Sent(invitation, url)


def invite_staff(
    request: HttpRequest, practice: Practice, *, email: str, display_name: str, role: Role
) -> Sent:
    if role not in STAFF_ROLES:
        raise InvitationError(_("Staff can be invited as a practice admin or a clinician."))
    pending = Invitation.objects.pending().filter(practice=practice, role__in=STAFF_ROLES)
    _refuse_duplicates(email.strip(), pending)
    return _create(request, practice=practice, role=role, email=email, display_name=display_name)


def invite_client(request: HttpRequest, client: Client, *, email: str) -> Sent:
    if client.user_id is not None:
        raise InvitationError(_("This client already has a portal login."))
    if Invitation.objects.pending().filter(client=client, role=Role.CLIENT).exists():
        raise InvitationError(
            _(
                "A portal invitation for this client is already waiting. Revoke it first if "
                "you want to send a new one."
            )
        )
    _refuse_duplicates(email.strip(), Invitation.objects.none())
    return _create(
        request,
        practice=client.practice,
        role=Role.CLIENT,
        email=email,
        display_name=client.preferred_name or client.display_name,
        client=client,
    )


def invite_member(
    request: HttpRequest, client: Client, *, email: str, display_name: str, relationship: str
) -> Sent:
    pending = Invitation.objects.pending().filter(client=client, role=Role.MEMBER)
    _refuse_duplicates(email.strip(), pending)
    return _create(
        request,
        practice=client.practice,
        role=Role.MEMBER,
        email=email,
        display_name=display_name,
        client=client,
        relationship=relationship,
    )


def revoke(request: HttpRequest, invitation: Invitation) -> bool:
    """Withdraw a pending invitation; False if it was already used, revoked or expired."""
    with transaction.atomic():
        changed = (
            Invitation.objects.pending().filter(pk=invitation.pk).update(revoked_at=timezone.now())
        )
        audit.record(
            request,
            action="invitation.revoke",
            object_type="invitation",
            object_id=invitation.pk,
            client_id=invitation.client_id,
            outcome=audit.Outcome.SUCCESS if changed else audit.Outcome.FAILED,
        )
    return bool(changed)


def intro_context(invitation: Invitation) -> dict[str, Any]:
    """What the invitation's words may say (the email and the acceptance page alike). A member
    learns whose circle this is by first name only, never more, even when the client herself
    sent the invitation."""
    client = invitation.client if invitation.role == Role.MEMBER else None
    invited_by_client = (
        client is not None
        and invitation.invited_by_id is not None
        and invitation.invited_by_id == client.user_id
    )
    return {
        "invitation": invitation,
        "inviter": invitation.invited_by.display_name
        if invitation.invited_by and not invited_by_client
        else "",
        "invited_by_client": invited_by_client,
        "practice": invitation.practice.name,
        "role": invitation.role,
        "client_first_name": client.first_name if client is not None else "",
        "greeting_name": invitation.display_name,
    }


def _send(invitation: Invitation, url: str) -> None:
    context = {**intro_context(invitation), "url": url, "expires_at": invitation.expires_at}
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])


# --- accepting ---------------------------------------------------------------------------


def _claim(invitation: Invitation, now: Any) -> bool:
    """Mark the invitation used, only if it still is usable: one UPDATE, so exactly one of
    several simultaneous acceptances wins."""
    return (
        Invitation.objects.filter(
            pk=invitation.pk,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).update(accepted_at=now)
        == 1
    )


def _bind(invitation: Invitation, user: User) -> None:
    role = Role(invitation.role)
    if role in STAFF_ROLES:
        Membership.objects.create(user=user, practice=invitation.practice, role=role)
    elif role == Role.CLIENT:
        assert invitation.client_id is not None
        bound = Client.objects.filter(pk=invitation.client_id, user__isnull=True).update(user=user)
        if bound != 1:
            raise AcceptanceRefused(Problem.CLIENT_HAS_LOGIN, invitation)
    else:
        assert invitation.client_id is not None
        member = NetworkMember.objects.create(
            client_id=invitation.client_id, user=user, relationship=invitation.relationship
        )
        member_joined.send(sender=NetworkMember, member=member, invitation=invitation)


def accept(request: HttpRequest, token: str, *, display_name: str, password: str) -> User:
    """Create the invited account and bind it, all or nothing. Audits either way."""
    invitation: Invitation | None = None
    try:
        invitation, _secret = read_token(token)
        with transaction.atomic():
            now = timezone.now()
            if not _claim(invitation, now):
                invitation.refresh_from_db()
                raise AcceptanceRefused(state_problem(invitation) or Problem.USED, invitation)
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise AcceptanceRefused(Problem.ACCOUNT_EXISTS, invitation)
            user = User.objects.create_user(
                invitation.email,
                password,
                display_name=display_name,
                time_zone=invitation.practice.time_zone,
            )
            _bind(invitation, user)
            Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
            audit.record(
                request,
                action="invitation.accept",
                object_type="invitation",
                object_id=invitation.pk,
                client_id=invitation.client_id,
                actor=user,
                detail={"role": invitation.role},
            )
    except IntegrityError:
        # Only the unique email can clash here: someone made that account a moment ago.
        refused = AcceptanceRefused(Problem.ACCOUNT_EXISTS, invitation)
        record_refusal(request, refused)
        raise refused from None
    except AcceptanceRefused as refused:
        record_refusal(request, refused)
        raise
    return user


def record_refusal(request: HttpRequest, refused: AcceptanceRefused) -> None:
    invitation = refused.invitation
    audit.record(
        request,
        action="invitation.accept",
        object_type="invitation",
        object_id=invitation.pk if invitation is not None else "",
        client_id=invitation.client_id if invitation is not None else None,
        outcome=audit.Outcome.DENIED,
        detail={"reason": refused.problem.value},
    )
