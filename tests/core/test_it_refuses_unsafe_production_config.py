"""Production refuses to start with a missing secret or with DEBUG on, and reads *_FILE secrets."""

# ruff: noqa: S603 (subprocesses of this interpreter, with list arguments)
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

SETUP = "import django; django.setup(); from django.conf import settings; "


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KITHKIN_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DJANGO_SETTINGS_MODULE="kithkin.settings", KITHKIN_DATA_DIR=str(tmp_path / "data"))
    env.update(values)
    return env


def production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    values = {
        "KITHKIN_ENV": "production",
        "KITHKIN_SECRET_KEY": secrets.token_urlsafe(50),
        "KITHKIN_FIELD_KEYS": Fernet.generate_key().decode(),
        "KITHKIN_ALLOWED_HOSTS": "kithkin.example.org",
    }
    values.update(overrides)
    return clean_env(tmp_path, **{k: v for k, v in values.items() if v != "<unset>"})


def python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"KITHKIN_SECRET_KEY": "<unset>"},
            "KITHKIN_SECRET_KEY (or KITHKIN_SECRET_KEY_FILE) must be set",
        ),
        (
            {"KITHKIN_FIELD_KEYS": "<unset>"},
            "KITHKIN_FIELD_KEYS (or KITHKIN_FIELD_KEYS_FILE) must be set",
        ),
        ({"KITHKIN_ALLOWED_HOSTS": "<unset>"}, "KITHKIN_ALLOWED_HOSTS must be set in production"),
        ({"KITHKIN_DEBUG": "true"}, "KITHKIN_DEBUG must be off in production"),
    ],
)
def test_it_refuses_to_start_production_without_safe_settings(
    tmp_path: Path, override: dict[str, str], message: str
) -> None:
    result = python(SETUP + "print('started')", production(tmp_path, **override), tmp_path)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert message in result.stderr


def test_it_starts_production_with_every_secret_set(tmp_path: Path) -> None:
    result = python(SETUP + "print('started', settings.DEBUG)", production(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started False"


def test_it_reads_secrets_from_files(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("from-a-file-" + "s" * 50 + "\n", encoding="utf-8")
    field_key = Fernet.generate_key().decode()
    fields_file = tmp_path / "field_keys"
    fields_file.write_text(field_key, encoding="utf-8")
    env = production(
        tmp_path,
        KITHKIN_SECRET_KEY="<unset>",
        KITHKIN_FIELD_KEYS="<unset>",
        KITHKIN_SECRET_KEY_FILE=str(key_file),
        KITHKIN_FIELD_KEYS_FILE=str(fields_file),
    )
    result = python(
        SETUP + "print(settings.SECRET_KEY); print(settings.FIELD_ENCRYPTION_KEYS[0])",
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["from-a-file-" + "s" * 50, field_key]


def test_it_refuses_a_secret_file_that_does_not_exist(tmp_path: Path) -> None:
    # The stranger here is a path nobody created: refused by name, never silently ignored.
    env = production(
        tmp_path, KITHKIN_SECRET_KEY="<unset>", KITHKIN_SECRET_KEY_FILE=str(tmp_path / "missing")
    )
    result = python(SETUP, env, tmp_path)
    assert result.returncode != 0
    assert "KITHKIN_SECRET_KEY_FILE points at" in result.stderr


def test_it_passes_check_deploy_with_production_settings(tmp_path: Path) -> None:
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    result = subprocess.run(
        [sys.executable, str(manage), "check", "--deploy", "--fail-level", "WARNING"],
        env=production(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
