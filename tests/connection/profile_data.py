"""Test data for the resilience and connection profile.

Two kinds: pure sources built in memory (``sources``, ``scored``, ``map_of``, ``log``) for the
observation and rule tests, which need no database; and rows written directly (no audit) for the
page tests (``checkin``, ``contacts_in_weeks``, ``rich_client``)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.urls import reverse

from kithkin.accounts.models import Client
from kithkin.connection import profile
from kithkin.connection.profile import ContactCounts, MapCounts, Scored, Sources
from kithkin.measures import scoring
from kithkin.measures import services as measures
from kithkin.network.graph import FIVE_S_KEYS, SUPPORT_KEYS
from kithkin.network.models import Contact, Group, Person, Snapshot
from kithkin.network.snapshots import current_content
from tests import factories

UTC = datetime.UTC
# Noon UTC on a Monday, 3 November: "From your ... check-in on 3 Nov".
NOW = datetime.datetime(2025, 11, 3, 12, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)


def profile_url(client: Client) -> str:
    return reverse("connection_profile", kwargs={"client_id": client.pk})


# --- answers -------------------------------------------------------------------------------


def keyed(instrument_id: str, value: float) -> dict[str, float | None]:
    """Every item answered so that it counts as ``value`` after reverse keying: a self-compassion
    scale "all at 1" really means low self-compassion."""
    chosen = measures.instrument(instrument_id)
    return {
        item.id: (item.lowest + item.highest - value) if item.reverse else value
        for item in chosen.items
    }


def factors(default: float = 4, **values: float) -> dict[str, float | None]:
    """Protective factors check-in answers (1-5): ``default`` for every factor but those given."""
    return {factor: values.get(factor, default) for factor in profile.FACTORS}


def five_s(default: float = 3, **values: float) -> dict[str, float | None]:
    """Five S's check-in answers (0-4)."""
    return {key: values.get(key, default) for key in FIVE_S_KEYS}


# --- pure sources --------------------------------------------------------------------------


def scored(
    instrument_id: str, answers: Mapping[str, float | None], *, days_ago: float = 0
) -> Scored:
    """A response as load_sources reads it, scored by the real scoring engine."""
    result = scoring.score(measures.instrument(instrument_id), answers)
    return Scored(
        instrument_id=instrument_id,
        at=NOW - days_ago * DAY,
        answers={k: float(v) for k, v in answers.items() if v is not None},
        total=result.total,
        subscales={s.id: s.score for s in result.subscales if s.score is not None},
    )


def map_of(
    *,
    size: int = 5,
    supportive: int | None = None,
    groups: int = 1,
    at: datetime.datetime = NOW,
    **providers: int,
) -> MapCounts:
    """Map counts: every five S and support kind has 2 providers unless given, e.g.
    ``map_of(safe=1, practical=0)``."""
    counts = {f"five_s.{key}": providers.get(key, 2) for key in FIVE_S_KEYS}
    counts.update({f"support.{key}": providers.get(key, 2) for key in SUPPORT_KEYS})
    supportive = size if supportive is None else supportive
    return MapCounts(
        at=at,
        size=size,
        described=supportive > 0,
        supportive=supportive,
        providers=counts,
        groups=groups,
    )


EMPTY_MAP = MapCounts(NOW, 0, False, 0, map_of().providers, 0)


def log(
    weekly: Sequence[int] = (2, 2, 2, 2, 2, 2, 2, 2),
    *,
    first_days_ago: float | None = 120,
    known: int = 0,
    drifting: int = 0,
) -> ContactCounts:
    """Contact counts per week, the most recent week first (eight weeks)."""
    weeks = tuple(weekly) + (0,) * (2 * profile.LOG_WEEKS - len(weekly))
    first = None if first_days_ago is None else NOW - first_days_ago * DAY
    return ContactCounts(first_at=first, weekly=weeks, known=known, drifting=drifting)


NO_LOG = ContactCounts(first_at=None, weekly=(0,) * (2 * profile.LOG_WEEKS))


