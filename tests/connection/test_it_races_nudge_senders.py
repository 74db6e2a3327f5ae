"""Workers racing to send nudges, each thread with its own database connection, and two jobs
queued for every nudge: every nudge is sent exactly once. The job system never hands one job to
two workers; the nudge itself is marked sent by a conditional update in the same transaction as
its notification, so a second job for it finds it sent."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from kithkin.accounts.models import Role
from kithkin.connection import nudges, sweep
from kithkin.connection.models import Nudge, NudgeState
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job, JobState
from kithkin.notifications.models import Notification
from tests import factories
from tests.connection.rhythm_data import opted_in, weekly_friend
from tests.jobs.test_it_races_workers import shared_database  # noqa: F401  (a fixture)

CLIENTS = 24
WORKERS = 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shared_database")
def test_racing_workers_send_each_nudge_once() -> None:
    now = timezone.now()
    practice = factories.PracticeFactory.create()
    clinician = factories.staff(practice, Role.CLINICIAN)
    clients = [
        factories.client_of(practice, clinician, portal=True, display_name=f"Racer {n}")
        for n in range(CLIENTS)
    ]
    for client in clients:
        weekly_friend(client, "Sam", last=21, now=now)
        opted_in(client)
    assert sweep.run(now=now).nudges_queued == CLIENTS
    # A second job for every nudge, as a deferral or a re-run of the sweep might leave behind.
    for nudge in Nudge.objects.all():
        jobs.enqueue(
            nudges.SEND_JOB,
            {"nudge": str(nudge.pk)},
            run_after=now,
            key=nudges.send_job_key(nudge.pk, now),
        )
    assert Job.objects.filter(kind=nudges.SEND_JOB).count() == 2 * CLIENTS

    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            start.wait()
            while jobs.run_due(f"worker-{index}", limit=3):
                pass
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors

    sends = Job.objects.filter(kind=nudges.SEND_JOB)
    assert sends.filter(state=JobState.DONE).count() == 2 * CLIENTS
    assert Nudge.objects.filter(state=NudgeState.SENT).count() == CLIENTS
    for client in clients:
        assert client.user is not None
        inbox = Notification.objects.filter(user=client.user, kind=nudges.NOTIFICATION_KIND)
        assert inbox.count() == 1, client.display_name
