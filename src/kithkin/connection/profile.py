"""A client's resilience and connection profile: the seven protective factors, the five S's and
the study's two sides (connection and disconnection), each read from every source that speaks to
it, with its trend and a suggested next step.

Three layers, so each can be checked on its own:

- ``load_sources(client)`` reads the database in a fixed number of queries (responses, the map,
  one older map snapshot, the contact log as weekly counts), whatever the number of responses,
  people or contacts;
- ``observe(sources)`` is pure: it turns the sources into ``Observation`` s (a level and a trend
  per source, no words), and the rules in ``RULES`` read those;
- ``describe(...)`` words it all for the reader: the client in calm, plain words, the care team
  with instruments and scores.

Choices, so every reading can be checked by hand:

- Levels are ``STRONG``, ``SOME`` or ``LOW`` (weakest first in the enum). A check-in item is
  strong at the top two options, some at the middle one, low at the bottom two. Questionnaire
  totals use the published cut-off where there is one (UCLA-3 ≥ 6 is low) and otherwise the mean
  item score (Kithkin's reading, not a published norm; see ``_TOTALS``).
- A trend compares the first and the latest response. With reliable-change data the
  Jacobson-Truax classification decides (``scoring.classify_change``); without it, a change of at
  least a tenth of the score range (a whole option for one item) counts as a direction, and the
  care team is told it is a direction only.
- The map is read as ``network.metrics`` reads it: a person marked "not safe for me" never counts
  as helping with anything, and no person is ever named here. The map's trend compares it with
  the latest snapshot at least ``MAP_COMPARE_AFTER`` old.
- The contact log is counted per week over the last eight, leaving out contacts with anyone
  marked "not safe". Regular contact is the share of the last four weeks (since logging began)
  with any contact, and no better than the share of relationships not drifting (their rhythm as
  ``connection.rhythm`` learns it, the same the rhythm page and the nudges use). Its trend
  compares the number of contacts in the last four weeks with the four before, once the log
  reaches into the oldest of those weeks, and needs a difference of at least
  ``max(2, a quarter of the larger count)``. No contact logged ever means no reading: not logging
  is not the same as not being in touch.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kithkin.accounts.models import Client
from kithkin.connection import rhythm
from kithkin.measures import scoring
from kithkin.measures import services as measures
from kithkin.measures.library import Instrument, Library
from kithkin.measures.models import Response
from kithkin.network.graph import (
    FIVE_S_KEYS,
    SUPPORT_KEYS,
    GroupData,
    MapData,
    PersonData,
    load_map_data,
)
from kithkin.network.metrics import FEELINGS
from kithkin.network.models import Contact, Snapshot

AUDIENCES = ("client", "clinician")

PROTECTIVE_FACTORS = "protective_factors"
FIVE_S = "five_s"
MAP = "map"
CONTACT_LOG = "contact_log"

# The seven protective factors (concepts.md, section 4), in its order. The check-in's item ids
# are these keys (measures/definitions/protective_factors.json).
FACTORS: tuple[str, ...] = (
    "consistent_contact",
    "clear_boundaries",
    "competence",
    "control",
    "purpose",
    "inclusion",
    "multiple_connections",
)
# The instruments of the study's two sides, with the element each feeds.
SIDES: dict[str, tuple[tuple[str, str], ...]] = {
    "connection": (("self_compassion", "scs_sf"), ("social_safeness", "ssps")),
    "disconnection": (("loneliness", "ucla3"), ("fears_of_compassion", "fcs")),
}
INSTRUMENTS: tuple[str, ...] = (
    PROTECTIVE_FACTORS,
    FIVE_S,
    *(instrument_id for side in SIDES.values() for _key, instrument_id in side),
)

WEEK = timedelta(days=7)
LOG_WEEKS = 4  # the contact log's window; its trend compares it with the one before
# A snapshot younger than this says little about change; the map is compared with an older one.
MAP_COMPARE_AFTER = timedelta(days=14)
# Without reliable-change data, a change this share of the score range counts as a direction.
DIRECTION_SHARE = 0.1
# The "next steps" at the top of the page; every suggestion also shows beside its element.
TOP_SUGGESTIONS = 3


class Level(enum.IntEnum):
    """How well an element is going, by one source. Ordered: the weakest reading leads."""

    LOW = 0
    SOME = 1
    STRONG = 2


class Trend(enum.StrEnum):
    IMPROVING = "improving"
    STEADY = "steady"
    DECLINING = "declining"
    UNKNOWN = "not_enough_data"


# --- the sources -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """One submitted response, as the profile reads it."""

    instrument_id: str
    at: datetime
    answers: Mapping[str, float]
    total: float | None
    subscales: Mapping[str, float]  # scored subscales only


@dataclass(frozen=True)
class MapCounts:
    """What the profile reads from a map (now, or a snapshot): counts only, never names."""

    at: datetime
    size: int
    described: bool  # someone (not "not safe") is marked as helping or supporting
    supportive: int  # people (not "not safe") who help with at least one S or support kind
    providers: Mapping[str, int]  # "five_s.safe", "support.practical" → how many people
    groups: int


@dataclass(frozen=True)
class ContactCounts:
    first_at: datetime | None  # the first logged contact with anyone not marked "not safe"
    weekly: tuple[int, ...]  # contacts in each of the last 2 * LOG_WEEKS weeks, latest first
    known: int = 0  # relationships with a known rhythm (connection.rhythm: learned or wished)
    drifting: int = 0  # ... that have gone longer than usual without contact


@dataclass(frozen=True)
class Sources:
    now: datetime
    responses: Mapping[str, tuple[Scored, ...]]
    map_now: MapCounts
    map_before: MapCounts | None
    contacts: ContactCounts


def map_counts(data: MapData, at: datetime) -> MapCounts:
    """The profile's view of a map; the same rules as ``network.metrics`` (its tests check)."""
    resources = [p for p in data.people if not p.not_safe]
    providers = {f"five_s.{key}": 0 for key in FIVE_S_KEYS}
    providers.update({f"support.{key}": 0 for key in SUPPORT_KEYS})
    for person in resources:
        for key in person.five_s:
            if f"five_s.{key}" in providers:
                providers[f"five_s.{key}"] += 1
        for key in person.support:
            if f"support.{key}" in providers:
                providers[f"support.{key}"] += 1
    supportive = sum(1 for p in resources if p.five_s or p.support)
    return MapCounts(
        at=at,
        size=len(data.people),
        described=supportive > 0,
        supportive=supportive,
        providers=providers,
        groups=len(data.groups),
    )


def map_from_snapshot(content: Mapping[str, Any]) -> MapData:
    """A snapshot document (network.snapshots) as MapData, for counting only."""
    people = tuple(
        PersonData(
            id=str(entry["id"]),
            name="",  # never needed here: nobody is named in the profile
            category=str(entry.get("category", "other")),
            five_s=frozenset(entry.get("helps", ())),
            support=frozenset(entry.get("gives", ())),
            not_safe=bool(entry.get("not_safe", False)),
            wished_rhythm_days=entry.get("wished_rhythm_days"),
        )
        for entry in content.get("people", ())
    )
    groups = tuple(
        GroupData(str(g["id"]), str(g.get("kind", "other")), frozenset(g.get("members", ())))
        for g in content.get("groups", ())
    )
    return MapData(people=people, groups=groups)


