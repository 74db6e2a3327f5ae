"""Beyond one machine (docs/deploy.md): two app servers (``kithkin serve``) and two job workers
(``kithkin worker``), each with a data directory of its own as if on its own machine, against one
PostgreSQL. Clients write through both servers at once while a few hundred jobs are queued:
every write that was answered as done is in the database, every job ran exactly once, both
workers took a share, the audit chain holds, a session made on one server holds on the other,
and a client of another practice is refused on both."""

# ruff: noqa: S603 (subprocesses of this interpreter, with list arguments)
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from kithkin.ops import postgres
from tests.ops.fleet_process import KIND
from tests.ops.test_it_backs_up_and_restores import (  # noqa: F401 (a fixture)
    ON_POSTGRES,
    ROOT,
    clean_env,
    kithkin,
    scratch_databases,
)
from tests.test_it_runs_the_cli import free_port, wait_for

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="DATABASE_URL is not PostgreSQL")

JOBS = 300
WRITERS = 4  # client sessions posting at once, each alternating between the two servers
WRITES_EACH = 30
# The first contact's time; each write gets its own second after it, so each is findable.
FIRST = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 302 is the answer to look at, not a page to fetch


@dataclass
class Browser:
    """One person's cookies, usable against any of the servers."""

    jar: CookieJar = field(default_factory=CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirects()
        )

    def request(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location, body) for a GET, or a POST of ``form``."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(url, data=data, timeout=60) as response:
                return int(response.status), "", response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location", ""), answer.read().decode()

    def token(self, url: str) -> str:
        status, _, body = self.request(url)
        assert status == 200, f"GET {url} answered {status}"
        found = CSRF_FIELD.search(body)
        assert found, f"no CSRF token on {url}"
        return found.group(1)

    def post(self, url: str, form: dict[str, str]) -> tuple[int, str]:
        status, location, _ = self.request(url, {**form, "csrfmiddlewaretoken": self.token(url)})
        return status, location

    def sign_in(self, server: str, email: str, password: str) -> None:
        status, location = self.post(
            f"{server}/accounts/login/", {"username": email, "password": password}
        )
        assert (status, location) == (302, "/"), f"signing in answered {status} {location}"


@dataclass
class Fleet:
    url: str  # the one PostgreSQL database every machine uses
    env: Callable[[Path], dict[str, str]]  # the environment of a machine, given its data dir
    cast: dict[str, str]
    servers: list[str]
    workers: list[subprocess.Popen[str]]

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with postgres.Database.from_url(self.url).connect() as connection:
            return list(connection.execute(sql, params).fetchall())


def start(command: list[str], env: dict[str, str], started: list[subprocess.Popen[str]]) -> None:
    # Output to a file in the machine's data directory: a pipe nobody reads could fill and
    # stall a long-running process.
    with (Path(env["KITHKIN_DATA_DIR"]) / "output.log").open("a", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, *command], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
    started.append(process)


