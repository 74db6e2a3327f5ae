"""Applies the session policy on each request (see sessions.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.translation import ngettext

from kithkin.accounts.access import STAFF_ROLES, roles_of
from kithkin.accounts.models import User
from kithkin.audit import services as audit
from kithkin.security import sessions
from kithkin.security.models import UserSession

# How often the last-seen time is written: a minute's precision is plenty for a 30-minute idle
# limit, and spares a database write on every request.
TOUCH_EVERY = timedelta(minutes=1)


class SessionPolicyMiddleware:
    """After authentication and messages. For staff, a session ends after
    ``KITHKIN_STAFF_IDLE_MINUTES`` without a request and ``KITHKIN_STAFF_SESSION_HOURS`` after
    sign-in; the person lands on the sign-in page with a calm note. Clients and members keep the
    12-hour cookie that ends when the browser closes. Every signed-in session is recorded, so it
    can be ended from elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        session_key = request.session.session_key if hasattr(request, "session") else None
        token = sessions.current_session_key.set(session_key)
        try:
            self._apply(request, session_key)
            response = self.get_response(request)
        finally:
            sessions.current_session_key.reset(token)
        new_key = request.session.session_key if hasattr(request, "session") else None
        if session_key and new_key and new_key != session_key:
            sessions.rekey(session_key, new_key)
        return response

    def _apply(self, request: HttpRequest, session_key: str | None) -> None:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_authenticated or not session_key:
            return
        now = timezone.now()
        record = sessions.find(session_key) or sessions.adopt(request, user, now)
        if roles_of(user) & STAFF_ROLES:
            reason = None
            if now - record.created_at >= sessions.staff_absolute_limit():
                reason = "absolute"
            elif now - record.last_seen_at >= sessions.staff_idle_limit():
                reason = "idle"
            if reason is not None:
                self._sign_out(request, record, reason)
                return
        if now - record.last_seen_at >= TOUCH_EVERY:
            UserSession.objects.filter(pk=record.pk).update(last_seen_at=now)

    def _sign_out(self, request: HttpRequest, record: UserSession, reason: str) -> None:
        audit.record(
            request,
            action="session.expired",
            object_type="user",
            object_id=record.user_id,
            detail={"reason": reason},
        )
        sessions.end(request, record)
        if reason == "idle":
            minutes = int(sessions.staff_idle_limit().total_seconds() // 60)
            note = ngettext(
                "You were signed out after %(minutes)d minute without activity. "
                "Please sign in again.",
                "You were signed out after %(minutes)d minutes without activity. "
                "Please sign in again.",
                minutes,
            ) % {"minutes": minutes}
        else:
            hours = int(sessions.staff_absolute_limit().total_seconds() // 3600)
            note = ngettext(
                "You were signed out %(hours)d hour after signing in, to keep client records "
                "safe. Please sign in again.",
                "You were signed out %(hours)d hours after signing in, to keep client records "
                "safe. Please sign in again.",
                hours,
            ) % {"hours": hours}
        messages.info(request, note, fail_silently=True)
