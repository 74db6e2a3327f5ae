"""``kithkin backup`` and ``kithkin restore`` (docs/operations.md#backup-and-restore).

A backup is a consistent snapshot taken while Kithkin keeps running: SQLite's online backup API
(one read transaction, which in WAL mode never blocks a writer), or ``pg_dump`` in the snapshot
this process exports, so the manifest's row counts describe exactly what was dumped. It is
encrypted as it is written (:mod:`kithkin.ops.encryption`), then read back and checked before it
takes its final name; a file that fails is deleted. Restoring goes only into an empty place, and
checks everything again first. Messages name files, tables and counts, never their contents.
"""

# ruff: noqa: S603 (pg_dump and pg_restore at fixed paths, with list arguments)
from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess  # nosec B404 # pg_dump and pg_restore, fixed paths, no shell
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from kithkin.ops import postgres
from kithkin.ops.encryption import FORMAT, BackupError, BackupWriter, Sink, decrypt

SQLITE_NAME = "kithkin.sqlite3"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    manifest: Manifest


def kithkin_version() -> str:
    try:
        return metadata.version("kithkin")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def default_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"kithkin-{stamp}.backup"


def new_manifest(vendor: str, tables: dict[str, int], migrations: dict[str, str]) -> Manifest:
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "vendor": vendor,
        "kithkin_version": kithkin_version(),
        "migrations": migrations,
        "tables": tables,
    }


# --- SQLite ----------------------------------------------------------------------------------


