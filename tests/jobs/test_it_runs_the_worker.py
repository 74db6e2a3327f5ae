"""``kithkin worker``: runs what is due and exits with --once, finishes the job in hand on
SIGTERM, and a worker killed outright loses nothing: the next one takes its job over."""

# ruff: noqa: S603 (subprocesses of this interpreter, with list arguments)
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kithkin.cli import build_parser, main
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job, JobState
from tests.jobs.conftest import RECORD, Runs

ROOT = Path(__file__).resolve().parents[2]


# --- in this process -----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_runs_everything_due_once_and_exits(runs: Runs) -> None:
    for n in range(5):
        jobs.enqueue(RECORD, {"n": n})
    later = jobs.enqueue(RECORD, {"n": 99}, run_after=timezone.now() + timedelta(hours=1))
    out = StringIO()
    call_command("worker", once=True, limit=2, stdout=out)
    assert out.getvalue().strip() == "Ran 5 jobs."
    assert runs.counts == dict.fromkeys(range(5), 1)
    assert Job.objects.filter(state=JobState.DONE).count() == 5
    assert Job.objects.get(pk=later.pk).state == JobState.QUEUED


@pytest.mark.django_db
def test_it_runs_the_worker_from_the_kithkin_command(
    runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs.enqueue(RECORD, {"n": 1})
    assert main(["worker", "--once", "--limit", "3", "--interval", "0.5"]) == 0
    assert capsys.readouterr().out.strip() == "Ran 1 job."
    assert runs.counts == {1: 1}


def test_it_lists_the_worker_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "run background jobs" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments",
    [["--interval", "0"], ["--interval", "-1"], ["--interval", "soon"], ["--limit", "0"]],
)
def test_it_refuses_bad_worker_options(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["worker", *arguments])
    assert exited.value.code == 2
    assert "argument --" in capsys.readouterr().err


@pytest.mark.django_db
def test_its_management_command_refuses_bad_options_too() -> None:
    with pytest.raises(CommandError, match="--interval must be more than 0"):
        call_command("worker", once=True, interval=0)
    with pytest.raises(CommandError, match="--limit must be 1 or more"):
        call_command("worker", once=True, limit=0)


@pytest.mark.django_db
def test_it_prunes_done_jobs_from_the_command_line(runs: Runs) -> None:
    job = jobs.enqueue(RECORD, {"n": 1})
    jobs.run_due("worker")
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=91))
    out = StringIO()
    call_command("prune_jobs", stdout=out)
    assert out.getvalue().strip() == "Deleted 1 done jobs older than 90 days."
    assert not Job.objects.exists()


# --- real worker processes on a SQLite file ------------------------------------------------


