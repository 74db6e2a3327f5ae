"""Enqueue, claim and run background jobs (see docs/jobs.md).

- :func:`enqueue` writes a job row in the caller's transaction: it exists exactly when the
  caller's data commits.
- :func:`claim` takes due jobs atomically, with a lease; a job whose worker died is taken over
  when its lease runs out, so nothing is lost. Delivery is at least once: handlers must be
  idempotent.
- :func:`run_due` claims and runs; :func:`run_job_now` runs one job inline straight after commit.

Catch-up is built in: a job is due whenever ``run_after <= now``, so after downtime everything
overdue runs on the worker's first pass. Nothing is tied to an exact day or minute.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from kithkin.jobs import registry
from kithkin.jobs.models import Job, JobQuerySet, JobState
from kithkin.jobs.registry import UnknownJobKind

__all__ = [
    "Job",
    "JobState",
    "NewJob",
    "PayloadError",
    "UnknownJobKind",
    "backoff",
    "claim",
    "enqueue",
    "enqueue_many",
    "keep_recurring_scheduled",
    "make_worker_id",
    "prune",
    "run_due",
    "run_job_now",
]

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 10
DEFAULT_MAX_ATTEMPTS = 5
# A handler must finish well within its lease, or another worker may take the job over.
DEFAULT_LEASE = timedelta(minutes=5)
# Retries wait 1, 4, 16, 64 ... minutes (at most 6 hours): the default five attempts span about
# an hour and a half, long enough to ride out a mail server's restart.
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_FACTOR = 4
BACKOFF_MAX = timedelta(hours=6)
PAYLOAD_STRING_MAX = 100
ERROR_MAX = 500
WORKER_ID_MAX = 200

Clock = Callable[[], datetime]


class PayloadError(ValueError):
    """A payload that is not a flat dict of ids. Payloads must never carry client free text."""


# --- enqueueing ----------------------------------------------------------------------------


def _is_id(value: Any) -> bool:
    if value is None or isinstance(value, bool | int):
        return True
    return isinstance(value, str) and len(value) <= PAYLOAD_STRING_MAX


def clean_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check that a payload holds ids only: whole numbers, booleans, None, short strings (a UUID,
    a date), or lists of those. UUIDs become strings. The message never echoes a value."""
    if not isinstance(payload, Mapping):
        raise PayloadError("A job payload must be a dict of ids.")
    clean: dict[str, Any] = {}
    for name, value in payload.items():
        if not isinstance(name, str):
            raise PayloadError("Job payload keys must be strings.")
        item = str(value) if isinstance(value, uuid.UUID) else value
        if isinstance(item, list | tuple):
            items = [str(v) if isinstance(v, uuid.UUID) else v for v in item]
            if all(_is_id(v) for v in items):
                clean[name] = items
                continue
        elif _is_id(item):
            clean[name] = item
            continue
        raise PayloadError(
            f"Job payload value {name!r} must be an id: a whole number, a boolean, or a string "
            f"of at most {PAYLOAD_STRING_MAX} characters (such as a UUID), or a list of those. "
            "Pass ids and let the handler read the rest from the database."
        )
    return clean


