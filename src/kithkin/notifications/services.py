"""Telling people things: an inbox row always, and an email when they want one.

:func:`notify` is the one way to tell a person something. It stores the notification for the
in-app inbox and, if the person wants email for that category (critical ones always), queues a
``notifications.email`` job in the same transaction and runs it straight after commit. The job
row is the fallback: if sending fails, the worker retries it. Sending is idempotent and checks
the person's choices again at send time.

Non-critical emails carry an unsubscribe link that works without signing in: a signed token
(user id and category, salted, dated) turns that category's email off. Critical email (risk
alerts) has no such link and says why."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from kithkin.accounts.models import User
from kithkin.audit import services as audit
from kithkin.jobs import services as jobs
from kithkin.notifications import kinds
from kithkin.notifications.kinds import Category
from kithkin.notifications.models import Notification, NotificationQuerySet, Preference

__all__ = [
    "EMAIL_JOB",
    "CriticalCategory",
    "EmailNotSent",
    "NotificationError",
    "Unsubscribe",
    "UnsubscribeProblem",
    "UnsubscribeRefused",
    "email_preferences",
    "inbox",
    "mark_all_read",
    "mark_read",
    "notify",
    "read_unsubscribe_token",
    "save_preferences",
    "send_email",
    "unread_count",
    "unsubscribe",
    "unsubscribe_token",
    "unsubscribe_url",
    "wants_email",
]

EMAIL_JOB = "notifications.email"
UNSUBSCRIBE_SALT = "kithkin.notifications.unsubscribe"
# Long enough for an old email to still work; an expired link points to the preferences page.
UNSUBSCRIBE_MAX_AGE = timedelta(days=180)
TITLE_MAX = 200
URL_MAX = 500


class NotificationError(ValueError):
    """A notification that cannot be made as asked; the message names the problem."""


class EmailNotSent(Exception):
    """Sending failed; the job is retried. The message names the failure, never the person."""


class CriticalCategory(NotificationError):
    """Email for a critical category (risk alerts) cannot be turned off."""

    def __init__(self, category: Category | str) -> None:
        super().__init__(
            f"Email for the {str(category)!r} category cannot be turned off: it is critical."
        )
        self.category = category


# --- preferences ---------------------------------------------------------------------------


def email_preferences(user: User) -> dict[Category, bool]:
    """Whether the person wants email, for every category (one query). Critical ones: always."""
    stored = dict(Preference.objects.filter(user=user).values_list("category", "email"))
    return {
        category: kinds.is_critical(category) or bool(stored.get(category.value, True))
        for category in Category
    }


def _email_on(user: User, category: Category) -> bool:
    if kinds.is_critical(category):
        return True
    stored = Preference.objects.filter(user=user, category=category).values_list("email", flat=True)
    return next(iter(stored), True)


def wants_email(user: User, category: Category, *, critical: bool = False) -> bool:
    """Whether an email in this category may go to this person now."""
    if not user.is_active or not user.email:
        return False
    return critical or _email_on(user, category)


def save_preferences(
    request: HttpRequest | None, user: User, choices: Mapping[Category, bool]
) -> list[Category]:
    """Store the person's email choices; returns the categories that changed. Refuses to turn
    off a critical category (:class:`CriticalCategory`) and changes nothing then."""
    refused = [c for c, on in choices.items() if kinds.is_critical(c) and not on]
    if refused:
        raise CriticalCategory(refused[0])
    current = email_preferences(user)
    changed = [c for c, on in choices.items() if current[c] != on and not kinds.is_critical(c)]
    if not changed:
        return []
    now = timezone.now()
    with transaction.atomic():
        for category in changed:
            Preference.objects.update_or_create(
                user=user,
                category=category,
                defaults={"email": choices[category], "updated_at": now},
            )
        audit.record(
            request,
            action="notifications.preferences.update",
            object_type="user",
            object_id=user.pk,
            actor=user if request is None else None,
            detail={"email": {str(c): choices[c] for c in changed}},
        )
    return changed


# --- notifying -----------------------------------------------------------------------------


def _clean_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    if (
        len(url) > URL_MAX
        or not url.startswith("/")
        or url.startswith("//")
        or "\\" in url
        or any(character.isspace() for character in url)
        or not url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    ):
        raise NotificationError(
            "A notification's url must be a path inside Kithkin, such as "
            "'/clients/<uuid>/care/', of at most 500 characters."
        )
    return url


def notify(
    user: User,
    *,
    kind: str,
    title: str,
    body: str,
    url: str = "",
    critical: bool = False,
    email: bool = True,
) -> Notification:
    """Tell ``user`` something: an inbox row always; an email too when ``email`` is true and
    the person wants email for the kind's category. A critical notification (or any kind in a
    critical category) is emailed whatever the person chose. Joins the caller's transaction.

    ``title`` and ``body`` go into the email as written: keep health details out of them and
    name clients the way the rest of Kithkin's email does. ``url`` is a path inside the site
    (``/clients/<uuid>/...``): the email links to it, and the inbox opens it."""
    category = kinds.category_of(kind)
    critical = critical or kinds.is_critical(category)
    title = " ".join(str(title).split())
    if not title:
        raise NotificationError("A notification needs a title.")
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    url = _clean_url(url)
    with transaction.atomic():
        notification = Notification.objects.create(
            user=user,
            kind=kind,
            title=title,
            body=str(body).strip(),
            url=url,
            critical=critical,
        )
        if email and wants_email(user, category, critical=critical):
            job = jobs.enqueue(
                EMAIL_JOB, {"id": notification.pk}, key=f"{EMAIL_JOB}:{notification.pk}"
            )
            # Mail goes at once after commit; the job row is the fallback if that fails.
            transaction.on_commit(partial(jobs.run_job_now, job.pk))
    return notification


# --- email ---------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _email_context(notification: Notification, category: Category) -> dict[str, Any]:
    user = notification.user
    info = kinds.CATEGORIES[category]
    return {
        "recipient_first_name": (user.display_name or "").split(" ", 1)[0],
        "title": notification.title,
        "body": "" if notification.kind in kinds.DETAIL_IN_INBOX_ONLY else notification.body,
        "detail_in_inbox": notification.kind in kinds.DETAIL_IN_INBOX_ONLY,
        "link": _absolute(notification.url or reverse("notifications")),
        "critical": notification.critical,
        "category_label": info.category.label,
        "preferences_url": _absolute(reverse("notification_preferences")),
        "unsubscribe_url": "" if notification.critical else unsubscribe_url(user, category),
    }


def _message(notification: Notification, category: Category) -> EmailMessage:
    context = _email_context(notification, category)
    subject = " ".join(render_to_string("notifications/email/subject.txt", context).split())
    body = render_to_string("notifications/email/body.txt", context)
    headers = {"Auto-Submitted": "auto-generated"}
    if context["unsubscribe_url"]:
        # RFC 8058: mail programs show an unsubscribe button that POSTs this body to the link.
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return EmailMessage(subject, body, None, [notification.user.email], headers=headers)


def send_email(notification_id: str | UUID) -> bool:
    """Email one notification (the ``notifications.email`` job). Idempotent: sends nothing if it
    was already emailed, the person is gone, or (unless critical) they have turned this
    category's email off since. Sends first, then marks: a crash in between sends twice rather
    than never. Returns whether it sent."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or notification.emailed_at is not None:
        return False
    category = notification.category
    if not wants_email(notification.user, category, critical=notification.critical):
        return False
    try:
        _message(notification, category).send(fail_silently=False)
    except Exception as error:
        # The job keeps this message: mail errors can quote the address, so keep only the kind
        # of failure and the server's code (docs/jobs.md). The worker retries.
        code = getattr(error, "smtp_code", None)
        detail = f"{type(error).__name__}" + (f" {code}" if isinstance(code, int) else "")
        raise EmailNotSent(f"The email could not be sent ({detail}).") from None
    Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    return True