def _scored(instrument_id: str, at: datetime, answers: Any, total: Any, detail: Any) -> Scored:
    subscales = {
        str(s["id"]): float(s["score"])
        for s in (detail or {}).get("subscales", ())
        if s.get("score") is not None
    }
    return Scored(
        instrument_id=instrument_id,
        at=at,
        answers={str(k): float(v) for k, v in (answers or {}).items() if v is not None},
        total=float(total) if total is not None else None,
        subscales=subscales,
    )


def load_sources(client: Client, *, now: datetime | None = None) -> Sources:
    """Everything the profile reads, in a fixed number of queries: the responses (one), the map
    (network.graph.load_map_data), the snapshot to compare it with (one) and the contact log as
    weekly counts (one)."""
    now = now or timezone.now()
    responses: dict[str, list[Scored]] = {}
    rows = (
        Response.objects.submitted()
        .filter(client=client, instrument_id__in=INSTRUMENTS, submitted_at__lte=now)
        .order_by("submitted_at", "pk")
        .values_list("instrument_id", "submitted_at", "answers", "total", "score_detail")
    )
    for instrument_id, at, answers, total, detail in rows:
        if at is None:  # submitted responses always have a time (a check constraint)
            continue
        responses.setdefault(instrument_id, []).append(
            _scored(instrument_id, at, answers, total, detail)
        )

    map_now = map_counts(load_map_data(client, now=now), now)
    older = (
        Snapshot.objects.filter(client=client, taken_at__lte=now - MAP_COMPARE_AFTER)
        .order_by("-taken_at", "-pk")
        .only("taken_at", "content")
        .first()
    )
    map_before = None
    if older is not None:
        try:
            content = json.loads(older.content)
        except ValueError:  # a damaged snapshot is no reason to fail the page
            content = None
        if isinstance(content, dict):
            map_before = map_counts(map_from_snapshot(content), older.taken_at)

    weeks = 2 * LOG_WEEKS
    windows = {
        f"w{i}": Count(
            "pk",
            filter=Q(occurred_at__gt=now - (i + 1) * WEEK, occurred_at__lte=now - i * WEEK),
        )
        for i in range(weeks)
    }
    counted = Contact.objects.filter(
        client=client, person__client=client, person__not_safe=False, occurred_at__lte=now
    ).aggregate(first=Min("occurred_at"), **windows)
    # Each relationship's rhythm as the rhythm page and the nudges see it (two queries).
    states = rhythm.load(
        rhythm.safe_people([client.pk]), zones={client.pk: rhythm.zone_of(client)}, now=now
    )
    known = [state for state in states.values() if state.status is not rhythm.Status.UNKNOWN]
    contacts = ContactCounts(
        first_at=counted["first"],
        weekly=tuple(int(counted[f"w{i}"]) for i in range(weeks)),
        known=len(known),
        drifting=sum(1 for state in known if state.drifting),
    )
    return Sources(
        now=now,
        responses={key: tuple(value) for key, value in responses.items()},
        map_now=map_now,
        map_before=map_before,
        contacts=contacts,
    )


# --- observing: levels and trends, no words ----------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What one source says about one element."""

    source: str  # an instrument id, MAP or CONTACT_LOG
    level: Level | None  # None: the source has nothing to say about it yet
    trend: Trend
    at: datetime | None = None  # when the latest value was given
    since: datetime | None = None  # when the value it is compared with was given
    value: float | None = None
    before: float | None = None
    count: int = 0  # responses behind it
    reliable: bool = False  # the trend is Jacobson-Truax reliable change, not a direction
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Observation:
    """One element of the profile and what each source says about it."""

    key: str
    readings: tuple[Reading, ...]

    def reading(self, source: str) -> Reading | None:
        return next((r for r in self.readings if r.source == source), None)

    @property
    def level(self) -> Level | None:
        """The weakest known reading: a weak point shows even when another source looks fine."""
        known = [r.level for r in self.readings if r.level is not None]
        return min(known) if known else None

    @property
    def trend(self) -> Trend:
        """Declining if any source declines (worth a look), else improving, else steady."""
        trends = {r.trend for r in self.readings}
        for trend in (Trend.DECLINING, Trend.IMPROVING, Trend.STEADY):
            if trend in trends:
                return trend
        return Trend.UNKNOWN


Observations = Mapping[str, Observation]


def _direction(improvement: float, threshold: float) -> Trend:
    if improvement >= threshold:
        return Trend.IMPROVING
    if improvement <= -threshold:
        return Trend.DECLINING
    return Trend.STEADY


def _item_level(instrument: Instrument, value: float) -> Level:
    """Top two options strong, the middle one some, the bottom two low."""
    low, high = instrument.option_range
    middle = (low + high) / 2
    if value > middle:
        return Level.STRONG
    if value < middle:
        return Level.LOW
    return Level.SOME


def _item_reading(instrument: Instrument, responses: Sequence[Scored], item_id: str) -> Reading:
    points = [(r.at, r.answers[item_id]) for r in responses if item_id in r.answers]
    if item_id not in instrument.item_map or not points:
        return Reading(instrument.id, None, Trend.UNKNOWN)
    (first_at, first), (at, latest) = points[0], points[-1]
    trend = Trend.UNKNOWN if len(points) < 2 else _direction(latest - first, 1)
    return Reading(
        instrument.id,
        _item_level(instrument, latest),
        trend,
        at=at,
        since=first_at if len(points) > 1 else None,
        value=latest,
        before=first if len(points) > 1 else None,
        count=len(points),
    )


@dataclass(frozen=True)
class _Total:
    """How a questionnaire total (or subscale) is read into a level."""

    # Mean item score at or above which the reading is strong (higher_is_better) or low
    # (higher_is_worse), and the second threshold; Kithkin's reading of each scale's range.
    strong_at: float
    low_at: float


# Mean item score thresholds. SCS-SF: Neff's usual reading of its 1-5 mean (below 2.5 low, 3.5
# and above high); SSPS: the same on its 1-5 items; FCS: 0-4 agreement, "somewhat agree" (2) or
# more on average counts as high fear. UCLA-3 uses its recorded cut-off instead.
_TOTALS: dict[str, _Total] = {
    "scs_sf": _Total(strong_at=3.5, low_at=2.5),
    "ssps": _Total(strong_at=3.5, low_at=2.5),
    "fcs": _Total(strong_at=1.0, low_at=2.0),
}


def _total_level(instrument: Instrument, value: float, items: int) -> Level:
    """A questionnaire total (or subscale) as a level. With a recorded cut-off (and no reading
    of our own in _TOTALS): low on the clinical side, strong in the better half of the rest."""
    cutoff = instrument.cutoff
    if cutoff is not None and instrument.id not in _TOTALS:
        if cutoff.is_clinical(value):
            return Level.LOW
        low, high = instrument.score_range
        best = low if instrument.direction == "higher_is_worse" else high
        middle = (best + cutoff.value) / 2
        better = value <= middle if best < cutoff.value else value >= middle
        return Level.STRONG if better else Level.SOME
    reading = _TOTALS.get(instrument.id, _Total(strong_at=3.5, low_at=2.5))
    mean = value if instrument.rule == "mean" else value / max(items, 1)
    if instrument.direction == "higher_is_worse":
        if mean >= reading.low_at:
            return Level.LOW
        return Level.SOME if mean >= reading.strong_at else Level.STRONG
    if mean >= reading.strong_at:
        return Level.STRONG
    return Level.SOME if mean >= reading.low_at else Level.LOW


