"""Processes for the many-servers test (tests/ops/test_it_runs_many_servers_and_workers.py).
Settings, the database included, come from the environment.

    python -m tests.ops.fleet_process setup        # the cast; prints its ids as JSON
    python -m tests.ops.fleet_process enqueue COUNT
    python -m tests.ops.fleet_process work [kithkin worker options]

The test handler, ``tests.fleet.run``, adds one row to ``fleet_runs`` per run (no unique key,
so a job run twice shows as two rows), with the pid of the worker that ran it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

KIND = "tests.fleet.run"
RUNS_TABLE = "CREATE TABLE fleet_runs (n integer NOT NULL, pid integer NOT NULL)"


def run(payload: dict[str, Any]) -> None:
    from django.db import connection, transaction

    # A little work, so that a few hundred jobs outlast one worker's poll interval.
    time.sleep(0.01)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fleet_runs (n, pid) VALUES (%s, %s)", [payload["n"], os.getpid()]
        )


def setup() -> dict[str, str]:
    from django.db import connection

    from kithkin.accounts.models import Role
    from tests import factories

    with connection.cursor() as cursor:
        cursor.execute(RUNS_TABLE)
    practice = factories.PracticeFactory.create(name="Harbour Practice")
    clinician = factories.staff(practice, Role.CLINICIAN, display_name="Cleo Clinician")
    client_a = factories.client_of(practice, clinician, portal=True, display_name="Alex Rivers")
    other_practice = factories.PracticeFactory.create(name="Elsewhere Clinic")
    stranger = factories.client_of(other_practice, portal=True, display_name="Oli Other")
    person = factories.person_of(client_a, "Sam")
    assert client_a.user is not None and stranger.user is not None
    return {
        "client": str(client_a.pk),
        "client_email": client_a.user.email,
        "person": str(person.pk),
        "stranger_email": stranger.user.email,
        "password": factories.PASSWORD,
    }


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kithkin.settings")
    import django

    django.setup()
    from kithkin.jobs import registry, services

    registry.register(KIND, run)
    if argv[0] == "setup":
        print(json.dumps(setup()))
        return 0
    if argv[0] == "enqueue":
        new_jobs = (services.NewJob({"n": n}) for n in range(int(argv[1])))
        services.enqueue_many(KIND, new_jobs)
        return 0
    from kithkin.cli import main as kithkin

    return kithkin(["worker", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