# --- unsubscribing -------------------------------------------------------------------------


class UnsubscribeProblem(enum.Enum):
    TAMPERED = "tampered"
    EXPIRED = "expired"


class UnsubscribeRefused(Exception):
    def __init__(self, problem: UnsubscribeProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Unsubscribe:
    user: User
    category: Category


def unsubscribe_token(user: User, category: Category) -> str:
    if kinds.is_critical(category):
        raise CriticalCategory(category)
    return signing.dumps({"u": user.pk, "c": str(category)}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user: User, category: Category) -> str:
    token = unsubscribe_token(user, category)
    return _absolute(reverse("notification_unsubscribe", kwargs={"token": token}))


def read_unsubscribe_token(token: str) -> Unsubscribe:
    """The person and category a link names, or :class:`UnsubscribeRefused`. Anything we did
    not sign, or that names no current person or a critical category, is "tampered"."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.SignatureExpired:
        raise UnsubscribeRefused(UnsubscribeProblem.EXPIRED) from None
    except signing.BadSignature:
        raise UnsubscribeRefused(UnsubscribeProblem.TAMPERED) from None
    if not isinstance(payload, dict):
        raise UnsubscribeRefused(UnsubscribeProblem.TAMPERED)
    user_id, category = payload.get("u"), payload.get("c")
    if (
        not isinstance(user_id, int)
        or category not in Category.values
        or kinds.is_critical(category)
    ):
        raise UnsubscribeRefused(UnsubscribeProblem.TAMPERED)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise UnsubscribeRefused(UnsubscribeProblem.TAMPERED)
    return Unsubscribe(user=user, category=Category(category))


def unsubscribe(request: HttpRequest | None, token: str, *, via: str) -> Unsubscribe:
    """Turn off the email a link names (``via``: "page" or "one_click", for the audit trail)."""
    found = read_unsubscribe_token(token)
    with transaction.atomic():
        Preference.objects.update_or_create(
            user=found.user,
            category=found.category,
            defaults={"email": False, "updated_at": timezone.now()},
        )
        audit.record(
            request,
            action="notifications.unsubscribe",
            object_type="user",
            object_id=found.user.pk,
            detail={"category": str(found.category), "via": via},
        )
    return found


# --- the inbox -----------------------------------------------------------------------------


def inbox(user: User) -> NotificationQuerySet:
    return Notification.objects.filter(user=user).newest_first()


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user).unread().count()


def mark_read(user: User, notification_id: UUID | str) -> Notification | None:
    """The person's own notification, marked read; None if it is not theirs (or not there)."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def mark_all_read(user: User) -> int:
    return Notification.objects.filter(user=user).unread().update(read_at=timezone.now())
