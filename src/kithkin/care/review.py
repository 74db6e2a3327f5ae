"""The progress review and the case progress report: per goal, its indicators over time beside
the action completion of everyone involved; per person, the actions agreed and done. Also the
calm check-in summary a member may be shown (through ``MemberScope.checkin_summary``).

Everything is read in a fixed number of queries, whatever the number of goals, actions, scores
or contacts. Nothing here reads a clinician's private notes or a response's answers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kithkin.accounts.models import CareTeamMember, Client, NetworkMember, User
from kithkin.care import plan
from kithkin.care.models import (
    Action,
    ActionStatus,
    Goal,
    Indicator,
    IndicatorKind,
    KeyContact,
    NetworkSession,
    OwnerKind,
    ParticipantKind,
    Problem,
    SessionStatus,
)
from kithkin.care.plan import RhythmPeriod, review_window, rhythm_periods
from kithkin.measures import charts
from kithkin.measures import services as measures
from kithkin.measures.library import Instrument
from kithkin.measures.models import Response
from kithkin.measures.scoring import ReliableChange
from kithkin.network.models import Contact

# The member's check-in summary: how many in the last four weeks, and a direction word per
# questionnaire from the first to the latest score of the last twelve weeks.
CHECKIN_RECENT_DAYS = 28
CHECKIN_TREND_DAYS = 84
# A change smaller than this share of the score range is "about the same".
CHECKIN_MARGIN = 0.1

# Plain names for the shipped questionnaires, so a member reads "mood", not "PHQ-9".
CHECKIN_TOPICS: dict[str, Promise] = {
    "phq9": gettext_lazy("Mood"),
    "phq4": gettext_lazy("Mood and worry"),
    "gad7": gettext_lazy("Worry"),
    "k10": gettext_lazy("Stress"),
    "pcl5": gettext_lazy("Coping with what happened"),
    "ies_r": gettext_lazy("Coping with what happened"),
    "ucla3": gettext_lazy("Feeling connected"),
    "five_s": gettext_lazy("Feeling supported"),
    "protective_factors": gettext_lazy("Things that help"),
    "ssps": gettext_lazy("Feeling at ease with others"),
    "scs_sf": gettext_lazy("Being kind to oneself"),
    "fcs": gettext_lazy("Being kind to oneself"),
    "ceas": gettext_lazy("Being kind to oneself"),
    "ptgi_sf": gettext_lazy("Growing through it"),
}


# --- tallies of actions ----------------------------------------------------------------------


@dataclass
class Tally:
    """Actions by state. ``open`` counts those still to do and not yet due; ``overdue`` those
    still to do after their due date."""

    done: int = 0
    not_possible: int = 0
    open: int = 0
    overdue: int = 0

    @property
    def agreed(self) -> int:
        return self.done + self.not_possible + self.open + self.overdue

    def add(self, action: Action, today: date) -> None:
        if action.status == ActionStatus.DONE:
            self.done += 1
        elif action.status == ActionStatus.NOT_POSSIBLE:
            self.not_possible += 1
        elif action.due_on < today:
            self.overdue += 1
        else:
            self.open += 1


@dataclass
class OwnerTally(Tally):
    """One person's actions: the client, a network member or a clinician."""

    user_id: int = 0
    kind: str = ""
    name: str = ""
    detail: str = ""  # e.g. the member's relationship to the client

    @property
    def kind_label(self) -> str:
        return str(OwnerKind(self.kind).label) if self.kind else ""


def action_state(action: Action, today: date) -> str:
    """done, not_possible, open or overdue."""
    if action.status == ActionStatus.OPEN and action.due_on < today:
        return "overdue"
    return str(action.status)


# --- indicators ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePoint:
    when: datetime
    score: float
    label: str
    meets_target: bool


@dataclass
class IndicatorReview:
    """An indicator's standing now (from the case plan) and its history: the dated scores, or
    the contacts per four-week period."""

    progress: plan.IndicatorProgress
    points: list[ScorePoint] = field(default_factory=list)
    chart: charts.Chart | None = None
    periods: list[RhythmPeriod] = field(default_factory=list)

    @property
    def indicator(self) -> Indicator:
        return self.progress.indicator

    @property
    def is_score(self) -> bool:
        return self.indicator.kind == IndicatorKind.SCORE


