"""A synthetic practice for the HTTP load benchmark, built in bulk in the configured database.

At the default scale: 10,000 clients on the caseloads of 250 clinicians (about 40 each, care
teams of one or two), 60% of them with a portal login; maps of about 12 people and 15 ties
each, with a group or two; 1,500,000 logged contacts over the last year, each person at their
own interval; two to four check-in schedules per client and 200,000 scored responses over the
year; 20,000 network sessions (about one upcoming per ten clients) with participants, actions
and goals; a few dozen notifications per clinician; reminder settings, network members with
consent, and a few open risk alerts so the alert pages have content.

The big tables go in with raw ``executemany`` in chunks (see bench.bulk): a template row
prepared once by Django, with the varying columns per row. Free text that is encrypted (names,
notes, titles) comes from small pools encrypted once, and each instrument's answers from a
pool of answer patterns scored once with the measures scoring, so every stored score is what
``services.score_fields`` gives for its answers.

Nothing is held per contact or per response: the rows are streamed a client at a time, and
only a small summary of each client (for choosing the seats) is kept. Everything comes from
one random source seeded by ``seed``: the same seed and scale give the same practice."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from kithkin.bench.bulk import _Table

CHUNK = 10_000
CLIENTS_PER_CLINICIAN = 40
LOGIN_SHARE = 0.6
SECOND_CLINICIAN_SHARE = 0.3
DISCHARGED_SHARE = 0.05
NEWER_SHARE = 0.15  # clients who joined during the last year
NOT_SAFE_SHARE = 0.05
WISHED_SHARE = 0.3
ALERT_EVERY = 200  # one client in this many has an open risk alert
UPCOMING_EVERY = 10  # one client in this many has a session coming up
MEMBER_SHARE = 0.1  # of clients with a login: a network member with consent
NUDGES_ON_SHARE = 0.4
HISTORY_DAYS = 365
EMAIL_DOMAIN = "bench.kithkin.test"
TIME_ZONE = "Europe/London"
DRAFT_INSTRUMENT = "phq9"
RISK_INSTRUMENT = "phq9"  # the open alerts' instrument (its item 9 rule)
# (instrument, every N days, share of clients, weight in the client's responses)
PLANS: tuple[tuple[str, int, float, int], ...] = (
    ("phq9", 14, 1.0, 3),
    ("gad7", 14, 0.85, 2),
    ("ucla3", 28, 0.35, 1),
    ("pcl5", 28, 0.25, 1),
)
POSITIONS = 21  # answer patterns per instrument: distress 0, 0.05, ... 1
VARIANTS = 3  # and a few item profiles at each


@dataclass(frozen=True)
class Scale:
    clients: int
    contacts: int
    responses: int  # submitted, scored responses
    sessions: int  # network sessions (care.NetworkSession)

    @classmethod
    def default(cls) -> Scale:
        return cls(clients=10_000, contacts=1_500_000, responses=200_000, sessions=20_000)

    def divided(self, by: int) -> Scale:
        """1/by of each, never below what the default 20 seats of each kind need (60 clients,
        a dozen contacts, four responses and two sessions for each client of a seat)."""
        clients = max(math.ceil(self.clients / by), 60)
        return Scale(
            clients=clients,
            contacts=max(math.ceil(self.contacts / by), 12 * 60),
            responses=max(math.ceil(self.responses / by), 4 * 60),
            sessions=max(math.ceil(self.sessions / by), 2 * 20),
        )


@dataclass(frozen=True)
class StaffSeat:  # a clinician the load driver signs in as
    user_id: int
    client_id: UUID  # one ordinary client on this clinician's care team (pages open it)
    session_id: UUID  # one NetworkSession of that client
    instrument_id: str  # an instrument that client has several scored responses of


@dataclass(frozen=True)
class ClientSeat:  # a client with a portal login, opening their own pages
    user_id: int
    client_id: UUID
    person_id: UUID  # a safe person on their map (to log a contact with)


@dataclass(frozen=True)
class SubmitterSeat:  # a client login with many fully answered check-ins in progress
    user_id: int
    client_id: UUID
    # In-progress PHQ-9 responses, every item answered, item 9 answered 0 (no risk alert). The
    # first is on the client's active PHQ-9 assignment; a client has one active assignment per
    # instrument and an assignment one response in progress, so each other draft has a PHQ-9
    # assignment of its own, stopped (ended) when the draft was started.
    draft_ids: list[UUID]


@dataclass(frozen=True)
class BenchPractice:
    practice_id: int
    staff: list[StaffSeat]
    clients: list[ClientSeat]
    submitters: list[SubmitterSeat]
    counts: dict[str, int]  # rows written per kind


# --- answer patterns -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    """One set of answers with its stored score, prepared once for the database."""

    answers: dict[str, float]
    columns: tuple[Any, ...]  # answers, total, band, band_severity, clinical, reason, detail, ver


@dataclass
class _Patterns:
    """Each instrument's answer patterns from low to high distress, scored once."""

    table: _Table
    rng: random.Random
    version: dict[str, str] = field(default_factory=dict)
    by_instrument: dict[str, list[list[_Pattern]]] = field(default_factory=dict)
    risk: dict[str, _Pattern] = field(default_factory=dict)

    def pattern(self, answers: dict[str, float], instrument_id: str) -> _Pattern:
        from kithkin.measures import scoring, services

        chosen = services.instrument(instrument_id)
        stored = services.score_fields(scoring.score(chosen, answers))
        prepare = self.table.prepare
        return _Pattern(
            answers,
            (
                prepare("answers", answers),
                stored["total"],
                stored["band"],
                stored["band_severity"],
                stored["clinical"],
                stored["no_score_reason"],
                prepare("score_detail", stored["score_detail"]),
                stored["scored_version"],
            ),
        )

    def load(self, instrument_id: str) -> None:
        from kithkin.demo.measures import Shape
        from kithkin.measures import scoring, services

        chosen = services.instrument(instrument_id)
        shape = Shape.of(chosen)
        self.version[instrument_id] = chosen.version
        rows: list[list[_Pattern]] = []
        for step in range(POSITIONS):
            distress = step / (POSITIONS - 1)
            position = 1 - distress if shape.higher_is_better else distress
            row = []
            for _variant in range(VARIANTS):
                profile = [self.rng.uniform(-0.6, 0.3) for _item in shape.item_ids]
                row.append(self.pattern(shape.answers(self.rng, position, profile), instrument_id))
            rows.append(row)
        self.by_instrument[instrument_id] = rows
        # A distressed pattern whose risk items fire: the open alerts come from it.
        if chosen.risk_rules:
            answers = dict(rows[POSITIONS * 3 // 4][0].answers)
            for rule in chosen.risk_rules:
                values = sorted(chosen.item(rule.item).values)
                answers[rule.item] = next(
                    v for v in values if scoring.evaluate_risks(chosen, {rule.item: v})
                )
            self.risk[instrument_id] = self.pattern(answers, instrument_id)

    def at(self, instrument_id: str, distress: float, variant: int) -> _Pattern:
        rows = self.by_instrument[instrument_id]
        step = min(POSITIONS - 1, max(0, round(distress * (POSITIONS - 1))))
        return rows[step][variant % VARIANTS]


# --- the builder -----------------------------------------------------------------------------


@dataclass
class _Summary:
    """What seat choosing needs to know of one client, kept for every client (small)."""

    client_id: UUID
    index: int
    lead: int
    user_id: int | None
    active: bool
    session_id: UUID | None = None
    phq9: int = 0
    safe_person: UUID | None = None


def _share(total: int, parts: int, index: int) -> int:
    """Part ``index`` of ``total`` split as evenly as possible over ``parts``."""
    return total // parts + (index < total % parts)


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split by weight (largest remainders), summing exactly to ``total``."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: parts[i] - raw[i])
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


class _Builder:
    def __init__(self, scale: Scale, seats: int, drafts: int, now: datetime, seed: int) -> None:
        from kithkin.accounts.models import Practice
        from kithkin.demo import names
        from kithkin.measures.models import PracticeMeasuresSettings
        from kithkin.network.models import Category, Channel

        self.scale, self.seats, self.drafts, self.now = scale, seats, drafts, now
        self.rng = random.Random(seed)  # noqa: S311 (repeatable data, not security)  # nosec B311
        self.counts: dict[str, int] = {}
        self.rows: dict[str, list[Sequence[Any]]] = {}
        self.practice = Practice.objects.create(
            name="Harbourside (benchmark)", time_zone=TIME_ZONE, created_at=now - timedelta(3000)
        )
        PracticeMeasuresSettings.objects.create(
            practice=self.practice, crisis_resources="", updated_at=now
        )
        self.prefix = f"bench{self.practice.pk}-"
        self.names = names
        self.categories = [c.value for c in Category]
        self.category_weights = [2, 8, 10, 4, 4, 2, 3, 2, 1]
        self.channels = [c.value for c in Channel]
        self.tables = self._tables()
        self.patterns = _Patterns(self.tables["responses"], self.rng)
        for instrument_id, *_rest in PLANS:
            self.patterns.load(instrument_id)

    # -- tables ---------------------------------------------------------------------------

    def _tables(self) -> dict[str, _Table]:
        from kithkin.accounts.models import CareTeamMember, Client, User
        from kithkin.care.models import (
            Action,
            Goal,
            Indicator,
            NetworkSession,
            Participant,
        )
        from kithkin.connection.models import NudgeSettings
        from kithkin.measures.models import Assignment, Mode, Response, ResponseStatus
        from kithkin.network.models import Contact, Group, Person, Tie
        from kithkin.notifications.models import Notification

        now, practice = self.now, self.practice
        login = User(display_name="Bench", time_zone=TIME_ZONE, date_joined=now)
        login.set_unusable_password()
        members = Group.members.through

        def table(template: Any, varying: Sequence[str], prepared: Sequence[str] = ()) -> _Table:
            return _Table(template, varying, prepared, copy=True)

        return {
            "users": table(login, ["email", "display_name"]),
            "clients": table(
                Client(practice=practice, presenting_concerns=""),
                ["id", "display_name", "birth_year", "presenting_concerns", "user_id",
                 "created_at", "discharged_at"],
                prepared=["presenting_concerns"],
            ),
            "care_team": table(
                CareTeamMember(is_lead=True), ["client_id", "user_id", "is_lead", "added_at"]
            ),
            "nudge_settings": table(
                NudgeSettings(updated_at=now), ["client_id", "enabled", "weekly_cap"]
            ),
            "people": table(
                Person(name="", notes=""),
                ["id", "client_id", "name", "category", "ring", "helps_seen", "helps_safe",
                 "helps_soothed", "helps_secure", "helps_stable", "gives_emotional",
                 "gives_practical", "gives_informational", "gives_companionship",
                 "gives_crisis", "strain", "not_safe", "wished_rhythm_days",
                 "preferred_channel", "created_at", "updated_at"],
                prepared=["name"],
            ),
            "ties": table(
                Tie(created_at=now), ["client_id", "person_a_id", "person_b_id", "strength"]
            ),
            "groups": table(
                Group(name=""), ["id", "client_id", "name", "kind", "created_at"], ["name"]
            ),
            "group_members": table(members(), ["group_id", "person_id"]),
            "contacts": table(
                Contact(note=""),
                ["id", "client_id", "person_id", "occurred_at", "channel", "felt_seen",
                 "felt_safe", "felt_soothed", "felt_secure", "felt_stable", "logged_by_id",
                 "logged_at"],
            ),
            "assignments": table(
                Assignment(cadence="repeat"),
                ["id", "client_id", "instrument_id", "interval_days", "next_due_at",
                 "assigned_by_id", "created_at", "ended_at"],
            ),
            "responses": table(
                Response(status=ResponseStatus.SUBMITTED, note=""),
                ["id", "client_id", "assignment_id", "instrument_id", "definition_version",
                 "mode", "entered_by_id", "started_at", "updated_at", "submitted_at",
                 "answers", "total", "band", "band_severity", "clinical", "no_score_reason",
                 "score_detail", "scored_version"],
                prepared=["answers", "score_detail"],
            ),
            "drafts": table(
                Response(status=ResponseStatus.IN_PROGRESS, mode=Mode.PORTAL, note=""),
                ["id", "client_id", "assignment_id", "instrument_id", "definition_version",
                 "entered_by_id", "started_at", "updated_at", "answers"],
                prepared=["answers"],
            ),
            "sessions": table(
                NetworkSession(template="", place="", video_link="", duration_minutes=60),
                ["id", "client_id", "starts_at", "status", "shared_summary", "next_plan",
                 "created_by_id", "created_at", "held_at", "sequence"],
                prepared=["shared_summary", "next_plan"],
            ),
            "participants": table(
                Participant(), ["session_id", "kind", "user_id", "attended", "notified_sequence"]
            ),
            "goals": table(
                Goal(description=""),
                ["id", "client_id", "title", "status", "target_date", "created_by_id",
                 "created_at", "updated_at"],
                prepared=["title"],
            ),
            "indicators": table(
                Indicator(),
                ["id", "goal_id", "kind", "instrument_id", "target_score", "person_id",
                 "target_days", "created_at"],
            ),
            "actions": table(
                Action(status_note=""),
                ["id", "client_id", "session_id", "goal_id", "title", "owner_kind", "owner_id",
                 "due_on", "status", "status_at", "status_by_id", "created_by_id",
                 "created_at"],
                prepared=["title"],
            ),
            "notifications": table(
                Notification(body=""),
                ["id", "user_id", "kind", "title", "url", "critical", "created_at", "read_at"],
                prepared=["title"],
            ),
        }  # fmt: skip

    def pool(self, table: str, column: str, texts: Sequence[str]) -> list[Any]:
        """The texts encrypted (or otherwise prepared) once, to be reused across rows."""
        prepare = self.tables[table].prepare
        return [prepare(column, text) for text in texts]

    def add(self, table: str, row: Sequence[Any]) -> None:
        rows = self.rows.setdefault(table, [])
        rows.append(row)
        self.counts[table] = self.counts.get(table, 0) + 1
        if len(rows) >= CHUNK:
            self.tables[table].insert(rows)
            rows.clear()

    def flush(self) -> None:
        for name, rows in self.rows.items():
            if rows:
                self.tables[name].insert(rows)
                rows.clear()

    def new_id(self) -> UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def person_name(self) -> str:
        names = self.names
        return f"{self.rng.choice(names.GIVEN_NAMES)} {self.rng.choice(names.FAMILY_NAMES)}"

    # -- staff, logins ----------------------------------------------------------------------

    def users(self, clinicians: int, clients: Sequence[tuple[str, bool, bool]]) -> dict[str, int]:
        """Every login in one pass (admin, clinicians, clients' portal logins, network
        members), then their ids read back by email: not every backend returns them."""
        from kithkin.accounts.models import User

        domain = f"@{EMAIL_DOMAIN}"
        rows: list[tuple[str, str]] = [(f"{self.prefix}admin{domain}", "Practice Admin")]
        rows += [
            (f"{self.prefix}clinician{k:04d}{domain}", self.person_name())
            for k in range(clinicians)
        ]
        for index, (name, login, member) in enumerate(clients):
            if login:
                rows.append((f"{self.prefix}client{index:05d}{domain}", name))
            if member:
                family = name.rsplit(" ", 1)[-1]
                given = self.rng.choice(self.names.GIVEN_NAMES)
                rows.append((f"{self.prefix}member{index:05d}{domain}", f"{given} {family}"))
        for start in range(0, len(rows), CHUNK):
            self.tables["users"].insert(rows[start : start + CHUNK])
        self.counts["users"] = len(rows)
        return dict(User.objects.filter(email__startswith=self.prefix).values_list("email", "pk"))

    def email(self, kind: str, index: int) -> str:
        width = 4 if kind == "clinician" else 5
        return f"{self.prefix}{kind}{index:0{width}d}@{EMAIL_DOMAIN}"

    # -- one client -------------------------------------------------------------------------

    def map(
        self, client_id: UUID, created: datetime, end: datetime, user_id: int | None, contacts: int
    ) -> list[tuple[UUID, int, bool]]:
        """About 12 people, 15 ties, a group or two, and the client's share of the contacts
        over the last year, each person at their own interval. Returns (id, ring, not safe)."""
        rng, add = self.rng, self.add
        people: list[tuple[UUID, int, bool]] = []
        added = min(created + timedelta(days=rng.uniform(0, 20)), end)
        for k in range(rng.randint(9, 15)):
            person_id = self.new_id()
            ring = rng.choice((1, 1, 2, 2, 2, 3, 3, 3))
            not_safe = k > 0 and rng.random() < NOT_SAFE_SHARE  # the first is always safe
            helps, gives = rng.getrandbits(5), rng.getrandbits(5)
            wished = rng.choice((7, 14, 30)) if rng.random() < WISHED_SHARE else None
            add(
                "people",
                (
                    person_id, client_id, rng.choice(self.person_names),
                    rng.choices(self.categories, self.category_weights)[0], ring,
                    bool(helps & 1), bool(helps & 2), bool(helps & 4), bool(helps & 8),
                    bool(helps & 16), bool(gives & 1), bool(gives & 2), bool(gives & 4),
                    bool(gives & 8), bool(gives & 16), rng.choice((0, 0, 0, 1, 1, 2, 3)),
                    not_safe, wished, rng.choice(self.channels) if rng.random() < 0.5 else "",
                    added, added,
                ),
            )  # fmt: skip
            people.append((person_id, ring, not_safe))
        # Ties once per pair, the lower id first (as the model keeps them).
        pairs = [
            (a, b) for n, (a, _r, _s) in enumerate(people) for (b, _r2, _s2) in people[n + 1 :]
        ]
        for a, b in rng.sample(pairs, min(len(pairs), rng.randint(12, 18))):
            low, high = (a, b) if a.int < b.int else (b, a)
            add("ties", (client_id, low, high, rng.choice((1, 1, 2))))
        for _group in range(rng.randint(1, 2)):
            group_id = self.new_id()
            add("groups", (group_id, client_id, rng.choice(self.group_names),
                           rng.choice(self.group_kinds), added))  # fmt: skip
            for person_id, _ring, _not_safe in rng.sample(people, rng.randint(2, 4)):
                add("group_members", (group_id, person_id))
        # Contacts: closer people more often; someone "not safe" now and then.
        span = max(1.0, min(HISTORY_DAYS, (end - created).total_seconds() / 86400))
        weights = [
            (0.3 if not_safe else 1.0) * (4, 2, 1)[ring - 1] for _p, ring, not_safe in people
        ]
        channels = self.channels
        for (person_id, _ring, _not_safe), count in zip(
            people, _split(contacts, weights), strict=True
        ):
            if not count:
                continue
            last = rng.uniform(0, min(20, span))
            spacing = (span - last) / count
            for k in range(count):
                when = end - timedelta(days=last + k * spacing + rng.uniform(0, spacing * 0.3))
                felt = rng.getrandbits(6)  # five "I felt" flags, and who logged it
                add(
                    "contacts",
                    (
                        self.new_id(), client_id, person_id, when, rng.choice(channels),
                        bool(felt & 1), bool(felt & 2), bool(felt & 4), bool(felt & 8),
                        bool(felt & 16), user_id if felt & 32 else None, when,
                    ),
                )  # fmt: skip
        return people

    def measures(
        self, summary: _Summary, created: datetime, end: datetime, responses: int, lead: int
    ) -> None:
        """Two to four schedules and the client's share of the scored responses, on a
        trajectory from the start of the year to now."""
        rng, add, patterns = self.rng, self.add, self.patterns
        client_id, user_id = summary.client_id, summary.user_id
        plans = [plan for plan in PLANS if plan[2] >= 1.0 or rng.random() < plan[2]]
        span = max(1.0, min(HISTORY_DAYS, (end - created).total_seconds() / 86400))
        start_level = rng.uniform(0.2, 0.85)
        end_level = min(1.0, max(0.0, start_level + rng.uniform(-0.45, 0.2)))
        counts = _split(responses, [plan[3] for plan in plans])
        alert = summary.active and summary.index % ALERT_EVERY == ALERT_EVERY // 2
        for (instrument_id, interval, _share_of, _weight), count in zip(plans, counts, strict=True):
            assignment_id = self.new_id()
            due = self.now + timedelta(days=rng.uniform(-4, interval))
            ended = None if summary.active else end
            add("assignments", (assignment_id, client_id, instrument_id, interval, due,
                                lead, created, ended))  # fmt: skip
            if instrument_id == DRAFT_INSTRUMENT:
                summary.phq9 = count
                self.phq9_assignments[client_id] = assignment_id
            version = patterns.version[instrument_id]
            variant = rng.randrange(VARIANTS)
            newest = rng.uniform(0.5, min(interval, span))
            spacing = (span - newest) / max(count, 1)
            for k in range(count):
                age = newest + k * spacing
                when = end - timedelta(days=age, minutes=rng.randint(0, 600))
                level = end_level + (start_level - end_level) * (age / span)
                level += rng.uniform(-0.05, 0.05)
                if alert and k == 0 and instrument_id == RISK_INSTRUMENT:
                    pattern = patterns.risk[instrument_id]
                    self.alerts.append((self.new_id(), client_id, when, pattern))
                    response_id = self.alerts[-1][0]
                else:
                    pattern = patterns.at(instrument_id, level, variant)
                    response_id = self.new_id()
                portal = user_id is not None and rng.random() < 0.8
                add(
                    "responses",
                    (
                        response_id, client_id, assignment_id, instrument_id, version,
                        "portal" if portal else "in_session", user_id if portal else lead,
                        when - timedelta(minutes=rng.randint(2, 15)), when, when,
                        *pattern.columns,
                    ),
                )  # fmt: skip

    def casework(
        self,
        summary: _Summary,
        created: datetime,
        end: datetime,
        *,
        sessions: int,
        lead: int,
    ) -> None:
        """One or two goals (with indicators), the client's share of the network sessions
        (with participants and a couple of actions each), and one upcoming for some."""
        rng, add, now = self.rng, self.add, self.now
        client_id, user_id = summary.client_id, summary.user_id
        goals: list[UUID] = []
        for g in range(rng.randint(1, 2)):
            goal_id = self.new_id()
            goals.append(goal_id)
            status = "achieved" if rng.random() < 0.15 else "active"
            target = (now + timedelta(days=rng.randint(30, 120))).date()
            add("goals", (goal_id, client_id, rng.choice(self.goal_titles), status, target,
                          lead, created, created))  # fmt: skip
            if g == 0:
                add("indicators", (self.new_id(), goal_id, "score", "phq9", 9.0, None, None,
                                   created))  # fmt: skip
            elif summary.safe_person is not None:
                add("indicators", (self.new_id(), goal_id, "rhythm", "", None,
                                   summary.safe_person, 7, created))  # fmt: skip
        span = max(1.0, min(HISTORY_DAYS, (end - created).total_seconds() / 86400))
        upcoming = summary.active and summary.index % UPCOMING_EVERY == 0
        spacing = span / max(sessions, 1)
        today = now.date()
        for k in range(sessions):
            session_id = self.new_id()
            if k == 0:
                summary.session_id = session_id
            if k == 0 and upcoming:
                starts = now + timedelta(days=rng.uniform(2, 14))
                status = "planned"
                self.counts["upcoming_sessions"] = self.counts.get("upcoming_sessions", 0) + 1
            else:
                starts = end - timedelta(days=rng.uniform(1, 6) + k * spacing)
                status = "held" if rng.random() < 0.9 else "cancelled"
            starts = starts.replace(minute=30 * rng.randint(0, 1), second=0, microsecond=0)
            held = starts + timedelta(hours=1) if status == "held" else None
            summary_text = rng.choice(self.summaries) if held else self.blank
            add("sessions", (session_id, client_id, starts, status, summary_text,
                             rng.choice(self.plans_text), lead,
                             starts - timedelta(days=rng.randint(5, 14)), held,
                             1 if status == "cancelled" else 0))  # fmt: skip
            came = True if status == "held" else None
            add("participants", (session_id, "clinician", lead, came, 0))
            if user_id is not None:
                add("participants", (session_id, "client", user_id, came, 0))
            if status != "held":
                continue
            for a in range(2):
                by_client = user_id is not None and a == 0
                owner = user_id if by_client and user_id is not None else lead
                due: date = starts.date() + timedelta(days=rng.randint(5, 21))
                state = "open"
                if due < today:
                    state = rng.choices(("done", "not_possible", "open"), (7, 1, 2))[0]
                at = datetime.combine(due, starts.timetz()) if state != "open" else None
                add("actions", (self.new_id(), client_id, session_id, rng.choice(goals),
                                rng.choice(self.action_titles),
                                "client" if by_client else "clinician", owner, due, state, at,
                                owner if at else None, lead, starts))  # fmt: skip

    # -- text pools -------------------------------------------------------------------------

    def load_pools(self) -> None:
        """Encrypted text is prepared once per distinct text (~20 µs each) and reused."""
        from kithkin.network.models import GroupKind

        self.person_names = self.pool(
            "people", "name", sorted({self.person_name() for _n in range(400)})
        )
        self.concerns = self.pool("clients", "presenting_concerns", self.names.PRESENTING_CONCERNS)
        self.group_names = self.pool(
            "groups",
            "name",
            ("Tuesday climbing club", "Allotment society", "Choir", "Book group", "Mosque",
             "Parish church", "Five-a-side football", "Online gaming guild", "Peer support group",
             "Work team", "Running club", "Knitting circle"),
        )  # fmt: skip
        self.group_kinds = [kind.value for kind in GroupKind]
        self.goal_titles = self.pool(
            "goals",
            "title",
            ("Feel less low day to day", "Stay in touch with the people who help",
             "Get back to a weekly activity", "Sleep through most nights",
             "Have someone to call on a bad day", "Plan care together without a row"),
        )  # fmt: skip
        self.summaries = self.pool(
            "sessions",
            "shared_summary",
            [
                f"We reviewed the last {n} weeks and agreed small, regular steps."
                for n in range(2, 9)
            ],
        )
        self.plans_text = self.pool(
            "sessions",
            "next_plan",
            ("Review the actions.", "See how the evenings went.", "Plan for the holidays."),
        )
        self.blank = self.tables["sessions"].prepare("shared_summary", "")
        self.action_titles = self.pool(
            "actions",
            "title",
            ("Phone a friend on Sunday evening", "Go to the group once this week",
             "Send the worksheet", "Text to plan a walk", "Book a GP review",
             "Write down three things that help on a hard evening"),
        )  # fmt: skip
        self.notice_titles = self.pool(
            "notifications",
            "title",
            ("A network session was arranged", "An agreed action is due soon",
             "A check-in was completed", "A risk alert needs your attention"),
        )  # fmt: skip

    # -- the whole practice -----------------------------------------------------------------

    def run(self) -> BenchPractice:
        from kithkin.accounts.models import Membership, Role

        rng, scale, seats, now = self.rng, self.scale, self.seats, self.now
        self.load_pools()
        self.phq9_assignments: dict[UUID, UUID] = {}
        self.alerts: list[tuple[UUID, UUID, datetime, _Pattern]] = []
        total = scale.clients + seats  # the submitters are extra clients, after the others
        clinicians = max(seats, math.ceil(scale.clients / CLIENTS_PER_CLINICIAN))
        plan: list[tuple[str, bool, bool]] = []
        for index in range(total):
            login = index >= scale.clients or rng.random() < LOGIN_SHARE
            plan.append((self.person_name(), login, login and rng.random() < MEMBER_SHARE))
        ids = self.users(clinicians, plan)
        admin = ids[f"{self.prefix}admin@{EMAIL_DOMAIN}"]
        staff = [ids[self.email("clinician", k)] for k in range(clinicians)]
        Membership.objects.bulk_create(
            [Membership(user_id=admin, practice=self.practice, role=Role.ADMIN, created_at=now)]
            + [
                Membership(user_id=pk, practice=self.practice, role=Role.CLINICIAN, created_at=now)
                for pk in staff
            ]
        )
        self.counts.update(clinicians=clinicians, admins=1, memberships=clinicians + 1)

        summaries: list[_Summary] = []
        members: list[tuple[UUID, int, UUID]] = []  # (client, member's user, person on map)
        for index, (name, login, member) in enumerate(plan):
            client_id = self.new_id()
            lead_index = index % clinicians
            lead = staff[lead_index]
            user_id = ids[self.email("client", index)] if login else None
            ordinary = index < scale.clients
            active = not (ordinary and rng.random() < DISCHARGED_SHARE)
            # Most clients have a year of history; some joined during it.
            newer = rng.random() < NEWER_SHARE
            created = self.ago(rng.uniform(60, HISTORY_DAYS) if newer else rng.uniform(400, 1500))
            end = now if active else self.ago(rng.uniform(5, 60))
            summary = _Summary(client_id, index, lead_index, user_id, active)
            summaries.append(summary)
            self.add("clients", (client_id, name, now.year - rng.randint(18, 80),
                                 rng.choice(self.concerns), user_id, created,
                                 None if active else end))  # fmt: skip
            self.add("care_team", (client_id, lead, True, created))
            if clinicians > 1 and rng.random() < SECOND_CLINICIAN_SHARE:
                second = staff[(lead_index + rng.randint(1, clinicians - 1)) % clinicians]
                self.add("care_team", (client_id, second, False, created))
            if user_id is not None:
                self.add("nudge_settings", (client_id, rng.random() < NUDGES_ON_SHARE, 2))
            contacts = _share(scale.contacts, total, index)
            people = self.map(client_id, created, end, user_id, contacts)
            safe = [person_id for person_id, _ring, not_safe in people if not not_safe]
            summary.safe_person = safe[0]
            if member:
                members.append((client_id, ids[self.email("member", index)], rng.choice(safe)))
            self.measures(summary, created, end, _share(scale.responses, total, index), lead)
            self.casework(
                summary, created, end, sessions=_share(scale.sessions, total, index), lead=lead
            )
        self.notifications(staff)
        drafts = self.drafts_for(summaries[scale.clients :], staff)
        self.flush()
        self.counts["clients"] = total
        self.small_tables(members)
        staff_seats = self.staff_seats(summaries[: scale.clients], staff)
        taken = {seat.client_id for seat in staff_seats}
        return BenchPractice(
            practice_id=self.practice.pk,
            staff=staff_seats,
            clients=self.client_seats(summaries[: scale.clients], taken),
            submitters=drafts,
            counts=dict(sorted(self.counts.items())),
        )

    def notifications(self, staff: Sequence[int]) -> None:
        """A few dozen per clinician over the last two months, about a quarter unread."""
        from kithkin.notifications import kinds

        rng = self.rng
        choices = (
            (kinds.SESSION_NOTICE, 0), (kinds.ACTION_REMINDER, 1), (kinds.CHECKIN_DUE, 2),
            (kinds.RISK_ALERT, 3),
        )  # fmt: skip
        for user_id in staff:
            for _n in range(rng.randint(24, 48)):
                kind, title = choices[rng.choices(range(4), (5, 4, 4, 1))[0]]
                when = self.ago(rng.uniform(0, 60))
                read = None if rng.random() < 0.25 else when + timedelta(hours=rng.uniform(1, 48))
                read = read if read is not None and read < self.now else None
                self.add("notifications", (self.new_id(), user_id, kind,
                                           self.notice_titles[title], "",
                                           kind == kinds.RISK_ALERT, when, read))  # fmt: skip

    def drafts_for(
        self, submitters: Sequence[_Summary], staff: Sequence[int]
    ) -> list[SubmitterSeat]:
        """Each submitter's PHQ-9 drafts: fully answered, item 9 at 0, not yet submitted."""
        rng, patterns = self.rng, self.patterns
        version = patterns.version[DRAFT_INSTRUMENT]
        seats: list[SubmitterSeat] = []
        for summary in submitters:
            assert summary.user_id is not None
            active = self.phq9_assignments[summary.client_id]
            draft_ids: list[UUID] = []
            for k in range(self.drafts):
                started = self.now - timedelta(minutes=rng.randint(5, 600))
                if k == 0:
                    assignment_id = active
                else:
                    # A stopped schedule of its own: one response in progress per assignment.
                    assignment_id = self.new_id()
                    self.add("assignments", (assignment_id, summary.client_id,
                                             DRAFT_INSTRUMENT, 14, None,
                                             staff[summary.lead], started, started))  # fmt: skip
                    self.counts["assignments"] -= 1
                    self.counts["draft_assignments"] = self.counts.get("draft_assignments", 0) + 1
                pattern = patterns.at(DRAFT_INSTRUMENT, rng.uniform(0.1, 0.6), k)
                draft_id = self.new_id()
                draft_ids.append(draft_id)
                self.add("drafts", (draft_id, summary.client_id, assignment_id, DRAFT_INSTRUMENT,
                                    version, summary.user_id, started, started,
                                    pattern.columns[0]))  # fmt: skip
            seats.append(SubmitterSeat(summary.user_id, summary.client_id, draft_ids))
        return seats

    def small_tables(self, members: Sequence[tuple[UUID, int, UUID]]) -> None:
        """Network members with their key contact and consent, and the open risk alerts."""
        from kithkin.accounts.models import NetworkMember
        from kithkin.care.models import ConsentGrant, KeyContact
        from kithkin.measures.models import RiskAlert
        from kithkin.measures.services import instrument

        rng = self.rng
        rows = NetworkMember.objects.bulk_create(
            [
                NetworkMember(
                    client_id=client_id,
                    user_id=user_id,
                    relationship=rng.choice(self.names.RELATIONSHIPS),
                    joined_at=self.ago(rng.uniform(20, 200)),
                )
                for client_id, user_id, _person in members
            ]
        )
        if rows and rows[0].pk is None:  # a backend that gives no ids back
            by_user = dict(
                NetworkMember.objects.filter(
                    user_id__in=[user for _c, user, _p in members]
                ).values_list("user_id", "pk")
            )
            for row in rows:
                row.pk = by_user[row.user_id]
        KeyContact.objects.bulk_create(
            KeyContact(
                id=self.new_id(),
                client_id=client_id,
                person_id=person_id,
                network_member=row,
                chosen_at=row.joined_at,
            )
            for (client_id, _user, person_id), row in zip(members, rows, strict=True)
        )
        ConsentGrant.objects.bulk_create(
            ConsentGrant(
                client_id=row.client_id,
                member=row,
                version=1,
                goals=True,
                session_summaries=True,
                own_actions=True,
                checkin_summary=rng.random() < 0.5,
                decided_at=row.joined_at,
            )
            for row in rows
        )
        rules = {rule.item: rule for rule in instrument(RISK_INSTRUMENT).risk_rules}
        alerts = []
        for response_id, client_id, when, pattern in self.alerts:
            for item, rule in rules.items():
                alerts.append(
                    RiskAlert(
                        id=self.new_id(),
                        client_id=client_id,
                        response_id=response_id,
                        instrument_id=RISK_INSTRUMENT,
                        rule_id=rule.id,
                        item_id=item,
                        value=float(pattern.answers[item]),
                        severity=rule.severity,
                        created_at=when,
                        notified_at=when,
                    )
                )
        RiskAlert.objects.bulk_create(alerts)
        self.counts.update(
            network_members=len(rows),
            key_contacts=len(rows),
            consent_grants=len(rows),
            risk_alerts=len(alerts),
        )

    def staff_seats(self, summaries: Sequence[_Summary], staff: Sequence[int]) -> list[StaffSeat]:
        """Clinician k signs in as seat k, with an ordinary active client they lead that has a
        session and several PHQ-9 scores (the most it can find)."""
        seats: list[StaffSeat] = []
        for k in range(self.seats):
            mine = [s for s in summaries if s.lead == k and s.active and s.session_id is not None]
            if not mine:
                raise ValueError(f"Clinician {k} has no client with a session: scale too small.")
            best = next((s for s in mine if s.phq9 >= 3), max(mine, key=lambda s: s.phq9))
            assert best.session_id is not None
            seats.append(StaffSeat(staff[k], best.client_id, best.session_id, DRAFT_INSTRUMENT))
        return seats

    def client_seats(self, summaries: Sequence[_Summary], taken: set[UUID]) -> list[ClientSeat]:
        """Ordinary active clients with a login, spread over the list, none a staff seat's."""
        chosen: list[ClientSeat] = []
        candidates = [
            s for s in summaries
            if s.user_id is not None and s.active and s.client_id not in taken
            and s.safe_person is not None
        ]  # fmt: skip
        if len(candidates) < self.seats:
            raise ValueError("Too few clients with a login for the client seats: scale too small.")
        step = len(candidates) / self.seats
        for k in range(self.seats):
            s = candidates[int(k * step)]
            assert s.user_id is not None and s.safe_person is not None
            chosen.append(ClientSeat(s.user_id, s.client_id, s.safe_person))
        return chosen


def build(
    scale: Scale,
    *,
    seats: int = 20,
    drafts_per_seat: int = 300,
    now: datetime | None = None,
    seed: int = 800,
) -> BenchPractice:
    """Build the practice in the configured database, in one transaction, and return the
    seats the load driver signs in as and the counts of rows written."""
    from django.db import connection, transaction
    from django.utils import timezone

    if seats < 1 or scale.clients < 2 * seats:
        raise ValueError("Each seat needs its own clients: at least two clients per seat.")
    with transaction.atomic():
        builder = _Builder(scale, seats, drafts_per_seat, now or timezone.now(), seed)
        built = builder.run()
    if connection.vendor == "postgresql":
        # A database that has grown over months has statistics (autovacuum keeps them); one
        # filled in a minute has none yet, and would be measured with plans nobody runs.
        # SQLite keeps none unless asked, in production too, so it is measured as it is.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return built
