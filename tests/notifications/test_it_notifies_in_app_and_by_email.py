"""notify() stores an inbox row (title and body encrypted) and, in the same transaction, queues
the email as a job that runs straight after commit. Sending is idempotent, the job row is the
fallback when sending fails, and bad input is refused before anything is stored."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction

from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job, JobState
from kithkin.notifications import kinds, services
from kithkin.notifications.models import Notification
from tests.conftest import World, signed_in
from tests.notifications.notification_data import raw

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]


def test_it_stores_the_notification_and_emails_it_at_once(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification = services.notify(
            world.client_a_user,
            kind=kinds.SESSION_REMINDER,
            title="Your session is tomorrow at 10:00",
            body="With Mel canary4b1e",
            url=f"/clients/{world.client_a.pk}/care/",
        )

    stored = Notification.objects.get(pk=notification.pk)
    assert stored.user == world.client_a_user
    assert stored.title == "Your session is tomorrow at 10:00"
    assert stored.read_at is None and not stored.critical
    assert stored.emailed_at is not None
    # Encrypted at rest: the database never holds the words.
    assert "canary4b1e" not in raw(stored, "body")
    assert "tomorrow" not in raw(stored, "title")

    (message,) = mail.outbox
    assert message.to == [world.client_a_user.email]
    assert message.subject == "Kithkin: Your session is tomorrow at 10:00"
    assert "With Mel canary4b1e" in message.body
    assert f"http://127.0.0.1:8000/clients/{world.client_a.pk}/care/" in message.body
    job = Job.objects.get(key=f"notifications.email:{notification.pk}")
    assert job.state == JobState.DONE


def test_sending_twice_sends_once(world: World) -> None:
    notification = services.notify(
        world.clinician, kind=kinds.ACTION_REMINDER, title="An action is due", body=""
    )
    assert services.send_email(notification.pk) is True
    assert services.send_email(notification.pk) is False
    job = Job.objects.get(key=f"notifications.email:{notification.pk}")
    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    jobs.run_due("test")
    assert len(mail.outbox) == 1


def test_the_worker_sends_it_when_sending_at_once_fails(
    world: World, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: EmailMessage, fail_silently: bool = False) -> int:
        raise ConnectionRefusedError(f"mail server down for {world.client_a_user.email}")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMessage, "send", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            notification = services.notify(
                world.client_a_user, kind=kinds.CHECKIN_DUE, title="A check-in is ready", body=""
            )
    assert mail.outbox == []
    job = Job.objects.get(key=f"notifications.email:{notification.pk}")
    assert job.state == JobState.QUEUED
    # The job's error names the failure, never the person.
    assert job.last_error == "EmailNotSent: The email could not be sent (ConnectionRefusedError)."
    assert Notification.objects.get(pk=notification.pk).emailed_at is None

    jobs.run_due("test", now=job.run_after)  # the retry is due after its backoff
    assert [m.to for m in mail.outbox] == [[world.client_a_user.email]]
    assert Notification.objects.get(pk=notification.pk).emailed_at is not None


def test_a_rolled_back_caller_leaves_no_notification_and_no_job(world: World) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify(world.clinician, kind=kinds.RISK_ALERT, title="A risk alert", body="")
        raise RuntimeError("the caller failed")
    assert not Notification.objects.exists()
    assert not Job.objects.filter(kind=services.EMAIL_JOB).exists()


def test_in_app_only_when_email_is_not_wanted(world: World) -> None:
    notification = services.notify(
        world.clinician, kind=kinds.RISK_ALERT, title="A risk alert", body="", email=False
    )
    assert Notification.objects.get(pk=notification.pk).critical
    assert not Job.objects.filter(kind=services.EMAIL_JOB).exists()


def test_nobody_is_emailed_at_a_closed_account(world: World) -> None:
    world.clinician.is_active = False
    world.clinician.save(update_fields=["is_active"])
    services.notify(world.clinician, kind=kinds.RISK_ALERT, title="A risk alert", body="")
    assert Notification.objects.filter(user=world.clinician).count() == 1
    assert not Job.objects.filter(kind=services.EMAIL_JOB).exists()


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": "care.unknown_thing"}, "Unknown notification kind"),
        ({"title": "   "}, "needs a title"),
        ({"url": "https://evil.example/phish"}, "path inside Kithkin"),
        ({"url": "//evil.example/phish"}, "path inside Kithkin"),
        ({"url": "/clients/x y/"}, "path inside Kithkin"),
    ],
)
def test_it_refuses_bad_input_and_stores_nothing(
    world: World, fields: dict[str, str], problem: str
) -> None:
    arguments = {"kind": kinds.NUDGE, "title": "Time to call Sam?", "body": "", **fields}
    with pytest.raises(ValueError, match=problem):
        services.notify(world.client_a_user, **arguments)  # type: ignore[arg-type]
    assert not Notification.objects.exists()


def test_a_long_title_is_shortened_to_one_line(world: World) -> None:
    notification = services.notify(
        world.client_a_user, kind=kinds.NUDGE, title="Line one\nline two " + "x" * 300, body=""
    )
    assert "\n" not in notification.title
    assert len(notification.title) == services.TITLE_MAX
    assert notification.title.endswith("…")


def test_a_stranger_never_receives_someone_elses_notification(world: World) -> None:
    services.notify(
        world.clinician, kind=kinds.RISK_ALERT, title="Alert for your caseload", body=""
    )
    page = signed_in(world.stranger).get("/notifications/").content.decode()
    assert "Alert for your caseload" not in page