def _series_trend(
    instrument: Instrument, first: float, latest: float, span: float, *, total: bool
) -> tuple[Trend, bool]:
    """(trend, judged by reliable change?) from the first value to the latest."""
    if total and instrument.reliable_change is not None:
        change = scoring.classify_change(instrument, first, latest)
        mapped = {
            scoring.ReliableChange.IMPROVED: Trend.IMPROVING,
            scoring.ReliableChange.DETERIORATED: Trend.DECLINING,
            scoring.ReliableChange.NO_CHANGE: Trend.STEADY,
        }
        if change.classification is not None:
            return mapped[change.classification], True
    improvement = latest - first
    if instrument.direction == "higher_is_worse":
        improvement = -improvement
    return _direction(improvement, DIRECTION_SHARE * span), False


def _total_reading(instrument: Instrument, responses: Sequence[Scored]) -> Reading:
    points = [(r.at, r.total) for r in responses if r.total is not None]
    if not points:
        return Reading(
            instrument.id, None, Trend.UNKNOWN, at=responses[-1].at, count=len(responses)
        )
    (first_at, first), (at, latest) = points[0], points[-1]
    low, high = instrument.score_range
    trend, reliable = Trend.UNKNOWN, False
    if len(points) > 1:
        trend, reliable = _series_trend(instrument, first, latest, high - low, total=True)
    return Reading(
        instrument.id,
        _total_level(instrument, latest, len(instrument.scored_items)),
        trend,
        at=at,
        since=first_at if len(points) > 1 else None,
        value=latest,
        before=first if len(points) > 1 else None,
        count=len(points),
        reliable=reliable,
    )


def _subscales_reading(instrument: Instrument, responses: Sequence[Scored]) -> Reading:
    """An instrument scored only by subscales (FCS): the weakest part sets the level, and any
    part declining makes the trend declining."""
    parts: list[dict[str, Any]] = []
    for subscale in instrument.subscales:
        points = [(r.at, r.subscales[subscale.id]) for r in responses if subscale.id in r.subscales]
        if not points:
            continue
        items = [instrument.item(item_id) for item_id in subscale.items]
        span = sum(item.highest - item.lowest for item in items)
        (_first_at, first), (_at, latest) = points[0], points[-1]
        trend = Trend.UNKNOWN
        if len(points) > 1:
            trend, _reliable = _series_trend(instrument, first, latest, span, total=False)
        lowest = sum(item.lowest for item in items)
        parts.append(
            {
                "id": subscale.id,
                "title": subscale.title,
                "value": latest,
                "before": first if len(points) > 1 else None,
                "min": lowest,
                "max": lowest + span,
                "level": _total_level(instrument, latest, len(items)),
                "trend": trend,
            }
        )
    scored = [r for r in responses if r.subscales]
    if not parts:
        return Reading(
            instrument.id, None, Trend.UNKNOWN, at=responses[-1].at, count=len(responses)
        )
    trends = {part["trend"] for part in parts}
    trend = next(
        (t for t in (Trend.DECLINING, Trend.IMPROVING, Trend.STEADY) if t in trends),
        Trend.UNKNOWN,
    )
    return Reading(
        instrument.id,
        min(part["level"] for part in parts),
        trend,
        at=scored[-1].at,
        since=scored[0].at if len(scored) > 1 else None,
        count=len(scored),
        detail={"parts": tuple(parts)},
    )


def _count_trend(now: int, before: int | None) -> Trend:
    if before is None:
        return Trend.UNKNOWN
    return _direction(now - before, 1)


def _map_reading(
    sources: Sources, count: Callable[[MapCounts], int], level: Callable[[int], Level]
) -> Reading | None:
    """None for an empty map; a reading without a level when nobody is marked as helping."""
    current = sources.map_now
    if current.size == 0:
        return None
    if not current.described:
        return Reading(MAP, None, Trend.UNKNOWN, detail={"size": current.size})
    value = count(current)
    before = count(sources.map_before) if sources.map_before is not None else None
    return Reading(
        MAP,
        level(value),
        _count_trend(value, before),
        at=current.at,
        since=sources.map_before.at if sources.map_before is not None else None,
        value=value,
        before=before,
        detail={"size": current.size, "counts": current},
    )


def _providers_level(count: int) -> Level:
    return Level.STRONG if count >= 2 else Level.SOME if count == 1 else Level.LOW


def _supportive_level(count: int) -> Level:
    return Level.STRONG if count >= 3 else Level.SOME if count == 2 else Level.LOW


def _groups_reading(sources: Sources) -> Reading | None:
    current = sources.map_now
    if current.size == 0 and current.groups == 0:
        return None
    before = sources.map_before.groups if sources.map_before is not None else None
    return Reading(
        MAP,
        Level.STRONG if current.groups else Level.LOW,
        _count_trend(current.groups, before),
        at=current.at,
        since=sources.map_before.at if sources.map_before is not None else None,
        value=current.groups,
        before=before,
        detail={"size": current.size, "counts": current},
    )


def _contact_reading(sources: Sources) -> Reading | None:
    """None until a contact is logged: not logging is not the same as not being in touch."""
    log, now = sources.contacts, sources.now
    if log.first_at is None:
        return None
    recent, earlier = log.weekly[:LOG_WEEKS], log.weekly[LOG_WEEKS:]
    # Weeks before logging began say nothing about contact: only count weeks since then.
    covered = sum(1 for i in range(LOG_WEEKS) if now - i * WEEK > log.first_at)
    in_touch = sum(1 for n in recent if n > 0)
    share = in_touch / covered if covered else 0.0
    level = Level.STRONG if share >= 0.75 else Level.SOME if share >= 0.5 else Level.LOW
    if log.known:
        steady = 1 - log.drifting / log.known
        level = min(
            level, Level.STRONG if steady >= 0.75 else Level.SOME if steady >= 0.5 else Level.LOW
        )
    contacts_now, contacts_before = sum(recent), sum(earlier)
    trend = Trend.UNKNOWN
    # The comparison needs the log to reach into the oldest week compared.
    if log.first_at <= now - (2 * LOG_WEEKS - 1) * WEEK:
        margin = max(2.0, 0.25 * max(contacts_now, contacts_before))
        trend = _direction(contacts_now - contacts_before, margin)
    return Reading(
        CONTACT_LOG,
        level,
        trend,
        at=now,
        since=now - 2 * LOG_WEEKS * WEEK if trend is not Trend.UNKNOWN else None,
        value=contacts_now,
        before=contacts_before if trend is not Trend.UNKNOWN else None,
        detail={
            "weeks_in_touch": in_touch,
            "weeks_covered": covered,
            "known": log.known,
            "drifting": log.drifting,
        },
    )