@dataclass
class GoalReview:
    goal: Goal
    indicators: list[IndicatorReview]
    owners: list[OwnerTally]
    total: Tally


@dataclass
class Review:
    client: Client
    today: date
    goals: list[GoalReview]
    people: list[OwnerTally]
    without_goal: Tally


def _history(
    progress: plan.IndicatorProgress,
    scores: Sequence[tuple[datetime, float]],
    contacts: Sequence[datetime],
    now: datetime,
    audience: str,
) -> IndicatorReview:
    if isinstance(progress, plan.ScoreProgress):
        chosen = progress.instrument
        target = progress.target
        points = [
            ScorePoint(when, score, charts.format_score(score), _meets(progress, score, target))
            for when, score in scores
        ]
        chart = (
            charts.progress_chart(
                chosen,
                [charts.ChartPoint(p.when, p.score) for p in points],
                audience=audience,
                chart_id=f"chart-{progress.indicator.pk}",
            )
            if chosen is not None and points
            else None
        )
        return IndicatorReview(progress, points=points, chart=chart)
    if progress.paused:  # not safe now, or off the map: no longer followed
        return IndicatorReview(progress)
    return IndicatorReview(progress, periods=rhythm_periods(contacts, progress.target_days, now))


def _meets(progress: plan.ScoreProgress, score: float, target: float) -> bool:
    return score <= target if progress.lower_is_better else score >= target


# --- the review ------------------------------------------------------------------------------


def _people(client: Client, actions: Sequence[Action], audience: str) -> dict[int, OwnerTally]:
    """Everyone who can hold an action, in display order: the client, her current members, her
    care team, then anyone else who holds one (a member who left, a former clinician)."""
    people: dict[int, OwnerTally] = {}
    if client.user_id is not None:
        name = _("You") if audience == "client" else client.display_name
        people[client.user_id] = OwnerTally(
            user_id=client.user_id, kind=OwnerKind.CLIENT, name=name
        )
    members = (
        NetworkMember.objects.filter(client=client, ended_at__isnull=True)
        .select_related("user")
        .order_by("joined_at", "pk")
    )
    for member in members:
        people.setdefault(
            member.user_id,
            OwnerTally(
                user_id=member.user_id,
                kind=OwnerKind.MEMBER,
                name=member.user.display_name,
                detail=member.relationship,
            ),
        )
    team = (
        CareTeamMember.objects.filter(client=client)
        .select_related("user")
        .order_by("-is_lead", "added_at", "pk")
    )
    for link in team:
        people.setdefault(
            link.user_id,
            OwnerTally(user_id=link.user_id, kind=OwnerKind.CLINICIAN, name=link.user.display_name),
        )
    for action in actions:
        people.setdefault(
            action.owner_id,
            OwnerTally(
                user_id=action.owner_id, kind=action.owner_kind, name=action.owner.display_name
            ),
        )
    return people


def _fresh(person: OwnerTally) -> OwnerTally:
    return OwnerTally(
        user_id=person.user_id, kind=person.kind, name=person.name, detail=person.detail
    )


