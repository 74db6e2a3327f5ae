"""The "rescore" scenario: re-scoring 100,000 stored responses in bulk, as after a definition fix
(``services.rescore()``, every instrument).

The responses are a realistic mix (PHQ-9, GAD-7, PCL-5, the Five S's, K10 and others; a few
with unanswered questions, so the no-score path runs too), written with ``bulk_create`` with
their scores as an older definition version stored them; every run rewrites every row."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

RESPONSES = 100_000
QUICK_RESPONSES = 5_000
CLIENTS = 2_000
RUNS = 3
QUICK_RUNS = 1
TARGET_MS = 10_000
SEED = 100
BATCH_SIZE = 2_000
STALE_VERSION = "0.9.0"

# Instrument id → share of the responses, roughly as a trauma service would collect them.
MIX: dict[str, int] = {
    "phq9": 24,
    "gad7": 20,
    "pcl5": 16,
    "five_s": 16,
    "protective_factors": 6,
    "k10": 6,
    "ucla3": 6,
    "phq4": 4,
    "scs_sf": 2,
}
MISSING_SHARE = 0.02  # responses with one question unanswered


def _step(rng: random.Random, level: float, top: int) -> int:
    return min(top, max(0, round(level * top + rng.gauss(0, 0.8))))


def build_responses(count: int) -> dict[str, int]:
    """A throwaway practice with ``CLIENTS`` clients and ``count`` submitted responses."""
    from django.db import transaction
    from django.utils import timezone

    from kithkin.accounts.models import Client, Practice
    from kithkin.measures import scoring, services
    from kithkin.measures.models import Mode, Response, ResponseStatus

    rng = random.Random(SEED)  # noqa: S311 (repeatable data, not security)  # nosec B311
    now = timezone.now()
    tag = uuid.UUID(int=rng.getrandbits(128), version=4).hex[:8]
    ids = list(MIX)
    weights = [MIX[i] for i in ids]
    instruments = {i: services.instrument(i) for i in ids}
    options = {
        i: [(item.id, sorted(item.values)) for item in instrument.items]
        for i, instrument in instruments.items()
    }
    counts = dict.fromkeys(ids, 0)
    with transaction.atomic():
        practice = Practice.objects.create(name=f"Benchmark practice {tag}")
        clients = [
            Client(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                practice=practice,
                display_name=f"Bench Client {n}",
            )
            for n in range(CLIENTS)
        ]
        Client.objects.bulk_create(clients, batch_size=BATCH_SIZE)
        rows: list[Response] = []
        for _n in range(count):
            instrument_id = rng.choices(ids, weights)[0]
            counts[instrument_id] += 1
            # Answers cluster around a per-response level, as real answers do, with each item
            # free to stray (so few responses share all their answers).
            level = rng.random()
            answers = {
                item_id: values[_step(rng, level, len(values) - 1)]
                for item_id, values in options[instrument_id]
            }
            if instrument_id == "phq9":
                answers["9"] = 0
            if rng.random() < MISSING_SHARE:
                del answers[rng.choice(list(answers))]
            when = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
            stored = services.score_fields(scoring.score(instruments[instrument_id], answers))
            stored["scored_version"] = STALE_VERSION
            rows.append(
                Response(
                    id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    client=rng.choice(clients),
                    instrument_id=instrument_id,
                    definition_version=STALE_VERSION,
                    status=ResponseStatus.SUBMITTED,
                    mode=Mode.PORTAL,
                    answers=answers,
                    started_at=when,
                    updated_at=when,
                    submitted_at=when,
                    **stored,
                )
            )
            if len(rows) == BATCH_SIZE:
                Response.objects.bulk_create(rows)
                rows = []
        Response.objects.bulk_create(rows)
    return {"responses": count, "clients": CLIENTS, **counts}


def run(*, quick: bool = False, responses: int | None = None) -> dict[str, Any]:
    """Time ``services.rescore()`` over RESPONSES stored responses (QUICK_RESPONSES with
    ``quick``, or ``responses`` when given, as the tests do)."""
    from django.db import connection

    from kithkin.measures import services

    count = responses or (QUICK_RESPONSES if quick else RESPONSES)
    runs = QUICK_RUNS if quick else RUNS
    data = build_responses(count)
    samples: list[float] = []
    cpu: list[float] = []
    queries: list[str] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    for index in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        if index == 0:
            with connection.execute_wrapper(capture):
                done = services.rescore()
        else:
            done = services.rescore()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if done < count:
            raise RuntimeError(f"rescore() re-scored {done} responses, not {count}.")
    p50 = statistics.median(samples)
    return {
        "title": f"Re-scoring {count:,} stored responses",
        "description": (
            "services.rescore() over every instrument, as after a definition fix: reads the "
            "stored answers in batches, scores them and writes every stored score back."
        ),
        "data": {"responses": f"{data['responses']:,}", "clients": f"{data['clients']:,}"},
        "runs": runs,
        "target_ms": TARGET_MS,
        "within_target": max(samples) < TARGET_MS,
        "measurements": {
            "rescore": {
                "label": f"Re-score {count:,} responses (services.rescore)",
                "p50_ms": round(p50, 1),
                "p95_ms": round(max(samples), 1),
                "max_ms": round(max(samples), 1),
                "queries": len(queries),
                "responses_per_s": round(count / (p50 / 1000)),
                "cpu_p50_ms": round(statistics.median(cpu), 1),
            }
        },
        "notes": [
            f"Throughput: {count / (p50 / 1000):,.0f} responses per second (p50). CPU time of "
            f"the process: {statistics.median(cpu) / 1000:.1f} s (p50); the rest of the wall "
            "time is the database's disk writes and other processes on the machine. The first "
            "run replaces an older version's scores; later runs write the same scores again. "
            "p95 is the slowest run.",
            "Mix: " + ", ".join(f"{data[i]:,} {i}" for i in MIX) + ".",
        ],
    }