def observe(sources: Sources, library: Library | None = None) -> dict[str, Observation]:
    """Every element of the profile, keyed "factor.<id>", "five_s.<key>", "connection.<id>" or
    "disconnection.<id>", in display order."""
    library = library or measures.installed_library()
    found: dict[str, Observation] = {}

    def checkin(instrument_id: str, item_id: str) -> Reading | None:
        responses = sources.responses.get(instrument_id)
        if not responses or instrument_id not in library:
            return None
        reading = _item_reading(library.get(instrument_id), responses, item_id)
        return reading if reading.level is not None else None

    # The three factors the map and contact log also speak to.
    map_side: dict[str, Reading | None] = {
        "consistent_contact": _contact_reading(sources),
        "inclusion": _groups_reading(sources),
        "multiple_connections": _map_reading(sources, _supportive, _supportive_level),
    }
    for factor in FACTORS:
        readings = [checkin(PROTECTIVE_FACTORS, factor), map_side.get(factor)]
        found[f"factor.{factor}"] = _observation(f"factor.{factor}", readings)
    for key in FIVE_S_KEYS:
        readings = [
            _map_reading(sources, _provider_count(f"five_s.{key}"), _providers_level),
            checkin(FIVE_S, key),
        ]
        found[f"five_s.{key}"] = _observation(f"five_s.{key}", readings)
    for side, elements in SIDES.items():
        for element, instrument_id in elements:
            responses = sources.responses.get(instrument_id, ())
            readings = []
            if responses and instrument_id in library:
                chosen = library.get(instrument_id)
                if chosen.report_total:
                    readings.append(_total_reading(chosen, responses))
                else:
                    readings.append(_subscales_reading(chosen, responses))
            found[f"{side}.{element}"] = _observation(f"{side}.{element}", readings)
    return found


def _observation(key: str, readings: Iterable[Reading | None]) -> Observation:
    return Observation(key, tuple(r for r in readings if r is not None))


def _supportive(counts: MapCounts) -> int:
    return counts.supportive


def _provider_count(function: str) -> Callable[[MapCounts], int]:
    def count(counts: MapCounts) -> int:
        return counts.providers[function]

    return count


# --- suggestions -----------------------------------------------------------------------------


def _reading(observations: Observations, key: str, source: str) -> Reading | None:
    found = observations.get(key)
    return found.reading(source) if found is not None else None


def _item_low(observations: Observations, key: str, source: str) -> bool:
    reading = _reading(observations, key, source)
    return reading is not None and reading.level is Level.LOW


def _providers(observations: Observations, key: str) -> int | None:
    """How many people on the map help with one of the five S's (None: map not described)."""
    reading = _reading(observations, f"five_s.{key}", MAP)
    if reading is None or reading.level is None or reading.value is None:
        return None
    return int(reading.value)


def _map_counts(observations: Observations) -> MapCounts | None:
    reading = _reading(observations, "factor.multiple_connections", MAP)
    if reading is None or reading.level is None:
        return None
    counts: MapCounts = reading.detail["counts"]
    return counts


@dataclass(frozen=True)
class Rule:
    """One suggestion: when it applies, the element it belongs to, and its two wordings.

    ``applies(observations, element)`` is asked for each key in ``elements``; the wording may use
    %(feeling)s (the S the element is about). A rule never names a person."""

    id: str
    elements: tuple[str, ...]
    practice: str  # the practice in concepts.md it draws on
    applies: Callable[[Observations, str], bool]
    client: Promise
    clinician: Promise


def _loneliness_rising(obs: Observations, _key: str) -> bool:
    return obs["disconnection.loneliness"].trend is Trend.DECLINING


def _loneliness_high(obs: Observations, key: str) -> bool:
    found = obs["disconnection.loneliness"]
    return found.level is Level.LOW and not _loneliness_rising(obs, key)


def _safe_only_one(obs: Observations, _key: str) -> bool:
    return _providers(obs, "safe") == 1


def _safe_nobody(obs: Observations, _key: str) -> bool:
    return _providers(obs, "safe") == 0


def _feeling_missing_on_map(obs: Observations, key: str) -> bool:
    return _providers(obs, key.split(".", 1)[1]) == 0


def _feeling_low_in_checkin(obs: Observations, key: str) -> bool:
    return _item_low(obs, key, FIVE_S)


def _no_group(obs: Observations, _key: str) -> bool:
    reading = _reading(obs, "factor.inclusion", MAP)
    no_group = reading is not None and reading.level is not None and reading.value == 0
    return no_group or _item_low(obs, "factor.inclusion", PROTECTIVE_FACTORS)


def _contact_irregular(obs: Observations, _key: str) -> bool:
    return _item_low(obs, "factor.consistent_contact", CONTACT_LOG) or _item_low(
        obs, "factor.consistent_contact", PROTECTIVE_FACTORS
    )


def _contact_falling(obs: Observations, _key: str) -> bool:
    reading = _reading(obs, "factor.consistent_contact", CONTACT_LOG)
    return reading is not None and reading.trend is Trend.DECLINING


def _practical_help_few(obs: Observations, _key: str) -> bool:
    counts = _map_counts(obs)
    few = counts is not None and counts.providers["support.practical"] <= 1
    return few or _item_low(obs, "factor.multiple_connections", PROTECTIVE_FACTORS)


def _factor_low(factor: str) -> Callable[[Observations, str], bool]:
    def applies(obs: Observations, _key: str) -> bool:
        return _item_low(obs, f"factor.{factor}", PROTECTIVE_FACTORS)

    return applies


def _low_or_falling(key: str) -> Callable[[Observations, str], bool]:
    def applies(obs: Observations, _key: str) -> bool:
        found = obs[key]
        return found.level is Level.LOW or found.trend is Trend.DECLINING

    return applies


def _fears_high(obs: Observations, _key: str) -> bool:
    return obs["disconnection.fears_of_compassion"].level is Level.LOW


_OTHER_FEELINGS = tuple(f"five_s.{key}" for key in FIVE_S_KEYS if key != "safe")