def progress_review(
    client: Client, *, audience: str = "clinician", now: datetime | None = None
) -> Review:
    """The whole review in a fixed number of queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    goals = list(Goal.objects.current().filter(client=client).order_by("created_at", "pk"))
    progress = plan.progress_for(goals, audience=audience, now=now)
    indicators = [item.indicator for items in progress.values() for item in items]
    actions = list(
        Action.objects.filter(client=client).select_related("owner").order_by("due_on", "pk")
    )
    people = _people(client, actions, audience)

    # Every score of the score indicators: dates and totals only, never the answers.
    instrument_ids = {i.instrument_id for i in indicators if i.kind == IndicatorKind.SCORE}
    scores: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    if instrument_ids:
        rows = (
            Response.objects.submitted()
            .filter(client=client, instrument_id__in=instrument_ids, total__isnull=False)
            .order_by("submitted_at", "pk")
            .values_list("instrument_id", "submitted_at", "total")
        )
        for instrument_id, submitted_at, total in rows:
            if submitted_at is not None and total is not None:
                scores[instrument_id].append((submitted_at, total))

    # Contacts with the people of the rhythm indicators over the review window.
    person_ids = {
        i.person_id
        for i in indicators
        if i.kind == IndicatorKind.RHYTHM and i.person_id is not None
    }
    contacts: dict[UUID, list[datetime]] = defaultdict(list)
    if person_ids:
        since, until = review_window(now)
        for person_id, occurred_at in Contact.objects.filter(
            client=client, person_id__in=person_ids, occurred_at__gte=since, occurred_at__lt=until
        ).values_list("person_id", "occurred_at"):
            contacts[person_id].append(occurred_at)

    goal_owners: dict[UUID, dict[int, OwnerTally]] = defaultdict(dict)
    goal_totals: dict[UUID, Tally] = defaultdict(Tally)
    without_goal = Tally()
    for action in actions:
        people[action.owner_id].add(action, today)
        if action.goal_id is None:
            without_goal.add(action, today)
            continue
        owners = goal_owners[action.goal_id]
        if action.owner_id not in owners:
            owners[action.owner_id] = _fresh(people[action.owner_id])
        owners[action.owner_id].add(action, today)
        goal_totals[action.goal_id].add(action, today)

    order = {user_id: position for position, user_id in enumerate(people)}
    reviews: list[GoalReview] = []
    for goal in goals:
        histories = [
            _history(
                item,
                scores.get(item.indicator.instrument_id, []),
                contacts.get(item.indicator.person_id, []) if item.indicator.person_id else [],
                now,
                audience,
            )
            for item in progress.get(goal.pk, [])
        ]
        owners_of_goal = sorted(goal_owners[goal.pk].values(), key=lambda o: order[o.user_id])
        reviews.append(GoalReview(goal, histories, owners_of_goal, goal_totals[goal.pk]))
    return Review(
        client=client,
        today=today,
        goals=reviews,
        people=list(people.values()),
        without_goal=without_goal,
    )


# --- the case progress report ----------------------------------------------------------------


def first_name(name: str) -> str:
    return name.strip().split(" ", 1)[0] if name.strip() else ""


@dataclass(frozen=True)
class HeldSession:
    session: NetworkSession
    came: list[str]
    missed: list[str]


@dataclass(frozen=True)
class ScoreRow:
    """A questionnaire's latest score and its change from the first one."""

    title: str
    submitted_at: datetime
    score: str
    band: str
    change: str


@dataclass(frozen=True)
class Report:
    review: Review
    problems: list[Problem]
    sessions: list[HeldSession]
    key_contacts: list[str]
    latest_scores: list[ScoreRow]
    printed_at: datetime


def _change_text(latest: measures.LatestScore) -> str:
    change = latest.change
    if change is None:
        return "—"
    difference = change.difference
    sign = "+" if difference > 0 else ("\u2212" if difference < 0 else "±")
    amount = f"{sign}{charts.format_score(abs(difference))}"
    label = (
        {
            ReliableChange.IMPROVED: _("reliably improved"),
            ReliableChange.DETERIORATED: _("reliably deteriorated"),
            ReliableChange.NO_CHANGE: _("no reliable change"),
        }.get(change.classification)
        if change.classification is not None
        else None
    )
    return f"{amount} ({label})" if label else amount


_KIND_ORDER: dict[str, int] = {
    ParticipantKind.CLIENT: 0,
    ParticipantKind.MEMBER: 1,
    ParticipantKind.CLINICIAN: 2,
}


def _participant_name(client: Client, kind: str, user: User) -> str:
    if kind == ParticipantKind.CLIENT:
        return client.first_name
    if kind == ParticipantKind.MEMBER:
        return first_name(user.display_name)
    return user.display_name


