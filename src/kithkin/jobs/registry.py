"""Which function runs each kind of job.

Apps register handlers in their own ``jobs`` module, which :class:`kithkin.jobs.apps.JobsConfig`
imports at start-up::

    from kithkin.jobs.registry import handler

    @handler("measures.alert_email")
    def alert_email(payload: dict[str, Any]) -> None: ...

A handler gets the job's payload (ids only) and returns nothing; raising means "try again later".

A job that re-queues itself (a daily sweep) also registers a *keeper* with ``@recurring``: the
worker calls it at start and every hour, so a new deployment, or a chain broken by a job that
failed for good, is put back on schedule without anyone having to remember to start it::

    @recurring("connection.sweep")
    def keep_sweep_scheduled(now: datetime) -> None: ...
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured

JobHandler = Callable[[dict[str, Any]], None]

# "app.what", lower case: the kind is stored in every row, so it must stay stable and plain.
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
KIND_MAX_LENGTH = 100

_handlers: dict[str, JobHandler] = {}
Keeper = Callable[[datetime], None]
_keepers: dict[str, Keeper] = {}


class UnknownJobKind(LookupError):
    """No handler is registered for a job's kind (a typo, or code older than the job)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"no handler is registered for job kind {kind!r}")
        self.kind = kind


def _check_kind(kind: str) -> None:
    if len(kind) > KIND_MAX_LENGTH or not KIND_PATTERN.match(kind):
        raise ImproperlyConfigured(
            f"Job kind {kind!r} must look like 'app.what' (lower case letters, digits and "
            f"underscores, at most {KIND_MAX_LENGTH} characters)."
        )


def _name(function: JobHandler) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"


def register(kind: str, function: JobHandler) -> None:
    """Register ``function`` for ``kind``. Registering the same function again is harmless (a
    module imported twice); a second, different function for one kind is a mistake."""
    _check_kind(kind)
    existing = _handlers.get(kind)
    if existing is not None and _name(existing) != _name(function):
        raise ImproperlyConfigured(
            f"Job kind {kind!r} is already handled by {_name(existing)}; "
            f"{_name(function)} cannot handle it too."
        )
    _handlers[kind] = function


def handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Decorator: ``@handler("app.what")`` registers the function for that kind of job."""
    _check_kind(kind)

    def decorate(function: JobHandler) -> JobHandler:
        register(kind, function)
        return function

    return decorate


def unregister(kind: str) -> None:
    _handlers.pop(kind, None)


@contextmanager
def registered(kind: str, function: JobHandler) -> Iterator[JobHandler]:
    """Register a handler for the duration of a ``with`` block (tests), then remove it."""
    register(kind, function)
    try:
        yield function
    finally:
        unregister(kind)


def get_handler(kind: str) -> JobHandler:
    try:
        return _handlers[kind]
    except KeyError:
        raise UnknownJobKind(kind) from None


def is_registered(kind: str) -> bool:
    return kind in _handlers


def kinds() -> list[str]:
    return sorted(_handlers)


def recurring(kind: str) -> Callable[[Keeper], Keeper]:
    """Decorator: ``@recurring("app.what")`` registers the function that keeps that kind of job
    scheduled. It gets the current time, must be idempotent, and should queue the next run only
    when none is waiting."""
    _check_kind(kind)

    def decorate(function: Keeper) -> Keeper:
        _keepers[kind] = function
        return function

    return decorate


def keepers() -> dict[str, Keeper]:
    return dict(_keepers)