# In priority order: the first few that apply are the page's "where to start".
RULES: tuple[Rule, ...] = (
    Rule(
        "safe_nobody",
        ("five_s.safe",),
        "safety: build safety and trust anew",
        _safe_nobody,
        gettext_lazy(
            "Nobody on your map helps you feel safe yet. Feeling safe with someone can be built "
            "slowly, often starting with one steady person, and your clinician can help you "
            "with it."
        ),
        gettext_lazy(
            "No one on the map provides “safe”. Safety and trust may need to be built anew; "
            "consider making it a goal, starting with one steady relationship."
        ),
    ),
    Rule(
        "safe_only_one",
        ("five_s.safe",),
        "safety: reconnect with people who feel safe",
        _safe_only_one,
        gettext_lazy(
            "Only one person on your map helps you feel safe. It helps to have someone else "
            "for when they are not around: is there someone you feel at ease with whom you "
            "could see a little more often?"
        ),
        gettext_lazy(
            "Only one person on the map provides “safe”. Work on widening the circle of safe "
            "people, so that safety does not rest on one relationship."
        ),
    ),
    Rule(
        "loneliness_rising",
        ("disconnection.loneliness",),
        "address loneliness: peer support groups",
        _loneliness_rising,
        gettext_lazy(
            "Feeling lonely has come up more often lately. A peer support group, or a regular "
            "meet-up in person or online, can help; your care team can suggest one near you."
        ),
        gettext_lazy(
            "UCLA-3 loneliness has risen since the first response. Consider a peer support "
            "group or regular (virtual) meet-ups."
        ),
    ),
    Rule(
        "loneliness_high",
        ("disconnection.loneliness",),
        "address loneliness: regular meet-ups",
        _loneliness_high,
        gettext_lazy(
            "Loneliness has been part of things for you lately. Small, regular moments of "
            "contact, like a weekly call or a group that meets at the same time each week, can "
            "ease it."
        ),
        gettext_lazy(
            "UCLA-3 is at or above its loneliness cut-off. Address loneliness with regular "
            "contact: peer support, a weekly meet-up."
        ),
    ),
    Rule(
        "fears_of_compassion_high",
        ("disconnection.fears_of_compassion",),
        "build resilience: compassion-focused work",
        _fears_high,
        gettext_lazy(
            "Kindness, from others or towards yourself, can feel uneasy at times. That is "
            "common after hard experiences. Your clinician can help you practise it gently, at "
            "your own pace."
        ),
        gettext_lazy(
            "Fears of compassion are high on at least one FCS subscale (mean item score 2 or "
            "more). Consider gentle compassion-focused work in session before pushing for more "
            "contact."
        ),
    ),
    Rule(
        "contact_falling",
        ("factor.consistent_contact",),
        "consistent contact: notice drift early",
        _contact_falling,
        gettext_lazy(
            "You have been in touch with people less often than a month before. A short "
            "message this week to someone you feel at ease with could be a gentle start."
        ),
        gettext_lazy(
            "Logged contact has fallen compared with the four weeks before. Check in about "
            "withdrawal."
        ),
    ),
    Rule(
        "contact_irregular",
        ("factor.consistent_contact",),
        "consistent contact: know when, where and how",
        _contact_irregular,
        gettext_lazy(
            "Regular contact helps, and it is easier when you know when and how you will next "
            "be in touch. You could agree a regular time with one or two people, and note on "
            "your map how often you would like to be in touch."
        ),
        gettext_lazy(
            "Consistent contact is low. Help the client set a regular contact rhythm: when, "
            "where and how they will next be in touch."
        ),
    ),
    Rule(
        "no_group",
        ("factor.inclusion",),
        "create safe spaces: a group with a shared purpose",
        _no_group,
        gettext_lazy(
            "Being part of a group that shares something with you, such as a team, a club, a "
            "faith group or a peer group, helps when people are apart. Is there one you would "
            "like to join or go back to?"
        ),
        gettext_lazy(
            "No group on the map, or inclusion rated low. Suggest a group with a shared "
            "purpose: a team, club, congregation or peer group."
        ),
    ),
    Rule(
        "practical_help_few",
        ("factor.multiple_connections",),
        "multiple connections: another person to turn to",
        _practical_help_few,
        gettext_lazy(
            "When one person is not around, it helps to have another. Think of one more person "
            "who could give you practical help, like a lift, a meal or a hand with something."
        ),
        gettext_lazy(
            "Few multiple connections: at most one person gives practical help, or the "
            "check-in item is low. Identify one more person for practical help."
        ),
    ),
    Rule(
        "social_safeness_low",
        ("connection.social_safeness",),
        "create safe spaces: group sessions, community networks",
        _low_or_falling("connection.social_safeness"),
        gettext_lazy(
            "Feeling safe and accepted among others seems harder at the moment. Time in a "
            "setting that feels safe, such as a group session or a community you trust, can "
            "help."
        ),
        gettext_lazy(
            "SSPS is low or falling. Create safe spaces: a network session, group sessions or "
            "a community network the client trusts."
        ),
    ),
    Rule(
        "self_compassion_low",
        ("connection.self_compassion",),
        "foster compassion: start with self-compassion",
        _low_or_falling("connection.self_compassion"),
        gettext_lazy(
            "Being kind to yourself seems hard right now. A small daily practice can help, "
            "such as speaking to yourself as you would to a friend going through the same."
        ),
        gettext_lazy(
            "SCS-SF is low (mean below 2.5) or falling. Foster self-compassion with "
            "compassion-focused exercises."
        ),
    ),
    Rule(
        "feeling_missing_on_map",
        _OTHER_FEELINGS,
        "attachment: look for the people with whom one feels the five S's",
        _feeling_missing_on_map,
        gettext_lazy(
            "Nobody on your map is marked as helping you feel %(feeling)s yet. Who, even a "
            "little, helps you feel that way? You can add it on your map."
        ),
        gettext_lazy(
            "No one on the map provides “%(feeling)s”. Explore who does, even a little, and "
            "mark it on the map."
        ),
    ),
    Rule(
        "feeling_low_in_checkin",
        tuple(f"five_s.{key}" for key in FIVE_S_KEYS),
        "attachment: cultivate the five S's around and toward oneself",
        _feeling_low_in_checkin,
        gettext_lazy(
            "You felt %(feeling)s only a little lately. Notice the moments and people that "
            "help you feel %(feeling)s, and try offering yourself some of the same."
        ),
        gettext_lazy(
            "Five S's check-in: “%(feeling)s” at the bottom of the scale last time. Explore "
            "who and what helps, and cultivate it toward self as well."
        ),
    ),
    Rule(
        "boundaries_unclear",
        ("factor.clear_boundaries",),
        "clear boundaries to separation",
        _factor_low("clear_boundaries"),
        gettext_lazy(
            "Not knowing how long time apart will last can be hard. It may help to mark the "
            "next time you will see or speak with your people, even if the bigger picture is "
            "unclear."
        ),
        gettext_lazy(
            "Clear boundaries to separation rated low. Help the client mark known end points "
            "and next contact dates."
        ),
    ),
    Rule(
        "competence_low",
        ("factor.competence",),
        "competence",
        _factor_low("competence"),
        gettext_lazy(
            "Feeling able to manage on your own can grow step by step. Notice one thing you "
            "handled this week, however small."
        ),
        gettext_lazy("Competence rated low. Build confidence with small, achievable steps."),
    ),
    Rule(
        "control_low",
        ("factor.control",),
        "control",
        _factor_low("control"),
        gettext_lazy(
            "When a lot feels out of your hands, choosing one small thing to decide for "
            "yourself each day can help."
        ),
        gettext_lazy(
            "Control rated low. Find the areas of life where the client can make choices, and "
            "balance them."
        ),
    ),
    Rule(
        "purpose_low",
        ("factor.purpose",),
        "purpose",
        _factor_low("purpose"),
        gettext_lazy(
            "It can help to remind yourself what matters to you right now, and why. Your "
            "clinician can think this through with you."
        ),
        gettext_lazy(
            "Purpose rated low. Explore what the client is committed to and the reason for "
            "how things are now."
        ),
    ),
)


@dataclass(frozen=True)
class Fired:
    rule: Rule
    element: str


def suggest(observations: Observations) -> list[Fired]:
    """Every rule that applies, element by element, in the rules' priority order."""
    fired: list[Fired] = []
    for rule in RULES:
        for element in rule.elements:
            if element in observations and rule.applies(observations, element):
                fired.append(Fired(rule, element))
    return fired


# --- wording -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    rule_id: str
    text: str


def badge_class(level: Level | None) -> str:
    """Calm colours: a strength in green, a weak point in the warm tint, never red."""
    if level is Level.STRONG:
        return "badge badge--ok"
    if level is Level.LOW:
        return "badge badge--warn"
    return "badge"


@dataclass(frozen=True)
class SourceLine:
    """One reading, worded: where it comes from, what it says, and its trend."""

    source: str
    origin: str  # "From your Protective factors check-in on 3 Nov"
    value: str
    level: Level | None
    level_label: str
    trend: Trend
    trend_label: str
    trend_detail: str

    @property
    def badge_class(self) -> str:
        return badge_class(self.level)


