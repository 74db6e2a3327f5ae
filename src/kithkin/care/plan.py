"""The case plan and the people in it: problems, goals, their indicators and progress, the key
contacts chosen from the client's map, their invitations, and what the client shares with each
network member.

Views decide access and call these. Every write is atomic, attributed and audited with ids and
field names only. A person marked "not safe" is refused here as well as left out of every choice,
so no crafted request can involve them."""

from __future__ import annotations

import datetime
import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kithkin.accounts import invitations
from kithkin.accounts.models import Client, Invitation, NetworkMember, User
from kithkin.audit import services as audit
from kithkin.care import consent
from kithkin.care.models import (
    SHAREABLE,
    ConsentGrant,
    Goal,
    GoalStatus,
    Indicator,
    IndicatorKind,
    KeyContact,
    Problem,
)
from kithkin.measures import services as measures
from kithkin.measures.charts import format_score
from kithkin.measures.library import Instrument
from kithkin.measures.models import Response
from kithkin.network.models import Category, Contact, Person, Strain
from kithkin.network.services import Rhythm, rhythm_status

MAX_TARGET_DAYS = 365


class PlanError(Exception):
    """A change that cannot be made; the message names the problem for the person."""


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


# --- problems --------------------------------------------------------------------------------


def add_problem(request: HttpRequest, client: Client, text: str) -> Problem:
    with transaction.atomic():
        problem = Problem.objects.create(client=client, text=text, created_by=_user(request))
        audit.record(
            request,
            action="care.problem.create",
            object_type="problem",
            object_id=problem.pk,
            client=client,
        )
    return problem


def update_problem(request: HttpRequest, problem: Problem, *, text: str, resolved: bool) -> bool:
    """Change the wording or mark it resolved (or open again); False when nothing changed."""
    changed: list[str] = []
    if text != problem.text:
        problem.text = text
        changed.append("text")
    if resolved != (problem.resolved_at is not None):
        problem.resolved_at = timezone.now() if resolved else None
        changed.append("resolved_at")
    if not changed:
        return False
    with transaction.atomic():
        problem.save(update_fields=changed)
        audit.record(
            request,
            action="care.problem.update",
            object_type="problem",
            object_id=problem.pk,
            client_id=problem.client_id,
            detail={"fields": changed},
        )
    return True


# --- goals -----------------------------------------------------------------------------------

GOAL_FIELDS = ("title", "description", "problem", "target_date", "status")


def add_goal(
    request: HttpRequest,
    client: Client,
    *,
    title: str,
    description: str = "",
    problem: Problem | None = None,
    target_date: datetime.date | None = None,
) -> Goal:
    if problem is not None and problem.client_id != client.pk:
        raise PlanError(_("That problem belongs to someone else's plan."))
    with transaction.atomic():
        goal = Goal.objects.create(
            client=client,
            title=title,
            description=description,
            problem=problem,
            target_date=target_date,
            created_by=_user(request),
        )
        audit.record(
            request, action="care.goal.create", object_type="goal", object_id=goal.pk, client=client
        )
    return goal


def update_goal(request: HttpRequest, goal: Goal, data: dict[str, Any]) -> bool:
    """Save the goal's fields from ``data`` (any of GOAL_FIELDS); False when nothing changed."""
    problem = data.get("problem", goal.problem)
    if problem is not None and problem.client_id != goal.client_id:
        raise PlanError(_("That problem belongs to someone else's plan."))
    changed = [name for name in GOAL_FIELDS if name in data and getattr(goal, name) != data[name]]
    if not changed:
        return False
    for name in changed:
        setattr(goal, name, data[name])
    goal.updated_at = timezone.now()
    with transaction.atomic():
        goal.save(update_fields=[*changed, "updated_at"])
        audit.record(
            request,
            action="care.goal.update",
            object_type="goal",
            object_id=goal.pk,
            client_id=goal.client_id,
            detail={"fields": changed},
        )
    return True


# --- indicators ------------------------------------------------------------------------------


def check_target(instrument: Instrument, target: float) -> None:
    """Refuse a target the instrument's score can never take."""
    low, high = instrument.score_range
    if not low <= target <= high:
        raise PlanError(
            _(
                "%(title)s scores run from %(low)s to %(high)s, so the target must be between "
                "%(low)s and %(high)s."
            )
            % {
                "title": instrument.short_title,
                "low": format_score(low),
                "high": format_score(high),
            }
        )


