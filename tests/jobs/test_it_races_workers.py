"""Workers racing for the same jobs, each thread with its own database connection: every job
runs exactly once. On PostgreSQL claims skip rows another worker has locked; on SQLite they are
conditional updates under IMMEDIATE transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job, JobState
from tests.jobs.conftest import RECORD, Runs

JOBS = 200
WORKERS = 4


@pytest.fixture
def shared_database(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """PostgreSQL needs nothing. SQLite's test database lives in memory in shared-cache mode,
    whose table locks fail at once instead of waiting, so threads cannot share it the way
    processes share a real database file. For this test, copy it to a file, in WAL mode like a
    deployment's, and point the connection settings (which every thread reads) at that file."""
    if connection.vendor != "sqlite" or "mode=memory" not in str(connection.settings_dict["NAME"]):
        yield
        return
    path = tmp_path / "race.sqlite3"
    connection.ensure_connection()
    assert connection.connection is not None
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)
    target.close()
    memory, name = connection.connection, connection.settings_dict["NAME"]
    connection.connection = None  # the next query opens the file
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = memory


@pytest.mark.django_db(transaction=True)
def test_it_runs_every_job_exactly_once_with_workers_racing(
    shared_database: None, runs: Runs
) -> None:
    for n in range(JOBS):
        jobs.enqueue(RECORD, {"n": n})
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []
    ran_by: dict[str, int] = {}

    def worker(index: int) -> None:
        name = f"worker-{index}"
        ran_by[name] = 0
        try:
            start.wait()
            while ran := jobs.run_due(name, limit=5):
                ran_by[name] += ran
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    assert runs.counts == dict.fromkeys(range(JOBS), 1)
    assert sum(ran_by.values()) == JOBS
    assert Job.objects.filter(state=JobState.DONE, attempts=1).count() == JOBS
    # Each job is recorded against the worker that ran it.
    by_worker = {name: Job.objects.filter(locked_by=name).count() for name in ran_by}
    assert by_worker == ran_by