@dataclass(frozen=True)
class Element:
    key: str
    title: str
    about: str
    readings: tuple[SourceLine, ...]
    level: Level | None
    level_label: str
    trend: Trend
    trend_label: str
    suggestions: tuple[Suggestion, ...]
    empty_text: str

    @property
    def badge_class(self) -> str:
        return badge_class(self.level)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lead: str
    elements: tuple[Element, ...]
    missing_text: str  # what would fill the section in, when some of it has no data


@dataclass(frozen=True)
class Profile:
    audience: str
    sections: tuple[Section, ...]
    next_steps: tuple[Suggestion, ...]
    has_data: bool
    observations: Mapping[str, Observation]


class _Words:
    """Wording for one reader."""

    def __init__(self, audience: str, now: datetime, library: Library) -> None:
        if audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
        self.you = audience == "client"
        self.now = now
        self.library = library

    def say(self, client_text: str, clinician_text: str) -> str:
        return client_text if self.you else clinician_text

    def date(self, when: datetime) -> str:
        local = timezone.localtime(when)
        same_year = local.year == timezone.localtime(self.now).year
        return date_format(local, "j M" if self.you and same_year else "j M Y")

    def level(self, level: Level | None) -> str:
        if level is None:
            return self.say(_("Not enough to go on yet"), _("No data"))
        if self.you:
            return {
                Level.STRONG: _("Going well"),
                Level.SOME: _("Some of this"),
                Level.LOW: _("Worth some care"),
            }[level]
        return {Level.STRONG: _("Strength"), Level.SOME: _("Moderate"), Level.LOW: _("Weak point")}[
            level
        ]

    def trend(self, trend: Trend) -> str:
        if self.you:
            return {
                Trend.IMPROVING: _("Getting better"),
                Trend.STEADY: _("Steady"),
                Trend.DECLINING: _("Harder lately"),
                Trend.UNKNOWN: _("Too early to tell"),
            }[trend]
        return {
            Trend.IMPROVING: _("Improving"),
            Trend.STEADY: _("Steady"),
            Trend.DECLINING: _("Declining"),
            Trend.UNKNOWN: _("Not enough data"),
        }[trend]


def _number(value: float) -> str:
    return number_format(int(value) if float(value).is_integer() else round(value, 2))


def _option_label(instrument: Instrument, item_id: str, value: float) -> str:
    for option in instrument.item(item_id).options:
        if option.value == value:
            return option.label
    return _number(value)


def _checkin_origin(words: _Words, instrument: Instrument, reading: Reading) -> str:
    assert reading.at is not None
    if words.you:
        return _("From your %(title)s on %(date)s") % {
            "title": instrument.title,
            "date": words.date(reading.at),
        }
    return ngettext(
        "%(name)s, %(date)s (%(count)s response)",
        "%(name)s, %(date)s (%(count)s responses)",
        reading.count,
    ) % {"name": instrument.short_title, "date": words.date(reading.at), "count": reading.count}


def _trend_detail(words: _Words, reading: Reading, instrument: Instrument | None = None) -> str:
    if reading.trend is Trend.UNKNOWN or reading.since is None:
        if words.you:
            return ""
        if reading.source == MAP:
            return _("No map snapshot at least two weeks old to compare with.")
        if reading.source == CONTACT_LOG:
            return _("The contact log does not yet reach back eight weeks.")
        return _("One response so far.")
    if words.you:
        return _("compared with %(date)s") % {"date": words.date(reading.since)}
    text = ""
    if reading.before is not None and reading.value is not None:
        text = _("%(before)s → %(after)s since %(date)s") % {
            "before": _number(reading.before),
            "after": _number(reading.value),
            "date": words.date(reading.since),
        }
    else:
        text = _("since %(date)s") % {"date": words.date(reading.since)}
    if instrument is not None and reading.source == instrument.id:
        if reading.reliable:
            text += " · " + _("reliable change (Jacobson-Truax)")
        else:
            text += " · " + _("direction only: no reliable-change data")
    return text


def _line(
    words: _Words, reading: Reading, origin: str, value: str, instrument: Instrument | None = None
) -> SourceLine:
    return SourceLine(
        source=reading.source,
        origin=origin,
        value=value,
        level=reading.level,
        level_label=words.level(reading.level),
        trend=reading.trend,
        trend_label=words.trend(reading.trend),
        trend_detail=_trend_detail(words, reading, instrument),
    )


def _item_line(words: _Words, reading: Reading, item_id: str) -> SourceLine:
    instrument = words.library.get(reading.source)
    assert reading.value is not None
    label = _option_label(instrument, item_id, reading.value)
    if words.you:
        value = label
    else:
        value = _("%(value)s of %(max)s (%(label)s)") % {
            "value": _number(reading.value),
            "max": _number(instrument.option_range[1]),
            "label": label,
        }
    # No reliability note: single items never have reliable-change data.
    return _line(words, reading, _checkin_origin(words, instrument, reading), value)


def _map_origin(words: _Words) -> str:
    return words.say(_("From your support map"), _("Support map"))


def _five_s_map_line(words: _Words, reading: Reading, key: str) -> SourceLine:
    feeling = str(FEELINGS[key])
    count = int(reading.value or 0)
    if reading.level is None:
        value = words.say(
            _("You haven't marked yet who helps you feel what."),
            _("The five S's are not marked on the map yet."),
        )
    elif count == 0:
        value = words.say(
            _("Nobody on your map is marked as helping you feel %(feeling)s yet."),
            _("No one on the map provides “%(feeling)s”."),
        ) % {"feeling": feeling}
    elif words.you:
        value = ngettext(
            "%(count)s person on your map helps you feel %(feeling)s.",
            "%(count)s people on your map help you feel %(feeling)s.",
            count,
        ) % {"count": count, "feeling": feeling}
    else:
        value = ngettext(
            "%(count)s person on the map provides “%(feeling)s”.",
            "%(count)s people on the map provide “%(feeling)s”.",
            count,
        ) % {"count": count, "feeling": feeling}
    return _line(words, reading, _map_origin(words), value)


def _multiple_map_line(words: _Words, reading: Reading) -> SourceLine:
    if reading.level is None:
        value = words.say(
            _("You haven't marked yet who supports you, and how."),
            _("Support is not marked on the map yet."),
        )
        return _line(words, reading, _map_origin(words), value)
    counts: MapCounts = reading.detail["counts"]
    practical = counts.providers["support.practical"]
    if words.you:
        value = ngettext(
            "%(count)s person on your map supports you in some way",
            "%(count)s people on your map support you in some way",
            counts.supportive,
        ) % {"count": counts.supportive}
        value += "; " + ngettext(
            "%(count)s gives you practical help.",
            "%(count)s give you practical help.",
            practical,
        ) % {"count": practical}
    else:
        single = sum(1 for n in counts.providers.values() if n == 1)
        value = _(
            "%(count)s supportive people (not counting anyone marked not safe); practical "
            "help: %(practical)s; functions resting on one person: %(single)s."
        ) % {"count": counts.supportive, "practical": practical, "single": single}
    return _line(words, reading, _map_origin(words), value)


def _groups_line(words: _Words, reading: Reading) -> SourceLine:
    if reading.level is None:
        value = words.say(_("Your map is empty for now."), _("The map is empty."))
        return _line(words, reading, _map_origin(words), value)
    count = int(reading.value or 0)
    if count == 0:
        value = words.say(
            _("Your map doesn't show a group you belong to yet."), _("No group on the map.")
        )
    elif words.you:
        value = ngettext(
            "You belong to %(count)s group on your map.",
            "You belong to %(count)s groups on your map.",
            count,
        ) % {"count": count}
    else:
        value = ngettext("%(count)s group on the map.", "%(count)s groups on the map.", count) % {
            "count": count
        }
    return _line(words, reading, _map_origin(words), value)


