"""When a check-in falls due, the client gets a reminder in her inbox (and by email, as her
preferences allow), once per due time, and never for a check-in already done or stopped."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils import timezone

from kithkin.accounts.models import User
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job
from kithkin.measures import services
from kithkin.measures.models import Cadence
from kithkin.notifications.models import Notification
from tests import factories
from tests.conftest import World


def request_as(rf: RequestFactory, user: User) -> HttpRequest:
    request = rf.post("/")
    request.user = user
    return request


def run_jobs_at(when: timedelta) -> None:
    jobs.run_due("test-worker", limit=100, now=timezone.now() + when)


def test_it_reminds_the_client_when_the_check_in_falls_due(
    world: World, rf: RequestFactory
) -> None:
    first_due = timezone.now() + timedelta(days=1)
    services.assign(
        request_as(rf, world.clinician),
        world.client_a,
        "gad7",
        cadence=Cadence.REPEAT,
        interval_days=7,
        first_due_at=first_due,
    )
    run_jobs_at(timedelta(hours=1))
    assert not Notification.objects.exists()  # not due yet
    run_jobs_at(timedelta(days=1, minutes=1))
    run_jobs_at(timedelta(days=1, minutes=2))  # a second pass sends nothing more
    (note,) = Notification.objects.all()
    assert note.user == world.client_a_user
    assert note.kind == "measures.checkin_due"
    assert f"/clients/{world.client_a.pk}/measures/" == note.url
    assert [m.to for m in mail.outbox] == [[world.client_a_user.email]]
    # Nobody else is told, and the stranger's clients are untouched.
    assert not Notification.objects.filter(user__in=[world.clinician, world.stranger]).exists()


def test_it_queues_the_next_reminder_after_each_completion_and_skips_stale_ones(
    world: World, rf: RequestFactory
) -> None:
    assignment = services.assign(
        request_as(rf, world.clinician), world.client_a, "gad7", cadence=Cadence.REPEAT,
        interval_days=7,
    )  # fmt: skip
    client_request = request_as(rf, world.client_a_user)
    response = services.open_response(client_request, assignment)
    services.save_answers(client_request, response, factories.all_answers("gad7", 1))
    services.submit(client_request, response)
    # Done before the first reminder ran: that one is stale and sends nothing.
    run_jobs_at(timedelta(minutes=1))
    assert not Notification.objects.exists()
    assert Job.objects.filter(kind=services.CHECKIN_DUE_JOB, state="queued").count() == 1
    run_jobs_at(timedelta(days=7, minutes=1))
    assert Notification.objects.filter(user=world.client_a_user).count() == 1


def test_it_sends_nothing_for_a_stopped_check_in(world: World, rf: RequestFactory) -> None:
    request = request_as(rf, world.clinician)
    assignment = services.assign(request, world.client_a, "phq9", cadence=Cadence.ONCE)
    services.end_assignment(request, assignment)
    run_jobs_at(timedelta(minutes=1))
    assert not Notification.objects.exists()
