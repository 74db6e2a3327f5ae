"""Measures for the demo: check-in schedules and twelve weeks of scored answers.

Each client gets a few schedules (PHQ-9 and GAD-7 every two weeks for most, PCL-5, the
Protective factors check-in and UCLA-3 every four weeks for some, the Five S's check-in weekly
for some) and a trajectory: improving, flat or deteriorating. Answers are drawn item by item so
that each total lands on the trajectory, then scored exactly as a submission is scored.

The stories a tester looks for (README.md, "Demo data"):

- Maya Ellis, the demo client, is improving on PHQ-9, GAD-7 and PCL-5; a PHQ-9 check-in is due
  now (not started, so it can be opened fresh), and about eight weeks ago her PHQ-9 item 9 raised
  a risk alert that Amara Okafor (clinician@) acknowledged with a note.
- A client on page 1 of clinician@'s caseload (Dmitri Petrov when he is there) is deteriorating,
  and their PHQ-9 from a few minutes before the build raised a risk alert that is still open;
  its escalation job waits in the queue.

No other answer fires a risk rule: risk items are held at a value no rule fires on. Five S's
answers name people from the client's map who help with that S, never one marked "not safe".
Every client has measures up to ALL_HISTORIES_UP_TO clients; beyond that, as with the maps, the
clients on the demo clinicians' care teams and one in RANDOM_HISTORY_SHARE of the rest, so
`seed_demo --clients 10000` stays quick. Rows go in with ``bulk_create``; nothing here calls
the per-response services.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from kithkin.accounts.homes import CASELOAD_PAGE_SIZE
from kithkin.accounts.models import CareTeamMember, Client, Practice, User
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job
from kithkin.measures import scoring, services
from kithkin.measures.library import Instrument
from kithkin.measures.models import (
    Assignment,
    Cadence,
    Mode,
    Response,
    ResponsePerson,
    ResponseStatus,
    RiskAlert,
)
from kithkin.network.models import FIVE_S, Person

if TYPE_CHECKING:
    from kithkin.demo.generator import DemoBuild

BATCH_SIZE = 1000
HISTORY_DAYS = 84  # twelve weeks of check-ins
# Every client up to this many has measures; beyond it, those on the demo clinicians' care teams
# and one in RANDOM_HISTORY_SHARE of the rest (a response takes ~0.3 ms to build and insert).
ALL_HISTORIES_UP_TO = 500
RANDOM_HISTORY_SHARE = 10

IMPROVING = "improving"
FLAT = "flat"
DETERIORATING = "deteriorating"
TRAJECTORIES = (IMPROVING, FLAT, DETERIORATING)
TRAJECTORY_WEIGHTS = (5, 3, 2)

# The instrument whose risk rule the two demo alerts come from, and the story around them.
RISK_INSTRUMENT = "phq9"
ALERT_CLIENT = "Dmitri Petrov"
ACKNOWLEDGED_ALERT_AGE = timedelta(days=56)  # "about eight weeks ago"
OPEN_ALERT_AGE = timedelta(minutes=20)
ACKNOWLEDGEMENT_NOTE = (
    "Called Maya the same afternoon. The thought came on a hard evening after a difficult family "
    "visit; no plan and no intent, and she was glad to be asked. We went through her safety plan "
    "together and she will text Sam if it comes back. Follow up at the next session."
)


@dataclass(frozen=True)
class Plan:
    """A schedule some clients have: every ``interval_days``, or once when it is None."""

    instrument_id: str
    interval_days: int | None
    share: float  # the chance that an ordinary client has it


PLANS: tuple[Plan, ...] = (
    Plan("phq9", 14, 1.0),
    Plan("gad7", 14, 0.85),
    Plan("pcl5", 28, 0.7),
    Plan("five_s", 7, 0.6),
    Plan("protective_factors", 28, 0.4),
    Plan("ucla3", 28, 0.35),
    Plan("k10", None, 0.15),  # once, at intake
)
# The demo client has every repeating schedule.
MAYA_PLANS = tuple(plan for plan in PLANS if plan.interval_days is not None)


@dataclass(frozen=True)
class Shape:
    """How an instrument's answers are drawn: per item, the options' values in keyed order
    (lowest keyed value first), and the value held fixed on risk items."""

    instrument: Instrument
    keyed_values: tuple[tuple[float, ...], ...]
    item_ids: tuple[str, ...]
    free: tuple[int, ...]  # indices of items drawn freely
    pinned: dict[str, float]
    higher_is_better: bool
    links_people: bool
    tops: tuple[int, ...]  # per item, the highest step

    @classmethod
    def of(cls, instrument: Instrument) -> Shape:
        # Risk items are held at the lowest value no rule fires on; the two alerts set them.
        pinned: dict[str, float] = {}
        for rule in instrument.risk_rules:
            values = sorted(instrument.item(rule.item).values)
            pinned[rule.item] = next(
                v for v in values if not scoring.evaluate_risks(instrument, {rule.item: v})
            )
        keyed_values = tuple(
            tuple(sorted(item.values, reverse=item.reverse)) for item in instrument.items
        )
        return cls(
            instrument=instrument,
            keyed_values=keyed_values,
            item_ids=tuple(item.id for item in instrument.items),
            free=tuple(i for i, item in enumerate(instrument.items) if item.id not in pinned),
            pinned=pinned,
            higher_is_better=instrument.direction == "higher_is_better",
            links_people=any(item.links_people for item in instrument.items),
            tops=tuple(len(values) - 1 for values in keyed_values),
        )

    def answers(
        self, rng: random.Random, position: float, profile: Sequence[float]
    ) -> dict[str, float]:
        """Answers whose keyed total sits at ``position`` (0 = lowest, 1 = highest) of the
        free items' range. Each item is drawn near the position, shifted by the client's own
        ``profile`` (some symptoms stronger than others), then single steps move random items
        until the total is on target, so the totals follow the trajectory closely."""
        steps = [0] * len(self.keyed_values)
        tops = self.tops
        room = 0
        for index in self.free:
            top = tops[index]
            room += top
            raw = position * top + profile[index] + rng.random()
            steps[index] = min(top, max(0, int(raw)))
        target = round(position * room)
        gap = target - sum(steps[i] for i in self.free)
        while gap:
            index = self.free[int(rng.random() * len(self.free))]
            if gap > 0 and steps[index] < tops[index]:
                steps[index] += 1
                gap -= 1
            elif gap < 0 and steps[index] > 0:
                steps[index] -= 1
                gap += 1
        answers = {
            item_id: values[step]
            for item_id, values, step in zip(self.item_ids, self.keyed_values, steps, strict=True)
        }
        answers.update(self.pinned)
        return answers


@dataclass(frozen=True)
class Habit:
    """How one client answers one instrument: a little above or below their overall level
    (``offset``), and some items always higher than others (``profile``, in option steps)."""

    shape: Shape
    profile: tuple[float, ...]
    offset: float


@dataclass
class ClientStory:
    """One client's measures: trajectory, distress at the start and end (0 to 1), and the
    window the check-ins fall in."""

    client: Client
    lead: User
    trajectory: str
    start_level: float
    end_level: float
    window_start: datetime
    window_end: datetime
    active: bool

    def level_at(self, when: datetime) -> float:
        span = (self.window_end - self.window_start).total_seconds() or 1.0
        share = min(1.0, max(0.0, (when - self.window_start).total_seconds() / span))
        return self.start_level + (self.end_level - self.start_level) * share


@dataclass
class MeasureRows:
    assignments: list[Assignment] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    people: list[ResponsePerson] = field(default_factory=list)
    alerts: list[RiskAlert] = field(default_factory=list)

    def save(self) -> None:
        Assignment.objects.bulk_create(self.assignments, batch_size=BATCH_SIZE)
        Response.objects.bulk_create(self.responses, batch_size=BATCH_SIZE)
        ResponsePerson.objects.bulk_create(self.people, batch_size=BATCH_SIZE)
        RiskAlert.objects.bulk_create(self.alerts, batch_size=BATCH_SIZE)


def _uuid(rng: random.Random) -> UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _levels(rng: random.Random, trajectory: str) -> tuple[float, float]:
    """Distress at the start and the end of the twelve weeks."""
    if trajectory == IMPROVING:
        start = rng.uniform(0.55, 0.75)
        return start, start - rng.uniform(0.35, 0.45)
    if trajectory == DETERIORATING:
        start = rng.uniform(0.25, 0.4)
        return start, start + rng.uniform(0.3, 0.4)
    start = rng.uniform(0.3, 0.6)
    return start, start + rng.uniform(-0.02, 0.02)


def _story(
    build: DemoBuild, rng: random.Random, index: int, client: Client, trajectory: str
) -> ClientStory:
    end = client.discharged_at or build.now
    start = max(client.created_at, end - timedelta(days=HISTORY_DAYS))
    first, last = _levels(rng, trajectory)
    return ClientStory(
        client=client,
        lead=build.clinicians[index % len(build.clinicians)],
        trajectory=trajectory,
        start_level=first,
        end_level=last,
        window_start=start,
        window_end=end,
        active=client.discharged_at is None,
    )


def _submission_times(
    rng: random.Random, story: ClientStory, interval: int, next_due: datetime
) -> tuple[list[datetime], datetime]:
    """Completion times walking back from the next due time: each check-in falls due
    ``interval`` days after the last one was done and is done a little late (now and then a
    few days late). Returns the times (oldest first) and when the schedule began."""
    times: list[datetime] = []
    when = next_due - timedelta(days=interval)
    began = story.window_start
    while when >= story.window_start:
        times.append(when)
        late = rng.expovariate(1 / 14) if rng.random() < 0.85 else rng.uniform(48, 120)
        began = when - timedelta(hours=late, minutes=rng.randint(0, 59))
        when = began - timedelta(days=interval)
    times.reverse()
    return times, max(story.window_start, began) if times else story.window_start


class _Builder:
    def __init__(self, build: DemoBuild, rng: random.Random) -> None:
        self.build = build
        self.rng = rng
        self.rows = MeasureRows()
        self.shapes: dict[str, Shape] = {}
        self.safe_people: dict[UUID, list[tuple[UUID, frozenset[str], datetime]]] = {}
        self.open_alert_response: Response | None = None

    def shape(self, instrument_id: str) -> Shape:
        if instrument_id not in self.shapes:
            self.shapes[instrument_id] = Shape.of(services.instrument(instrument_id))
        return self.shapes[instrument_id]

    def load_people(self) -> None:
        """Who each client could name in a Five S's answer: people on the map, never one
        marked "not safe", with the S's they help with and when they were added."""
        flags = [f"helps_{key}" for key, _label in FIVE_S]
        rows = (
            Person.objects.safe_to_suggest()
            .filter(client__practice=self.build.require_practice())
            .order_by("pk")
            .values_list("client_id", "pk", "created_at", *flags)
        )
        for client_id, person_id, added, *helps in rows:
            keys = frozenset(key for (key, _label), on in zip(FIVE_S, helps, strict=True) if on)
            self.safe_people.setdefault(client_id, []).append((person_id, keys, added))

    def response(
        self, story: ClientStory, assignment: Assignment, habit: Habit, when: datetime
    ) -> Response:
        rng = self.rng
        shape = habit.shape
        distress = story.level_at(when) + habit.offset + rng.uniform(-0.04, 0.04)
        distress = min(1.0, max(0.0, distress))
        position = 1 - distress if shape.higher_is_better else distress
        answers = shape.answers(rng, position, habit.profile)
        portal = story.client.user_id is not None and rng.random() < 0.8
        # Ids rather than objects: setting a relation costs more, and this runs 30,000 times.
        response = Response(
            id=_uuid(rng),
            client_id=story.client.pk,
            assignment_id=assignment.pk,
            instrument_id=shape.instrument.id,
            definition_version=shape.instrument.version,
            status=ResponseStatus.SUBMITTED,
            mode=Mode.PORTAL if portal else Mode.IN_SESSION,
            answers=answers,
            entered_by_id=story.client.user_id if portal else story.lead.pk,
            started_at=when - timedelta(minutes=rng.randint(2, 15)),
            updated_at=when,
            submitted_at=when,
        )
        self.score(response, shape.instrument)
        self.rows.responses.append(response)
        if shape.links_people:
            self.name_people(response, shape)
        return response

    @staticmethod
    def score(response: Response, chosen: Instrument) -> None:
        fields = services.score_fields(scoring.score(chosen, response.answers))
        for name, value in fields.items():
            setattr(response, name, value)

    def name_people(self, response: Response, shape: Shape) -> None:
        """Now and then, for an S the client felt at least "somewhat", one or two people from
        the map then who help with it (anyone on the map if nobody is marked for it)."""
        assert response.submitted_at is not None
        when = response.submitted_at
        people = [p for p in self.safe_people.get(response.client_id, []) if p[2] <= when]
        if not people:
            return
        for item_id in shape.item_ids:
            if response.answers[item_id] < 2 or self.rng.random() < 0.4:
                continue
            helpers = [pid for pid, helps, _added in people if item_id in helps] or [
                pid for pid, _helps, _added in people
            ]
            for person_id in self.rng.sample(helpers, min(len(helpers), self.rng.randint(1, 2))):
                self.rows.people.append(
                    ResponsePerson(response_id=response.pk, item_id=item_id, person_id=person_id)
                )

    def schedule(
        self,
        story: ClientStory,
        plan: Plan,
        *,
        next_due: datetime | None = None,
    ) -> list[Response]:
        """One assignment and its history of submitted responses."""
        rng = self.rng
        shape = self.shape(plan.instrument_id)
        habit = Habit(
            shape=shape,
            profile=tuple(rng.uniform(-0.6, 0.6) for _ in shape.item_ids),
            offset=rng.uniform(-0.08, 0.08),
        )
        end = story.window_end
        if plan.interval_days is None:
            done = story.window_start + timedelta(hours=rng.uniform(1, 72))
            done = min(done, end)
            assignment = Assignment(
                id=_uuid(rng),
                client=story.client,
                instrument_id=plan.instrument_id,
                cadence=Cadence.ONCE,
                interval_days=None,
                next_due_at=None,
                assigned_by=story.lead,
                created_at=story.window_start,
                completed_at=done,
            )
            self.rows.assignments.append(assignment)
            return [self.response(story, assignment, habit, done)]
        interval = plan.interval_days
        if next_due is None:
            # Most schedules are coming up, some are due, a few overdue.
            next_due = end + timedelta(hours=rng.uniform(-0.3 * interval * 24, interval * 24))
        times, began = _submission_times(rng, story, interval, next_due)
        if not times:
            next_due = began + timedelta(hours=rng.uniform(0, 72))
        assignment = Assignment(
            id=_uuid(rng),
            client=story.client,
            instrument_id=plan.instrument_id,
            cadence=Cadence.REPEAT,
            interval_days=interval,
            next_due_at=next_due,
            assigned_by=story.lead,
            created_at=began,
            ended_at=None if story.active else end,
        )
        self.rows.assignments.append(assignment)
        return [self.response(story, assignment, habit, t) for t in times]

    def maya(self, story: ClientStory) -> list[Response]:
        """Every repeating schedule; the PHQ-9 is due now and not started (the client sees "due
        now" and can open it fresh), the rest are coming up. Returns her PHQ-9 responses."""
        now = self.build.now
        phq9: list[Response] = []
        for plan in MAYA_PLANS:
            assert plan.interval_days is not None
            if plan.instrument_id == RISK_INSTRUMENT:
                phq9 = self.schedule(story, plan, next_due=now - timedelta(hours=3))
            else:
                later = now + timedelta(hours=self.rng.uniform(24, plan.interval_days * 24))
                self.schedule(story, plan, next_due=later)
        return phq9

    def ordinary(
        self, story: ClientStory, *, phq9_done_at: datetime | None = None
    ) -> Response | None:
        """A share of the plans; with ``phq9_done_at``, the PHQ-9 for sure, its latest response
        done then (returned)."""
        latest: Response | None = None
        for plan in PLANS:
            if plan.instrument_id == RISK_INSTRUMENT and phq9_done_at is not None:
                due = phq9_done_at + timedelta(days=plan.interval_days or 0)
                latest = self.schedule(story, plan, next_due=due)[-1]
            elif self.rng.random() < plan.share:
                self.schedule(story, plan)
        return latest

    def alert(
        self,
        response: Response,
        *,
        notified: datetime,
        acknowledged_by: User | None = None,
        acknowledged_at: datetime | None = None,
        note: str = "",
    ) -> RiskAlert:
        """Give a response the risk answer and its alert, exactly as the rule fires on it."""
        chosen = self.shape(response.instrument_id).instrument
        item_id = chosen.risk_rules[0].item
        value = next(
            v
            for v in sorted(chosen.item(item_id).values)
            if scoring.evaluate_risks(chosen, {item_id: v})
        )
        response.answers = {**response.answers, item_id: value}
        self.score(response, chosen)
        (fired,) = scoring.evaluate_risks(chosen, response.answers)
        assert response.submitted_at is not None
        alert = RiskAlert(
            id=_uuid(self.rng),
            client_id=response.client_id,
            response=response,
            instrument_id=chosen.id,
            rule_id=fired.rule_id,
            item_id=fired.item_id,
            value=fired.value,
            severity=fired.severity,
            created_at=response.submitted_at,
            notified_at=notified,
            acknowledged_at=acknowledged_at,
            acknowledged_by=acknowledged_by,
            acknowledgement_note=note,
        )
        self.rows.alerts.append(alert)
        return alert