def _contact_line(words: _Words, reading: Reading) -> SourceLine:
    detail = reading.detail
    covered = detail["weeks_covered"]
    values = {
        "weeks": detail["weeks_in_touch"],
        "covered": covered,
        "drifting": detail["drifting"],
        "known": detail["known"],
        "now": _number(reading.value or 0),
        "before": _number(reading.before or 0),
    }
    if words.you:
        value = (
            ngettext(
                "In touch with someone in %(weeks)s of the last %(covered)s week.",
                "In touch with someone in %(weeks)s of the last %(covered)s weeks.",
                covered,
            )
            % values
        )
        if detail["known"] and detail["drifting"]:
            value += (
                " "
                + ngettext(
                    "%(drifting)s of %(known)s relationships has gone longer than usual without "
                    "contact.",
                    "%(drifting)s of %(known)s relationships have gone longer than usual without "
                    "contact.",
                    detail["drifting"],
                )
                % values
            )
        elif detail["known"]:
            value += " " + _("Everyone is within their usual rhythm.")
        return _line(words, reading, _("From your support map and contact log"), value)
    value = (
        ngettext(
            "Contact in %(weeks)s of the last %(covered)s week (%(now)s contacts).",
            "Contact in %(weeks)s of the last %(covered)s weeks (%(now)s contacts).",
            covered,
        )
        % values
    )
    if reading.before is not None:
        value += " " + _("%(before)s contacts in the four weeks before.") % values
    if detail["known"]:
        value += (
            " "
            + _("Drifting: %(drifting)s of %(known)s relationships with a known rhythm.") % values
        )
    return _line(words, reading, _("Contact log and contact rhythms"), value)


# Plain words for the client about each side's questionnaire, by level.
_CLIENT_PHRASES: dict[str, dict[Level, Promise]] = {
    "connection.self_compassion": {
        Level.STRONG: gettext_lazy("You are often kind to yourself."),
        Level.SOME: gettext_lazy("You are kind to yourself some of the time."),
        Level.LOW: gettext_lazy("Being kind to yourself is hard right now."),
    },
    "connection.social_safeness": {
        Level.STRONG: gettext_lazy("You often feel safe and accepted among others."),
        Level.SOME: gettext_lazy("You feel safe and accepted among others some of the time."),
        Level.LOW: gettext_lazy("Feeling safe and accepted among others is hard right now."),
    },
    "disconnection.loneliness": {
        Level.STRONG: gettext_lazy("You have rarely felt lonely lately."),
        Level.SOME: gettext_lazy("Loneliness has come and gone lately."),
        Level.LOW: gettext_lazy("You have often felt lonely lately."),
    },
    "disconnection.fears_of_compassion": {
        Level.STRONG: gettext_lazy("Kindness mostly feels comfortable to you."),
        Level.SOME: gettext_lazy("Kindness sometimes feels uneasy."),
        Level.LOW: gettext_lazy("Kindness, given or received, often feels uneasy."),
    },
}


def _measure_line(words: _Words, key: str, reading: Reading) -> SourceLine:
    instrument = words.library.get(reading.source)
    if reading.level is None:
        value = words.say(
            _("Your last answers could not be added up."),
            _("No scored response: %(name)s could not be scored.")
            % {"name": instrument.short_title},
        )
        origin = _checkin_origin(words, instrument, reading) if reading.at else instrument.title
        return _line(words, reading, origin, value, instrument)
    if words.you:
        value = str(_CLIENT_PHRASES[key][reading.level])
    elif "parts" in reading.detail:
        value = " · ".join(
            _("%(title)s %(value)s (range %(min)s to %(max)s)")
            % {
                "title": part["title"],
                "value": _number(part["value"]),
                "min": _number(part["min"]),
                "max": _number(part["max"]),
            }
            + (
                " " + _("from %(before)s") % {"before": _number(part["before"])}
                if part["before"] is not None
                else ""
            )
            for part in reading.detail["parts"]
        )
    else:
        assert reading.value is not None
        low, high = instrument.score_range
        value = _("%(name)s %(value)s (range %(min)s to %(max)s)") % {
            "name": instrument.short_title,
            "value": _number(reading.value),
            "min": _number(low),
            "max": _number(high),
        }
        if instrument.cutoff is not None:
            value += " · " + instrument.cutoff.label
    return _line(words, reading, _checkin_origin(words, instrument, reading), value, instrument)


_FACTOR_TITLES: dict[str, tuple[Promise, Promise, Promise, Promise]] = {
    # key: client title, clinician title, client explanation, clinician explanation
    "consistent_contact": (
        gettext_lazy("Regular contact"),
        gettext_lazy("Consistent contact"),
        gettext_lazy(
            "Being in touch with your people regularly, and knowing when and how you will next "
            "connect."
        ),
        gettext_lazy("The network stays in touch regularly; when, where and how is known."),
    ),
    "clear_boundaries": (
        gettext_lazy("Knowing how long"),
        gettext_lazy("Clear boundaries to separation"),
        gettext_lazy("Knowing how long time apart from your people will last."),
        gettext_lazy("The client knows how long the separation will last."),
    ),
    "competence": (
        gettext_lazy("Managing on your own"),
        gettext_lazy("Competence"),
        gettext_lazy("Feeling able to manage things yourself."),
        gettext_lazy("The client feels able to manage on their own."),
    ),
    "control": (
        gettext_lazy("Having a say"),
        gettext_lazy("Control"),
        gettext_lazy("Having some say over the different parts of your life."),
        gettext_lazy("Some control, balanced across the areas of life."),
    ),
    "purpose": (
        gettext_lazy("A reason that matters"),
        gettext_lazy("Purpose"),
        gettext_lazy("Having a reason for how things are now that you care about."),
        gettext_lazy("A reason for being apart that the client is committed to."),
    ),
    "inclusion": (
        gettext_lazy("Being part of a group"),
        gettext_lazy("Inclusion"),
        gettext_lazy("Feeling part of a wider group that shares something with you."),
        gettext_lazy("Part of a wider group that shares a purpose."),
    ),
    "multiple_connections": (
        gettext_lazy("More than one person to turn to"),
        gettext_lazy("Multiple connections"),
        gettext_lazy("When one person is not around, someone else is there."),
        gettext_lazy("When one person is unavailable, another is there."),
    ),
}

_SIDE_TITLES: dict[str, tuple[Promise, Promise, Promise, Promise]] = {
    "connection.self_compassion": (
        gettext_lazy("Kindness to yourself"),
        gettext_lazy("Self-compassion"),
        gettext_lazy("How you treat yourself when things are hard."),
        gettext_lazy("Self-compassion (SCS-SF); with others' compassion, linked to growth."),
    ),
    "connection.social_safeness": (
        gettext_lazy("Feeling safe with others"),
        gettext_lazy("Social safeness"),
        gettext_lazy("Feeling safe, warm and accepted among other people."),
        gettext_lazy("Feeling safe, warm and accepted among others (SSPS)."),
    ),
    "disconnection.loneliness": (
        gettext_lazy("Loneliness"),
        gettext_lazy("Loneliness"),
        gettext_lazy("How often you have felt left out, alone or without company."),
        gettext_lazy("UCLA-3; with fears of compassion, linked to traumatic stress."),
    ),
    "disconnection.fears_of_compassion": (
        gettext_lazy("When kindness feels hard"),
        gettext_lazy("Fears of compassion"),
        gettext_lazy("Whether giving, receiving or feeling kindness can feel uneasy."),
        gettext_lazy("Fear of compassion for others, from others and for self (FCS)."),
    ),
}


