"""The daily sweep: for every current client, the withdrawal signal, and for clients who turned
reminders on, a nudge about their most overdue drifting relationship.

It streams: clients are read in batches by primary key, contacts are counted per client with a
``GROUP BY`` and loneliness scores picked with window functions, and only the contact times of
one batch's opted-in clients are ever in memory. Memory stays flat however many clients and
contacts there are.

It runs as the ``connection.sweep`` job, once a day. Each run first queues the next day's
(key ``connection.sweep:<date>``), so a run that fails for good does not end the chain; a run
that takes longer than :data:`TIME_BUDGET` hands the rest to a follow-on job, well within the
job lease. Being due whenever ``run_after <= now``, a sweep missed during downtime runs when the
worker is back. Everything it does is idempotent: a second sweep on one day changes nothing
(signals are recomputed, and a drift episode is nudged once)."""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.connection import nudges, rhythm, withdrawal
from kithkin.connection.models import Nudge, NudgeSettings, NudgeState, WithdrawalSignal
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job

SWEEP_JOB = "connection.sweep"
BATCH_SIZE = 2000
# Well within the job lease (5 minutes): a longer sweep continues in a follow-on job.
TIME_BUDGET = datetime.timedelta(minutes=3)
# The daily run, in UTC: the small hours in Europe, evening in the Americas. Nudges themselves
# wait for the end of each client's quiet hours.
SWEEP_TIME = datetime.time(3, 0)


