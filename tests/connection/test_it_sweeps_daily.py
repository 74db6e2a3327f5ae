"""The daily sweep: streamed in batches of clients with SQL aggregates (the query count does not
grow with the contacts), self-rescheduling once per day, catching up after downtime with one
sweep rather than one per missed day, continuing in a follow-on job when it runs long; also as
``kithkin manage connection_sweep``."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kithkin.connection import nudges, sweep
from kithkin.connection.models import Nudge, WithdrawalSignal
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job, JobState
from tests import factories
from tests.conftest import World
from tests.connection.rhythm_data import contacts_days_ago, opted_in, weekly_friend

pytestmark = pytest.mark.django_db


def _withdrawing(world: World, now: datetime.datetime) -> None:
    sam = factories.person_of(world.client_b, "Sam")
    contacts_days_ago(sam, [29 + 3 * n for n in range(28)], now=now)


def _sweep_jobs() -> list[Job]:
    return list(Job.objects.filter(kind=sweep.SWEEP_JOB).order_by("run_after", "id"))


def test_it_sweeps_every_current_client_in_batches(world: World) -> None:
    now = timezone.now()
    _withdrawing(world, now)
    weekly_friend(world.client_a, "Sam", last=21, now=now)
    opted_in(world.client_a)
    result = sweep.run(now=now, batch_size=2)
    assert result.clients == 3  # client A, client B and the other practice's client
    assert result.batches == 2
    assert result.finished
    assert result.signals_raised == 1 and result.nudges_queued == 1
    assert WithdrawalSignal.objects.get().client == world.client_b
    assert Nudge.objects.get().client == world.client_a


def test_its_queries_do_not_grow_with_the_contacts(world: World) -> None:
    """Contacts are counted per client in SQL and read one batch at a time: ten times the
    contacts, the same queries."""
    now = timezone.now()
    opted_in(world.client_a)
    sam = weekly_friend(world.client_a, "Sam", last=21, count=3, now=now)

    def queries() -> int:
        Nudge.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            sweep.run(now=now, batch_size=2)
        return len(captured)

    few = queries()
    contacts_days_ago(sam, [21 + 7 * n for n in range(20, 60)], now=now)  # older than 16 weeks
    contacts_days_ago(factories.person_of(world.client_b), range(1, 200), now=now)
    assert queries() == few


def test_a_sweep_twice_in_a_day_changes_nothing(world: World) -> None:
    now = timezone.now()
    _withdrawing(world, now)
    weekly_friend(world.client_a, "Sam", last=21, now=now)
    opted_in(world.client_a)
    sweep.run(now=now)
    again = sweep.run(now=now)
    assert (again.signals_raised, again.signals_kept, again.nudges_queued) == (0, 1, 0)
    assert WithdrawalSignal.objects.count() == 1 and Nudge.objects.count() == 1


def test_the_job_queues_tomorrows_sweep_once(world: World) -> None:
    now = datetime.datetime(2026, 3, 11, 3, 5, tzinfo=datetime.UTC)
    first = sweep.schedule(now)
    assert first.key == "connection.sweep:2026-03-11"
    sweep.run_job({"date": "2026-03-11"}, now=now)
    sweep.run_job({"date": "2026-03-11"}, now=now + datetime.timedelta(hours=1))  # a re-run
    keys = [job.key for job in _sweep_jobs()]
    assert keys == ["connection.sweep:2026-03-11", "connection.sweep:2026-03-12"]
    tomorrow = Job.objects.get(key="connection.sweep:2026-03-12")
    assert tomorrow.run_after == datetime.datetime(2026, 3, 12, 3, 0, tzinfo=datetime.UTC)
    assert tomorrow.payload == {"date": "2026-03-12"}


def test_after_downtime_one_sweep_catches_up(world: World) -> None:
    now = timezone.now()
    _withdrawing(world, now)
    missed = now - datetime.timedelta(days=5)
    sweep.schedule(missed)  # queued five days ago; the worker was down since
    assert jobs.run_due("test-worker", limit=10) == 1
    assert WithdrawalSignal.objects.get().client == world.client_b
    [done, queued] = _sweep_jobs()
    assert done.state == JobState.DONE
    # The next one is tomorrow's, not one for each of the missed days.
    assert queued.state == JobState.QUEUED
    assert queued.run_after == sweep.next_run_after(now) > now
    assert jobs.run_due("test-worker", limit=10) == 0


def test_a_long_sweep_continues_in_a_follow_on_job(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    _withdrawing(world, now)
    monkeypatch.setattr(sweep, "TIME_BUDGET", datetime.timedelta(0))
    monkeypatch.setattr(sweep, "BATCH_SIZE", 1)
    original = sweep.run

    def one_at_a_time(**kwargs: object) -> sweep.SweepResult:
        return original(**{**kwargs, "batch_size": 1})  # type: ignore[arg-type]

    monkeypatch.setattr(sweep, "run", one_at_a_time)
    sweep.schedule(now)
    ran = 0
    while batch := jobs.run_due("test-worker", limit=1):
        ran += batch
    # Three clients, one per job; the third finds it has finished; plus a last empty one
    # after the budget ran out on the third batch.
    follow_ons = Job.objects.filter(kind=sweep.SWEEP_JOB, payload__has_key="after")
    assert follow_ons.count() == 3
    assert ran == 4
    assert WithdrawalSignal.objects.get().client == world.client_b
    assert Job.objects.filter(kind=sweep.SWEEP_JOB, state=JobState.QUEUED).count() == 1


def test_discharged_clients_keep_no_signal(world: World) -> None:
    now = timezone.now()
    _withdrawing(world, now)
    sweep.run(now=now)
    world.client_b.discharged_at = now
    world.client_b.save(update_fields=["discharged_at"])
    sweep.run(now=now)
    assert not WithdrawalSignal.objects.exists()


def test_the_management_command_sweeps_and_schedules(world: World) -> None:
    _withdrawing(world, timezone.now())
    out = io.StringIO()
    call_command("connection_sweep", stdout=out)
    assert "Swept 3 clients: 1 new withdrawal signals" in out.getvalue()
    [queued] = _sweep_jobs()
    assert queued.run_after > timezone.now()
    call_command("connection_sweep", "--schedule-only", stdout=out)
    assert len(_sweep_jobs()) == 2  # today's too, which the worker runs at once
    assert nudges.SEND_JOB not in {job.kind for job in Job.objects.all()}


def test_the_demo_queues_a_sweep_its_worker_runs_at_once(world: World) -> None:
    from kithkin.demo import generator

    assert generator.STEPS[-1] is generator.queue_connection_sweep
    _withdrawing(world, timezone.now())
    generator.build_demo(
        clients=1, steps=[generator.add_practice, generator.queue_connection_sweep]
    )
    [queued] = _sweep_jobs()
    assert queued.run_after <= timezone.now() and queued.key is None
    assert jobs.run_due("demo-worker") == 1
    assert WithdrawalSignal.objects.get().client == world.client_b
    # A demo built again the same day gets a sweep of its own (no daily key to collide with).
    assert sweep.queue_now().pk != queued.pk


# --- a new deployment, or a broken chain, gets its sweep back --------------------------------


def test_the_worker_puts_a_missing_sweep_on_schedule(world: World) -> None:
    morning = datetime.datetime(2026, 11, 22, 1, 0, tzinfo=datetime.UTC)
    assert sweep.keep_scheduled(morning) is not None
    [job] = _sweep_jobs()
    # Before the day's sweep time: today's; nothing is run at once.
    assert job.run_after == datetime.datetime(2026, 11, 22, 3, 0, tzinfo=datetime.UTC)
    assert job.state == JobState.QUEUED
    # One waiting sweep is enough, however often the worker checks.
    assert sweep.keep_scheduled(morning) is None
    assert jobs.keep_recurring_scheduled(morning) == []
    assert len(_sweep_jobs()) == 1


def test_a_chain_broken_by_a_failed_sweep_starts_again_tomorrow(world: World) -> None:
    afternoon = datetime.datetime(2026, 11, 22, 14, 0, tzinfo=datetime.UTC)
    broken = sweep.schedule(afternoon - datetime.timedelta(hours=11))
    Job.objects.filter(pk=broken.pk).update(state=JobState.FAILED)
    assert jobs.keep_recurring_scheduled(afternoon) == []
    waiting = Job.objects.get(kind=sweep.SWEEP_JOB, state=JobState.QUEUED)
    assert waiting.run_after == datetime.datetime(2026, 11, 23, 3, 0, tzinfo=datetime.UTC)
    # The stranger's practice is swept with everyone else's: no client is named in the job.
    assert str(world.other_client.pk) not in str(waiting.payload)