@pytest.fixture
def fleet(tmp_path: Path, scratch_databases: Callable[[], str]) -> Iterator[Fleet]:  # noqa: F811
    url = scratch_databases()

    def env(data: Path) -> dict[str, str]:
        data.mkdir(exist_ok=True)
        # What every machine shares (docs/deploy.md); plain HTTP here, so no redirect to HTTPS
        # and cookies that are not HTTPS-only.
        return clean_env(
            KITHKIN_ENV="production", KITHKIN_DATA_DIR=str(data), DATABASE_URL=url,
            KITHKIN_SECRET_KEY="fleet-test-secret-" + "k" * 40,
            KITHKIN_FIELD_KEYS="dGVzdC1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDAwMDA=",
            KITHKIN_BACKUP_KEY="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            KITHKIN_ALLOWED_HOSTS="127.0.0.1", KITHKIN_SITE_URL="http://127.0.0.1",
            KITHKIN_SSL_REDIRECT="false", KITHKIN_SECURE_COOKIES="false",
        )  # fmt: skip

    # Once per release, from one machine: the tables, then (for this test) the cast.
    admin = env(tmp_path / "release")
    migrated = kithkin(admin, "migrate", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    made = subprocess.run(
        [sys.executable, "-m", "tests.ops.fleet_process", "setup"], env=admin, cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    cast = json.loads(made.stdout)

    started: list[subprocess.Popen[str]] = []
    servers: list[str] = []
    try:
        for n in range(2):
            machine = env(tmp_path / f"app-{n}")
            collected = kithkin(machine, "manage", "collectstatic", "--noinput", "-v", "0")
            assert collected.returncode == 0, collected.stderr
            port = free_port()
            start(["-m", "kithkin.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers",
                   "2", "--threads", "4"], machine, started)  # fmt: skip
            servers.append(f"http://127.0.0.1:{port}")
        workers: list[subprocess.Popen[str]] = []
        for n in range(2):
            start(["-m", "tests.ops.fleet_process", "work", "--interval", "0.2", "--limit", "5"],
                  env(tmp_path / f"worker-{n}"), workers)  # fmt: skip
        started.extend(workers)
        for server in servers:
            status, body = wait_for(f"{server}/healthz")
            assert status == 200, body
            status, body = wait_for(f"{server}/readyz")  # migrated, static files in place
            assert status == 200, body
        yield Fleet(url, env, cast, servers, workers)
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def contact_form(cast: dict[str, str], n: int) -> dict[str, str]:
    return {
        "person": cast["person"],
        "occurred_at": (FIRST + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S"),
        "channel": "in_person",
        "felt_seen": "on",
    }


def wait_until_jobs_done(fleet: Fleet) -> None:
    deadline = time.monotonic() + 60
    waiting = "SELECT count(*) FROM jobs_job WHERE kind = %s AND state <> 'done'"
    while fleet.rows(waiting, KIND) != [(0,)]:
        assert time.monotonic() < deadline, f"jobs still waiting: {fleet.rows(waiting, KIND)}"
        for worker in fleet.workers:
            assert worker.poll() is None, f"worker {worker.pid} stopped (see its output.log)"
        time.sleep(0.2)  # polling; nothing is timed


def check_a_stranger_is_refused_on_every_server(fleet: Fleet) -> None:
    cast = fleet.cast
    client_log = f"/clients/{cast['client']}/network/contacts/log/"
    # The stranger's session carries from one server to the other, and so does the refusal.
    stranger = Browser()
    stranger.sign_in(fleet.servers[0], cast["stranger_email"], cast["password"])
    for server in fleet.servers:
        token = stranger.token(f"{server}/")  # the stranger's own (sign-out form), so CSRF passes
        status, _, _ = stranger.request(f"{server}{client_log}")
        assert status == 404
        status, _, _ = stranger.request(
            f"{server}{client_log}", {**contact_form(cast, 0), "csrfmiddlewaretoken": token}
        )
        assert status == 404
    assert fleet.rows("SELECT count(*) FROM network_contact") == [(0,)]  # before the writers
    # A signed-out visitor is sent to sign in, on either server.
    for server in fleet.servers:
        status, location, _ = Browser().request(f"{server}{client_log}")
        assert status == 302
        assert location.startswith("/accounts/login/")


def test_it_loses_no_write_and_runs_every_job_exactly_once(tmp_path: Path, fleet: Fleet) -> None:
    cast, servers = fleet.cast, fleet.servers
    client_log = f"/clients/{cast['client']}/network/contacts/log/"
    check_a_stranger_is_refused_on_every_server(fleet)

    # Each writer signs in on one server and writes through both: the session is in the
    # database, not in one server's memory.
    browsers = [Browser() for _ in range(WRITERS)]
    for index, browser in enumerate(browsers):
        browser.sign_in(servers[index % 2], cast["client_email"], cast["password"])

    def write(index: int) -> list[int]:
        acknowledged = []
        for step in range(WRITES_EACH):
            n = index * WRITES_EACH + step
            server = servers[(index + step) % 2]
            status, location = browsers[index].post(f"{server}{client_log}", contact_form(cast, n))
            if (status, location) == (302, f"/clients/{cast['client']}/network/"):
                acknowledged.append(n)
        return acknowledged

    with ThreadPoolExecutor(max_workers=WRITERS + 1) as pool:
        writing = [pool.submit(write, index) for index in range(WRITERS)]
        enqueued = pool.submit(
            subprocess.run,
            [sys.executable, "-m", "tests.ops.fleet_process", "enqueue", str(JOBS)],
            env=fleet.env(tmp_path / "release"), cwd=ROOT, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        acknowledged = sorted(n for future in writing for n in future.result())
        assert enqueued.result().returncode == 0, enqueued.result().stderr

    # No write lost: every acknowledged contact is there, once, and nothing else is.
    assert acknowledged == list(range(WRITERS * WRITES_EACH)), "some writes were refused"
    stored = fleet.rows(
        "SELECT occurred_at FROM network_contact WHERE client_id = %s ORDER BY occurred_at",
        cast["client"],
    )
    assert [FIRST + timedelta(seconds=n) for n in acknowledged] == [at for (at,) in stored]
    # Both servers appended to the one audit chain at once, and it still holds link by link.
    verified = kithkin(fleet.env(tmp_path / "release"), "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # Every job ran exactly once, each by one of the two workers, and both took a share.
    wait_until_jobs_done(fleet)
    runs = fleet.rows("SELECT n, pid FROM fleet_runs")
    assert Counter(n for n, _ in runs) == Counter(range(JOBS))
    by_worker = Counter(pid for _, pid in runs)
    assert set(by_worker) == {worker.pid for worker in fleet.workers}, by_worker
    assert fleet.rows(
        "SELECT state, attempts, count(*) FROM jobs_job WHERE kind = %s GROUP BY state, attempts",
        KIND,
    ) == [("done", 1, JOBS)]
