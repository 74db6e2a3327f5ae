"""Serving: ``/readyz`` says whether this instance may take traffic (database answers, every
migration applied, static files collected), naming only the failing checks; and a real
``kithkin serve`` in production mode answers through gunicorn workers, with WhiteNoise serving
hashed, compressed static files with a long cache lifetime."""

# ruff: noqa: S603 (subprocesses of this interpreter, with list arguments)
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.test import Client as HttpClient

from kithkin.core import views as core_views
from tests.conftest import World, signed_in
from tests.jobs.test_it_runs_the_worker import children_of
from tests.ops.test_it_backs_up_and_restores import (
    ON_POSTGRES,
    clean_env,
    kithkin,
    scratch_databases,  # noqa: F401 (a fixture, asked for by name in the PostgreSQL pass)
)
from tests.test_it_runs_the_cli import free_port

# --- /readyz, in this process --------------------------------------------------------------


@pytest.mark.django_db
def test_it_is_ready_to_anyone_when_everything_is_in_place() -> None:
    response = HttpClient().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_is_not_ready_while_a_migration_is_unapplied(monkeypatch: pytest.MonkeyPatch) -> None:
    real_plan = MigrationExecutor.migration_plan

    def one_left(self: MigrationExecutor, targets: Any, clean_start: bool = False) -> Any:
        real_plan(self, targets, clean_start)
        return [("a migration", False)]

    monkeypatch.setattr(MigrationExecutor, "migration_plan", one_left)
    response = HttpClient().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "failing": ["migrations"]}


@pytest.mark.django_db
def test_it_names_only_the_database_when_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def down() -> bool:
        raise AssertionError("the other checks must not run")

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("connection refused to 10.0.0.7")

    monkeypatch.setattr(core_views, "_migrations_applied", down)
    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", unreachable)
    response = HttpClient().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "failing": ["database"]}
    assert b"10.0.0.7" not in response.content  # no internals to the caller


@pytest.mark.django_db
def test_it_refuses_anything_but_get_even_to_a_signed_in_stranger(world: World) -> None:
    assert signed_in(world.stranger).post("/readyz").status_code == 405
    assert HttpClient().post("/readyz").status_code == 405


@pytest.mark.django_db
def test_it_answers_a_staff_session_still_waiting_for_its_second_step(world: World) -> None:
    halfway = HttpClient()
    halfway.force_login(world.clinician)  # password only: every other page sends to the code
    assert halfway.get("/").status_code == 302
    assert halfway.get("/readyz").json() == {"status": "ready"}


# --- a real production server ----------------------------------------------------------------


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (localhost)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status), dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_until_up(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            fetch(url)
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                output, _ = server.communicate()
                pytest.fail(f"the server never answered:\n{output.decode(errors='replace')}")
            time.sleep(0.2)


@pytest.fixture
def production(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """A migrated production deployment (in the PostgreSQL pass, on a scratch PostgreSQL
    database of its own), with plain HTTP allowed for the test."""
    database = (
        {"DATABASE_URL": request.getfixturevalue("scratch_databases")()} if ON_POSTGRES else {}
    )
    env = clean_env(
        **database,
        KITHKIN_ENV="production",
        KITHKIN_DATA_DIR=str(tmp_path / "data"),
        KITHKIN_SECRET_KEY="s3cret-" + os.urandom(24).hex(),
        KITHKIN_FIELD_KEYS=Fernet.generate_key().decode(),
        KITHKIN_ALLOWED_HOSTS="127.0.0.1",
        KITHKIN_SSL_REDIRECT="false",
    )
    migrated = kithkin(env, "migrate", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    return env


@pytest.fixture
def serve(production: dict[str, str]) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(workers: int) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "kithkin.cli", "serve", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", "2"],
            env=production, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(server)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(server, f"{base}/healthz")
        return base, server

    yield start
    for server in started:
        if server.poll() is None:
            server.terminate()
            server.communicate(timeout=30)


def test_it_is_not_ready_in_production_until_static_files_are_collected(
    serve: Any, production: dict[str, str]
) -> None:
    base, _ = serve(1)
    status, _, body = fetch(f"{base}/healthz")
    assert status == 200  # alive ...
    status, _, body = fetch(f"{base}/readyz")
    assert status == 503  # ... but not ready: there is no static manifest yet
    assert json.loads(body) == {"status": "not ready", "failing": ["static"]}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table")
def test_it_serves_production_with_workers_and_hashed_compressed_static_files(
    serve: Any, production: dict[str, str]
) -> None:
    collected = kithkin(production, "manage", "collectstatic", "--noinput", "-v", "0")
    assert collected.returncode == 0, collected.stderr
    base, server = serve(2)

    assert len(children_of(server.pid)) == 2  # two gunicorn worker processes
    status, _, body = fetch(f"{base}/healthz")
    assert (status, json.loads(body)["status"]) == (200, "ok")
    status, headers, body = fetch(f"{base}/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})
    assert "no-store" in headers["Cache-Control"]

    # The login page, from a worker, links the stylesheet by its hashed name.
    status, headers, page = fetch(f"{base}/accounts/login/")
    assert status == 200
    hashed = re.search(rb'/static/(kithkin/kithkin\.[0-9a-f]{12}\.css)"', page)
    assert hashed, "the login page does not link a hashed stylesheet"
    stylesheet = f"{base}/static/{hashed.group(1).decode()}"

    status, headers, body = fetch(stylesheet, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", headers["Cache-Control"]).group(1)) >= 31536000  # type: ignore[union-attr]
    status, headers, brotli = fetch(stylesheet, **{"Accept-Encoding": "br, gzip"})
    assert (status, headers["Content-Encoding"]) == (200, "br")
    status, headers, plain = fetch(stylesheet)
    assert status == 200 and "Content-Encoding" not in headers
    assert len(brotli) < len(plain) and len(body) < len(plain)

    # An unhashed name is still found (old links), but not cached for ever.
    status, headers, _ = fetch(f"{base}/static/kithkin/kithkin.css")
    assert status == 200
    assert "immutable" not in headers.get("Cache-Control", "")
