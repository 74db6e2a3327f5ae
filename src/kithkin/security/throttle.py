"""Counting attempts in a store every process shares (the database), and refusing politely.

Windows are fixed: an attempt at time ``t`` counts in the window starting at
``floor(t / window_seconds) * window_seconds`` (UTC epoch). Each (scope, key, window) is one row,
incremented by a single ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement, which is
atomic on both SQLite and PostgreSQL, so two processes can never both take the last attempt.

Keys are hashed with a key derived from ``SECRET_KEY`` before they are stored, so callers may
pass an email address, an IP address or a user id: none is kept in the clear.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, Literal, TypeVar, cast

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from kithkin.audit import services as audit
from kithkin.security.models import ThrottleCounter

__all__ = [
    "add",
    "client_ip",
    "count",
    "hit",
    "is_limited",
    "prune",
    "rate_limited",
    "refuse",
    "reset",
    "retry_after_seconds",
]

# How long a refusal for a scope lasts when the caller does not say: the window last used with
# that scope in this process, else this default.
DEFAULT_WINDOW_SECONDS = 15 * 60
_scope_windows: dict[str, int] = {}


def _hash_key(scope: str, key: str) -> str:
    secret = hmac.new(settings.SECRET_KEY.encode(), b"kithkin.security.throttle", "sha256")
    message = f"{scope}\x00{key.strip().lower()}".encode()
    return hmac.new(secret.digest(), message, "sha256").hexdigest()[:40]


def _window(now: datetime | None, window_seconds: int) -> tuple[datetime, datetime]:
    if window_seconds <= 0:
        raise ValueError("window_seconds must be positive")
    moment = now or timezone.now()
    epoch = int(moment.timestamp())
    start_epoch = epoch - epoch % window_seconds
    start = datetime.fromtimestamp(start_epoch, tz=UTC)
    return start, start + timedelta(seconds=window_seconds)


def _check_scope(scope: str) -> None:
    if not scope or len(scope) > 40:
        raise ValueError("a throttle scope is 1 to 40 characters")


_UPSERT = (
    "INSERT INTO {t} ({scope}, {key}, {start}, {end}, {count}) VALUES (%s, %s, %s, %s, 1) "
    "ON CONFLICT ({scope}, {key}, {start}) DO UPDATE SET {count} = {t}.{count} + 1 "
    "RETURNING {count}"
)


def _increment(scope: str, hashed: str, start: datetime, end: datetime) -> int:
    quote = connection.ops.quote_name
    sql = _UPSERT.format(
        t=quote(ThrottleCounter._meta.db_table),
        scope=quote("scope"),
        key=quote("key"),
        start=quote("window_start"),
        end=quote("window_end"),
        count=quote("count"),
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        # Table and column names come from the model, never from input; values are parameters.
        cursor.execute(sql, [scope, hashed, adapt(start), adapt(end)])  # nosec B608
        row = cursor.fetchone()
    return int(row[0])


def hit(
    scope: str, key: str, *, limit: int, window_seconds: int, now: datetime | None = None
) -> bool:
    """Count one attempt for (scope, key) in the current window, in the database (shared by
    all processes). Returns True if this attempt is within the limit, False if over it."""
    return add(scope, key, window_seconds=window_seconds, now=now) <= limit


def add(scope: str, key: str, *, window_seconds: int, now: datetime | None = None) -> int:
    """Count one attempt and return how many this window now holds, this one included."""
    _check_scope(scope)
    _scope_windows[scope] = window_seconds
    start, end = _window(now, window_seconds)
    with transaction.atomic():
        return _increment(scope, _hash_key(scope, key), start, end)


def prune(now: datetime | None = None) -> int:
    """Delete counters whose window has ended. Called at every successful sign-in and every
    refusal (not on each attempt: that would add a query to ordinary page views)."""
    deleted, _ = ThrottleCounter.objects.filter(window_end__lt=now or timezone.now()).delete()
    return deleted


def count(scope: str, key: str, *, window_seconds: int, now: datetime | None = None) -> int:
    """Attempts counted for (scope, key) in the current window."""
    start, _ = _window(now, window_seconds)
    found = (
        ThrottleCounter.objects.filter(scope=scope, key=_hash_key(scope, key), window_start=start)
        .values_list("count", flat=True)
        .first()
    )
    return int(found or 0)


def is_limited(
    scope: str, key: str, *, limit: int, window_seconds: int, now: datetime | None = None
) -> bool:
    """True when the limit is used up: the next ``hit`` in this window would be refused."""
    _scope_windows[scope] = window_seconds
    return count(scope, key, window_seconds=window_seconds, now=now) >= limit


def reset(scope: str, key: str) -> None:
    """Forget every counted attempt for (scope, key), in every window."""
    ThrottleCounter.objects.filter(scope=scope, key=_hash_key(scope, key)).delete()


def retry_after_seconds(
    scope: str | None = None, *, window_seconds: int | None = None, now: datetime | None = None
) -> int:
    """Seconds until the current window for this scope ends (at least 1)."""
    seconds = window_seconds or _scope_windows.get(scope or "", DEFAULT_WINDOW_SECONDS)
    moment = now or timezone.now()
    _, end = _window(moment, seconds)
    return max(1, math.ceil((end - moment).total_seconds()))


def client_ip(request: HttpRequest) -> str:
    """The address the request came from. REMOTE_ADDR only, as in the audit trail: a proxy
    deployment sets it (docs/deploy.md); a forwarded header could be forged by anyone."""
    return audit.client_ip(request) or "unknown"


def refuse(request: HttpRequest, scope: str, *, retry_after: int | None = None) -> HttpResponse:
    """A calm 429 page saying how long to wait, with ``Retry-After``; audited (scope only)."""
    seconds = retry_after if retry_after is not None else retry_after_seconds(scope)
    prune()
    minutes = max(1, math.ceil(seconds / 60))
    audit.record(
        request,
        action="throttle.refused",
        object_type="throttle",
        object_id=scope,
        outcome=audit.Outcome.DENIED,
        detail={"scope": scope},
    )
    message = ngettext(
        "Too many tries. Please wait %(minutes)d minute and try again.",
        "Too many tries. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    response = render(request, "security/too_many_tries.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def _key_for(request: HttpRequest, key: Literal["user", "ip"]) -> str:
    if key == "user" and getattr(request.user, "is_authenticated", False):
        return f"user:{request.user.pk}"
    return f"ip:{client_ip(request)}"


def rate_limited(
    scope: str,
    *,
    limit: int,
    window_seconds: int,
    key: Literal["user", "ip"] = "user",
    methods: tuple[str, ...] | None = None,
) -> Callable[[ViewFunc], ViewFunc]:
    """Refuse a view (429) once ``limit`` requests by one user (or one IP address) in a window
    are used up. With ``methods``, only requests with those methods are counted."""
    _check_scope(scope)

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            counted = methods is None or request.method in methods
            who = _key_for(request, key)
            if counted and not hit(scope, who, limit=limit, window_seconds=window_seconds):
                wait = retry_after_seconds(window_seconds=window_seconds)
                return refuse(request, scope, retry_after=wait)
            return view(request, *args, **kwargs)

        return cast(ViewFunc, wrapped)

    return decorate