def _demo_caseloads(build: DemoBuild) -> dict[UUID, set[int]]:
    """Client id → which of the two demo clinicians (0, 1) have the client on a care team."""
    logins = {user.pk: position for position, user in enumerate(build.clinicians[:2])}
    teams: dict[UUID, set[int]] = {}
    links = CareTeamMember.objects.filter(user_id__in=logins).values_list("client_id", "user_id")
    for client_id, user_id in links:
        teams.setdefault(client_id, set()).add(logins[user_id])
    return teams


def _alert_client_index(build: DemoBuild, teams: dict[UUID, set[int]]) -> int:
    """The client for the open alert: on page 1 of clinician@'s caseload (sorted by name, as
    the caseload page sorts it), Dmitri Petrov when he is there."""
    caseload = sorted(
        (client.display_name, client.pk, index)
        for index, client in enumerate(build.clients)
        if 0 in teams.get(client.pk, ()) and client.discharged_at is None
    )
    first_page = [index for _name, _pk, index in caseload[:CASELOAD_PAGE_SIZE] if index]
    for index in first_page:
        if build.clients[index].display_name == ALERT_CLIENT:
            return index
    # Without another client on page 1 (a one-client demo), there is no open alert.
    return first_page[0] if first_page else 0


def add_measures(build: DemoBuild) -> None:
    """The demo step."""
    write_measures(build)


