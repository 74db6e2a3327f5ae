"""The "sweep" scenario: the daily keeping-in-touch sweep (withdrawal signals and nudges) over
100,000 clients with 2,000,000 logged contacts.

The data is written with raw ``executemany`` in chunks (model instances for two million rows
would take minutes): each table's row is a template made by Django's own field preparation, so
encrypted fields hold real ciphertext, with the varying columns filled in per row. The mix:

- four people per client (one in twenty marked "not safe", one in three with a wished rhythm),
  each in touch at their own interval of 3 to 14 days, with a little jitter; the last contact
  0 to 30 days ago, so some relationships are drifting;
- one client in twenty withdrawing: their contacts stop four weeks ago;
- 40% of clients with a portal login and reminders turned on;
- a third of clients with two or three UCLA-3 loneliness scores.

Then the sweep runs twice: the first raises the signals and queues the nudges (with their
jobs), the second (the next day's) recomputes everything, with little left to change.
Memory is the process's peak resident size (``resource.getrusage``), and the highest resident
size sampled while the sweep ran."""

from __future__ import annotations

import datetime
import os
import random
import resource
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kithkin.bench.bulk import _chunks, _Table

CLIENTS = 100_000
CONTACTS = 2_000_000
QUICK_CLIENTS = 2_000
QUICK_CONTACTS = 40_000
PEOPLE_PER_CLIENT = 4
OPTED_IN_SHARE = 0.4
WITHDRAWING_SHARE = 0.05
NOT_SAFE_SHARE = 0.05
WISHED_SHARE = 0.33
LONELINESS_SHARE = 0.33
DAYS = 180
CHUNK = 20_000
TARGET_MS = 60_000
SEED = 600


def _rss_kib() -> int | None:
    """The current resident size (Linux), or None where /proc is not there."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _load_average() -> str:
    try:
        one, five, _fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count() or '?'} CPUs"


def _peak_rss_kib() -> int:
    # ru_maxrss is in KiB on Linux (bytes on macOS; the benchmark runs on Linux).
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class _RssSampler:
    """The highest resident size seen while a block runs, sampled every 20 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_kib() or 0)
            self._stop.wait(0.02)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_kib() or 0)


