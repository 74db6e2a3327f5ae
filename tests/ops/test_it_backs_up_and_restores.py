"""``kithkin backup`` / ``kithkin restore``: a consistent backup taken while a writer runs,
encrypted and verified, restored only into an empty place; a wrong key (another installation's),
a changed byte or a cut-short file is refused, with nothing left behind."""

# ruff: noqa: S603 (subprocesses of this interpreter, with list arguments)
from __future__ import annotations

import base64
import functools
import hashlib
import os
import sqlite3
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from kithkin.cli import main
from kithkin.ops import backup as backup_module
from kithkin.ops import postgres
from kithkin.ops.backup import (
    backup_postgres,
    backup_sqlite,
    restore_postgres,
    restore_sqlite,
    verify,
)
from kithkin.ops.commands import backup_command, restore_command
from kithkin.ops.encryption import (
    CANNOT_DECRYPT,
    BackupDamaged,
    BackupError,
    BackupWriter,
    configured_key,
    derive_from_field_key,
)

ROOT = Path(__file__).resolve().parents[2]
KEY = bytes(range(32))
STRANGERS_KEY = bytes(range(1, 33))
# Stands in for client free text: it must never appear in a backup file or in any output.
PRIVATE = "Alex said the flood took everything"
HEADER_SIZE = 29
ON_POSTGRES = (os.environ.get("DATABASE_URL") or "").startswith(("postgres://", "postgresql://"))
small_chunks = functools.partial(BackupWriter, chunk_size=4096)