def _trajectory(rng: random.Random, index: int, alert_index: int, on_demo_team: bool) -> str | None:
    """The client's trajectory, or None for a client left without measures (at scale, those
    the demo logins cannot see, but for one in RANDOM_HISTORY_SHARE)."""
    if index == 0:
        return IMPROVING
    if index == alert_index:
        return DETERIORATING
    trajectory = rng.choices(TRAJECTORIES, weights=TRAJECTORY_WEIGHTS)[0]
    if index >= ALL_HISTORIES_UP_TO and not on_demo_team and rng.randrange(RANDOM_HISTORY_SHARE):
        return None
    return trajectory


def _raise_alerts(maker: _Builder, maya_phq9: list[Response]) -> RiskAlert | None:
    """Maya's acknowledged alert, about eight weeks ago, and the open one; returns the open one."""
    build = maker.build
    target = build.now - ACKNOWLEDGED_ALERT_AGE
    raised = min(maya_phq9, key=lambda r: abs((r.submitted_at or target) - target))
    assert raised.submitted_at is not None
    maker.alert(
        raised,
        notified=raised.submitted_at + timedelta(minutes=1),
        acknowledged_by=build.clinicians[0],
        acknowledged_at=raised.submitted_at + timedelta(minutes=47),
        note=ACKNOWLEDGEMENT_NOTE,
    )
    latest = maker.open_alert_response
    if latest is None or latest.submitted_at is None:
        return None
    return maker.alert(latest, notified=latest.submitted_at + timedelta(minutes=1))