class _Builder:
    """Writes the scenario's rows a client at a time, flushing each table every CHUNK rows."""

    def __init__(self, now: datetime.datetime) -> None:
        from kithkin.accounts.models import Client, Practice, User
        from kithkin.connection.models import NudgeSettings
        from kithkin.measures import services as measures
        from kithkin.measures.models import Mode, Response, ResponseStatus
        from kithkin.network.models import Contact, Person

        self.now = now
        self.rng = random.Random(SEED)  # noqa: S311 (repeatable data, not security)  # nosec B311
        self.tag = self.new_id().hex[:8]
        self.counts = dict.fromkeys(
            ("clients", "people", "contacts", "portal_logins", "opted_in", "responses"), 0
        )
        practice = Practice.objects.create(name=f"Benchmark practice {self.tag}")
        login = User(display_name="Bench", time_zone="Europe/London")
        login.set_unusable_password()
        ucla3 = measures.instrument("ucla3")
        self.users = _Table(login, ["email", "date_joined"])
        self.tables = {
            "clients": _Table(
                Client(practice=practice, display_name="Bench Client"),
                ["id", "user_id", "created_at"],
            ),
            "settings": _Table(
                NudgeSettings(enabled=True, updated_at=now), ["client_id", "weekly_cap"]
            ),
            "people": _Table(
                Person(name="Friend", created_at=now),
                ["id", "client_id", "not_safe", "wished_rhythm_days", "ring"],
            ),
            "contacts": _Table(
                Contact(channel="phone", note="", logged_at=now),
                ["id", "client_id", "person_id", "occurred_at"],
            ),
            "responses": _Table(
                Response(
                    instrument_id="ucla3",
                    definition_version=ucla3.version,
                    status=ResponseStatus.SUBMITTED,
                    mode=Mode.PORTAL,
                    answers={"1": 1, "2": 1, "3": 1},
                    scored_version=ucla3.version,
                ),
                ["id", "client_id", "total", "submitted_at", "started_at", "updated_at"],
            ),
        }
        self.rows: dict[str, list[Sequence[Any]]] = {name: [] for name in self.tables}

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def logins(self, count: int) -> Iterator[int]:
        """``count`` portal logins; their ids, in order, come back from the table."""
        from kithkin.accounts.models import User

        emails = ((f"bench-{self.tag}-{n}@bench.kithkin.test", self.now) for n in range(count))
        for chunk in _chunks(emails):
            self.users.insert(chunk)
        ids = list(
            User.objects.filter(email__startswith=f"bench-{self.tag}-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.counts["portal_logins"] = len(ids)
        return iter(ids)

    def add(self, table: str, row: Sequence[Any]) -> None:
        self.rows[table].append(row)
        self.counts[table if table != "settings" else "opted_in"] += 1

    def flush(self, *, final: bool = False) -> None:
        for name, table in self.tables.items():
            rows = self.rows[name]
            if rows and (final or len(rows) >= CHUNK):
                table.insert(rows)
                rows.clear()

    def client(self, user_id: int | None, contacts: int) -> None:
        rng, now = self.rng, self.now
        client_id = self.new_id()
        self.add("clients", (client_id, user_id, now))
        if user_id is not None:
            self.add("settings", (client_id, 2))
        withdrawing = rng.random() < WITHDRAWING_SHARE
        shares = [contacts // PEOPLE_PER_CLIENT] * PEOPLE_PER_CLIENT
        for index in range(contacts % PEOPLE_PER_CLIENT):
            shares[index] += 1
        for ring, share in enumerate(shares, start=1):
            person_id = self.new_id()
            wished = rng.choice((7, 14, 30)) if rng.random() < WISHED_SHARE else None
            not_safe = rng.random() < NOT_SAFE_SHARE
            self.add("people", (person_id, client_id, not_safe, wished, min(ring, 3)))
            interval = rng.randint(3, 14)
            last = rng.uniform(0, 30) + (28 if withdrawing else 0)
            for k in range(share):
                days = max(0.0, min(DAYS, last + k * interval + rng.uniform(-1, 1)))
                when = now - datetime.timedelta(days=days)
                self.add("contacts", (self.new_id(), client_id, person_id, when))
        if rng.random() < LONELINESS_SHARE:
            level = rng.randint(3, 7)
            for k in range(rng.randint(2, 3)):
                when = now - datetime.timedelta(days=10 + 40 * k + rng.uniform(0, 5))
                # Now and then the latest score is two points up: a reliable rise where the
                # installed UCLA-3 records reliability data.
                rise = 2 if k == 0 and rng.random() < 0.2 else 0
                score = float(min(9, max(3, level + rise)))
                self.add("responses", (self.new_id(), client_id, score, when, when, when))
        self.flush()


def build(clients: int, contacts: int, now: datetime.datetime) -> dict[str, int]:
    """A throwaway practice with the scenario's clients, people, contacts, reminder settings,
    portal logins and loneliness scores. Returns the counts."""
    from django.db import transaction

    with transaction.atomic():
        builder = _Builder(now)
        opted = [builder.rng.random() < OPTED_IN_SHARE for _n in range(clients)]
        logins = builder.logins(sum(opted))
        per_client, extra = divmod(contacts, clients)
        for n in range(clients):
            builder.client(next(logins) if opted[n] else None, per_client + (n < extra))
        builder.flush(final=True)
    return builder.counts


def _timed(action: Callable[[], Any]) -> tuple[Any, float, int, float, int]:
    """(result, wall ms, queries, CPU ms, sampled peak RSS KiB) of one run."""
    from django.db import connection

    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with _RssSampler() as sampler, connection.execute_wrapper(count):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = action()
        wall = (time.perf_counter() - start) * 1000
        cpu = (time.process_time() - start_cpu) * 1000
    return result, wall, queries, cpu, sampler.peak


def run(
    *, quick: bool = False, clients: int | None = None, contacts: int | None = None
) -> dict[str, Any]:
    """Build the data and time two full sweeps (``clients``/``contacts`` for tests)."""
    from django.utils import timezone

    from kithkin.connection import sweep
    from kithkin.connection.models import Nudge, WithdrawalSignal

    clients = clients or (QUICK_CLIENTS if quick else CLIENTS)
    contacts = contacts or (QUICK_CONTACTS if quick else CONTACTS)
    now = timezone.now()
    rss_before_build = _rss_kib()
    start = time.perf_counter()
    data = build(clients, contacts, now)
    build_s = time.perf_counter() - start
    peak_after_build = _peak_rss_kib()

    first, first_ms, first_queries, first_cpu, first_rss = _timed(lambda: sweep.run(now=now))
    next_day = now + datetime.timedelta(days=1)
    second, second_ms, second_queries, second_cpu, second_rss = _timed(
        lambda: sweep.run(now=next_day)
    )
    if first.clients < clients:
        raise RuntimeError(f"The sweep reached {first.clients} clients, not {clients}.")
    peak = _peak_rss_kib()
    signals = WithdrawalSignal.objects.count()
    queued = Nudge.objects.count()

    def row(label: str, ms: float, queries: int, cpu: float, rss: int) -> dict[str, Any]:
        return {
            "label": label,
            "p50_ms": round(ms, 1),
            "p95_ms": round(ms, 1),
            "max_ms": round(ms, 1),
            "queries": queries,
            "cpu_ms": round(cpu, 1),
            "clients_per_s": round(clients / (ms / 1000)),
            "peak_rss_during_mib": round(rss / 1024, 1),
        }

    mib = 1024
    return {
        "title": f"Keeping-in-touch sweep over {clients:,} clients and {contacts:,} contacts",
        "description": (
            "connection.sweep.run(): every current client's withdrawal signal and, for clients "
            "with reminders on, a nudge about their most overdue drifting relationship; "
            "streamed in batches of clients by primary key with SQL aggregates."
        ),
        "data": {
            "clients": f"{data['clients']:,}",
            "contacts": f"{data['contacts']:,}",
            "people on maps": f"{data['people']:,}",
            "clients with reminders on": f"{data['opted_in']:,}",
            "loneliness scores": f"{data['responses']:,}",
        },
        "runs": 1,
        "target_ms": TARGET_MS,
        "within_target": max(first_ms, second_ms) < TARGET_MS,
        "measurements": {
            "first": row(
                "First sweep (raises signals, queues nudges and their jobs)",
                first_ms,
                first_queries,
                first_cpu,
                first_rss,
            ),
            "repeat": row(
                "Next day's sweep (recomputes everything; little has changed)",
                second_ms,
                second_queries,
                second_cpu,
                second_rss,
            ),
        },
        "build_s": round(build_s, 1),
        "signals": signals,
        "nudges": queued,
        "peak_rss_mib": round(peak / mib, 1),
        "notes": [
            f"Results: {first.signals_raised:,} withdrawal signals raised and "
            f"{first.nudges_queued:,} nudges queued (one waiting per client at most) in "
            f"{first.batches:,} batches of {sweep.BATCH_SIZE:,} clients; the next day's sweep "
            f"raised {second.signals_raised:,} and queued {second.nudges_queued:,}.",
            f"Memory: the process's peak resident size was {peak / mib:,.0f} MiB "
            f"(resource.getrusage), {peak_after_build / mib:,.0f} MiB of it reached while "
            "building the data; the highest resident size sampled during the sweeps was "
            f"{max(first_rss, second_rss) / mib:,.0f} MiB"
            + (
                f", against {rss_before_build / mib:,.0f} MiB before the data was built."
                if rss_before_build
                else "."
            ),
            f"Load average when the sweeps finished: {_load_average()}; wall time above CPU "
            "time is the database's disk writes and other processes on the machine.",
            f"Building the data took {build_s:,.0f} s (raw executemany in chunks of "
            f"{CHUNK:,} rows). CPU time of the sweeps: {first_cpu / 1000:,.1f} s and "
            f"{second_cpu / 1000:,.1f} s; one run each, so p50 and p95 are that run.",
        ],
    }