@dataclass
class SweepResult:
    clients: int = 0
    batches: int = 0
    signals_raised: int = 0
    signals_kept: int = 0
    signals_cleared: int = 0
    nudges_queued: int = 0
    finished: bool = True
    last_client_id: UUID | None = None

    def add(self, other: SweepResult) -> None:
        for name in ("clients", "batches", "signals_raised", "signals_kept", "signals_cleared"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.nudges_queued += other.nudges_queued


@dataclass(frozen=True)
class ClientRow:
    client_id: UUID
    user_id: int | None
    user_active: bool
    zone: datetime.tzinfo


def client_batches(
    after: UUID | None = None, batch_size: int = BATCH_SIZE
) -> Iterator[list[ClientRow]]:
    """Current clients in primary-key order, ``batch_size`` at a time (keyset pagination: each
    batch is one indexed range query, however far into the table)."""
    zones: dict[str | None, datetime.tzinfo] = {}
    while True:
        clients = Client.objects.active().order_by("pk")
        if after is not None:
            clients = clients.filter(pk__gt=after)
        rows = list(
            clients.values_list("pk", "user_id", "user__is_active", "user__time_zone")[:batch_size]
        )
        if not rows:
            return
        found: list[ClientRow] = []
        for pk, user_id, active, zone_name in rows:
            if zone_name not in zones:
                zones[zone_name] = rhythm.zone_named(zone_name)
            found.append(ClientRow(pk, user_id, bool(active), zones[zone_name]))
        yield found
        after = rows[-1][0]


def _nudging(rows: Sequence[ClientRow], now: datetime.datetime) -> list[nudges.ClientNudging]:
    """The batch's clients who turned reminders on and can receive them, with what choosing a
    nudge needs: five queries for the batch."""
    reachable = {row.client_id: row for row in rows if row.user_id and row.user_active}
    if not reachable:
        return []
    chosen = list(NudgeSettings.objects.filter(client_id__in=list(reachable), enabled=True))
    if not chosen:
        return []
    ids = [s.client_id for s in chosen]
    muted: dict[int, set[UUID]] = defaultdict(set)
    through = NudgeSettings.muted_people.through.objects.filter(
        nudgesettings_id__in=[s.pk for s in chosen]
    )
    for settings_id, person_id in through.values_list("nudgesettings_id", "person_id"):
        muted[settings_id].add(person_id)
    pending = set(
        Nudge.objects.filter(client_id__in=ids, state=NudgeState.QUEUED)
        .values_list("client_id", flat=True)
        .distinct()
    )
    sent: dict[UUID, list[datetime.datetime]] = defaultdict(list)
    recent = Nudge.objects.filter(
        client_id__in=ids, state=NudgeState.SENT, sent_at__gt=now - nudges.WEEK
    ).values_list("client_id", "sent_at")
    for client_id, sent_at in recent:
        if sent_at is not None:
            sent[client_id].append(sent_at)
    return [
        nudges.ClientNudging(
            client_id=s.client_id,
            settings=s,
            zone=reachable[s.client_id].zone,
            muted=frozenset(muted[s.pk]),
            sent=tuple(sent[s.client_id]),
            pending=s.client_id in pending,
        )
        for s in chosen
    ]


def queue_nudges(rows: Sequence[ClientRow], now: datetime.datetime) -> int:
    """Queue at most one nudge per opted-in client of the batch, with its send job."""
    clients = [c for c in _nudging(rows, now) if not c.pending]
    if not clients:
        return 0
    zones = {c.client_id: c.zone for c in clients}
    states = rhythm.load(rhythm.safe_people(list(zones)), zones=zones, now=now)
    by_client: dict[UUID, list[rhythm.PersonRhythm]] = defaultdict(list)
    for state in states.values():
        if state.drifting:
            by_client[state.client_id].append(state)
    drifting = [s.person_id for found in by_client.values() for s in found]
    nudged: set[tuple[UUID, datetime.datetime]] = set()
    if drifting:
        nudged = set(
            Nudge.objects.filter(client_id__in=list(by_client), person_id__in=drifting)
            .values_list("person_id", "last_contact_at")
            .order_by()
        )
    new: list[Nudge] = []
    for client in clients:
        nudge = nudges.choose(client, by_client.get(client.client_id, ()), nudged, now=now)
        if nudge is not None:
            new.append(nudge)
    if not new:
        return 0
    with transaction.atomic():
        # A sweep running at the same moment (the command beside the job) may have queued the
        # same episode: the unique constraint keeps one, and a job for the other finds nothing.
        Nudge.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        nudges.enqueue_sends(new)
    return len(new)


def sweep_batch(
    rows: Sequence[ClientRow],
    now: datetime.datetime,
    after: UUID | None = None,
    thresholds: Mapping[int, float] | None = None,
) -> SweepResult:
    """One batch: ``rows`` are the current clients with ids in ``(after, rows[-1]]``, in order."""
    ids = [row.client_id for row in rows]
    stored = withdrawal.refresh(
        withdrawal.Clients(ids, after=after, last=ids[-1]), now, thresholds=thresholds
    )
    queued = queue_nudges(rows, now)
    return SweepResult(
        clients=len(rows),
        batches=1,
        signals_raised=stored.raised,
        signals_kept=stored.kept,
        signals_cleared=stored.cleared,
        nudges_queued=queued,
        last_client_id=ids[-1],
    )


def run(
    *,
    now: datetime.datetime | None = None,
    after: UUID | None = None,
    budget: datetime.timedelta | None = None,
    batch_size: int = BATCH_SIZE,
) -> SweepResult:
    """Sweep every current client after ``after`` (all of them by default). With a ``budget``,
    stop after the batch that exceeds it: ``finished`` is then False and ``last_client_id``
    says where to go on."""
    now = now or timezone.now()
    started = time.monotonic()
    total = SweepResult(last_client_id=after)
    # Each practice's loneliness threshold, from all its clients' first scores: once per run.
    thresholds = withdrawal.practice_thresholds(withdrawal.loneliness_instrument())
    for rows in client_batches(after, batch_size):
        done = sweep_batch(rows, now, total.last_client_id, thresholds)
        total.add(done)
        total.last_client_id = done.last_client_id
        if budget is not None and time.monotonic() - started > budget.total_seconds():
            total.finished = False
            return total
    # Discharged clients are no longer swept; no signal of theirs stays behind.
    WithdrawalSignal.objects.filter(client__discharged_at__isnull=False).delete()
    return total


# --- the daily job -------------------------------------------------------------------------


def next_run_after(now: datetime.datetime) -> datetime.datetime:
    """Tomorrow's run (UTC), whenever today's ran: after downtime there is one catch-up sweep,
    not one per missed day."""
    tomorrow = timezone.localtime(now, datetime.UTC).date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(tomorrow, SWEEP_TIME, tzinfo=datetime.UTC)


def day_key(day: datetime.date) -> str:
    return f"{SWEEP_JOB}:{day.isoformat()}"


def schedule(run_after: datetime.datetime) -> Job:
    """Queue the sweep for ``run_after``'s day (UTC); idempotent per day."""
    day = timezone.localtime(run_after, datetime.UTC).date()
    return jobs.enqueue(SWEEP_JOB, {"date": day.isoformat()}, run_after=run_after, key=day_key(day))


def next_slot(now: datetime.datetime) -> datetime.datetime:
    """Today's sweep time (UTC) if it is still ahead, else tomorrow's."""
    today = timezone.localtime(now, datetime.UTC).date()
    slot = datetime.datetime.combine(today, SWEEP_TIME, tzinfo=datetime.UTC)
    return slot if now < slot else next_run_after(now)


def keep_scheduled(now: datetime.datetime) -> Job | None:
    """Queue the next daily sweep if none is waiting or running: a new deployment starts the
    chain, and a chain broken by a sweep that failed for good starts again. Returns the job
    queued, or None when one was already waiting."""
    waiting = Job.objects.unfinished().filter(kind=SWEEP_JOB).exists()
    return None if waiting else schedule(next_slot(now))


def queue_now(now: datetime.datetime | None = None) -> Job:
    """Queue a sweep to run at once, whatever already ran today: after new data arrives in
    bulk, as when the demo is built. It queues the daily chain's next run as usual."""
    now = now or timezone.now()
    day = timezone.localtime(now, datetime.UTC).date().isoformat()
    return jobs.enqueue(SWEEP_JOB, {"date": day}, run_after=now)


def run_job(payload: dict[str, Any], *, now: datetime.datetime | None = None) -> SweepResult:
    """The ``connection.sweep`` handler: queue tomorrow's, then sweep (or go on from
    ``payload["after"]``), handing over to a follow-on job when the time budget runs out."""
    now = now or timezone.now()
    after = UUID(str(payload["after"])) if payload.get("after") else None
    day = str(payload.get("date") or timezone.localtime(now, datetime.UTC).date().isoformat())
    schedule(next_run_after(now))
    result = run(now=now, after=after, budget=TIME_BUDGET)
    if not result.finished and result.last_client_id is not None:
        last = str(result.last_client_id)
        jobs.enqueue(SWEEP_JOB, {"date": day, "after": last}, key=f"{SWEEP_JOB}:{day}:{last}")
    return result