def _open_existing(path: Path) -> sqlite3.Connection:
    """Open a database file that must already exist (a plain connect would create an empty one)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=20)


@contextlib.contextmanager
def _closing(path: Path) -> Iterator[sqlite3.Connection]:
    connection = _open_existing(path)
    try:
        yield connection
    finally:
        connection.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_row_counts(connection: sqlite3.Connection) -> dict[str, int]:
    tables = [
        str(name)
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    counts = {}
    for table in tables:
        query = f"SELECT count(*) FROM {_quote(table)}"  # noqa: S608  # nosec B608 # quoted name
        counts[table] = int(connection.execute(query).fetchone()[0])
    return counts


def sqlite_migrations(connection: sqlite3.Connection) -> dict[str, str]:
    try:
        rows = connection.execute(
            "SELECT app, name FROM django_migrations WHERE id IN "
            "(SELECT max(id) FROM django_migrations GROUP BY app)"
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    return {str(app): str(name) for app, name in rows}


def sqlite_integrity(connection: sqlite3.Connection) -> str:
    problems = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
    return "ok" if problems == ["ok"] else "; ".join(problems[:3])


def _snapshot_sqlite(database: Path, target: Path) -> None:
    """Copy the live database into ``target`` as one consistent snapshot, without stopping it.

    The copy is one step (``pages=-1``) inside one read transaction: in WAL mode readers never
    block writers, whereas a backup in several steps starts again whenever another process
    writes, so under steady writing it might never finish."""
    if not database.is_file():
        raise BackupError(f"There is no database at {database} to back up.")
    source = _open_existing(database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=-1)
        # A self-contained file: the copy carries the live database's WAL flag otherwise.
        copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not copy {database}: {error}.") from None
    finally:
        copy.close()
        source.close()


def _check_sqlite_file(path: Path, manifest: Manifest) -> dict[str, int]:
    try:
        with _closing(path) as connection:
            integrity = sqlite_integrity(connection)
            counts = sqlite_row_counts(connection) if integrity == "ok" else {}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"The database in the backup cannot be read: {error}.") from None
    if integrity != "ok":
        raise BackupError(f"The database in the backup fails SQLite's integrity check: {integrity}")
    _compare_counts(counts, manifest)
    return counts


def _compare_counts(counts: dict[str, int], manifest: Manifest) -> None:
    expected: dict[str, int] = manifest.get("tables", {})
    if counts != expected:
        differing = sorted(
            name for name in set(counts) | set(expected) if counts.get(name) != expected.get(name)
        )
        raise BackupError(
            "The row counts do not match the backup's manifest in these tables: "
            + ", ".join(differing[:10])
        )


def _temporary(directory: Path, suffix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=".kithkin-", suffix=suffix, dir=directory)
    os.close(handle)  # mkstemp made it 0600
    return Path(name)


def _remove(path: Path) -> None:
    for name in (path, *(path.with_name(path.name + side) for side in SQLITE_SIDE_FILES)):
        name.unlink(missing_ok=True)


def backup_sqlite(
    database: Path, output: Path, key: bytes, *, writer: Callable[..., BackupWriter] = BackupWriter
) -> Written:
    """Snapshot the live database, encrypt it into ``output`` (which must not exist yet), and
    verify it. The snapshot and the verification copy are temporary files beside the database
    (as private as it is), deleted after."""
    work = database.parent
    snapshot = _temporary(work, ".sqlite3")
    try:
        _snapshot_sqlite(database, snapshot)
        with _closing(snapshot) as connection:
            tables, migrations = sqlite_row_counts(connection), sqlite_migrations(connection)

        def produce(stream: IO[bytes]) -> Manifest:
            encrypting = writer(stream, key, new_manifest("sqlite", tables, migrations))
            with snapshot.open("rb") as source:
                while chunk := source.read(1024 * 1024):
                    encrypting.write(chunk)
            return encrypting.finish()

        return _publish(output, produce, lambda path: verify(path, key, work_dir=work))
    finally:
        _remove(snapshot)


def restore_sqlite(backup: Path, data_dir: Path, key: bytes) -> Manifest:
    """Restore into a data directory that holds no database yet (it is made if missing): decrypt
    into a temporary file there, check it, then give it its name in one step."""
    target = data_dir / SQLITE_NAME
    for existing in (target, *(target.with_name(SQLITE_NAME + side) for side in SQLITE_SIDE_FILES)):
        if existing.exists():
            raise BackupError(
                f"{data_dir} already holds a database ({existing.name}). Restore into a new, "
                "empty data directory; nothing was changed."
            )
    made = not data_dir.exists()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(
            f"Cannot use {data_dir} as the data directory: {error.strerror}."
        ) from None
    copy = _temporary(data_dir, ".sqlite3")
    try:
        with backup.open("rb") as stream, copy.open("wb") as plain:
            manifest = decrypt(stream, key, _expecting("sqlite", plain.write))
            plain.flush()
            os.fsync(plain.fileno())
        _check_sqlite_file(copy, manifest)
        _place(copy, target)
    except BaseException:
        _remove(copy)
        if made:
            with contextlib.suppress(OSError):
                data_dir.rmdir()  # only if still empty
        raise
    return manifest


# --- PostgreSQL --------------------------------------------------------------------------------


def _connect(database: postgres.Database, **kwargs: Any) -> Any:
    try:
        return database.connect(**kwargs)
    except Exception as error:  # psycopg's message names host and user, not data
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise BackupError(f"Cannot connect to the {database.describe()}: {first_line}") from None


def backup_postgres(
    database: postgres.Database,
    output: Path,
    key: bytes,
    *,
    writer: Callable[..., BackupWriter] = BackupWriter,
) -> Written:
    """``pg_dump --format=custom`` streamed straight into the encrypted file (no plain copy on
    disk), in a snapshot exported by this process, whose row counts go in the manifest."""

    def produce(stream: IO[bytes]) -> Manifest:
        with _connect(database, autocommit=False) as connection:
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            (snapshot,) = connection.execute("SELECT pg_export_snapshot()").fetchone()
            manifest = new_manifest(
                "postgresql",
                postgres.row_counts(connection),
                postgres.latest_migrations(connection),
            )
            encrypting = writer(stream, key, manifest)
            with tempfile.TemporaryFile() as errors:
                command = [postgres.PG_DUMP, "--format=custom", "--no-password",
                           f"--snapshot={snapshot}"]  # fmt: skip
                dump = subprocess.Popen(  # nosec B603 # fixed program, list arguments
                    command, stdout=subprocess.PIPE, stderr=errors, env=database.env()
                )
                assert dump.stdout is not None
                try:
                    with dump.stdout:
                        while chunk := dump.stdout.read(1024 * 1024):
                            encrypting.write(chunk)
                except BaseException:
                    dump.kill()  # e.g. the disk filled up: stop pg_dump too
                    dump.wait()
                    raise
                if dump.wait() != 0:
                    raise BackupError(f"pg_dump failed:\n{postgres.error_summary(errors)}")
            connection.rollback()  # the snapshot was only read
        return encrypting.finish()

    return _publish(output, produce, lambda path: verify(path, key, work_dir=output.parent))


def restore_postgres(backup: Path, database: postgres.Database, key: bytes) -> Manifest:
    """Restore into a database with no tables yet. The whole file is checked first; then it is
    decrypted again straight into ``pg_restore`` in one transaction, so a failure (or a file
    changed in between) leaves the database as empty as it was. Row counts are compared after."""
    with _connect(database, autocommit=True) as connection:
        if postgres.table_names(connection):
            raise BackupError(
                f"The {database.describe()} already has tables. Restore into a new, empty "
                "database; nothing was changed."
            )
    with tempfile.TemporaryDirectory() as work:
        verified = verify(backup, key, work_dir=Path(work), vendor="postgresql")
    command = [postgres.PG_RESTORE, "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", "--no-password", f"--dbname={database.name}"]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        restoring = subprocess.Popen(  # nosec B603 # fixed program, list arguments
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors,
            env=database.env(),
        )  # fmt: skip
        assert restoring.stdin is not None
        try:
            with backup.open("rb") as stream:
                manifest = decrypt(
                    stream, key, _expecting("postgresql", _pipe_sink(restoring.stdin))
                )
            restoring.stdin.close()
        except BaseException:
            restoring.kill()  # before its input ends, so its transaction never commits
            restoring.wait()
            raise
        if restoring.wait() != 0:
            raise BackupError(f"pg_restore failed:\n{postgres.error_summary(errors)}")
    if manifest != verified:
        raise BackupError("The backup changed while it was being restored.")
    with _connect(database, autocommit=True) as connection:
        _compare_counts(postgres.row_counts(connection), manifest)
    return manifest


# --- writing, verifying -------------------------------------------------------------------------


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _place(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target`` in one step, never replacing an existing file."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise BackupError(f"{target} appeared meanwhile; nothing was overwritten.") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        os.replace(source, target)  # a file system without hard links; checked just before
    else:
        source.unlink()
    _fsync_directory(target.parent)


def _publish(
    output: Path, produce: Callable[[IO[bytes]], Manifest], check: Callable[[Path], Manifest]
) -> Written:
    """Write the backup under a temporary name, read it back and check it, then give it its
    name. Whatever goes wrong, no file is left behind: a half-written or unverified backup would
    be mistaken for a good one."""
    if output.exists():
        raise BackupError(f"{output} already exists; choose another name. Nothing was overwritten.")
    if not output.parent.is_dir():
        raise BackupError(f"The folder {output.parent} does not exist.")
    partial = output.with_name(output.name + ".partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(
            f"{partial} exists: another backup may be running. If not, delete it and try again."
        ) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            manifest = produce(stream)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            check(partial)
        except BackupError as error:
            raise BackupError(
                f"The backup did not verify after writing, so it was deleted. {error}"
            ) from None
        _place(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return Written(output, output.stat().st_size, manifest)


def verify(path: Path, key: bytes, *, work_dir: Path, vendor: str | None = None) -> Manifest:
    """Check a backup completely: every record's tag, the payload's SHA-256 and size, and then
    for SQLite the decrypted database's integrity and row counts (in a temporary file in
    ``work_dir``, deleted after), for PostgreSQL that ``pg_restore --list`` reads the archive.
    With ``vendor``, a backup of another kind of database is refused before its payload."""
    with contextlib.ExitStack() as stack:
        finish: list[Callable[[Manifest], object]] = []

        def open_sink(manifest: Manifest) -> Sink:
            found = manifest.get("vendor")
            if vendor is not None:
                _expecting(vendor, _discard)(manifest)
            if found == "sqlite":
                copy = _temporary(work_dir, ".sqlite3")
                stack.callback(_remove, copy)
                plain = stack.enter_context(copy.open("wb"))

                def check(manifest: Manifest) -> None:
                    plain.close()
                    _check_sqlite_file(copy, manifest)

                finish.append(check)
                return plain.write
            if found == "postgresql":
                lister = stack.enter_context(_PgRestoreList())
                finish.append(lambda _: lister.finish())
                return lister.write
            raise BackupError("The backup's manifest names no database this Kithkin knows.")

        with path.open("rb") as stream:
            manifest = decrypt(stream, key, open_sink)
        for check in finish:
            check(manifest)
    return manifest


def _discard(chunk: bytes) -> None:
    del chunk


def _expecting(vendor: str, sink: Sink) -> Callable[[Manifest], Sink]:
    """Refuse, before any payload, a backup of another kind of database than ``vendor``."""

    def open_sink(manifest: Manifest) -> Sink:
        found = str(manifest.get("vendor"))
        if found != vendor:
            advice = {"sqlite": "--data-dir DIR", "postgresql": "--database-url URL"}
            raise BackupError(
                f"This is a backup of a {VENDOR_NAMES.get(found, 'different')} database"
                + (f"; restore it with {advice[found]}." if found in advice else ".")
            )
        return sink

    return open_sink


def _pipe_sink(pipe: IO[bytes]) -> Sink:
    def sink(chunk: bytes) -> None:
        try:
            pipe.write(chunk)
        except BrokenPipeError:
            raise BackupError("pg_restore stopped reading the backup.") from None

    return sink


class _PgRestoreList:
    """Feeds ``pg_restore --list``, which must read the whole archive's table of contents."""

    def __enter__(self) -> _PgRestoreList:
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(  # nosec B603 # fixed program, list arguments
            [postgres.PG_RESTORE, "--list"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.errors,
        )  # fmt: skip
        self.reading = True
        return self

    def write(self, chunk: bytes) -> None:
        assert self.process.stdin is not None
        if self.reading:
            try:
                self.process.stdin.write(chunk)
            except BrokenPipeError:
                self.reading = False  # it stopped early: its exit code says whether it failed

    def finish(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        if self.process.wait() != 0:
            raise BackupError(
                f"pg_restore cannot read the archive in it:\n{postgres.error_summary(self.errors)}"
            )

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.errors.close()