def enqueue(
    kind: str,
    payload: Mapping[str, Any],
    *,
    run_after: datetime | None = None,
    key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Job:
    """Add a job. It joins the caller's transaction: if that rolls back, there is no job.

    With a ``key``, enqueueing is idempotent: if a job with that key exists (in any state), it is
    returned unchanged and nothing new is queued. Keys, like payloads, hold ids only."""
    if not registry.is_registered(kind):
        raise UnknownJobKind(kind)
    if run_after is not None and timezone.is_naive(run_after):
        raise ValueError("run_after must be a timezone-aware datetime.")
    if max_attempts < 1:
        raise ValueError("max_attempts must be 1 or more.")
    fields: dict[str, Any] = {
        "kind": kind,
        "payload": clean_payload(payload),
        "run_after": run_after or timezone.now(),
        "max_attempts": max_attempts,
    }
    if key is None:
        return Job.objects.create(**fields)
    # get_or_create inserts in a savepoint and, if a concurrent transaction won the race for
    # the unique key, fetches the winner's row instead.
    job, _ = Job.objects.get_or_create(key=key, defaults=fields)
    if job.kind != kind:
        raise ValueError(f"Job key {key!r} already belongs to a {job.kind!r} job.")
    return job


@dataclass(frozen=True)
class NewJob:
    """One job for :func:`enqueue_many`: ids-only payload, when it may run, and its key."""

    payload: Mapping[str, Any]
    run_after: datetime | None = None
    key: str | None = None


def enqueue_many(
    kind: str,
    new_jobs: Iterable[NewJob],
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    batch_size: int = 500,
) -> int:
    """Add many jobs of one kind in bulk, in the caller's transaction (a sweep queues thousands).

    The checks are :func:`enqueue`'s. A job whose key already exists is skipped, as with
    ``enqueue(key=...)``; the count returned is the number of jobs asked for, since a bulk insert
    that skips conflicts cannot tell which ones were new."""
    if not registry.is_registered(kind):
        raise UnknownJobKind(kind)
    if max_attempts < 1:
        raise ValueError("max_attempts must be 1 or more.")
    now = timezone.now()
    rows: list[Job] = []
    for new_job in new_jobs:
        if new_job.run_after is not None and timezone.is_naive(new_job.run_after):
            raise ValueError("run_after must be a timezone-aware datetime.")
        rows.append(
            Job(
                kind=kind,
                payload=clean_payload(new_job.payload),
                run_after=new_job.run_after or now,
                key=new_job.key,
                max_attempts=max_attempts,
                created_at=now,
            )
        )
    if rows:
        Job.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
    return len(rows)


def keep_recurring_scheduled(now: datetime | None = None) -> list[str]:
    """Run every ``@recurring`` keeper; returns the kinds whose keeper failed. One failing keeper
    does not stop the others, and the worker goes on: it tries again within the hour."""
    now = now or timezone.now()
    failed: list[str] = []
    for kind, keeper in sorted(registry.keepers().items()):
        try:
            with transaction.atomic():
                keeper(now)
        except Exception:
            logger.exception("could not keep %s jobs scheduled", kind)
            failed.append(kind)
    return failed


# --- claiming ------------------------------------------------------------------------------


def make_worker_id(label: str = "") -> str:
    """``hostname:pid:random``: unique per process, and says where a job ran."""
    host = socket.gethostname()[:100] or "localhost"
    return f"{host}:{os.getpid()}:{label}{secrets.token_hex(4)}"[:WORKER_ID_MAX]


def _claim(
    candidates: JobQuerySet, worker_id: str, *, limit: int, now: datetime, lease: timedelta
) -> list[Job]:
    if not worker_id or len(worker_id) > WORKER_ID_MAX:
        raise ValueError(f"A worker id must be 1 to {WORKER_ID_MAX} characters.")
    # A plain read first: an idle worker's poll must not take SQLite's write lock every time.
    if not candidates.exists():
        return []
    ordered = candidates.order_by("run_after", "id")
    changes: dict[str, Any] = {
        "state": JobState.RUNNING,
        "locked_by": worker_id,
        "locked_until": now + lease,
        "attempts": F("attempts") + 1,
    }
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: rows another worker is claiming right now are locked; skip them rather
            # than wait. Once that worker commits they are running under its lease.
            ids = list(
                ordered.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
            )
            Job.objects.filter(pk__in=ids).update(**changes)
        else:
            # SQLite: one writer at a time (IMMEDIATE transactions). Each row is taken by a
            # conditional UPDATE that repeats the claim's conditions and the attempt count seen,
            # so a row someone else claimed in between is left alone.
            ids = []
            for pk, attempts in ordered.values_list("pk", "attempts")[:limit]:
                if candidates.filter(pk=pk, attempts=attempts).update(**changes) == 1:
                    ids.append(pk)
        claimed = list(Job.objects.filter(pk__in=ids).order_by("run_after", "id"))
        # A job reclaimed after its worker died during the last allowed attempt: stop here,
        # or a job that kills its worker would be retried for ever.
        for job in claimed:
            if job.attempts > job.max_attempts:
                _owned(job, worker_id).update(
                    state=JobState.FAILED,
                    locked_until=None,
                    finished_at=now,
                    last_error="WorkerLost: its worker stopped during the last attempt",
                )
                logger.error("job %s (%s) failed: its worker stopped mid-run", job.pk, job.kind)
    return [job for job in claimed if job.attempts <= job.max_attempts]


def claim(
    worker_id: str,
    *,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Job]:
    """Atomically take up to ``limit`` due jobs for ``worker_id``, oldest first, and lease them
    until ``now + lease``. Due means queued with ``run_after <= now``, or running under a lease
    that ran out before ``now``. Each claim counts as an attempt."""
    now = now or timezone.now()
    return _claim(Job.objects.claimable(now), worker_id, limit=limit, now=now, lease=lease)


# --- running -------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    delay: timedelta = BACKOFF_FIRST * BACKOFF_FACTOR ** max(attempts - 1, 0)
    return min(delay, BACKOFF_MAX)


def _owned(job: Job, worker_id: str) -> JobQuerySet:
    """The job, only while this worker still holds this attempt's lease."""
    return Job.objects.filter(
        pk=job.pk, state=JobState.RUNNING, locked_by=worker_id, attempts=job.attempts
    )


def _still_ours(job: Job, worker_id: str, now: datetime, lease: timedelta) -> bool:
    """Before starting a job, make sure its lease has not run out while earlier jobs of the
    batch ran, renewing it when less than half is left."""
    if job.locked_until is not None and job.locked_until - now > lease / 2:
        return True
    if _owned(job, worker_id).update(locked_until=now + lease) == 1:
        job.locked_until = now + lease
        return True
    return False


def _error_text(error: BaseException) -> str:
    # Handlers keep client data out of their messages (docs/jobs.md); the row keeps it short.
    return f"{type(error).__name__}: {error}"[:ERROR_MAX]


def _succeeded(job: Job, worker_id: str, now: datetime) -> None:
    updated = _owned(job, worker_id).update(
        state=JobState.DONE, locked_until=None, finished_at=now, last_error=""
    )
    if not updated:
        logger.warning("job %s (%s) finished after its lease ran out", job.pk, job.kind)


def _failed(job: Job, worker_id: str, error: Exception, now: datetime) -> None:
    error_name = type(error).__name__
    if job.attempts >= job.max_attempts:
        _owned(job, worker_id).update(
            state=JobState.FAILED, locked_until=None, finished_at=now, last_error=_error_text(error)
        )
        logger.error(
            "job %s (%s) failed for good on attempt %s (%s)",
            job.pk, job.kind, job.attempts, error_name,
        )  # fmt: skip
        return
    retry_at = now + backoff(job.attempts)
    _owned(job, worker_id).update(
        state=JobState.QUEUED, run_after=retry_at, locked_until=None, last_error=_error_text(error)
    )
    logger.warning(
        "job %s (%s) failed on attempt %s of %s (%s); it will be retried",
        job.pk, job.kind, job.attempts, job.max_attempts, error_name,
    )  # fmt: skip


def _run(job: Job, worker_id: str, clock: Clock, lease: timedelta) -> bool | None:
    """Run one claimed job: True if it succeeded, False if it failed, None if it was no longer
    this worker's to run."""
    if not _still_ours(job, worker_id, clock(), lease):
        logger.warning("job %s (%s) was taken over before it started", job.pk, job.kind)
        return None
    try:
        # Handlers run in autocommit: they wrap their own writes in transaction.atomic(). One
        # transaction around the handler would hold SQLite's write lock while mail is sent.
        registry.get_handler(job.kind)(dict(job.payload))
    except Exception as error:
        _failed(job, worker_id, error, clock())
        return False
    _succeeded(job, worker_id, clock())
    return True


def _release(jobs: Sequence[Job], worker_id: str) -> None:
    """Hand claimed jobs that were never started back to the queue, attempt uncounted."""
    for job in jobs:
        _owned(job, worker_id).update(
            state=JobState.QUEUED, attempts=F("attempts") - 1, locked_until=None
        )


def _clock(now: datetime | None) -> Clock:
    if now is None:
        return timezone.now
    return lambda: now


def run_due(
    worker_id: str,
    *,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
    stop: threading.Event | None = None,
) -> int:
    """Claim up to ``limit`` due jobs and run them one by one. Returns how many ran (succeeded
    or failed). A job that raises goes back to the queue with a backoff, or fails for good after
    its ``max_attempts``. If ``stop`` is set between jobs, the rest are handed back unrun."""
    clock = _clock(now)
    jobs = claim(worker_id, limit=limit, now=clock(), lease=lease)
    ran = 0
    for index, job in enumerate(jobs):
        if stop is not None and stop.is_set():
            _release(jobs[index:], worker_id)
            break
        try:
            outcome = _run(job, worker_id, clock, lease)
        except BaseException:
            # Stopped at once (a second Ctrl+C) or the database went away: the job in hand waits
            # for its lease to run out; the ones not started go back now if they can.
            with contextlib.suppress(Exception):
                _release(jobs[index + 1 :], worker_id)
            raise
        if outcome is not None:
            ran += 1
    return ran


def run_job_now(job_id: int, *, worker_id: str | None = None) -> bool:
    """Run one job inline if it is queued and due; True if it ran and succeeded.

    Meant for ``transaction.on_commit(functools.partial(run_job_now, job.pk))`` so urgent mail
    goes out at once, with the row as the durable fallback: if this fails, or the process dies,
    the worker retries the job. It never raises, since the caller's data has already committed."""
    try:
        now = timezone.now()
        candidates = Job.objects.filter(pk=job_id, state=JobState.QUEUED, run_after__lte=now)
        jobs = _claim(
            candidates, worker_id or make_worker_id("inline-"), limit=1, now=now,
            lease=DEFAULT_LEASE,
        )  # fmt: skip
        if not jobs:
            return False
        return _run(jobs[0], jobs[0].locked_by, timezone.now, DEFAULT_LEASE) is True
    except Exception as error:
        logger.warning(
            "job %s could not run at once (%s); the worker will run it",
            job_id, type(error).__name__,
        )  # fmt: skip
        return False


def prune(older_than: timedelta, *, now: datetime | None = None) -> int:
    """Delete done jobs that finished more than ``older_than`` ago; returns how many. Failed jobs
    stay for inspection. A pruned job's key is free again."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = Job.objects.filter(state=JobState.DONE, finished_at__lt=cutoff).delete()
    return deleted
