"""The throttle counts in the database, so every process and connection shares one limit."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from kithkin.audit.models import AuditEvent
from kithkin.security import throttle
from kithkin.security.models import ThrottleCounter
from tests.conftest import World, signed_in

NOW = datetime(2025, 3, 4, 10, 0, 5, tzinfo=UTC)


@pytest.fixture
def shared_database(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """As in tests/jobs/test_it_races_workers.py: SQLite's in-memory test database uses
    shared-cache table locks that fail at once instead of waiting, unlike a deployment's file.
    Copy it to a WAL-mode file for these tests; PostgreSQL needs nothing."""
    if connection.vendor != "sqlite" or "mode=memory" not in str(connection.settings_dict["NAME"]):
        yield
        return
    path = tmp_path / "throttle.sqlite3"
    connection.ensure_connection()
    assert connection.connection is not None
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)
    target.close()
    memory, name = connection.connection, connection.settings_dict["NAME"]
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = memory


@pytest.mark.django_db
def test_it_allows_up_to_the_limit_and_refuses_after() -> None:
    results = [
        throttle.hit("otp", "user:7", limit=3, window_seconds=900, now=NOW) for _ in range(5)
    ]
    assert results == [True, True, True, False, False]
    assert throttle.is_limited("otp", "user:7", limit=3, window_seconds=900, now=NOW)
    # Another key and another scope are counted apart.
    assert not throttle.is_limited("otp", "user:8", limit=3, window_seconds=900, now=NOW)
    assert not throttle.is_limited("login", "user:7", limit=3, window_seconds=900, now=NOW)


@pytest.mark.django_db
def test_it_starts_again_in_the_next_window_and_prunes_ended_windows() -> None:
    for _ in range(3):
        throttle.hit("otp", "user:7", limit=3, window_seconds=900, now=NOW)
    assert throttle.is_limited("otp", "user:7", limit=3, window_seconds=900, now=NOW)
    later = NOW + timedelta(minutes=15)
    assert not throttle.is_limited("otp", "user:7", limit=3, window_seconds=900, now=later)
    assert throttle.hit("otp", "user:7", limit=3, window_seconds=900, now=later)
    assert ThrottleCounter.objects.count() == 2
    assert throttle.prune(later) == 1
    assert ThrottleCounter.objects.count() == 1


@pytest.mark.django_db
def test_signing_in_prunes_ended_windows(world: World) -> None:
    throttle.hit("otp", "user:7", limit=3, window_seconds=60, now=NOW)
    signed_in(world.client_a_user)
    assert not ThrottleCounter.objects.exists()


@pytest.mark.django_db
def test_reset_forgets_the_attempts() -> None:
    for _ in range(4):
        throttle.hit("otp", "user:7", limit=3, window_seconds=900, now=NOW)
    throttle.reset("otp", "user:7")
    assert throttle.count("otp", "user:7", window_seconds=900, now=NOW) == 0
    assert throttle.hit("otp", "user:7", limit=3, window_seconds=900, now=NOW)


@pytest.mark.django_db
def test_it_stores_no_email_or_address_in_the_clear() -> None:
    throttle.hit("login.account", "Alex.Rivers@example.org", limit=3, window_seconds=900)
    throttle.hit("login.ip", "203.0.113.9", limit=3, window_seconds=900)
    stored = " ".join(f"{row.scope} {row.key}" for row in ThrottleCounter.objects.all()).lower()
    assert "alex" not in stored and "example.org" not in stored and "203.0.113" not in stored
    # Letter case does not make a new key.
    assert throttle.count("login.account", "alex.rivers@EXAMPLE.org", window_seconds=900) == 1


@pytest.mark.django_db(transaction=True)
def test_two_connections_count_into_one_limit(shared_database: None) -> None:
    """Each thread has its own database connection, as separate processes would."""
    limit, attempts_per_thread, threads = 5, 6, 4
    allowed: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def attempt() -> None:
        try:
            start.wait()
            for _ in range(attempts_per_thread):
                result = throttle.hit("search", "user:1", limit=limit, window_seconds=60, now=NOW)
                with lock:
                    allowed.append(result)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors, errors
    assert len(allowed) == threads * attempts_per_thread
    assert allowed.count(True) == limit
    # This connection, which made no attempt, sees the same count.
    assert throttle.count("search", "user:1", window_seconds=60, now=NOW) == 24
    assert connection.vendor in {"sqlite", "postgresql"}


@pytest.mark.django_db(transaction=True)
def test_a_limit_reached_on_one_connection_holds_on_another(shared_database: None) -> None:
    for _ in range(3):
        throttle.hit("export", "user:2", limit=3, window_seconds=60, now=NOW)
    seen: list[bool] = []

    def other_connection() -> None:
        try:
            seen.append(throttle.hit("export", "user:2", limit=3, window_seconds=60, now=NOW))
        finally:
            connection.close()

    worker = threading.Thread(target=other_connection)
    worker.start()
    worker.join()
    assert seen == [False]


@pytest.mark.django_db
def test_refuse_is_a_calm_audited_429_with_retry_after(world: World) -> None:
    request = RequestFactory().get("/anything/")
    request.user = world.clinician
    request.session = {}  # type: ignore[assignment]
    response = throttle.refuse(request, "search", retry_after=90)
    assert response.status_code == 429
    assert response["Retry-After"] == "90"
    assert "Too many tries. Please wait 2 minutes and try again." in response.content.decode()
    event = AuditEvent.objects.get(action="throttle.refused")
    assert event.detail == {"scope": "search"}
    assert event.outcome == "denied"


@pytest.mark.django_db
def test_the_decorator_counts_per_user_and_refuses_over_the_limit(world: World) -> None:
    @throttle.rate_limited("demo.view", limit=2, window_seconds=60)
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    factory = RequestFactory()

    def call(user: object) -> HttpResponse:
        request = factory.get("/")
        request.user = user  # type: ignore[assignment]
        request.session = {}  # type: ignore[assignment]
        return view(request)

    assert [call(world.clinician).status_code for _ in range(3)] == [200, 200, 429]
    # The stranger has a limit of their own, and is refused once it is used up too.
    assert [call(world.stranger).status_code for _ in range(3)] == [200, 200, 429]


def test_a_stranger_gains_nothing_from_the_throttle(world: World) -> None:
    """Throttling never opens a door: a stranger to this practice still cannot see its client."""
    response = signed_in(world.stranger).get(f"/clients/{world.client_a.pk}/")
    assert response.status_code in {403, 404}


@pytest.mark.django_db
def test_the_worker_prunes_ended_windows_every_hour(world: World) -> None:
    from django.utils import timezone

    from kithkin.jobs import services as jobs
    from kithkin.jobs.models import Job, JobState
    from kithkin.security.jobs import PRUNE_JOB

    now = timezone.now()
    throttle.hit(
        "login", world.stranger.email, limit=5, window_seconds=60, now=now - timedelta(hours=2)
    )
    throttle.hit("otp", "user:7", limit=5, window_seconds=900, now=now)
    # The worker's hourly check queues one clean-up for the next hour, however often it looks.
    assert jobs.keep_recurring_scheduled(now) == []
    assert jobs.keep_recurring_scheduled(now) == []
    [queued] = Job.objects.filter(kind=PRUNE_JOB)
    assert queued.run_after > now and queued.run_after.minute == 0
    # Nothing runs before its hour.
    assert jobs.run_due("test-worker", now=now) == 0
    assert ThrottleCounter.objects.count() == 2

    assert jobs.run_due("test-worker", now=queued.run_after + timedelta(minutes=1)) == 1
    # The ended window is gone (a stranger's failed sign-ins leave nothing behind), the live
    # one stays, and the next hour's clean-up is queued after this one's slot.
    assert ThrottleCounter.objects.count() == 1
    assert throttle.count("otp", "user:7", window_seconds=900, now=now) == 1
    queued.refresh_from_db()
    assert queued.state == JobState.DONE
    [following] = Job.objects.filter(kind=PRUNE_JOB, state=JobState.QUEUED)
    assert following.run_after == queued.run_after + timedelta(hours=1)
    assert world.stranger.email not in str(following.payload)
