"""The `kithkin` command: help, passthrough, and the demo served by gunicorn."""

# ruff: noqa: S603 (subprocesses of this interpreter, with list arguments)
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kithkin.cli import build_parser, main
from kithkin.demo.generator import DEMO_LOGINS, DEMO_PASSWORD

SUBCOMMANDS = [
    "demo",
    "serve",
    "worker",
    "migrate",
    "createpractice",
    "audit",
    "rotate-keys",
    "manage",
]


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KITHKIN_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(values)
    return env


def kithkin(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kithkin.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> tuple[int, bytes]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (localhost)
                return int(response.status), response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_it_lists_every_subcommand_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    output = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in output
    assert main([]) == 2
    assert main(["audit"]) == 2
    assert "verify" in capsys.readouterr().out


def test_it_refuses_an_unknown_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["steal-data"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.django_db
def test_it_passes_manage_and_migrate_through_to_django(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["manage", "help", "seed_demo"]) == 0
    assert "--clients" in capsys.readouterr().out
    assert main(["migrate", "--check", "-v", "0"]) == 0


def test_it_prepares_the_demo_once_in_its_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "demo data"
    env = clean_env(tmp_path)
    first = kithkin(
        "demo", "--no-serve", "--clients", "6", "--data-dir", str(data), env=env, cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    assert f"Every demo login uses the password:  {DEMO_PASSWORD}" in first.stdout
    for login in DEMO_LOGINS:
        assert login.email in first.stdout
    assert (data / "kithkin.sqlite3").exists()
    assert (data / "static" / "kithkin" / "kithkin.css").exists()

    again = kithkin("demo", "--no-serve", "--data-dir", str(data), env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "already loaded; nothing to do" in again.stdout
    verify = kithkin("audit", "verify", env={**env, "KITHKIN_DATA_DIR": str(data)}, cwd=tmp_path)
    assert verify.returncode == 0
    assert verify.stdout.startswith("Audit chain intact:")


def test_it_serves_the_demo_with_gunicorn(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kithkin.cli", "demo", "--port", str(port), "--clients", "3",
         "--data-dir", str(tmp_path / "data")],
        env=clean_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/healthz")
        assert status == 200
        assert json.loads(body) == {"status": "ok", "database": "sqlite"}
        status, _ = wait_for(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200
        status, _ = wait_for(f"http://127.0.0.1:{port}/static/kithkin/kithkin.css")
        assert status == 200
        # A signed-out stranger asking for the home page is sent to sign in.
        status, _ = wait_for(f"http://127.0.0.1:{port}/")
        assert status == 200  # urllib followed the redirect to the login page
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert b"Server: gunicorn" not in output  # no access log (tokens in paths would leak)
    assert b"Kithkin demo is running" in output


def test_it_serves_production_and_refuses_without_secrets(tmp_path: Path) -> None:
    env = clean_env(tmp_path, KITHKIN_ENV="production", KITHKIN_DATA_DIR=str(tmp_path / "data"))
    refused = kithkin("serve", env=env, cwd=tmp_path)
    assert refused.returncode == 2
    assert "Kithkin cannot start: KITHKIN_SECRET_KEY" in refused.stderr

    from cryptography.fernet import Fernet

    env.update(
        KITHKIN_SECRET_KEY="s3cret-" + os.urandom(24).hex(),
        KITHKIN_FIELD_KEYS=Fernet.generate_key().decode(),
        KITHKIN_ALLOWED_HOSTS="127.0.0.1",
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kithkin.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "1"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/healthz")
        assert status == 200
        assert json.loads(body)["status"] == "ok"
    finally:
        server.terminate()
        server.communicate(timeout=30)