def not_safe_message(person: Person, *, audience: str) -> str:
    if audience == "client":
        return _("%(name)s is marked as not safe for you, so they cannot be involved.") % {
            "name": person.name
        }
    return _("%(name)s is marked as not safe for the client, so they cannot be involved.") % {
        "name": person.name
    }


def _check_person(person: Person, client: Client, *, audience: str) -> None:
    if person.client_id != client.pk or person.removed_at is not None:
        raise PlanError(_("That person is not on the map any more."))
    if person.not_safe:
        raise PlanError(not_safe_message(person, audience=audience))


def add_score_indicator(
    request: HttpRequest, goal: Goal, *, instrument_id: str, target_score: float
) -> Indicator:
    chosen = measures.instrument_or_none(instrument_id)
    if chosen is None:
        raise PlanError(_("That questionnaire is not available here."))
    check_target(chosen, target_score)
    return _add_indicator(
        request,
        goal,
        Indicator(
            goal=goal,
            kind=IndicatorKind.SCORE,
            instrument_id=chosen.id,
            target_score=target_score,
        ),
    )


def add_rhythm_indicator(
    request: HttpRequest, goal: Goal, *, person: Person, target_days: int, audience: str
) -> Indicator:
    _check_person(person, goal.client, audience=audience)
    if not 1 <= target_days <= MAX_TARGET_DAYS:
        raise PlanError(
            _("Choose how often in days, from 1 to %(max)s.") % {"max": MAX_TARGET_DAYS}
        )
    return _add_indicator(
        request,
        goal,
        Indicator(goal=goal, kind=IndicatorKind.RHYTHM, person=person, target_days=target_days),
    )


def _add_indicator(request: HttpRequest, goal: Goal, indicator: Indicator) -> Indicator:
    with transaction.atomic():
        indicator.save()
        audit.record(
            request,
            action="care.indicator.create",
            object_type="indicator",
            object_id=indicator.pk,
            client_id=goal.client_id,
            detail={"goal": str(goal.pk), "kind": indicator.kind},
        )
    return indicator


def remove_indicator(request: HttpRequest, indicator: Indicator, client_id: UUID) -> None:
    with transaction.atomic():
        pk = indicator.pk
        indicator.delete()
        audit.record(
            request,
            action="care.indicator.remove",
            object_type="indicator",
            object_id=pk,
            client_id=client_id,
            detail={"goal": str(indicator.goal_id)},
        )


# --- progress --------------------------------------------------------------------------------

# Contact rhythm is judged, and reviewed, in four-week periods over the last twelve weeks.
PERIOD_DAYS = 28
PERIODS = 3


class ScoreTrend(enum.Enum):
    """Where a score indicator stands. Worded calmly: the client may read it."""

    REACHED = "reached"
    CLOSER = "closer"  # not there yet, and the latest score is nearer the target than the first
    NO_CHANGE = "no_change"
    FURTHER = "further"  # the latest score is further from the target than the first
    NOT_REACHED = "not_reached"  # a single score so far, short of the target
    NO_SCORE = "no_score"

    @property
    def label(self) -> str:
        return {
            ScoreTrend.REACHED: _("Target reached"),
            ScoreTrend.CLOSER: _("Moving closer"),
            ScoreTrend.NO_CHANGE: _("No change yet"),
            ScoreTrend.FURTHER: _("Further from the target"),
            ScoreTrend.NOT_REACHED: _("Not reached yet"),
            ScoreTrend.NO_SCORE: _("Waiting for a first score"),
        }[self]


class RhythmStanding(enum.Enum):
    """Where a keeping-in-touch indicator stands. Worded calmly: the client may read it."""

    ON_TRACK = "on_track"
    DUE = "due"  # the periods kept to it, but the last contact is longer ago than the rhythm
    NOT_QUITE = "not_quite"
    TOO_EARLY = "too_early"  # set less than four weeks ago, and not on track yet
    NOT_FOLLOWED = "not_followed"  # the person is since marked not safe, or off the map

    @property
    def label(self) -> str:
        return {
            RhythmStanding.ON_TRACK: _("On track"),
            RhythmStanding.DUE: _("Time to get in touch"),
            RhythmStanding.NOT_QUITE: _("Not quite yet"),
            RhythmStanding.TOO_EARLY: _("Too early to tell"),
            RhythmStanding.NOT_FOLLOWED: _("Not followed"),
        }[self]


