"""Test data for rhythms, nudges, withdrawal signals and the sweep (written directly: no audit)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from kithkin.accounts.models import Client
from kithkin.connection.models import NudgeSettings
from kithkin.network.models import Contact, Person
from tests import factories

# Noon UTC on a Wednesday: far from midnight and from quiet hours in London.
NOW = datetime.datetime(2026, 3, 11, 12, 0, tzinfo=datetime.UTC)


def contacts_days_ago(
    person: Person, days: Iterable[float], *, now: datetime.datetime = NOW
) -> None:
    """One contact with ``person`` on each of the given days before ``now`` (at the same time of
    day as ``now``)."""
    Contact.objects.bulk_create(
        [
            Contact(
                client_id=person.client_id,
                person=person,
                channel="phone",
                occurred_at=now - datetime.timedelta(days=day),
            )
            for day in days
        ]
    )


def weekly_friend(
    client: Client,
    name: str = "Sam",
    *,
    last: int = 21,
    count: int = 8,
    now: datetime.datetime = NOW,
    **fields: Any,
) -> Person:
    """A person the client saw every week, ``count`` times, the last ``last`` days ago: drifting
    from day 11 (see rhythm.drift_after)."""
    person = factories.person_of(client, name, **fields)
    contacts_days_ago(person, [last + 7 * n for n in range(count)], now=now)
    return person


def opted_in(client: Client, **fields: Any) -> NudgeSettings:
    """Reminders on, with no quiet hours unless asked for (start == end means none)."""
    fields.setdefault("quiet_start", datetime.time(0, 0))
    fields.setdefault("quiet_end", datetime.time(0, 0))
    settings, _ = NudgeSettings.objects.update_or_create(
        client=client, defaults={"enabled": True, **fields}
    )
    return settings