def case_report(client: Client, *, now: datetime | None = None) -> Report:
    """What the clinician's case progress report prints. Private clinician notes are not read:
    they stay in the app."""
    now = now or timezone.now()
    review = progress_review(client, audience="clinician", now=now)
    problems = list(Problem.objects.filter(client=client).order_by("created_at", "pk"))
    sessions = list(
        NetworkSession.objects.filter(client=client, status=SessionStatus.HELD)
        .prefetch_related("participants__user")
        .order_by("starts_at", "pk")
    )
    held: list[HeldSession] = []
    for session in sessions:
        came: list[str] = []
        missed: list[str] = []
        for participant in sorted(
            session.participants.all(), key=lambda p: (_KIND_ORDER.get(p.kind, 3), p.pk)
        ):
            name = _participant_name(client, participant.kind, participant.user)
            (came if participant.attended else missed).append(name)
        held.append(HeldSession(session, came, missed))
    contacts = [
        first_name(contact.person.name)
        for contact in KeyContact.objects.current()
        .filter(client=client)
        .select_related("person")
        .order_by("chosen_at", "pk")
    ]
    latest = [
        ScoreRow(
            score.instrument.short_title,
            score.submitted_at,
            charts.format_score(score.total),
            score.band or "—",
            _change_text(score),
        )
        for score in measures.caseload_measures([client.pk])[client.pk].latest
    ]
    return Report(review, problems, held, contacts, latest, now)


# --- the member's check-in summary -----------------------------------------------------------


@dataclass(frozen=True)
class CheckinDirection:
    topic: str
    word: str


@dataclass(frozen=True)
class CheckinSummary:
    """How many check-ins lately, and per questionnaire only a direction word. Never a score,
    an answer, a risk item or an alert."""

    count: int
    sentence: str
    directions: tuple[CheckinDirection, ...]


def _direction(instrument: Instrument, first: float, latest: float) -> str:
    low, high = instrument.score_range
    margin = CHECKIN_MARGIN * abs(high - low)
    change = latest - first
    improvement = change if instrument.direction == "higher_is_better" else -change
    if improvement > margin:
        return _("a little better")
    if improvement < -margin:
        return _("harder lately")
    return _("about the same")


def checkin_summary(client: Client, *, now: datetime | None = None) -> CheckinSummary:
    """One query: the dates, questionnaires and totals of the last twelve weeks."""
    now = now or timezone.now()
    recent_since = now - timedelta(days=CHECKIN_RECENT_DAYS)
    rows = (
        Response.objects.submitted()
        .filter(client=client, submitted_at__gte=now - timedelta(days=CHECKIN_TREND_DAYS))
        .filter(submitted_at__lte=now)
        .order_by("submitted_at", "pk")
        .values_list("instrument_id", "submitted_at", "total")
    )
    count = 0
    scored: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for instrument_id, submitted_at, total in rows:
        if submitted_at is None:
            continue
        if submitted_at >= recent_since:
            count += 1
        if total is not None:
            scored[instrument_id].append((submitted_at, total))
    directions: dict[str, CheckinDirection] = {}
    for instrument_id in sorted(scored):
        values = scored[instrument_id]
        chosen = measures.instrument_or_none(instrument_id)
        # Only a questionnaire answered lately and at least twice has a direction.
        if chosen is None or len(values) < 2 or values[-1][0] < recent_since:
            continue
        topic = str(CHECKIN_TOPICS.get(instrument_id, chosen.title))
        if topic in directions:  # two questionnaires on one topic: say it once
            continue
        directions[topic] = CheckinDirection(topic, _direction(chosen, values[0][1], values[-1][1]))
    name = client.first_name
    if count:
        sentence = ngettext(
            "%(name)s has completed %(count)s check-in in the last 4 weeks.",
            "%(name)s has completed %(count)s check-ins in the last 4 weeks.",
            count,
        ) % {"name": name, "count": count}
    else:
        sentence = _("%(name)s hasn't completed a check-in in the last 4 weeks.") % {"name": name}
    return CheckinSummary(
        count, sentence, tuple(sorted(directions.values(), key=lambda d: d.topic.casefold()))
    )
