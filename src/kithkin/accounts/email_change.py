"""Changing the sign-in address, proved by the new address.

After re-authenticating, a person asks for a new address (``request_change``); we send a link
there and change nothing yet. The change happens only when that link is opened by the same
signed-in person and confirmed (``confirm``), within 24 hours, and only if no other account has
taken the address meanwhile. The old address is then told. A typo, or an address someone else
controls, therefore never locks anybody out of their account.

If another account already uses the address, the page says exactly what it says for a free one
(so it cannot be used to learn who has an account), and the address's owner gets a note that
nothing changed instead of a link.

The link carries ``signing.dumps({"c": <change id>, "s": <secret>})``; only sha256(secret) is
stored. Audit rows hold ids only, never addresses.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import EmailChange, User
from kithkin.audit import services as audit

SALT = "kithkin.email-change"


class Refusal(enum.Enum):
    """Why a link did not change the address; each has its own calm words on the page."""

    INVALID = "invalid"  # tampered, unknown, or not this person's
    EXPIRED = "expired"
    USED = "used"  # already confirmed, or replaced by a newer request
    TAKEN = "taken"  # another account uses the address now


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _mail_after_commit(template: str, context: dict[str, Any], to: str) -> None:
    """Mail ``accounts/mfa/<template>_subject.txt`` and ``_body.txt`` once the caller's
    transaction commits (none if it rolls back)."""
    subject = render_to_string(f"accounts/mfa/{template}_subject.txt", context).strip()
    body = render_to_string(f"accounts/mfa/{template}_body.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [to]))


def confirm_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('email_change_confirm')}?{urlencode({'t': token})}"


def request_change(request: HttpRequest, new_email: str) -> EmailChange:
    """Record the wish and mail the link to the new address. An earlier open request of the
    same person is withdrawn: only the latest link works. When another account uses the
    address, the request is recorded the same way but can never be confirmed: its owner is told
    instead, and no link exists."""
    user = _user(request)
    in_use = User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists()
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        EmailChange.objects.filter(
            user=user, confirmed_at__isnull=True, withdrawn_at__isnull=True
        ).update(withdrawn_at=now)
        change = EmailChange.objects.create(
            user=user,
            new_email=new_email,
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
            created_at=now,
        )
        audit.record(
            request,
            action="account.email_change.requested",
            object_type="user",
            object_id=user.pk,
            detail={"address_in_use": True} if in_use else None,
        )
        if in_use:
            _mail_after_commit("email_in_use", {"site_url": settings.SITE_URL}, new_email)
            return change
        token = signing.dumps({"c": change.pk.hex, "s": secret}, salt=SALT)
        context = {
            "name": user.display_name,
            "url": confirm_url(token),
            "hours": EmailChange.VALID_HOURS,
        }
        _mail_after_commit("email_confirm", context, new_email)
    return change


def pending_for(user: User) -> EmailChange | None:
    """The person's open request, if any (shown on the email page)."""
    found: EmailChange | None = (
        EmailChange.objects.filter(
            user=user,
            confirmed_at__isnull=True,
            withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )
    return found


def _parse(token: str) -> tuple[uuid.UUID, str] | Refusal:
    """The change id and secret a link carries, or why it cannot be read."""
    try:
        payload: Any = signing.loads(
            token, salt=SALT, max_age=timedelta(hours=EmailChange.VALID_HOURS)
        )
    except signing.SignatureExpired:
        return Refusal.EXPIRED
    except signing.BadSignature:
        return Refusal.INVALID
    raw_id = payload.get("c") if isinstance(payload, dict) else None
    secret = payload.get("s") if isinstance(payload, dict) else None
    if not isinstance(raw_id, str) or not isinstance(secret, str):
        return Refusal.INVALID
    try:
        return uuid.UUID(hex=raw_id), secret
    except ValueError:
        return Refusal.INVALID


def read(request: HttpRequest, token: str) -> tuple[EmailChange | None, Refusal | None]:
    """The request a link names, if it is this signed-in person's and still open."""
    parsed = _parse(token)
    if isinstance(parsed, Refusal):
        return None, parsed
    change_id, secret = parsed
    change = EmailChange.objects.filter(pk=change_id).first()
    # Another person's link (or a guessed one) is "not valid", exactly like a broken one.
    if change is None or change.user_id != _user(request).pk or not change.secret_matches(secret):
        return None, Refusal.INVALID
    if change.confirmed_at is not None or change.withdrawn_at is not None:
        return change, Refusal.USED
    if change.expires_at <= timezone.now():
        return change, Refusal.EXPIRED
    return change, None


def confirm(request: HttpRequest, token: str) -> Refusal | None:
    """Make the change a link asks for; None when done, else why not (audited either way)."""
    user = _user(request)
    with transaction.atomic():
        change, refusal = read(request, token)
        if change is not None and refusal is None:
            # Locked, so two tabs confirming at once change the address once.
            change = EmailChange.objects.select_for_update().get(pk=change.pk)
            if not change.is_open:
                refusal = Refusal.USED
            elif User.objects.filter(email__iexact=change.new_email).exclude(pk=user.pk).exists():
                refusal = Refusal.TAKEN
        if refusal is not None or change is None:
            audit.record(
                request,
                action="account.email_change",
                object_type="user",
                object_id=user.pk,
                outcome=audit.Outcome.DENIED,
                detail={"reason": (refusal or Refusal.INVALID).value},
            )
            return refusal or Refusal.INVALID
        old_email = user.email
        user.email = change.new_email
        try:
            with transaction.atomic():
                user.save(update_fields=["email"])
        except IntegrityError:  # taken by a sign-up between the check and the save
            user.email = old_email
            return Refusal.TAKEN
        change.confirmed_at = timezone.now()
        change.save(update_fields=["confirmed_at"])
        audit.record(request, action="account.email_change", object_type="user", object_id=user.pk)
        context = {"name": user.display_name, "site_url": settings.SITE_URL}
        _mail_after_commit("email_changed", context, old_email)
    return None