def write_measures(build: DemoBuild) -> dict[UUID, str]:
    """Write the measures; returns each client's trajectory (for tests), by client id."""
    rng = random.Random(build.rng.getrandbits(64))  # nosec B311 # seeded demo data
    practice = build.require_practice()
    maker = _Builder(build, rng)
    maker.load_people()
    teams = _demo_caseloads(build)
    alert_index = _alert_client_index(build, teams)
    open_alert_at = build.now - min(
        OPEN_ALERT_AGE, services.practice_settings(practice).escalate_after / 2
    )
    moved: list[Client] = []
    maya_phq9: list[Response] = []
    trajectories: dict[UUID, str] = {}
    for index, client in enumerate(build.clients):
        trajectory = _trajectory(rng, index, alert_index, client.pk in teams)
        if trajectory is None:
            continue
        trajectories[client.pk] = trajectory
        if index in (0, alert_index):
            # The two stories need their full twelve weeks on record.
            earliest = build.now - timedelta(days=HISTORY_DAYS + 14)
            if client.created_at > earliest:
                client.created_at = earliest
                moved.append(client)
        story = _story(build, rng, index, client, trajectory)
        if index == 0:
            maya_phq9 = maker.maya(story)
        elif index == alert_index:
            maker.open_alert_response = maker.ordinary(story, phq9_done_at=open_alert_at)
        else:
            maker.ordinary(story)
    if moved:
        Client.objects.bulk_update(moved, ["created_at"])
    open_alert = _raise_alerts(maker, maya_phq9)
    maker.rows.save()
    if open_alert is not None:
        _enqueue_escalation(build, open_alert)
    for name in TRAJECTORIES:
        build.counts[f"measures_{name}"] = sum(1 for t in trajectories.values() if t == name)
    build.counts["measure_assignments"] = len(maker.rows.assignments)
    build.counts["measure_responses"] = len(maker.rows.responses)
    build.counts["measure_people_named"] = len(maker.rows.people)
    build.counts["risk_alerts"] = len(maker.rows.alerts)
    return trajectories


def remove_measures(practice: Practice) -> None:
    """Before the demo's clients go: their alerts' queued jobs (a rebuild from the same seed
    makes alerts with the same ids, which must not inherit an old escalation), and the alerts
    themselves (an alert protects its response from deletion)."""
    alerts = RiskAlert.objects.filter(client__practice=practice)
    keys = [
        f"{kind}:{pk}"
        for pk in alerts.values_list("pk", flat=True)
        for kind in (services.ALERT_EMAIL_JOB, services.ESCALATE_JOB)
    ]
    Job.objects.filter(key__in=keys).delete()
    alerts.delete()


def _enqueue_escalation(build: DemoBuild, alert: RiskAlert) -> None:
    """The open alert's escalation waits in the queue like a real one: if nobody acknowledges
    it in the practice's time, the admins are told. (Its email has already gone: notified.)"""
    escalate_after = services.practice_settings(build.require_practice()).escalate_after
    jobs.enqueue(
        services.ESCALATE_JOB,
        {"alert": str(alert.pk)},
        run_after=alert.created_at + escalate_after,
        key=f"{services.ESCALATE_JOB}:{alert.pk}",
    )
