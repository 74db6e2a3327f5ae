"""Claiming and running: due jobs only, retries with backoff, leases that outlive a dead worker,
catch-up after downtime, inline runs after commit, and pruning."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job, JobState
from tests.jobs.conftest import FAIL, RECORD, SECRET, Runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def t0() -> datetime:
    return timezone.now().replace(microsecond=0) + timedelta(days=1)


def fresh(job: Job) -> Job:
    return Job.objects.get(pk=job.pk)


def test_it_runs_a_due_job_once_and_marks_it_done(runs: Runs, t0: datetime) -> None:
    job = jobs.enqueue(RECORD, {"n": 7}, run_after=t0)
    assert jobs.run_due("worker-a", now=t0) == 1
    job = fresh(job)
    assert (job.state, job.attempts, job.locked_by) == (JobState.DONE, 1, "worker-a")
    assert (job.finished_at, job.locked_until, job.last_error) == (t0, None, "")
    assert runs.counts == {7: 1}
    assert jobs.run_due("worker-a", now=t0 + timedelta(days=30)) == 0
    assert runs.counts == {7: 1}


def test_it_leaves_a_job_alone_until_its_time(runs: Runs, t0: datetime) -> None:
    job = jobs.enqueue(RECORD, {"n": 1}, run_after=t0)
    assert jobs.claim("worker", now=t0 - timedelta(seconds=1)) == []
    claimed = jobs.claim("worker", now=t0)
    assert [c.pk for c in claimed] == [job.pk]
    assert (claimed[0].state, claimed[0].attempts) == (JobState.RUNNING, 1)
    assert claimed[0].locked_until == t0 + jobs.DEFAULT_LEASE
    assert runs.counts == {}


def test_it_catches_up_on_everything_overdue_oldest_first(runs: Runs, t0: datetime) -> None:
    """After downtime, every overdue job runs on the first pass, however late it is."""
    order: list[int] = []
    runs.after_each = lambda: order.append(len(order))
    late = [jobs.enqueue(RECORD, {"n": n}, run_after=t0 - timedelta(days=n)) for n in (1, 9, 3)]
    jobs.enqueue(RECORD, {"n": 100}, run_after=t0 + timedelta(minutes=1))
    assert jobs.run_due("worker", now=t0) == 3
    assert sorted(runs.counts) == [1, 3, 9]
    finished = Job.objects.filter(state=JobState.DONE).order_by("run_after")
    assert [job.pk for job in finished] == [late[1].pk, late[2].pk, late[0].pk]
    assert Job.objects.get(payload__n=100).state == JobState.QUEUED


def test_it_claims_at_most_the_limit(runs: Runs, t0: datetime) -> None:
    for n in range(5):
        jobs.enqueue(RECORD, {"n": n}, run_after=t0)
    assert len(jobs.claim("worker", now=t0, limit=2)) == 2
    assert len(jobs.claim("worker", now=t0, limit=10)) == 3
    assert jobs.claim("worker", now=t0, limit=10) == []


def test_it_retries_a_failing_job_with_backoff_then_gives_up(
    failing: None, t0: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    job = jobs.enqueue(FAIL, {"n": 1}, run_after=t0, max_attempts=3)
    with caplog.at_level(logging.WARNING, logger="kithkin.jobs"):
        assert jobs.run_due("worker", now=t0) == 1
        job = fresh(job)
        assert (job.state, job.attempts) == (JobState.QUEUED, 1)
        assert job.run_after == t0 + timedelta(minutes=1)
        assert job.last_error.startswith("RuntimeError: mail server refused")
        assert len(job.last_error) <= jobs.ERROR_MAX

        assert jobs.run_due("worker", now=t0 + timedelta(seconds=59)) == 0  # backing off
        second = t0 + timedelta(minutes=1)
        assert jobs.run_due("worker", now=second) == 1
        job = fresh(job)
        assert (job.state, job.attempts) == (JobState.QUEUED, 2)
        assert job.run_after == second + timedelta(minutes=4)

        assert jobs.run_due("worker", now=job.run_after) == 1
        job = fresh(job)
        assert (job.state, job.attempts) == (JobState.FAILED, 3)
        assert job.finished_at == second + timedelta(minutes=4)
        assert jobs.run_due("worker", now=t0 + timedelta(days=30)) == 0
    # The log names the job, never what the handler said about a person.
    assert f"job {job.pk} (tests.fail)" in caplog.text
    assert "failed for good" in caplog.text
    assert SECRET not in caplog.text


def test_it_backs_off_exponentially_up_to_a_ceiling() -> None:
    delays = [jobs.backoff(n) for n in range(1, 8)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 4, 16, 64)]
    assert delays[-1] == jobs.BACKOFF_MAX
    assert delays == sorted(delays)


def test_it_fails_a_job_of_unknown_kind_with_a_clear_error(t0: datetime) -> None:
    job = Job.objects.create(kind="tests.retired", payload={"n": 1}, run_after=t0, max_attempts=1)
    assert jobs.run_due("worker", now=t0) == 1
    job = fresh(job)
    assert job.state == JobState.FAILED
    assert job.last_error == (
        "UnknownJobKind: no handler is registered for job kind 'tests.retired'"
    )


def test_it_takes_over_the_job_of_a_worker_killed_mid_run(runs: Runs, t0: datetime) -> None:
    job = jobs.enqueue(RECORD, {"n": 1}, run_after=t0)
    lease = timedelta(minutes=5)
    [taken] = jobs.claim("killed", now=t0, lease=lease)  # ... and the worker dies here
    assert jobs.claim("survivor", now=t0 + lease - timedelta(seconds=1)) == []  # lease holds

    assert jobs.run_due("survivor", now=t0 + lease + timedelta(seconds=1)) == 1
    job = fresh(job)
    assert (job.state, job.attempts, job.locked_by) == (JobState.DONE, 2, "survivor")
    assert runs.counts == {1: 1}

    # The dead worker's late bookkeeping changes nothing, and the done job never runs again.
    jobs._failed(taken, "killed", RuntimeError("too late"), t0 + lease * 2)
    jobs._succeeded(taken, "killed", t0 + lease * 2)
    assert fresh(job).state == JobState.DONE
    assert fresh(job).locked_by == "survivor"
    assert jobs.run_due("another", now=t0 + timedelta(days=1)) == 0
    assert runs.counts == {1: 1}


def test_it_fails_a_job_that_keeps_killing_its_worker(runs: Runs, t0: datetime) -> None:
    job = jobs.enqueue(RECORD, {"n": 1}, run_after=t0, max_attempts=2)
    lease = timedelta(minutes=5)
    assert len(jobs.claim("first", now=t0, lease=lease)) == 1
    assert len(jobs.claim("second", now=t0 + lease * 2, lease=lease)) == 1
    assert jobs.claim("third", now=t0 + lease * 4, lease=lease) == []
    job = fresh(job)
    assert (job.state, job.attempts) == (JobState.FAILED, 3)
    assert job.last_error.startswith("WorkerLost")
    assert runs.counts == {}


def test_it_hands_back_claimed_jobs_when_asked_to_stop(runs: Runs, t0: datetime) -> None:
    stop = threading.Event()
    runs.after_each = stop.set  # a SIGTERM arrives while the first job runs
    for n in range(3):
        jobs.enqueue(RECORD, {"n": n}, run_after=t0)
    assert jobs.run_due("worker", now=t0, limit=3, stop=stop) == 1
    assert runs.counts == {0: 1}
    waiting = Job.objects.filter(state=JobState.QUEUED)
    assert sorted(waiting.values_list("attempts", "locked_until")) == [(0, None), (0, None)]
    assert jobs.run_due("next", now=t0, limit=3) == 2
    assert runs.counts == {0: 1, 1: 1, 2: 1}


def test_it_hands_back_the_rest_when_stopped_mid_job(runs: Runs, t0: datetime) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt  # a second Ctrl+C while the first job runs

    runs.after_each = interrupted
    for n in range(3):
        jobs.enqueue(RECORD, {"n": n}, run_after=t0)
    with pytest.raises(KeyboardInterrupt):
        jobs.run_due("worker", now=t0, limit=3)
    # The interrupted job waits for its lease to run out; the others are free at once.
    states = Job.objects.order_by("id").values_list("state", "attempts")
    assert list(states) == [(JobState.RUNNING, 1), (JobState.QUEUED, 0), (JobState.QUEUED, 0)]


def test_it_renews_a_lease_that_ran_low_before_the_job_started(runs: Runs, t0: datetime) -> None:
    job = jobs.enqueue(RECORD, {"n": 1}, run_after=t0)
    lease = timedelta(minutes=5)
    [claimed] = jobs.claim("worker", now=t0, lease=lease)
    later = t0 + timedelta(minutes=4)  # earlier jobs of the batch took four minutes
    assert jobs._still_ours(claimed, "worker", later, lease)
    assert fresh(job).locked_until == later + lease
    # Taken over in the meantime: the worker must not start it.
    Job.objects.filter(pk=job.pk).update(locked_by="someone-else")
    assert not jobs._still_ours(claimed, "worker", later + lease, lease)


# --- inline runs straight after commit ------------------------------------------------------


def test_it_runs_a_job_at_once_after_the_callers_commit(
    runs: Runs,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        job = jobs.enqueue(RECORD, {"n": 1})
        transaction.on_commit(functools.partial(jobs.run_job_now, job.pk))
        assert runs.counts == {}
    assert runs.counts == {1: 1}
    assert fresh(job).state == JobState.DONE
    assert ":inline-" in fresh(job).locked_by
    assert not jobs.run_job_now(job.pk)  # already done
    assert runs.counts == {1: 1}


def test_it_runs_at_once_only_a_queued_job_that_is_due(runs: Runs, failing: None) -> None:
    later = jobs.enqueue(RECORD, {"n": 1}, run_after=timezone.now() + timedelta(hours=1))
    assert not jobs.run_job_now(later.pk)
    assert fresh(later).state == JobState.QUEUED
    assert not jobs.run_job_now(987654321)  # no such job: no error either
    broken = jobs.enqueue(FAIL, {"n": 2})
    assert not jobs.run_job_now(broken.pk)
    # Left for the worker to retry.
    assert (fresh(broken).state, fresh(broken).attempts) == (JobState.QUEUED, 1)
    assert runs.counts == {}


# --- pruning -------------------------------------------------------------------------------


def test_it_prunes_old_done_jobs_only(runs: Runs, failing: None, t0: datetime) -> None:
    old = jobs.enqueue(RECORD, {"n": 1}, run_after=t0, key="old")
    recent = jobs.enqueue(RECORD, {"n": 2}, run_after=t0 + timedelta(days=20))
    broken = jobs.enqueue(FAIL, {"n": 3}, run_after=t0, max_attempts=1)
    waiting = jobs.enqueue(RECORD, {"n": 4}, run_after=t0 + timedelta(days=90))
    jobs.run_due("worker", now=t0)
    jobs.run_due("worker", now=t0 + timedelta(days=20))
    assert jobs.prune(timedelta(days=30), now=t0 + timedelta(days=31)) == 1
    remaining = set(Job.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, broken.pk, waiting.pk}
    assert old.pk not in remaining
    # Its key is free again.
    assert jobs.enqueue(RECORD, {"n": 1}, key="old").pk != old.pk
