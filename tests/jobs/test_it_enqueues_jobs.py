"""Enqueueing joins the caller's transaction, is idempotent by key, and takes ids only."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job, JobState
from tests.jobs.conftest import RECORD, SECRET, Runs

pytestmark = pytest.mark.django_db


def test_it_queues_a_job_due_now(runs: Runs) -> None:
    before = timezone.now()
    job = jobs.enqueue(RECORD, {"n": 1})
    job.refresh_from_db()
    assert (job.kind, job.payload, job.state) == (RECORD, {"n": 1}, JobState.QUEUED)
    assert (job.attempts, job.max_attempts, job.key) == (0, 5, None)
    assert before <= job.run_after <= timezone.now()


def test_it_returns_the_existing_job_for_a_key_it_has_seen(runs: Runs) -> None:
    first = jobs.enqueue(RECORD, {"n": 1}, key="tests.record:1")
    again = jobs.enqueue(RECORD, {"n": 2}, key="tests.record:1")
    assert again.pk == first.pk
    assert again.payload == {"n": 1}
    assert Job.objects.count() == 1
    other = jobs.enqueue(RECORD, {"n": 2}, key="tests.record:2")
    assert other.pk != first.pk
    # Jobs without a key are never merged.
    jobs.enqueue(RECORD, {"n": 3})
    jobs.enqueue(RECORD, {"n": 3})
    assert Job.objects.count() == 4


def test_it_returns_a_finished_job_for_its_key_rather_than_queue_it_again(runs: Runs) -> None:
    job = jobs.enqueue(RECORD, {"n": 1}, key="tests.record:1")
    assert jobs.run_due("worker") == 1
    assert jobs.enqueue(RECORD, {"n": 1}, key="tests.record:1").pk == job.pk
    assert jobs.run_due("worker") == 0
    assert runs.counts[1] == 1


def test_it_refuses_a_key_that_belongs_to_another_kind(runs: Runs, failing: None) -> None:
    jobs.enqueue(RECORD, {"n": 1}, key="shared")
    with pytest.raises(ValueError, match=re.escape("already belongs to a 'tests.record' job")):
        jobs.enqueue("tests.fail", {"n": 1}, key="shared")


def test_it_leaves_no_job_when_the_callers_transaction_rolls_back(runs: Runs) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue(RECORD, {"n": 1}, key="tests.record:1")
        raise RuntimeError("the caller's save failed")
    assert not Job.objects.exists()
    # The key was never taken, so the retry queues a job.
    assert jobs.enqueue(RECORD, {"n": 1}, key="tests.record:1").pk is not None


@pytest.mark.django_db(transaction=True)
def test_it_commits_with_the_callers_data(runs: Runs) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue(RECORD, {"n": 1})
        raise RuntimeError("the caller's save failed")
    assert not Job.objects.exists()
    with transaction.atomic():
        jobs.enqueue(RECORD, {"n": 2})
    assert list(Job.objects.values_list("payload", flat=True)) == [{"n": 2}]


def test_it_refuses_a_kind_nobody_handles() -> None:
    with pytest.raises(jobs.UnknownJobKind, match=re.escape("'tests.typo'")):
        jobs.enqueue("tests.typo", {"n": 1})
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [{"note": SECRET * 5}, {"answers": {"q1": 3}}, {"score": 12.5}, {"ids": [1, SECRET * 5]}],
)
def test_it_refuses_a_payload_that_is_not_ids(runs: Runs, payload: dict[str, object]) -> None:
    with pytest.raises(jobs.PayloadError, match="must be an id") as refused:
        jobs.enqueue(RECORD, payload)
    assert SECRET not in str(refused.value)
    assert not Job.objects.exists()


def test_it_stores_uuids_and_lists_of_ids(runs: Runs) -> None:
    alert = uuid.uuid4()
    job = jobs.enqueue(RECORD, {"n": 1, "alert": alert, "people": [3, 4], "urgent": True})
    job.refresh_from_db()
    assert job.payload == {"n": 1, "alert": str(alert), "people": [3, 4], "urgent": True}


def test_it_refuses_a_time_without_a_zone(runs: Runs) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        jobs.enqueue(RECORD, {"n": 1}, run_after=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="max_attempts"):
        jobs.enqueue(RECORD, {"n": 1}, max_attempts=0)
    later = timezone.now() + timedelta(days=2)
    assert jobs.enqueue(RECORD, {"n": 1}, run_after=later).run_after == later


# --- many at once --------------------------------------------------------------------------


def test_it_queues_many_in_bulk_and_skips_keys_it_has_seen(runs: Runs) -> None:
    later = timezone.now() + timedelta(hours=3)
    jobs.enqueue(RECORD, {"n": 0}, key="tests.record:0")
    asked = jobs.enqueue_many(
        RECORD,
        [
            jobs.NewJob({"n": 0}, key="tests.record:0"),  # already queued: skipped
            jobs.NewJob({"n": 1}, key="tests.record:1", run_after=later),
            jobs.NewJob({"n": 2}),
        ],
    )
    assert asked == 3
    stored = {job.payload["n"]: job for job in Job.objects.all()}
    assert sorted(stored) == [0, 1, 2]
    assert stored[1].run_after == later and stored[1].state == JobState.QUEUED
    assert stored[2].run_after <= timezone.now()


def test_it_queues_none_of_many_when_one_is_bad(runs: Runs) -> None:
    with pytest.raises(jobs.PayloadError, match="must be an id") as refused:
        jobs.enqueue_many(RECORD, [jobs.NewJob({"n": 1}), jobs.NewJob({"note": SECRET * 5})])
    assert SECRET not in str(refused.value)
    with pytest.raises(ValueError, match="timezone-aware"):
        jobs.enqueue_many(RECORD, [jobs.NewJob({"n": 1}, run_after=datetime(2030, 1, 1))])
    with pytest.raises(jobs.UnknownJobKind):
        jobs.enqueue_many("tests.typo", [jobs.NewJob({"n": 1})])
    assert not Job.objects.exists()


def test_many_jobs_leave_with_the_callers_rolled_back_transaction(runs: Runs) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue_many(RECORD, [jobs.NewJob({"n": n}) for n in range(3)])
        raise RuntimeError("the caller failed")
    assert not Job.objects.exists()
