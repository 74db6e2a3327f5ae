"""A real worker process for the tests, with one test handler, ``tests.block``, that marks that
it started and then waits for a ``release`` file. Settings come from the environment.

    python -m tests.jobs.worker_process enqueue COUNT
    python -m tests.jobs.worker_process work [kithkin worker options]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

BLOCK = "tests.block"
WAIT_AT_MOST = 120.0  # seconds; a test that failed must not leave this process behind for ever


def block(payload: dict[str, Any]) -> None:
    folder = Path(os.environ["JOBS_TEST_DIR"])
    (folder / f"started-{payload['n']}").touch()
    deadline = time.monotonic() + WAIT_AT_MOST
    while not (folder / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.05)
    with (folder / "ran").open("a", encoding="utf-8") as ran:
        ran.write(f"{payload['n']}\n")


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kithkin.settings")
    import django

    django.setup()
    from kithkin.jobs import registry, services

    registry.register(BLOCK, block)
    if argv[0] == "enqueue":
        for n in range(int(argv[1])):
            services.enqueue(BLOCK, {"n": n})
        return 0
    from kithkin.cli import main as kithkin

    return kithkin(["worker", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