def sources(
    *responses: Scored,
    map_now: MapCounts = EMPTY_MAP,
    map_before: MapCounts | None = None,
    contacts: ContactCounts = NO_LOG,
) -> Sources:
    by_instrument: dict[str, list[Scored]] = {}
    for response in sorted(responses, key=lambda r: r.at):
        by_instrument.setdefault(response.instrument_id, []).append(response)
    return Sources(
        now=NOW,
        responses={key: tuple(value) for key, value in by_instrument.items()},
        map_now=map_now,
        map_before=map_before,
        contacts=contacts,
    )


def observe(*responses: Scored, **kwargs: Any) -> dict[str, profile.Observation]:
    return profile.observe(sources(*responses, **kwargs))


def fired(observations: Mapping[str, profile.Observation]) -> set[tuple[str, str]]:
    """(rule id, element) for every suggestion that applies."""
    return {(f.rule.id, f.element) for f in profile.suggest(observations)}


def rule_ids(observations: Mapping[str, profile.Observation]) -> set[str]:
    return {f.rule.id for f in profile.suggest(observations)}


# --- rows in the database ------------------------------------------------------------------


def checkin(
    client: Client,
    instrument_id: str,
    answers: Mapping[str, float | None],
    *,
    days_ago: float = 0,
    now: datetime.datetime = NOW,
) -> None:
    factories.submitted_response(client, instrument_id, dict(answers), when=now - days_ago * DAY)


def contacts_in_weeks(
    person: Person, weekly: Iterable[int], *, now: datetime.datetime = NOW
) -> None:
    """``weekly[i]`` contacts with ``person`` during the i-th week before ``now`` (0 = the last
    seven days), a day apart from the middle of that week."""
    rows = [
        Contact(
            client_id=person.client_id,
            person=person,
            channel="phone",
            occurred_at=now - week * WEEK - (3 + n % 3) * DAY,
        )
        for week, count in enumerate(weekly)
        for n in range(count)
    ]
    Contact.objects.bulk_create(rows)


def snapshot(client: Client, *, days_ago: float, now: datetime.datetime = NOW) -> Snapshot:
    """The client's map as it is now, kept as if taken ``days_ago`` days before ``now``."""
    taken_at = now - days_ago * DAY
    content = current_content(client, taken_at=taken_at)
    return Snapshot.objects.create(
        client=client,
        taken_at=taken_at,
        reason=Snapshot.Reason.ON_DEMAND,
        content=json.dumps(content),
        person_count=len(content["people"]),
    )


def rich_client(client: Client, *, scale: int, now: datetime.datetime = NOW) -> None:
    """A client with every source filled in; ``scale`` multiplies responses, people and contacts
    (for the query-count test)."""
    for n in range(scale * 2):
        days = 90 - n * (80 // (scale * 2))
        checkin(client, "protective_factors", factors(2 + n % 3), days_ago=days, now=now)
        checkin(client, "five_s", five_s(1 + n % 3), days_ago=days, now=now)
        checkin(client, "ucla3", keyed("ucla3", 1 + n % 3), days_ago=days, now=now)
        checkin(client, "scs_sf", keyed("scs_sf", 2 + n % 3), days_ago=days, now=now)
        checkin(client, "ssps", keyed("ssps", 2 + n % 3), days_ago=days, now=now)
        checkin(client, "fcs", keyed("fcs", n % 3), days_ago=days, now=now)
    people = [
        factories.person_of(
            client,
            f"Person {n}",
            helps_safe=n % 2 == 0,
            helps_seen=True,
            gives_practical=n % 3 == 0,
            wished_rhythm_days=7,
        )
        for n in range(scale * 3)
    ]
    factories.person_of(client, "Never Named", not_safe=True, helps_safe=True)
    group = Group.objects.create(client=client, name="Choir", kind="club")
    group.members.set(people[:2])
    snapshot(client, days_ago=30, now=now)
    for person in people:
        contacts_in_weeks(person, [1] * (2 * scale), now=now)
