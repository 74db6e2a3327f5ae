"""Session policy: a record of each signed-in session, so that signing out or changing a
password ends the person's other sessions, and staff sessions end after a spell without activity
and after an absolute limit (see middleware.py).

Session keys are looked up by a keyed hash; the key itself is kept encrypted, only to delete the
session from the session store."""

from __future__ import annotations

import hmac
from contextlib import suppress
from contextvars import ContextVar
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from kithkin.accounts.models import User
from kithkin.audit import services as audit
from kithkin.security import throttle
from kithkin.security.models import UserSession

# The session of the request being handled (set by the middleware), so a password change made
# in that session keeps it while ending every other one.
current_session_key: ContextVar[str | None] = ContextVar("current_session_key", default=None)

# Kept in the session too, so a session whose record had to be re-made keeps its real age.
SIGNED_IN_AT = "kithkin_signed_in_at"


def key_hash(session_key: str) -> str:
    secret = hmac.new(settings.SECRET_KEY.encode(), b"kithkin.security.sessions", "sha256")
    return hmac.new(secret.digest(), session_key.encode(), "sha256").hexdigest()


def _store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def device_summary(user_agent: str) -> str:
    """A coarse, non-identifying description: browser and system family only."""
    agent = user_agent.lower()
    browsers = [
        ("edg/", "Edge"),
        ("firefox/", "Firefox"),
        ("chrome/", "Chrome"),
        ("chromium/", "Chromium"),
        ("safari/", "Safari"),
    ]
    systems = [
        ("iphone", "iPhone"),
        ("ipad", "iPad"),
        ("android", "Android"),
        ("windows", "Windows"),
        ("mac os", "macOS"),
        ("cros", "ChromeOS"),
        ("linux", "Linux"),
    ]
    browser = next((name for marker, name in browsers if marker in agent), "")
    system = next((name for marker, name in systems if marker in agent), "")
    if browser and system:
        return f"{browser} / {system}"
    return browser or system or "unknown"


def staff_idle_limit() -> timedelta:
    return timedelta(minutes=settings.STAFF_IDLE_MINUTES)


def staff_absolute_limit() -> timedelta:
    return timedelta(hours=settings.STAFF_SESSION_HOURS)


def start(request: HttpRequest, user: User, now: datetime | None = None) -> UserSession:
    """Record the session a sign-in has just created (Django has already given it a new key)."""
    moment = now or timezone.now()
    session = request.session
    if session.session_key is None:
        session.save()
    key = str(session.session_key)
    session[SIGNED_IN_AT] = moment.isoformat()
    agent = str(request.META.get("HTTP_USER_AGENT", ""))[:400]
    record, _ = UserSession.objects.update_or_create(
        key_hash=key_hash(key),
        defaults={
            "user": user,
            "session_key": key,
            "created_at": moment,
            "last_seen_at": moment,
            "user_agent": device_summary(agent),
        },
    )
    # Records outlive their sessions when a browser is simply closed; clear this person's stale
    # ones now rather than with a scheduled job.
    stale = moment - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    UserSession.objects.filter(user=user, last_seen_at__lt=stale).delete()
    throttle.prune(moment)
    return record


def adopt(request: HttpRequest, user: User, now: datetime | None = None) -> UserSession:
    """Record a signed-in session that has none (made before this record existed, or re-keyed),
    keeping the sign-in time the session itself remembers."""
    moment = now or timezone.now()
    key = str(request.session.session_key)
    signed_in_at = moment
    remembered = request.session.get(SIGNED_IN_AT)
    if isinstance(remembered, str):
        with suppress(ValueError):
            signed_in_at = min(moment, datetime.fromisoformat(remembered))
    else:
        request.session[SIGNED_IN_AT] = moment.isoformat()
    agent = str(request.META.get("HTTP_USER_AGENT", ""))[:400]
    record, _ = UserSession.objects.get_or_create(
        key_hash=key_hash(key),
        defaults={
            "user": user,
            "session_key": key,
            "created_at": signed_in_at,
            "last_seen_at": moment,
            "user_agent": device_summary(agent),
        },
    )
    return record


def find(session_key: str | None) -> UserSession | None:
    if not session_key:
        return None
    return UserSession.objects.filter(key_hash=key_hash(session_key)).first()


def rekey(old_key: str, new_key: str) -> None:
    """The session's key changed (Django cycles it on sign-in and password change)."""
    old, new = key_hash(old_key), key_hash(new_key)
    if UserSession.objects.filter(key_hash=new).exists():
        # Signing in again in the same browser: the new session is recorded already.
        UserSession.objects.filter(key_hash=old).delete()
    else:
        UserSession.objects.filter(key_hash=old).update(key_hash=new, session_key=new_key)


def end_sessions(user: Any, *, keep: str | None = None) -> int:
    """End every session of ``user`` except the one with key ``keep``: delete it from the
    session store, so the browser holding it is signed out on its next request."""
    records = list(UserSession.objects.filter(user=user))
    kept = key_hash(keep) if keep else None
    ended = [record for record in records if record.key_hash != kept]
    for record in ended:
        _store(record.session_key).delete()
    UserSession.objects.filter(pk__in=[record.pk for record in ended]).delete()
    return len(ended)


def end(request: HttpRequest, record: UserSession) -> None:
    """End this one session from inside its own request. Not ``logout()``: that would end the
    person's sessions on every other device too (see ``_logged_out``)."""
    request.session.flush()
    request.user = AnonymousUser()
    UserSession.objects.filter(pk=record.pk).delete()


# ---------------------------------------------------------------- signals


@receiver(user_logged_in, dispatch_uid="kithkin.security.sessions.logged_in")
def _logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        start(request, user)


@receiver(user_logged_out, dispatch_uid="kithkin.security.sessions.logged_out")
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Signing out signs out everywhere: a shared or lost device is then one sign-out away.
    if user is not None:
        ended = end_sessions(user)
        if ended > 1:
            audit.record(
                request,
                action="session.ended",
                object_type="user",
                object_id=user.pk,
                actor=user,
                detail={"reason": "logout", "count": ended},
            )


@receiver(pre_save, sender=User, dispatch_uid="kithkin.security.sessions.password_pre_save")
def _password_changing(sender: Any, instance: User, **kwargs: Any) -> None:
    # set_password() leaves the new raw password in _password until the save that stores it.
    if instance.pk is not None and getattr(instance, "_password", None) is not None:
        instance._kithkin_password_changed = True  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="kithkin.security.sessions.password_saved")
def _password_changed(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if created or not getattr(instance, "_kithkin_password_changed", False):
        return
    instance._kithkin_password_changed = False  # type: ignore[attr-defined]
    # Straight away, not on commit: if the change rolls back, having ended sessions is harmless
    # (and with database sessions, the ending rolls back with it).
    ended = end_sessions(instance, keep=current_session_key.get())
    if ended:
        audit.record(
            None,
            action="session.ended",
            object_type="user",
            object_id=instance.pk,
            actor=instance,
            detail={"reason": "password", "count": ended},
        )
