"""Each relationship's natural rhythm, learned from the contact log, and whether it is drifting.

The rules (docs/connection.md, "Rhythm"):

- Contacts are counted by **day**, in the client's own time zone: two calls on one day are one
  contact day.
- The **learned interval** is the median of the gaps between consecutive contact days, over the
  most recent :data:`RECENT_INTERVALS` gaps; with an even number of gaps, the lower of the two
  middle ones. A median ignores a single long gap (a holiday, an illness) however long it was,
  and the lower middle keeps two gaps of 7 and 60 days at 7 rather than 33.
- It is **trusted only after at least 3 contact days** (:data:`MIN_CONTACT_DAYS`), that is two
  gaps. Before that the page says "not enough contacts yet" and the client's wish is used.
- The **expected interval** is the learned one when trusted, otherwise the client's wished
  rhythm (``Person.wished_rhythm_days``), otherwise there is none and nothing can drift.
- A relationship is **drifting** when the days since the last contact reach
  :func:`drift_after` of the expected interval: more than half as long again, and at least
  :data:`MARGIN_DAYS` days more (every week → drifting from day 11; every day → from day 4).
- Never for a person marked "not safe" or taken off the map: the loader reads only
  ``Person.objects.safe_to_suggest()``. A person with no contact logged is not drifting: there is
  nothing to drift from.
"""

from __future__ import annotations

import datetime
import enum
import itertools
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kithkin.accounts.models import Client
from kithkin.network.models import Contact, Person

MIN_CONTACT_DAYS = 3
RECENT_INTERVALS = 12
MARGIN_FACTOR = 1.5
MARGIN_DAYS = 3


class Basis(enum.Enum):
    LEARNED = "learned"
    WISHED = "wished"
    NONE = "none"


class Status(enum.Enum):
    STEADY = "steady"
    DRIFTING = "drifting"
    UNKNOWN = "unknown"  # no expected interval, or no contact yet


@dataclass(frozen=True)
class PersonRhythm:
    person_id: UUID
    client_id: UUID
    contact_days: int
    learned_days: int | None
    wished_days: int | None
    last_contact_at: datetime.datetime | None
    days_since: int | None

    @property
    def basis(self) -> Basis:
        if self.learned_days is not None:
            return Basis.LEARNED
        return Basis.WISHED if self.wished_days else Basis.NONE

    @property
    def expected_days(self) -> int | None:
        return self.learned_days if self.learned_days is not None else (self.wished_days or None)

    @property
    def drift_after_days(self) -> int | None:
        expected = self.expected_days
        return None if expected is None else drift_after(expected)

    @property
    def status(self) -> Status:
        threshold = self.drift_after_days
        if threshold is None or self.days_since is None:
            return Status.UNKNOWN
        return Status.DRIFTING if self.days_since >= threshold else Status.STEADY

    @property
    def drifting(self) -> bool:
        return self.status is Status.DRIFTING


# --- pure rules ----------------------------------------------------------------------------


def contact_days(
    moments: Iterable[datetime.datetime], zone: datetime.tzinfo
) -> list[datetime.date]:
    """The distinct days with a contact, oldest first, in the given time zone."""
    # astimezone rather than timezone.localtime: the sweep calls this a million times, and
    # every moment here is aware.
    return sorted({moment.astimezone(zone).date() for moment in moments})


def intervals(days: Sequence[datetime.date]) -> list[int]:
    """Gaps in days between consecutive distinct contact days (``days`` sorted, distinct)."""
    return [(later - earlier).days for earlier, later in itertools.pairwise(days)]


def learned_interval(days: Sequence[datetime.date]) -> int | None:
    """The natural interval in days, or None until there are :data:`MIN_CONTACT_DAYS` days."""
    if len(days) < MIN_CONTACT_DAYS:
        return None
    gaps = sorted(intervals(days)[-RECENT_INTERVALS:])
    # The lower middle for an even count: one long gap among two never sets the rhythm.
    return max(1, gaps[(len(gaps) - 1) // 2])


def drift_after(expected_days: int) -> int:
    """The days without contact from which a relationship with this interval is drifting."""
    return max(math.floor(expected_days * MARGIN_FACTOR) + 1, expected_days + MARGIN_DAYS)


def assess(
    person_id: UUID,
    client_id: UUID,
    moments: Sequence[datetime.datetime],
    wished_days: int | None,
    *,
    today: datetime.date,
    zone: datetime.tzinfo,
) -> PersonRhythm:
    """One relationship's rhythm from its contact moments (any order) on ``today``."""
    days = contact_days(moments, zone)
    last = max(moments) if moments else None
    return PersonRhythm(
        person_id=person_id,
        client_id=client_id,
        contact_days=len(days),
        learned_days=learned_interval(days),
        wished_days=wished_days or None,
        last_contact_at=last,
        days_since=max((today - days[-1]).days, 0) if days else None,
    )


# --- wording ---------------------------------------------------------------------------------


def span_text(days: int) -> str:
    """How long ago, as people say it: "10 days", "3 weeks", "2 months"."""
    if days < 14:
        return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}
    if days < 60:
        weeks = round(days / 7)
        return ngettext("%(count)s week", "%(count)s weeks", weeks) % {"count": weeks}
    months = round(days / 30)
    return ngettext("%(count)s month", "%(count)s months", months) % {"count": months}


def every_text(days: int) -> str:
    """A rhythm, as people say it: "every day", "every week", "every 10 days"."""
    if days == 1:
        return _("every day")
    if days % 7 == 0 and days < 28:
        weeks = days // 7
        if weeks == 1:
            return _("every week")
        return _("every %(count)s weeks") % {"count": weeks}
    if 28 <= days <= 31:
        return _("every month")
    return _("every %(count)s days") % {"count": days}


# --- time zones ----------------------------------------------------------------------------


def zone_named(name: str | None) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name) if name else datetime.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def zone_of(client: Client) -> datetime.tzinfo:
    """The client's own time zone: their portal account's, else their practice's."""
    user = client.user if client.user_id else None
    return zone_named(user.time_zone if user is not None else client.practice.time_zone)