def _suggestions(words: _Words, fired: Iterable[Fired], key: str) -> tuple[Suggestion, ...]:
    found: list[Suggestion] = []
    feeling = str(FEELINGS[key.split(".", 1)[1]]) if key.startswith("five_s.") else ""
    for item in fired:
        if item.element != key:
            continue
        template = str(item.rule.client if words.you else item.rule.clinician)
        found.append(Suggestion(item.rule.id, template % {"feeling": feeling}))
    return tuple(found)


def _element(
    words: _Words,
    observation: Observation,
    titles: tuple[Promise | str, Promise | str, Promise | str, Promise | str],
    *,
    lines: list[SourceLine],
    fired: Sequence[Fired],
    empty_text: str = "",
) -> Element:
    client_title, clinician_title, client_about, clinician_about = titles
    return Element(
        key=observation.key,
        title=str(client_title if words.you else clinician_title),
        about=str(client_about if words.you else clinician_about),
        readings=tuple(lines),
        level=observation.level,
        level_label=words.level(observation.level),
        trend=observation.trend,
        trend_label=words.trend(observation.trend),
        suggestions=_suggestions(words, fired, observation.key),
        empty_text=empty_text if not lines else "",
    )


def _factor_lines(words: _Words, factor: str, observation: Observation) -> list[SourceLine]:
    lines: list[SourceLine] = []
    for reading in observation.readings:
        if reading.source == PROTECTIVE_FACTORS:
            lines.append(_item_line(words, reading, factor))
        elif reading.source == CONTACT_LOG:
            lines.append(_contact_line(words, reading))
        elif factor == "inclusion":
            lines.append(_groups_line(words, reading))
        else:
            lines.append(_multiple_map_line(words, reading))
    return lines


def _factors_section(words: _Words, observations: Observations, fired: Sequence[Fired]) -> Section:
    empty = words.say(
        _("This will show once you have filled in the protective factors check-in."),
        _("No data: assign the Protective factors check-in."),
    )
    elements = tuple(
        _element(
            words,
            observations[f"factor.{factor}"],
            _FACTOR_TITLES[factor],
            lines=_factor_lines(words, factor, observations[f"factor.{factor}"]),
            fired=fired,
            empty_text=empty,
        )
        for factor in FACTORS
    )
    return Section(
        "factors",
        words.say(_("What helps you stay well when apart"), _("Seven protective factors")),
        words.say(
            _(
                "People who cope well with time apart from their people tend to have these "
                "seven things. Each one shows what it is based on."
            ),
            _(
                "Resilience when apart, from the protective factors check-in and, for three "
                "of them, the map and contact log."
            ),
        ),
        elements,
        "",
    )


def _five_s_section(words: _Words, observations: Observations, fired: Sequence[Fired]) -> Section:
    empty = words.say(
        _("Add people to your map, or fill in the Five S's check-in, to see this."),
        _("No data: the map is empty and no Five S's check-in is completed."),
    )
    elements: list[Element] = []
    for key in FIVE_S_KEYS:
        observation = observations[f"five_s.{key}"]
        feeling = str(FEELINGS[key])
        lines = [
            _five_s_map_line(words, reading, key)
            if reading.source == MAP
            else _item_line(words, reading, key)
            for reading in observation.readings
        ]
        titles = (
            _("Feeling %(feeling)s") % {"feeling": feeling},
            feeling.capitalize(),
            _("Who and what helps you feel %(feeling)s.") % {"feeling": feeling},
            _("Providers on the map, and how much the client felt it (Five S's check-in)."),
        )
        elements.append(
            _element(words, observation, titles, lines=lines, fired=fired, empty_text=empty)
        )
    return Section(
        "five_s",
        words.say(_("Feeling seen, safe, soothed, secure and stable"), _("Five S's coverage")),
        words.say(
            _("Who on your map helps with each, and how much you have felt each lately."),
            _("Map providers (people marked not safe never count) and the Five S's check-in."),
        ),
        tuple(elements),
        "",
    )


def _side_section(
    words: _Words, side: str, observations: Observations, fired: Sequence[Fired]
) -> Section:
    """One of the study's two sides: only the measures the client has completed show."""
    shown: list[Element] = []
    missing: list[str] = []
    for element_key, instrument_id in SIDES[side]:
        key = f"{side}.{element_key}"
        observation = observations[key]
        if not observation.readings:
            if instrument_id in words.library:
                missing.append(words.library.get(instrument_id).short_title)
            continue
        lines = [_measure_line(words, key, r) for r in observation.readings]
        shown.append(_element(words, observation, _SIDE_TITLES[key], lines=lines, fired=fired))
    missing_text = ""
    if missing:
        missing_text = words.say(
            _("More will show here as you fill in check-ins."),
            _("Not completed yet: %(names)s.") % {"names": ", ".join(missing)},
        )
    if side == "connection":
        title = words.say(_("What connects you"), _("Social connection"))
        lead = words.say(
            _("Kindness towards yourself, and feeling safe and accepted among others."),
            _(
                "Compassion and social safeness: linked with post-traumatic growth "
                "(Matos et al. 2021)."
            ),
        )
    else:
        title = words.say(_("What can make connecting harder"), _("Social disconnection"))
        lead = words.say(
            _("Loneliness, and kindness that feels hard to give or receive."),
            _(
                "Loneliness and fears of compassion: linked with traumatic stress "
                "(Matos et al. 2021)."
            ),
        )
    return Section(side, title, lead, tuple(shown), missing_text)


def _next_steps(words: _Words, fired: Sequence[Fired]) -> tuple[Suggestion, ...]:
    """The first few rules that apply, each once, in the rules' priority order."""
    steps: list[Suggestion] = []
    seen: set[str] = set()
    for item in fired:
        if item.rule.id in seen:
            continue
        seen.add(item.rule.id)
        steps.extend(_suggestions(words, [item], item.element))
        if len(steps) >= TOP_SUGGESTIONS:
            break
    return tuple(steps)


def describe(
    observations: Observations,
    *,
    audience: str,
    now: datetime,
    library: Library | None = None,
) -> Profile:
    """Word the profile for its reader."""
    words = _Words(audience, now, library or measures.installed_library())
    fired = suggest(observations)
    sections = (
        _factors_section(words, observations, fired),
        _five_s_section(words, observations, fired),
        *(_side_section(words, side, observations, fired) for side in SIDES),
    )
    has_data = any(
        r.level is not None for observation in observations.values() for r in observation.readings
    )
    return Profile(audience, sections, _next_steps(words, fired), has_data, observations)


def build_profile(client: Client, *, audience: str, now: datetime | None = None) -> Profile:
    """A client's profile, worded for ``audience`` ("client" or "clinician")."""
    now = now or timezone.now()
    library = measures.installed_library()
    return describe(
        observe(load_sources(client, now=now), library),
        audience=audience,
        now=now,
        library=library,
    )