@dataclass(frozen=True)
class RhythmPeriod:
    """Contacts with the person in one four-week period, against what the target asks."""

    starts_on: datetime.date
    ends_on: datetime.date
    contacts: int
    expected: int

    @property
    def met(self) -> bool:
        return self.contacts >= self.expected


def review_window(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The rhythm's span in whole local days: PERIODS four-week periods up to and including
    today."""
    tomorrow = timezone.localdate(now) + datetime.timedelta(days=1)
    end = datetime.datetime.combine(
        tomorrow, datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    return end - datetime.timedelta(days=PERIOD_DAYS * PERIODS), end


def period_bounds(now: datetime.datetime) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Each period's start and (exclusive) end, oldest first; the last one ends with today."""
    _start, window_end = review_window(now)
    bounds: list[tuple[datetime.datetime, datetime.datetime]] = []
    for back in range(PERIODS - 1, -1, -1):
        end = window_end - datetime.timedelta(days=PERIOD_DAYS * back)
        bounds.append((end - datetime.timedelta(days=PERIOD_DAYS), end))
    return bounds


def expected_contacts(target_days: int) -> int:
    """What "at least every N days" asks of four weeks: ⌈28 / N⌉ contacts."""
    return max(1, math.ceil(PERIOD_DAYS / max(target_days, 1)))


def rhythm_periods(
    contacts: Iterable[datetime.datetime], target_days: int, now: datetime.datetime
) -> list[RhythmPeriod]:
    """The last PERIODS four-week periods, oldest first, with the contacts in each."""
    moments = list(contacts)
    return _periods(
        [
            sum(1 for moment in moments if start <= moment < end)
            for start, end in period_bounds(now)
        ],
        target_days,
        now,
    )


def _periods(counts: Sequence[int], target_days: int, now: datetime.datetime) -> list[RhythmPeriod]:
    expected = expected_contacts(target_days)
    return [
        RhythmPeriod(
            timezone.localdate(start),
            timezone.localdate(end) - datetime.timedelta(days=1),
            count,
            expected,
        )
        for (start, end), count in zip(period_bounds(now), counts, strict=True)
    ]


@dataclass(frozen=True)
class ScoreProgress:
    """Where a questionnaire score stands against its target."""

    indicator: Indicator
    instrument: Instrument | None
    baseline: float | None
    latest: float | None
    latest_at: datetime.datetime | None
    count: int
    audience: str

    kind = IndicatorKind.SCORE

    @property
    def target(self) -> float:
        return float(self.indicator.target_score or 0)

    @property
    def title(self) -> str:
        return self.instrument.short_title if self.instrument else self.indicator.instrument_id

    @property
    def lower_is_better(self) -> bool:
        return self.instrument is None or self.instrument.direction == "higher_is_worse"

    @property
    def met(self) -> bool:
        if self.latest is None:
            return False
        return self.latest <= self.target if self.lower_is_better else self.latest >= self.target

    @property
    def percent(self) -> int | None:
        """How far from the first score to the target the latest one has come, 0 to 100."""
        if self.latest is None or self.baseline is None:
            return None
        if self.met:
            return 100
        span = self.target - self.baseline
        if span == 0:
            return 0
        return round(min(max((self.latest - self.baseline) / span, 0.0), 1.0) * 100)

    @property
    def target_text(self) -> str:
        values = {"title": self.title, "target": format_score(self.target)}
        if self.lower_is_better:
            return _("%(title)s score of %(target)s or lower") % values
        return _("%(title)s score of %(target)s or higher") % values

    @property
    def sentence(self) -> str:
        values = {
            "title": self.title,
            "target": format_score(self.target),
            "baseline": format_score(self.baseline) if self.baseline is not None else "",
            "latest": format_score(self.latest) if self.latest is not None else "",
        }
        if self.latest is None:
            if self.audience == "client":
                return _("No %(title)s check-in yet.") % values
            return _("No %(title)s score yet.") % values
        if self.count == 1:
            return _("%(title)s: %(latest)s so far; the target is %(target)s.") % values
        return (
            _(
                "%(title)s: %(baseline)s at first, %(latest)s most recently; "
                "the target is %(target)s."
            )
            % values
        )

    @property
    def trend(self) -> ScoreTrend:
        """Reached, or which way the latest score has moved from the first one (the baseline
        the sentence and the score table show), read in the instrument's direction."""
        if self.met:
            return ScoreTrend.REACHED
        if self.latest is None:
            return ScoreTrend.NO_SCORE
        if self.baseline is None or self.count < 2:
            return ScoreTrend.NOT_REACHED
        change = (
            self.baseline - self.latest if self.lower_is_better else self.latest - self.baseline
        )
        if math.isclose(change, 0.0, abs_tol=1e-9):
            return ScoreTrend.NO_CHANGE
        return ScoreTrend.CLOSER if change > 0 else ScoreTrend.FURTHER

    @property
    def state_text(self) -> str:
        return self.trend.label


@dataclass(frozen=True)
class RhythmProgress:
    """Whether contact with a person keeps to the rhythm the goal asks for."""

    indicator: Indicator
    person: Person
    last_contact_at: datetime.datetime | None
    days_since: int | None
    state: Rhythm
    audience: str
    show_names: bool = True
    # Contacts in each of the last PERIODS four-week periods, oldest first: the periods the
    # review's table shows.
    periods: tuple[RhythmPeriod, ...] = ()
    # Set less than a whole period ago: not yet followed through one full four weeks.
    too_early: bool = False

    kind = IndicatorKind.RHYTHM

    @property
    def target_days(self) -> int:
        return int(self.indicator.target_days or 0)

    @property
    def name(self) -> str:
        return self.person.name if self.show_names else _("someone from the map")

    @property
    def paused(self) -> bool:
        """A person since marked not safe, or taken off the map, is no longer followed."""
        return self.person.not_safe or self.person.removed_at is not None

    @property
    def periods_kept(self) -> int:
        return sum(1 for period in self.periods if period.met)

    @property
    def standing(self) -> RhythmStanding:
        """On track only when the evidence says so three ways: the latest four weeks kept to the
        rhythm, most of the periods shown did, and the last contact is within the rhythm now."""
        if self.paused:
            return RhythmStanding.NOT_FOLLOWED
        periods_kept_up = (
            bool(self.periods)
            and self.periods[-1].met
            and self.periods_kept * 2 > len(self.periods)
        )
        if periods_kept_up and self.state is Rhythm.WITHIN:
            return RhythmStanding.ON_TRACK
        if self.too_early:
            return RhythmStanding.TOO_EARLY
        if periods_kept_up:
            return RhythmStanding.DUE
        return RhythmStanding.NOT_QUITE

    @property
    def met(self) -> bool:
        return self.standing is RhythmStanding.ON_TRACK

    @property
    def wants_contact(self) -> bool:
        """Shown with the soft amber badge: time to get in touch, or not quite kept to."""
        return self.standing in (RhythmStanding.DUE, RhythmStanding.NOT_QUITE)

    @property
    def target_text(self) -> str:
        return ngettext(
            "in touch with %(name)s at least every %(days)s day",
            "in touch with %(name)s at least every %(days)s days",
            self.target_days,
        ) % {"name": self.name, "days": self.target_days}

    @property
    def sentence(self) -> str:
        values = {"name": self.name, "days": self.target_days, "since": self.days_since}
        if self.person.not_safe:
            return _("%(name)s is now marked as not safe, so this is no longer followed.") % values
        if self.person.removed_at is not None:
            return _("%(name)s is no longer on the map, so this is no longer followed.") % values
        if self.days_since is None:
            return _("No contact with %(name)s logged yet.") % values
        if self.days_since == 0:
            return _("Last in touch with %(name)s today.") % values
        return (
            ngettext(
                "Last in touch with %(name)s %(since)s day ago.",
                "Last in touch with %(name)s %(since)s days ago.",
                self.days_since,
            )
            % values
        )

    @property
    def state_text(self) -> str:
        return self.standing.label


IndicatorProgress = ScoreProgress | RhythmProgress


def progress_for(
    goals: Sequence[Goal],
    *,
    audience: str,
    show_names: bool = True,
    now: datetime.datetime | None = None,
) -> dict[UUID, list[IndicatorProgress]]:
    """Each goal's indicators with where they stand, in three queries whatever the number of
    goals and indicators. Pass ``show_names=False`` for anyone but the client and her care team."""
    now = now or timezone.now()
    found: dict[UUID, list[IndicatorProgress]] = {goal.pk: [] for goal in goals}
    if not goals:
        return found
    indicators = _indicators_of(goals)
    client_ids = {goal.client_id for goal in goals}
    scores = _scores(client_ids, {i.instrument_id for i in indicators if i.instrument_id})
    bounds = period_bounds(now)
    contacts = _contacts({i.person_id for i in indicators if i.person_id}, bounds)
    empty = (0,) * len(bounds)
    latest_period_starts = bounds[-1][0]
    client_of = {goal.pk: goal.client_id for goal in goals}
    library = measures.installed_library()
    for indicator in indicators:
        if indicator.kind == IndicatorKind.SCORE:
            totals = scores.get((client_of[indicator.goal_id], indicator.instrument_id), [])
            found[indicator.goal_id].append(
                ScoreProgress(
                    indicator=indicator,
                    instrument=library.get(indicator.instrument_id)
                    if indicator.instrument_id in library
                    else None,
                    baseline=totals[0][0] if totals else None,
                    latest=totals[-1][0] if totals else None,
                    latest_at=totals[-1][1] if totals else None,
                    count=len(totals),
                    audience=audience,
                )
            )
        elif indicator.person is not None:
            last, counts = contacts.get(indicator.person.pk, (None, empty))
            status = rhythm_status(last, indicator.target_days, now=now)
            found[indicator.goal_id].append(
                RhythmProgress(
                    indicator=indicator,
                    person=indicator.person,
                    last_contact_at=last,
                    days_since=status.days_since,
                    state=status.state,
                    audience=audience,
                    show_names=show_names,
                    periods=tuple(_periods(counts, int(indicator.target_days or 0), now)),
                    too_early=indicator.created_at > latest_period_starts,
                )
            )
    return found


def _indicators_of(goals: Sequence[Goal]) -> list[Indicator]:
    return list(
        Indicator.objects.filter(goal__in=[goal.pk for goal in goals])
        .select_related("person")
        .order_by("created_at", "pk")
    )


def _scores(
    client_ids: Iterable[UUID], instrument_ids: set[str]
) -> dict[tuple[UUID, str], list[tuple[float, datetime.datetime | None]]]:
    found: dict[tuple[UUID, str], list[tuple[float, datetime.datetime | None]]] = defaultdict(list)
    if not instrument_ids:
        return found
    rows = (
        Response.objects.submitted()
        .filter(client_id__in=list(client_ids), instrument_id__in=instrument_ids)
        .filter(total__isnull=False)
        .order_by("submitted_at", "pk")
        .values_list("client_id", "instrument_id", "total", "submitted_at")
    )
    for client_id, instrument_id, total, submitted_at in rows:
        if total is not None:
            found[(client_id, instrument_id)].append((float(total), submitted_at))
    return found


def _contacts(
    person_ids: set[UUID], bounds: Sequence[tuple[datetime.datetime, datetime.datetime]]
) -> dict[UUID, tuple[datetime.datetime | None, tuple[int, ...]]]:
    """Per person, the latest contact and the number of contacts in each period: one query."""
    if not person_ids:
        return {}
    in_period = {
        f"in_{index}": Count("pk", filter=Q(occurred_at__gte=start, occurred_at__lt=end))
        for index, (start, end) in enumerate(bounds)
    }
    rows = (
        Contact.objects.filter(person_id__in=person_ids)
        .values("person_id")
        .annotate(last=Max("occurred_at"), **in_period)
        .values_list("person_id", "last", *in_period)
        .order_by()
    )
    return {row[0]: (row[1], tuple(int(count) for count in row[2:])) for row in rows}


# --- key contacts ----------------------------------------------------------------------------


class ContactStatus(enum.Enum):
    CHOSEN = "chosen"
    INVITED = "invited"
    INVITATION_LAPSED = "lapsed"  # expired or withdrawn before it was used
    JOINED = "joined"
    ENDED = "ended"  # joined, and their access has since been ended

    @property
    def label(self) -> str:
        return {
            ContactStatus.CHOSEN: _("Chosen, not invited yet"),
            ContactStatus.INVITED: _("Invited"),
            ContactStatus.INVITATION_LAPSED: _("Invitation no longer works"),
            ContactStatus.JOINED: _("Joined"),
            ContactStatus.ENDED: _("Access ended"),
        }[self]

    @property
    def badge_class(self) -> str:
        if self is ContactStatus.JOINED:
            return "badge badge--ok"
        return "badge"


def is_strained(person: Person) -> bool:
    return person.strain > Strain.NONE


def strain_warning(person: Person, *, audience: str) -> str:
    level = str(Strain(person.strain).label).lower()
    if audience == "client":
        return _(
            "You noted %(level)s with %(name)s. You can still involve them: think about whether "
            "their being there would help you."
        ) % {"level": level, "name": person.name}
    return _(
        "The map notes %(level)s with %(name)s. You can still involve them: talk it through "
        "with the client first."
    ) % {"level": level, "name": person.name}


def status_of(contact: KeyContact) -> ContactStatus:
    member = contact.network_member
    if member is not None:
        return ContactStatus.ENDED if member.ended_at is not None else ContactStatus.JOINED
    invitation = contact.invitation
    if invitation is None:
        return ContactStatus.CHOSEN
    if (
        invitation.accepted_at is None
        and invitation.revoked_at is None
        and (not invitation.is_expired)
    ):
        return ContactStatus.INVITED
    return ContactStatus.INVITATION_LAPSED


@dataclass(frozen=True)
class ContactRow:
    contact: KeyContact
    status: ContactStatus

    @property
    def person(self) -> Person:
        return self.contact.person

    @property
    def can_invite(self) -> bool:
        return (
            self.status
            in (ContactStatus.CHOSEN, ContactStatus.INVITED, ContactStatus.INVITATION_LAPSED)
            and not self.person.not_safe
            and self.person.removed_at is None
        )


def key_contacts_of(client: Client) -> QuerySet[KeyContact]:
    return (
        KeyContact.objects.current()
        .filter(client=client)
        .select_related("person", "invitation", "network_member")
        .order_by("chosen_at", "pk")
    )


def key_contact_rows(client: Client) -> list[ContactRow]:
    rows = [ContactRow(contact, status_of(contact)) for contact in key_contacts_of(client)]
    rows.sort(key=lambda row: row.person.name.casefold())
    return rows


@dataclass(frozen=True)
class Candidate:
    """Someone on the map who could be chosen: never a person marked not safe."""

    person: Person
    chosen: bool
    strained: bool
    warning: str


def candidates(client: Client, *, audience: str) -> list[Candidate]:
    chosen = set(
        KeyContact.objects.current().filter(client=client).values_list("person_id", flat=True)
    )
    people = list(Person.objects.safe_to_suggest().filter(client=client))
    people.sort(key=lambda p: (p.ring, p.name.casefold()))
    return [
        Candidate(
            person=person,
            chosen=person.pk in chosen,
            strained=is_strained(person),
            warning=strain_warning(person, audience=audience) if is_strained(person) else "",
        )
        for person in people
    ]


def choose(
    request: HttpRequest, client: Client, person: Person, *, why: str = "", audience: str
) -> KeyContact:
    """Make someone from the map a key contact. Refuses a person marked not safe, whatever the
    form offered."""
    _check_person(person, client, audience=audience)
    with transaction.atomic():
        # Lock the client so two choices of the same person at once make one key contact.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        if KeyContact.objects.current().filter(client=client, person=person).exists():
            raise PlanError(_("%(name)s is already a key contact.") % {"name": person.name})
        contact = KeyContact.objects.create(
            client=client, person=person, why=why, chosen_by=_user(request)
        )
        audit.record(
            request,
            action="care.contact.choose",
            object_type="keycontact",
            object_id=contact.pk,
            client=client,
            detail={"person": str(person.pk), "strained": is_strained(person)},
        )
    return contact


def update_why(request: HttpRequest, contact: KeyContact, why: str) -> bool:
    if why == contact.why:
        return False
    with transaction.atomic():
        contact.why = why
        contact.save(update_fields=["why"])
        audit.record(
            request,
            action="care.contact.update",
            object_type="keycontact",
            object_id=contact.pk,
            client_id=contact.client_id,
            detail={"fields": ["why"]},
        )
    return True


def remove_contact(request: HttpRequest, contact: KeyContact) -> None:
    """No longer a key contact. A member who joined keeps their account and access: ending that
    is a separate decision (:func:`end_access`)."""
    with transaction.atomic():
        contact.removed_at = timezone.now()
        contact.save(update_fields=["removed_at"])
        audit.record(
            request,
            action="care.contact.remove",
            object_type="keycontact",
            object_id=contact.pk,
            client_id=contact.client_id,
        )


def relationship_for(person: Person) -> str:
    """What the member's record says about the relationship: the map's category, nothing else."""
    if person.category == Category.OTHER:
        return ""
    return str(Category(person.category).label)


def invite(
    request: HttpRequest,
    contact: KeyContact,
    *,
    email: str,
    display_name: str,
    audience: str,
) -> invitations.Sent:
    """Send a key contact a single-use invitation. A waiting invitation for them is withdrawn
    first, so only the newest link works. Raises PlanError or InvitationError (named problems)."""
    person = contact.person
    _check_person(person, contact.client, audience=audience)
    with transaction.atomic():
        contact = (
            KeyContact.objects.current()
            .select_for_update(of=("self",))
            .select_related("client__practice", "person", "invitation", "network_member")
            .get(pk=contact.pk)
        )
        if contact.network_member_id is not None:
            raise PlanError(
                _("%(name)s has already joined, so they need no invitation.")
                % {"name": person.name}
            )
        earlier = contact.invitation
        if earlier is not None and Invitation.objects.pending().filter(pk=earlier.pk).exists():
            invitations.revoke(request, earlier)
        sent = invitations.invite_member(
            request,
            contact.client,
            email=email,
            display_name=display_name,
            relationship=relationship_for(person),
        )
        contact.invitation = sent.invitation
        contact.save(update_fields=["invitation"])
        audit.record(
            request,
            action="care.contact.invite",
            object_type="keycontact",
            object_id=contact.pk,
            client_id=contact.client_id,
            detail={"invitation": str(sent.invitation.pk)},
        )
    return sent


def end_access(request: HttpRequest, member: NetworkMember) -> bool:
    """End a member's part in the client's network: they lose access on their next request,
    and a revoke-everything consent version is recorded. False if it had already ended."""
    with transaction.atomic():
        ended = NetworkMember.objects.filter(pk=member.pk, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        if not ended:
            return False
        member.refresh_from_db(fields=["ended_at"])
        consent.decide(request, member)
        audit.record(
            request,
            action="care.member.end",
            object_type="networkmember",
            object_id=member.pk,
            client_id=member.client_id,
        )
    return True


# --- consent ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    explanation: str


def consent_choices(audience: str) -> list[Choice]:
    """The things a client can share, each with what it lets a member see, in plain words.
    Worded at call time so they follow the reader's language."""
    if audience == "client":
        return [
            Choice("goals", _("Goals"), _("The goals in your plan and how they are going.")),
            Choice(
                "session_summaries",
                _("Session summaries"),
                _(
                    "The shared summary of each network session that has been held, and the "
                    "plan for the next one."
                ),
            ),
            Choice(
                "own_actions",
                _("Their own actions"),
                _(
                    "The actions agreed for them, so they can see what they offered to do and "
                    "mark it done. They never see anyone else's actions."
                ),
            ),
            Choice(
                "checkin_summary",
                _("A summary of your check-ins"),
                _(
                    "Whether you are keeping up with your check-ins and how things are going "
                    "overall. Never your answers."
                ),
            ),
        ]
    return [
        Choice("goals", _("Goals"), _("The client's goals and how they are going.")),
        Choice(
            "session_summaries",
            _("Session summaries"),
            _("The shared summary of each held network session, and the plan for the next one."),
        ),
        Choice(
            "own_actions",
            _("Their own actions"),
            _("The actions agreed for this member, never anyone else's."),
        ),
        Choice(
            "checkin_summary",
            _("A summary of check-ins"),
            _("How the client is keeping up with check-ins overall, never the answers."),
        ),
    ]


def shared_labels(grant: ConsentGrant | None, audience: str) -> list[str]:
    if grant is None:
        return []
    return [choice.label for choice in consent_choices(audience) if grant.allows(choice.key)]


@dataclass
class MemberConsent:
    """One current network member and what the client shares with them now."""

    member: NetworkMember
    grant: ConsentGrant | None
    person: Person | None

    @property
    def name(self) -> str:
        return self.member.user.display_name

    def allows(self, key: str) -> bool:
        return self.grant is not None and self.grant.allows(key)

    @property
    def choices(self) -> dict[str, bool]:
        return {key: self.allows(key) for key, _label in SHAREABLE}


def _members(client: Client) -> QuerySet[NetworkMember]:
    return (
        NetworkMember.objects.filter(client=client)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "key_contact",
                queryset=KeyContact.objects.current().select_related("person"),
            )
        )
        .order_by("user__display_name", "pk")
    )