def encoded(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


# --- a small live database, in this process ------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Path:
    data = tmp_path / "live"
    data.mkdir()
    path = data / "kithkin.sqlite3"
    with closing(sqlite3.connect(path)) as database:
        database.execute("PRAGMA journal_mode=WAL")
        database.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        database.executemany(
            "INSERT INTO notes (body) VALUES (?)", [(f"{PRIVATE} {n}",) for n in range(2000)]
        )
        database.execute(
            "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT)"
        )
        database.executemany(
            "INSERT INTO django_migrations (app, name) VALUES (?, ?)",
            [("jobs", "0001_initial"), ("jobs", "0002_lease"), ("audit", "0001_initial")],
        )
        database.commit()
    return path


@pytest.fixture
def made(live: Path, tmp_path: Path) -> Path:
    written = backup_sqlite(live, tmp_path / "made.backup", KEY, writer=small_chunks)
    return written.path


def record_offsets(data: bytes) -> list[int]:
    """Where each record starts (after the header), from the framing."""
    offsets, at = [], HEADER_SIZE
    while at < len(data):
        offsets.append(at)
        at += 5 + struct.unpack(">I", data[at + 1 : at + 5])[0]
    return offsets


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as database:
        return database.execute(sql).fetchall()


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_it_restores_what_it_backed_up_and_keeps_the_text_encrypted(
    live: Path, tmp_path: Path
) -> None:
    written = backup_sqlite(live, tmp_path / "b.backup", KEY, writer=small_chunks)

    raw = written.path.read_bytes()
    assert PRIVATE.encode() not in raw
    assert b"notes" not in raw  # even the manifest is encrypted
    assert written.path.stat().st_mode & 0o777 == 0o600
    manifest = written.manifest
    assert manifest["vendor"] == "sqlite"
    assert manifest["format"] == 1
    assert manifest["tables"] == {"django_migrations": 3, "notes": 2000}
    assert manifest["migrations"] == {"jobs": "0002_lease", "audit": "0001_initial"}
    assert datetime.fromisoformat(manifest["created_at"]).utcoffset() == UTC.utcoffset(None)
    assert len(record_offsets(raw)) > 3  # manifest, several payload chunks, trailer
    assert leftovers(live.parent) == ["kithkin.sqlite3"]  # no snapshot or copy left behind

    data_dir = tmp_path / "fresh" / "data"
    restored = restore_sqlite(written.path, data_dir, KEY)
    assert restored == manifest
    target = data_dir / "kithkin.sqlite3"
    assert leftovers(data_dir) == ["kithkin.sqlite3"]
    assert hashlib.sha256(target.read_bytes()).hexdigest() == manifest["payload_sha256"]
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    assert rows(target, "SELECT count(*), min(body) FROM notes") == [(2000, f"{PRIVATE} 0")]
    assert rows(target, "PRAGMA journal_mode") == [("delete",)]  # a self-contained file


def test_its_commands_print_tables_and_counts_only(
    made: Path, tmp_path: Path, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.BACKUP_KEY = encoded(KEY)
    settings.DATA_DIR = tmp_path
    assert backup_command(None, str(made)) == 0
    assert restore_command(str(made), str(tmp_path / "fresh"), None) == 0
    out, err = capsys.readouterr()
    assert f"{made} is a good backup." in out
    assert "SQLite database, made " in out
    assert "2 tables, 2003 rows." in out
    assert "  notes              2000" in out
    assert f"Restored into {tmp_path / 'fresh' / 'kithkin.sqlite3'}" in out
    assert PRIVATE not in out + err


# --- refusals --------------------------------------------------------------------------------


def test_it_refuses_a_backup_made_with_another_installations_key(
    made: Path, tmp_path: Path
) -> None:
    with pytest.raises(BackupDamaged, match=CANNOT_DECRYPT):
        restore_sqlite(made, tmp_path / "fresh", STRANGERS_KEY)
    assert not (tmp_path / "fresh").exists()
    # Two installations' derived keys differ too, and neither opens the other's backups.
    assert derive_from_field_key("one field key") != derive_from_field_key("another")
    with pytest.raises(BackupDamaged):
        verify(made, derive_from_field_key("one field key"), work_dir=tmp_path)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize(
    "where",
    ["salt", "chunk size", "final flag", "length", "manifest", "payload", "trailer tag"],
)
def test_it_refuses_a_backup_with_a_changed_byte(made: Path, tmp_path: Path, where: str) -> None:
    data = made.read_bytes()
    records = record_offsets(data)
    at = {
        "salt": 12,
        "chunk size": 27,
        "final flag": records[2],
        "length": records[2] + 4,
        "manifest": records[0] + 10,
        "payload": (records[2] + records[3]) // 2,
        "trailer tag": len(data) - 1,
    }[where]
    made.write_bytes(_flip(data, at))
    with pytest.raises(BackupDamaged, match=CANNOT_DECRYPT):
        restore_sqlite(made, tmp_path / "fresh", KEY)
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize(
    "change", ["cut before the trailer", "cut mid-record", "cut after the header", "two swapped"]
)
def test_it_refuses_a_backup_cut_short_or_reordered(
    made: Path, tmp_path: Path, change: str
) -> None:
    data = made.read_bytes()
    records = record_offsets(data)
    changed = {
        "cut before the trailer": data[: records[-1]],
        "cut mid-record": data[: records[3] - 7],
        "cut after the header": data[:HEADER_SIZE],
        # Two full payload chunks of the same size, each with a valid tag, in the wrong order.
        "two swapped": data[: records[1]]
        + data[records[2] : records[3]]
        + data[records[1] : records[2]]
        + data[records[3] :],
    }[change]
    assert records[2] - records[1] == records[3] - records[2]
    made.write_bytes(changed)
    fresh = tmp_path / "fresh"
    fresh.mkdir()  # an existing empty directory stays, and stays empty
    with pytest.raises(BackupDamaged, match=CANNOT_DECRYPT):
        restore_sqlite(made, fresh, KEY)
    assert leftovers(fresh) == []


def test_it_refuses_anything_added_after_the_end(made: Path, tmp_path: Path) -> None:
    made.write_bytes(made.read_bytes() + b"\0")
    with pytest.raises(BackupDamaged):
        verify(made, KEY, work_dir=tmp_path)


def test_it_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text(PRIVATE)
    with pytest.raises(BackupError, match="not a Kithkin backup"):
        restore_sqlite(other, tmp_path / "fresh", KEY)


@pytest.mark.parametrize("existing", ["kithkin.sqlite3", "kithkin.sqlite3-wal"])
def test_it_refuses_to_restore_over_a_database(made: Path, tmp_path: Path, existing: str) -> None:
    data_dir = tmp_path / "in-use"
    data_dir.mkdir()
    (data_dir / existing).write_bytes(b"their data")
    with pytest.raises(BackupError, match=f"already holds a database \\({existing}\\)"):
        restore_sqlite(made, data_dir, KEY)
    assert leftovers(data_dir) == [existing]
    assert (data_dir / existing).read_bytes() == b"their data"


def test_it_never_overwrites_a_backup(live: Path, made: Path) -> None:
    before = made.read_bytes()
    with pytest.raises(BackupError, match="already exists; choose another name"):
        backup_sqlite(live, made, KEY)
    assert made.read_bytes() == before


class _BadDisk(BackupWriter):
    """Writes one byte of the second record wrong, as a failing disk might."""

    def _record(self, plaintext: bytes, *, final: bool) -> None:
        if self._index == 1:
            stream, self._stream = self._stream, cast("IO[bytes]", _Flipping(self._stream))
            super()._record(plaintext, final=final)
            self._stream = stream
        else:
            super()._record(plaintext, final=final)


@dataclass
class _Flipping:
    stream: Any

    def write(self, data: bytes) -> int:
        return int(self.stream.write(_flip(data, len(data) // 2)))


class _BrokenSnapshot(BackupWriter):
    """Encrypts faithfully a database whose second page is blank: tags and checksum pass."""

    def write(self, data: bytes) -> None:
        super().write(data[:4096] + bytes(4096) + data[8192:] if self._size == 0 else data)


@pytest.mark.parametrize(
    ("writer", "problem"),
    [(_BadDisk, CANNOT_DECRYPT), (_BrokenSnapshot, "The database in the backup")],
)
def test_a_backup_that_fails_verification_is_deleted(
    live: Path, tmp_path: Path, writer: Callable[..., BackupWriter], problem: str
) -> None:
    output = tmp_path / "out" / "b.backup"
    output.parent.mkdir()
    with pytest.raises(BackupError, match="did not verify after writing, so it was deleted") as e:
        backup_sqlite(live, output, KEY, writer=writer)
    assert problem in str(e.value)
    assert leftovers(output.parent) == []
    assert leftovers(live.parent) == ["kithkin.sqlite3"]


# --- the key ---------------------------------------------------------------------------------


def test_it_refuses_to_run_in_production_without_a_backup_key(
    made: Path, tmp_path: Path, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.PRODUCTION = True
    settings.BACKUP_KEY = None
    with pytest.raises(ImproperlyConfigured, match=r"KITHKIN_BACKUP_KEY .* must be set"):
        configured_key()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert main(["backup", "--output", str(out_dir)]) == 2
    assert main(["restore", str(made), "--data-dir", str(tmp_path / "fresh")]) == 2
    err = capsys.readouterr().err
    assert err.count("Kithkin cannot start: KITHKIN_BACKUP_KEY (or KITHKIN_BACKUP_KEY_FILE)") == 2
    assert leftovers(out_dir) == []
    assert not (tmp_path / "fresh").exists()


def test_it_reads_the_configured_key_and_refuses_a_malformed_one(
    settings: Any,
) -> None:
    settings.PRODUCTION = True
    settings.BACKUP_KEY = encoded(KEY)
    assert configured_key() == KEY
    settings.BACKUP_KEY = base64.b64encode(KEY).decode()  # the standard alphabet works too
    assert configured_key() == KEY
    settings.BACKUP_KEY = "too-short-secret"
    with pytest.raises(ImproperlyConfigured, match="must be 32 random bytes") as refused:
        configured_key()
    assert "too-short-secret" not in str(refused.value)


def test_outside_production_it_derives_a_key_from_the_field_key(settings: Any) -> None:
    settings.BACKUP_KEY = None
    assert not django_settings.PRODUCTION
    assert configured_key() == derive_from_field_key(django_settings.FIELD_ENCRYPTION_KEYS[0])


# --- real processes: a backup taken while a writer runs ------------------------------------


def clean_env(**values: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KITHKIN_", "PG"))
        and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(values)
    return env


def kithkin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kithkin.cli", *args], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip


@dataclass
class Writer:
    process: subprocess.Popen[str]
    folder: Path

    def acked(self) -> list[int]:
        path = self.folder / "acked"
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        return [int(line) for line in text.splitlines()]  # a half-written last line has no \n

    def wait_for_acks(self, at_least: int) -> None:
        deadline = time.monotonic() + 120
        while len(self.acked()) < at_least:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                output, _ = self.process.communicate()
                pytest.fail(
                    f"the writer stopped or stalled at {len(self.acked())} writes:\n{output}"
                )
            time.sleep(0.05)

    def stop(self) -> str:
        (self.folder / "stop").touch()
        output, _ = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, output
        return output


@pytest.fixture
def start_writer(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Writer]]:
    started: list[Writer] = []

    def start(env: dict[str, str]) -> Writer:
        folder = tmp_path / f"writer-{len(started)}"
        folder.mkdir()
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.ops.writer_process", str(folder)], env=env, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        started.append(Writer(process, folder))
        return started[-1]

    yield start
    for writer in started:
        (writer.folder / "stop").touch()
        if writer.process.poll() is None:
            writer.process.kill()
            writer.process.communicate()


def pairs(keys: list[str]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for key in keys:
        _, half, number = key.split("-")
        found.setdefault(int(number), set()).add(half)
    return found


def check_round_trip(acked_before: list[int], restored: list[str], live: list[str]) -> None:
    restored_pairs = pairs(restored)
    assert acked_before, "the writer had acknowledged nothing before the backup"
    # Every write acknowledged before the backup began is in it ...
    assert set(acked_before) <= set(restored_pairs)
    # ... nothing is half there (each write is two rows in one transaction) ...
    assert all(halves == {"a", "b"} for halves in restored_pairs.values())
    # ... and the writer went on writing after the snapshot, which it never noticed.
    assert set(restored_pairs) < set(pairs(live))


@pytest.mark.skipif(ON_POSTGRES, reason="this run is on PostgreSQL; the SQLite run covers this")
def test_it_round_trips_a_backup_taken_while_a_writer_runs_on_sqlite(
    tmp_path: Path, start_writer: Callable[[dict[str, str]], Writer]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    key_file = tmp_path / "backup.key"
    key_file.write_text(encoded(KEY) + "\n")
    env = clean_env(
        KITHKIN_ENV="test", KITHKIN_DATA_DIR=str(data), KITHKIN_BACKUP_KEY_FILE=str(key_file)
    )
    migrated = kithkin(env, "migrate", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr

    writer = start_writer(env)
    writer.wait_for_acks(20)
    acked_before = writer.acked()
    made = kithkin(env, "backup", "--output", str(tmp_path / "nightly.backup"))
    assert made.returncode == 0, made.stderr
    writer.wait_for_acks(len(writer.acked()) + 20)  # still writing, after the backup
    writer.stop()
    assert "Backup written and verified" in made.stdout

    fresh = tmp_path / "fresh-data"
    restored = kithkin(env, "restore", str(tmp_path / "nightly.backup"), "--data-dir", str(fresh))
    assert restored.returncode == 0, restored.stderr
    assert "integrity and row counts checked" in restored.stdout
    assert "  jobs_job " in restored.stdout
    database = fresh / "kithkin.sqlite3"
    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    keys = "SELECT key FROM jobs_job WHERE kind = 'tests.ops.write'"
    check_round_trip(
        acked_before,
        [key for (key,) in rows(database, keys)],
        [key for (key,) in rows(data / "kithkin.sqlite3", keys)],
    )
    audit = "SELECT action, detail FROM audit_auditevent WHERE action = 'backup.create'"
    assert len(rows(data / "kithkin.sqlite3", audit)) == 1

    # Without the key (another installation: its key derives from its own field key).
    del env["KITHKIN_BACKUP_KEY_FILE"]
    stranger = kithkin(env, "restore", str(tmp_path / "nightly.backup"), "--data-dir",
                       str(tmp_path / "stranger"))  # fmt: skip
    assert stranger.returncode == 1
    assert CANNOT_DECRYPT in stranger.stderr
    assert not (tmp_path / "stranger").exists()


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def scratch_databases() -> Iterator[Callable[[], str]]:
    """Databases of this test's own, beside (never) the one the test suite uses."""
    server = postgres.Database.from_url(os.environ["DATABASE_URL"])
    admin = postgres.Database(
        "postgres", server.user, server.password, server.host, server.port, server.options
    )
    made: list[str] = []

    def make() -> str:
        name = f"kithkin_ops_{uuid.uuid4().hex[:12]}"
        with admin.connect(autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        url = os.environ["DATABASE_URL"]
        return url[: url.rindex("/") + 1] + name

    yield make
    with admin.connect(autocommit=True) as connection:
        for name in made:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_keys(url: str) -> list[str]:
    with postgres.Database.from_url(url).connect() as connection:
        found = connection.execute("SELECT key FROM jobs_job WHERE kind = 'tests.ops.write'")
        return [str(key) for (key,) in found.fetchall()]


@pytest.mark.skipif(not ON_POSTGRES, reason="DATABASE_URL is not PostgreSQL")
def test_it_round_trips_a_backup_taken_while_a_writer_runs_on_postgresql(
    tmp_path: Path,
    start_writer: Callable[[dict[str, str]], Writer],
    scratch_databases: Callable[[], str],
) -> None:
    source, target = scratch_databases(), scratch_databases()
    (tmp_path / "data").mkdir()
    env = clean_env(
        KITHKIN_ENV="test", KITHKIN_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=source,
        KITHKIN_BACKUP_KEY=encoded(KEY),
    )  # fmt: skip
    migrated = kithkin(env, "migrate", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr

    writer = start_writer(env)
    writer.wait_for_acks(20)
    acked_before = writer.acked()
    backup = tmp_path / "nightly.backup"
    made = kithkin(env, "backup", "--output", str(backup))
    assert made.returncode == 0, made.stderr
    writer.wait_for_acks(len(writer.acked()) + 20)
    writer.stop()
    assert "PostgreSQL database, made" in made.stdout

    restored = kithkin(env, "restore", str(backup), "--database-url", target)
    assert restored.returncode == 0, restored.stderr
    assert "integrity and row counts checked" in restored.stdout
    check_round_trip(acked_before, pg_keys(target), pg_keys(source))
    audit_ok = kithkin({**env, "DATABASE_URL": target}, "audit", "verify")
    assert audit_ok.returncode == 0, audit_ok.stderr

    # The target now has tables: a second restore is refused, and changes nothing.
    again = kithkin(env, "restore", str(backup), "--database-url", target)
    assert again.returncode == 1
    assert "already has tables" in again.stderr
    # A PostgreSQL backup is no SQLite data directory, and another installation cannot read it.
    wrong_kind = kithkin(env, "restore", str(backup), "--data-dir", str(tmp_path / "d"))
    assert "This is a backup of a PostgreSQL database" in wrong_kind.stderr
    stranger = kithkin({**env, "KITHKIN_BACKUP_KEY": encoded(STRANGERS_KEY)}, "restore",
                       str(backup), "--database-url", scratch_databases())  # fmt: skip
    assert stranger.returncode == 1
    assert CANNOT_DECRYPT in stranger.stderr
    assert not (tmp_path / "d").exists()


def _waiting_for_copy(
    target: postgres.Database, *, after: int
) -> Callable[[IO[bytes]], Callable[[bytes], object]]:
    """A pipe sink for pg_restore that, after ``after`` pieces, waits until pg_restore is seen
    loading rows (COPY) into ``target``, so the failure that follows strikes mid-load."""
    pipe_sink = backup_module._pipe_sink

    def make(pipe: IO[bytes]) -> Callable[[bytes], object]:
        sink, given = pipe_sink(pipe), [0]

        def watching(chunk: bytes) -> None:
            sink(chunk)
            pipe.flush()
            given[0] += 1
            if given[0] == after:
                _wait_for_copy(target)

        return watching

    return make


def _wait_for_copy(target: postgres.Database) -> None:
    deadline = time.monotonic() + 60
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY%%'"
    with target.connect(autocommit=True) as connection:
        while connection.execute(query, (target.name,)).fetchone() == (0,):
            if time.monotonic() > deadline:
                pytest.fail("pg_restore never started loading rows")
            time.sleep(0.05)


@pytest.mark.skipif(not ON_POSTGRES, reason="DATABASE_URL is not PostgreSQL")
def test_a_failed_postgresql_restore_leaves_the_database_empty(
    made: Path,
    tmp_path: Path,
    scratch_databases: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = postgres.Database.from_url(scratch_databases())
    with source.connect(autocommit=True) as connection:
        connection.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
        connection.execute(
            # Random text, so the compressed dump still spans many chunks.
            "INSERT INTO notes (body) SELECT %s || md5(random()::text) "
            "FROM generate_series(1, 20000)",
            (PRIVATE,),
        )
    written = backup_postgres(source, tmp_path / "pg.backup", KEY, writer=small_chunks)
    assert written.manifest["tables"] == {"notes": 20000}
    assert written.manifest["vendor"] == "postgresql"
    data = written.path.read_bytes()
    assert PRIVATE.encode() not in data
    target = postgres.Database.from_url(scratch_databases())

    # A SQLite backup is refused before anything reaches the database.
    with pytest.raises(BackupError, match="This is a backup of a SQLite database"):
        restore_postgres(made, target, KEY)
    # A changed byte near the end is found by the check that comes first ...
    records = record_offsets(data)
    written.path.write_bytes(_flip(data, records[-2] + 20))
    with pytest.raises(BackupDamaged):
        restore_postgres(written.path, target, KEY)
    # ... and if the file changes after that check, pg_restore is stopped before its
    # transaction commits, even once it is deep in loading rows: the database stays empty.
    monkeypatch.setattr(backup_module, "verify", lambda *args, **kwargs: written.manifest)
    monkeypatch.setattr(
        backup_module, "_pipe_sink", _waiting_for_copy(target, after=len(records) - 4)
    )
    with pytest.raises(BackupDamaged):
        restore_postgres(written.path, target, KEY)
    with target.connect() as connection:
        assert postgres.table_names(connection) == []
    # The good file restores, with the counts checked.
    written.path.write_bytes(data)
    assert restore_postgres(written.path, target, KEY) == written.manifest
    with target.connect() as connection:
        assert connection.execute("SELECT count(*) FROM notes").fetchone() == (20000,)


def test_it_lists_backup_and_restore_and_asks_for_exactly_one_target(
    made: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "write an encrypted, verified backup" in out
    assert "restore a backup into a new data directory" in out
    for arguments in ([], ["--data-dir", "d", "--database-url", "postgres://x/y"]):
        with pytest.raises(SystemExit) as exited:
            main(["restore", str(made), *arguments])
        assert exited.value.code == 2
    assert "one of the arguments --data-dir --database-url is required" in capsys.readouterr().err