def clean_env(**values: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KITHKIN_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(values)
    return env


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("migrated")
    result = subprocess.run(
        [sys.executable, "-m", "kithkin.cli", "migrate", "-v", "0"],
        env=clean_env(KITHKIN_ENV="test", KITHKIN_DATA_DIR=str(data)),
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return data / "kithkin.sqlite3"


@dataclass
class Deployment:
    """A data directory with a migrated database, and a folder the test handler signals in."""

    data: Path
    signals: Path

    @property
    def env(self) -> dict[str, str]:
        return clean_env(
            KITHKIN_ENV="test", KITHKIN_DATA_DIR=str(self.data), JOBS_TEST_DIR=str(self.signals)
        )

    def process(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tests.jobs.worker_process", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.process(*args), env=self.env, cwd=ROOT, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.process(*args), env=self.env, cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def rows(
        self,
        # The test's own jobs: the worker also puts the daily sweep on schedule, for later.
        sql: str = "SELECT state, attempts FROM jobs_job WHERE kind LIKE 'tests.%' ORDER BY id",
    ) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data / "kithkin.sqlite3") as database:
            rows = database.execute(sql).fetchall()
        database.close()
        return rows

    def execute(self, sql: str) -> None:
        with sqlite3.connect(self.data / "kithkin.sqlite3") as database:
            database.execute(sql)
        database.close()

    def ran(self) -> list[str]:
        path = self.signals / "ran"
        return path.read_text(encoding="utf-8").split() if path.exists() else []

    def wait_until_started(self, worker: subprocess.Popen[str], n: int = 0) -> None:
        deadline = time.monotonic() + 60
        while not (self.signals / f"started-{n}").exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                worker.kill()
                output, _ = worker.communicate()
                pytest.fail(f"the worker never started job {n}:\n{output}")
            time.sleep(0.05)


@pytest.fixture
def deployment(migrated_database: Path, tmp_path: Path) -> Iterator[Deployment]:
    data, signals = tmp_path / "data", tmp_path / "signals"
    data.mkdir()
    signals.mkdir()
    shutil.copy(migrated_database, data / "kithkin.sqlite3")
    deployment = Deployment(data, signals)
    yield deployment
    (signals / "release").touch()  # let any worker a failed test left behind finish


def test_it_finishes_the_job_in_hand_on_sigterm_and_hands_back_the_rest(
    deployment: Deployment,
) -> None:
    assert deployment.run("enqueue", "2").returncode == 0
    worker = deployment.start("work", "--limit", "2", "--interval", "0.2")
    try:
        deployment.wait_until_started(worker)
        worker.send_signal(signal.SIGTERM)
        (deployment.signals / "release").touch()
        output, _ = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 0, output
    assert deployment.ran() == ["0"]
    # The first job finished; the second, claimed with it, went back to the queue unattempted.
    assert deployment.rows() == [("done", 1), ("queued", 0)]


def test_it_takes_over_the_job_of_a_worker_killed_mid_run(deployment: Deployment) -> None:
    assert deployment.run("enqueue", "1").returncode == 0
    killed = deployment.start("work", "--interval", "0.2")
    try:
        deployment.wait_until_started(killed)
    finally:
        killed.kill()  # SIGKILL: no chance to tidy up
        killed.communicate(timeout=60)
    assert deployment.rows() == [("running", 1)]
    assert deployment.ran() == []

    # A restarted worker leaves the job alone while the dead one's lease lasts ...
    (deployment.signals / "release").touch()
    early = deployment.run("work", "--once")
    assert early.returncode == 0, early.stderr
    assert early.stdout.strip() == "Ran 0 jobs."
    assert deployment.rows() == [("running", 1)]

    # ... and takes it over once the lease has run out (moved into the past, not waited for).
    deployment.execute("UPDATE jobs_job SET locked_until = '2000-01-01 00:00:00'")
    restarted = deployment.run("work", "--once")
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.strip() == "Ran 1 job."
    assert deployment.rows() == [("done", 2)]
    assert deployment.ran() == ["0"]


# --- the demo --------------------------------------------------------------------------------


def children_of(pid: int) -> dict[int, str]:
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found[int(entry.name)] = command
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table")
def test_the_demo_runs_a_worker_beside_the_server_and_stops_it(tmp_path: Path) -> None:
    from tests.test_it_runs_the_cli import free_port, wait_for

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kithkin.cli", "demo", "--port", str(port), "--clients", "3",
         "--data-dir", str(tmp_path / "data")],
        env=clean_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    workers: list[int] = []
    try:
        status, _ = wait_for(f"http://127.0.0.1:{port}/healthz")
        assert status == 200
        workers = [pid for pid, command in children_of(server.pid).items() if " worker " in command]
        assert len(workers) == 1
        assert Path(f"/proc/{workers[0]}").exists()
    finally:
        server.terminate()
        server.communicate(timeout=60)
    # The worker is stopped with the demo (its log line may not make it to the pipe in time,
    # so the process table is the evidence).
    deadline = time.monotonic() + 10
    while Path(f"/proc/{workers[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{workers[0]}").exists()