def _person_of(member: NetworkMember) -> Person | None:
    try:
        contact: KeyContact = member.key_contact
    except KeyContact.DoesNotExist:
        return None
    return contact.person if contact.removed_at is None else None


def current_members(client: Client) -> QuerySet[NetworkMember]:
    return _members(client).filter(ended_at__isnull=True)


def consent_rows(client: Client) -> list[MemberConsent]:
    members = list(current_members(client))
    latest = {
        grant.member_id: grant
        for grant in ConsentGrant.objects.filter(member__in=members).latest_per_member()
    }
    return [MemberConsent(m, latest.get(m.pk), _person_of(m)) for m in members]


def save_consent(
    request: HttpRequest, row: MemberConsent, choices: dict[str, bool]
) -> ConsentGrant | None:
    """Record a new version when the choices differ from the current ones; None otherwise."""
    wanted = {key: bool(choices.get(key, False)) for key, _label in SHAREABLE}
    if row.grant is not None and wanted == row.choices:
        return None
    if row.grant is None and not any(wanted.values()):
        return None  # nothing was shared and nothing is: no decision to record
    return consent.decide(request, row.member, **wanted)


@dataclass
class MemberHistory:
    member: NetworkMember
    person: Person | None
    grants: list[ConsentGrant] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.member.user.display_name


