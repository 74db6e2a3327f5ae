"""Test data for notifications: one call makes an inbox row (and, if asked, its email)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from kithkin.accounts.models import User
from kithkin.notifications import kinds, services
from kithkin.notifications.models import Notification


def note(user: User, title: str = "Your session is tomorrow", **fields: Any) -> Notification:
    """A notification for ``user`` with no email (tests that want email call notify)."""
    fields.setdefault("kind", kinds.SESSION_REMINDER)
    fields.setdefault("body", "")
    fields.setdefault("email", False)
    return services.notify(user, title=title, **fields)


def many(user: User, count: int, *, start: int = 0) -> list[Notification]:
    """``count`` notifications numbered from ``start``, an hour apart, the highest newest."""
    made = []
    base = timezone.now() - timedelta(days=60)
    for n in range(start, start + count):
        made.append(note(user, f"Update {n}", url=f"/notifications/?n={n}"))
        Notification.objects.filter(pk=made[-1].pk).update(created_at=base + timedelta(hours=n))
    return made


def raw(notification: Notification, column: str) -> str:
    """A column as the database stores it (encrypted columns stay encrypted)."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    quoted = connection.ops.quote_name(column)
    pk = notification.pk.hex if connection.vendor == "sqlite" else notification.pk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quoted} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])