# --- the loader ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonFacts:
    person_id: UUID
    client_id: UUID
    wished_days: int | None


def safe_people(client_ids: Sequence[UUID]) -> list[PersonFacts]:
    """The people rhythms are about: on the map and not marked "not safe"."""
    rows = (
        Person.objects.safe_to_suggest()
        .filter(client_id__in=client_ids)
        .order_by()
        .values_list("pk", "client_id", "wished_rhythm_days")
    )
    return [PersonFacts(pk, client_id, wished) for pk, client_id, wished in rows]


def _contact_moments(people: Sequence[PersonFacts]) -> dict[UUID, list[datetime.datetime]]:
    """Every contact time with these people, by person.

    The sweep reads about a million of these. Django's converters would build a UUID for every
    row and hash it; the raw ids (UUIDs on PostgreSQL, hex text on SQLite) are grouped as they
    come and turned into UUIDs once per person."""
    ids = {facts.person_id for facts in people}
    # By person: the index on (person, occurred_at) then holds every column read, so the
    # database never visits the table itself.
    query = (
        Contact.objects.filter(person_id__in=list(ids))
        .order_by()
        .values_list("person_id", "occurred_at")
    )
    sql, params = query.query.sql_with_params()
    by_raw: dict[Any, list[datetime.datetime]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(10_000):
            for raw_id, raw_moment in rows:
                by_raw[raw_id].append(_moment(raw_moment))
    found: dict[UUID, list[datetime.datetime]] = {}
    for raw_id, moments in by_raw.items():
        person_id = raw_id if isinstance(raw_id, UUID) else UUID(str(raw_id))
        if person_id in ids:
            found[person_id] = moments
    return found


def _moment(raw: datetime.datetime | str) -> datetime.datetime:
    """A stored time as an aware UTC datetime (SQLite's come back naive, in UTC)."""
    moment = raw if isinstance(raw, datetime.datetime) else datetime.datetime.fromisoformat(raw)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def load(
    people: Sequence[PersonFacts],
    *,
    zones: Mapping[UUID, datetime.tzinfo],
    now: datetime.datetime | None = None,
) -> dict[UUID, PersonRhythm]:
    """Each person's rhythm, in one query for the contacts of all their clients. ``zones`` maps
    client ids to time zones (UTC when missing). Memory grows with these clients' contacts
    only, so the sweep calls this one batch of clients at a time."""
    now = now or timezone.now()
    if not people:
        return {}
    moments = _contact_moments(people)
    found: dict[UUID, PersonRhythm] = {}
    today: dict[UUID, datetime.date] = {}
    for facts in people:
        zone = zones.get(facts.client_id, datetime.UTC)
        if facts.client_id not in today:
            today[facts.client_id] = timezone.localtime(now, zone).date()
        found[facts.person_id] = assess(
            facts.person_id,
            facts.client_id,
            moments.get(facts.person_id, []),
            facts.wished_days,
            today=today[facts.client_id],
            zone=zone,
        )
    return found


# --- the rhythm page -----------------------------------------------------------------------


@dataclass(frozen=True)
class RhythmRow:
    person: Person
    rhythm: PersonRhythm

    @property
    def usually(self) -> str:
        learned = self.rhythm.learned_days
        return every_text(learned) if learned is not None else ""

    @property
    def wished(self) -> str:
        wished = self.rhythm.wished_days
        return every_text(wished) if wished else ""

    @property
    def since(self) -> str:
        days = self.rhythm.days_since
        if days is None:
            return ""
        if days == 0:
            return _("today")
        return _("%(span)s ago") % {"span": span_text(days)}


def for_client(client: Client, *, now: datetime.datetime | None = None) -> list[RhythmRow]:
    """Every safe person on the client's map with their rhythm, drifting ones first: two
    queries (the people, with their names, and the client's contact times)."""
    now = now or timezone.now()
    people = list(
        Person.objects.safe_to_suggest()
        .filter(client=client)
        .only("id", "client_id", "name", "wished_rhythm_days", "ring", "created_at")
        .order_by("ring", "created_at", "id")
    )
    states = load(
        [PersonFacts(p.pk, client.pk, p.wished_rhythm_days) for p in people],
        zones={client.pk: zone_of(client)},
        now=now,
    )
    rows = [RhythmRow(person, states[person.pk]) for person in people]
    # Stable: within each group the map's order (closest first) is kept.
    return sorted(rows, key=lambda row: not row.rhythm.drifting)