def consent_history(client: Client) -> list[MemberHistory]:
    """Every version for every member, including members whose access has ended; newest first."""
    members = list(_members(client))
    found = {m.pk: MemberHistory(m, _person_of(m)) for m in members}
    grants = (
        ConsentGrant.objects.filter(member__in=members)
        .select_related("decided_by")
        .order_by("member_id", "-version")
    )
    for grant in grants:
        found[grant.member_id].grants.append(grant)
    return list(found.values())


# --- the plan page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalRow:
    goal: Goal
    progress: list[IndicatorProgress]

    @property
    def met_count(self) -> int:
        return sum(1 for p in self.progress if p.met)


@dataclass(frozen=True)
class PlanView:
    problems: list[Problem]
    goals: list[GoalRow]
    dropped_goals: list[Goal]
    contacts: list[ContactRow]


def goals_of(client: Client) -> QuerySet[Goal]:
    return Goal.objects.filter(client=client).select_related("problem").order_by("created_at", "pk")


def plan_view(client: Client, *, audience: str, now: datetime.datetime | None = None) -> PlanView:
    """Everything on the plan page, in a fixed number of queries whatever its size."""
    goals = list(goals_of(client))
    current = [goal for goal in goals if goal.status != GoalStatus.DROPPED]
    progress = progress_for(current, audience=audience, now=now)
    problems = list(Problem.objects.filter(client=client).order_by("created_at", "pk"))
    problems.sort(key=lambda p: p.resolved_at is not None)
    return PlanView(
        problems=problems,
        goals=[GoalRow(goal, progress[goal.pk]) for goal in current],
        dropped_goals=[goal for goal in goals if goal.status == GoalStatus.DROPPED],
        contacts=key_contact_rows(client),
    )
