"""What ``kithkin backup`` and ``kithkin restore`` do with the deployment's settings, and what
they print: paths, table names and counts only."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.db import connections

from kithkin.ops import postgres
from kithkin.ops.backup import (
    SQLITE_NAME,
    VENDOR_NAMES,
    Manifest,
    Written,
    backup_postgres,
    backup_sqlite,
    default_name,
    restore_postgres,
    restore_sqlite,
    verify,
)
from kithkin.ops.encryption import BackupError, configured_key


def _output_path(output: Path | None) -> Path:
    """A file name, or a folder to put a dated file in (default: ``DATA_DIR/backups``)."""
    if output is None:
        folder = Path(settings.DATA_DIR) / "backups"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder / default_name()
    if output.is_dir():
        return output / default_name()
    return output


def make_backup(output: Path | None) -> Written:
    """Back up the configured database; records one audit event, ``backup.create``."""
    from kithkin.audit import services as audit

    key = configured_key()
    target = _output_path(output)
    database = settings.DATABASES["default"]
    vendor = connections["default"].vendor
    if vendor == "sqlite":
        written = backup_sqlite(Path(database["NAME"]), target, key)
    elif vendor == "postgresql":
        written = backup_postgres(postgres.Database.from_settings(database), target, key)
    else:
        raise BackupError(f"Kithkin cannot back up a {vendor} database.")
    tables: dict[str, int] = written.manifest["tables"]
    audit.record(
        None,
        action="backup.create",
        object_type="database",
        detail={"vendor": vendor, "tables": len(tables), "rows": sum(tables.values())},
    )
    return written


def summary(manifest: Manifest) -> list[str]:
    tables: dict[str, int] = manifest["tables"]
    vendor = VENDOR_NAMES.get(str(manifest.get("vendor")), str(manifest.get("vendor")))
    width = max((len(name) for name in tables), default=0)
    return [
        f"{vendor} database, made {manifest['created_at']} by Kithkin "
        f"{manifest.get('kithkin_version', 'unknown')}: {len(tables)} tables, "
        f"{sum(tables.values())} rows.",
        *(f"  {name:<{width}}  {count}" for name, count in sorted(tables.items())),
    ]


def backup_command(output: str | None, check: str | None) -> int:
    try:
        if check is not None:
            manifest = verify(Path(check), configured_key(), work_dir=Path(settings.DATA_DIR))
            print(f"{check} is a good backup.")
            print("\n".join(summary(manifest)))
            return 0
        written = make_backup(Path(output) if output else None)
    except (BackupError, OSError) as error:
        print(_message(error), file=sys.stderr)
        return 1
    print(f"Backup written and verified: {written.path} ({written.size} bytes).")
    print(summary(written.manifest)[0])
    return 0


def restore_command(backup: str, data_dir: str | None, database_url: str | None) -> int:
    path = Path(backup)
    try:
        key = configured_key()
        if not path.is_file():
            raise BackupError(f"There is no backup file at {path}.")
        if data_dir is not None:
            target = Path(data_dir).expanduser().resolve()
            manifest = restore_sqlite(path, target, key)
            place = str(target / SQLITE_NAME)
            after = f"Start Kithkin with KITHKIN_DATA_DIR={target}"
        else:
            assert database_url is not None
            try:
                database = postgres.Database.from_url(database_url)
            except ValueError:
                raise BackupError(
                    "--database-url must be a postgres:// URL (the password may be left out and "
                    "given in PGPASSWORD or ~/.pgpass)."
                ) from None
            manifest = restore_postgres(path, database, key)
            place = f"the {database.describe()}"
            after = "Point DATABASE_URL at it"
    except (BackupError, OSError) as error:
        print(_message(error), file=sys.stderr)
        return 1
    print(f"Restored into {place}; integrity and row counts checked.")
    print("\n".join(summary(manifest)))
    print(
        f"{after}, run `kithkin migrate` (a newer Kithkin brings the tables up to date), and "
        "keep the field keys (KITHKIN_FIELD_KEYS) this database was written with."
    )
    return 0


def _message(error: Exception) -> str:
    if isinstance(error, OSError):
        # The file name and the system's reason; never a traceback.
        return f"{error.strerror or error}: {error.filename}" if error.filename else str(error)
    return str(error)
