"""A writer for the backup tests: commits numbered pairs of rows through Django until a ``stop``
file appears, and after each commit appends the pair's number to ``acked`` (an acknowledged
write). Settings come from the environment.

    python -m tests.ops.writer_process FOLDER
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

RUN_AT_MOST = 180.0  # seconds; a test that failed must not leave this process behind for ever
KIND = "tests.ops.write"


def main(folder: Path) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kithkin.settings")
    import django

    django.setup()
    from django.db import transaction

    from kithkin.jobs.models import Job, JobState

    deadline = time.monotonic() + RUN_AT_MOST
    number = 0
    with (folder / "acked").open("a", encoding="utf-8") as acked:
        while not (folder / "stop").exists() and time.monotonic() < deadline:
            # Two rows in one transaction: a restore must hold both or neither.
            with transaction.atomic():
                for half in ("a", "b"):
                    Job.objects.create(
                        kind=KIND, key=f"ops-{half}-{number}", payload={"n": number},
                        state=JobState.DONE,
                    )  # fmt: skip
            acked.write(f"{number}\n")
            acked.flush()
            number += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
