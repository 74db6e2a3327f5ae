"""A writer for the crash and contention drills. It commits groups of rows through Django, each
group in one ``transaction.atomic()`` block: a head job and PARTS part jobs that name it, written
after a read (so a transaction that only took a read lock would have to upgrade it). After each
commit it appends the group's key to ``FOLDER/acked`` and fsyncs: a line there is a write the
database acknowledged. Settings (database, data directory) come from the environment.

    python -m tests.ops.drill_process FOLDER NAME [COUNT]

Without COUNT it writes until killed (or for RUN_AT_MOST seconds); with COUNT it waits for
``FOLDER/../go`` (so that many writers start together), writes COUNT groups and exits. Any error
is printed and ends the process with status 1. With ``DRILL_HOLD_AT=N`` it stops inside group
N's transaction, half-way through its rows, and touches ``FOLDER/inside``. With
``DRILL_TRANSACTION_MODE`` set, SQLite transactions begin in that mode instead of the configured
one (the drill's control run).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

RUN_AT_MOST = 120.0  # seconds; a test that failed must not leave this process behind for ever
HEAD = "tests.drill.head"
PART = "tests.drill.part"
PARTS = 4


def hold(folder: Path, deadline: float) -> None:
    """Stop half-way through a group's transaction (rows written, not committed) and say so,
    for the test to kill this process there."""
    (folder / "inside").touch()
    while time.monotonic() < deadline:
        time.sleep(0.01)


def write(folder: Path, name: str, count: int | None) -> None:
    from django.db import transaction

    from kithkin.jobs.models import Job, JobState

    deadline = time.monotonic() + RUN_AT_MOST
    hold_at = int(os.environ.get("DRILL_HOLD_AT", "-1"))
    if count is not None:
        while not (folder.parent / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    number = 0
    with (folder / "acked").open("a", encoding="utf-8") as acked:
        while (count is None or number < count) and time.monotonic() < deadline:
            key = f"{name}-{number}"
            with transaction.atomic():
                seen = Job.objects.filter(kind=HEAD).count()  # read first, then write
                Job.objects.create(
                    kind=HEAD, key=key, payload={"parts": PARTS, "seen": seen},
                    state=JobState.DONE,
                )  # fmt: skip
                for part in range(PARTS):
                    Job.objects.create(
                        kind=PART, key=f"{key}-{part}", payload={"head": key},
                        state=JobState.DONE,
                    )  # fmt: skip
                    if number == hold_at and part == PARTS // 2:
                        hold(folder, deadline)
            acked.write(f"{key}\n")
            acked.flush()
            os.fsync(acked.fileno())
            number += 1


def main(folder: Path, name: str, count: int | None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kithkin.settings")
    import django

    django.setup()
    mode = os.environ.get("DRILL_TRANSACTION_MODE")
    if mode:
        from django.conf import settings

        settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] = mode
    try:
        write(folder, name, count)
    except Exception:  # the test reads what went wrong from the output
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(
        main(Path(arguments[0]), arguments[1], int(arguments[2]) if len(arguments) > 2 else None)
    )
