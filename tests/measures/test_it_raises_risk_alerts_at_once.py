"""A risk answer raises an alert the moment it is saved, with its email and escalation jobs in the
same transaction; if the alert cannot be written, the answer is not saved either."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils import timezone

from kithkin.accounts.models import User
from kithkin.jobs.models import Job
from kithkin.measures import services
from kithkin.measures.models import Mode, PracticeMeasuresSettings, Response, RiskAlert
from tests import factories
from tests.conftest import World


def request_as(rf: RequestFactory, user: User) -> HttpRequest:
    request = rf.post("/")
    request.user = user
    return request


def test_it_raises_the_alert_when_the_answer_is_saved_not_at_submission(
    world: World, rf: RequestFactory, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    assignment = factories.assignment(world.client_a, "phq9")
    request = request_as(rf, world.client_a_user)
    response = services.open_response(request, assignment)

    with django_capture_on_commit_callbacks(execute=True):
        alerts = services.save_answers(request, response, {"9": 1})

    assert len(alerts) == 1
    alert = RiskAlert.objects.get()
    assert (alert.rule_id, alert.item_id, alert.value, alert.severity) == (
        "phq9_item9",
        "9",
        1,
        "urgent",
    )
    assert not Response.objects.get().is_submitted
    # The care team is emailed at once, and the email names no client.
    assert [m.to for m in mail.outbox] == [[world.clinician.email]]
    assert "Alex" not in mail.outbox[0].body and "Rivers" not in mail.outbox[0].body
    assert str(alert.pk) in mail.outbox[0].body
    alert.refresh_from_db()
    assert alert.notified_at is not None
    assert set(Job.objects.values_list("kind", flat=True)) == {
        services.ALERT_EMAIL_JOB,
        services.ESCALATE_JOB,
    }


def test_it_raises_one_alert_per_rule_however_often_the_answer_is_saved(
    world: World, rf: RequestFactory
) -> None:
    request = request_as(rf, world.client_a_user)
    response = services.open_response(request, factories.assignment(world.client_a, "phq9"))
    services.save_answers(request, response, {"9": 1})
    services.save_answers(request, response, {"9": 3})
    answers = factories.all_answers("phq9", 1)
    services.save_answers(request, response, answers)
    services.submit(request, response)
    assert RiskAlert.objects.count() == 1


def test_it_keeps_the_alert_when_the_client_changes_the_answer_back(
    world: World, rf: RequestFactory
) -> None:
    request = request_as(rf, world.client_a_user)
    response = services.open_response(request, factories.assignment(world.client_a, "phq9"))
    services.save_answers(request, response, {"9": 2})
    services.save_answers(request, response, {"9": 0})
    assert RiskAlert.objects.open().count() == 1
    # And the response that raised it cannot be discarded.
    services.discard(request, response)
    assert Response.objects.filter(pk=response.pk).exists()


def test_it_saves_nothing_when_the_alert_cannot_be_written(
    world: World, rf: RequestFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = request_as(rf, world.client_a_user)
    response = services.open_response(request, factories.assignment(world.client_a, "phq9"))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the alert table is unavailable")

    monkeypatch.setattr(RiskAlert.objects, "create", broken)
    with pytest.raises(RuntimeError):
        services.save_answers(request, response, {"1": 2, "9": 1})
    response.refresh_from_db()
    assert response.answers == {}
    assert not Job.objects.exists()


def test_it_schedules_escalation_after_the_practice_delay(world: World, rf: RequestFactory) -> None:
    PracticeMeasuresSettings.objects.create(practice=world.practice, escalate_after_minutes=15)
    request = request_as(rf, world.clinician)
    response = services.start_response(request, world.client_a, "phq9", mode=Mode.IN_SESSION)
    before = timezone.now()
    services.save_answers(request, response, {"9": 1})
    job = Job.objects.get(kind=services.ESCALATE_JOB)
    assert before + timedelta(minutes=15) <= job.run_after <= timezone.now() + timedelta(minutes=15)


def test_it_escalates_to_the_admins_once_and_only_if_unacknowledged(
    world: World, rf: RequestFactory
) -> None:
    request = request_as(rf, world.clinician)
    first = services.start_response(request, world.client_a, "phq9", mode=Mode.IN_SESSION)
    (open_alert,) = services.save_answers(request, first, {"9": 1})
    services.submit(request, first)
    second = services.start_response(request, world.client_a, "phq9", mode=Mode.IN_SESSION)
    (handled,) = services.save_answers(request, second, {"9": 2})
    assert services.acknowledge(request, handled, "Called her; safety plan reviewed.")
    mail.outbox.clear()

    services.escalate_alert(str(open_alert.pk))
    services.escalate_alert(str(open_alert.pk))  # a retried job sends nothing more
    services.escalate_alert(str(handled.pk))

    assert [m.to for m in mail.outbox] == [[world.admin.email]]
    open_alert.refresh_from_db()
    handled.refresh_from_db()
    assert open_alert.escalated_at is not None
    assert handled.escalated_at is None


def test_it_emails_the_admins_when_the_client_has_no_care_team(
    world: World, rf: RequestFactory
) -> None:
    lonely = factories.client_of(world.practice, portal=True)
    assert lonely.user is not None
    request = request_as(rf, lonely.user)
    response = services.open_response(request, factories.assignment(lonely, "phq9"))
    (alert,) = services.save_answers(request, response, {"9": 1})
    services.send_alert_email(str(alert.pk))
    assert [m.to for m in mail.outbox] == [[world.admin.email]]


def test_it_requires_a_note_and_acknowledges_only_once(world: World, rf: RequestFactory) -> None:
    request = request_as(rf, world.clinician)
    response = services.start_response(request, world.client_a, "phq9", mode=Mode.IN_SESSION)
    (alert,) = services.save_answers(request, response, {"9": 1})
    with pytest.raises(ValueError):
        services.acknowledge(request, alert, "   ")
    assert services.acknowledge(request, alert, "Spoke with her the same day.")
    assert not services.acknowledge(request_as(rf, world.admin), alert, "Me too.")
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.clinician
    assert alert.acknowledgement_note == "Spoke with her the same day."


def test_it_lists_open_alerts_only_to_the_care_team(world: World, rf: RequestFactory) -> None:
    request = request_as(rf, world.clinician)
    response = services.start_response(request, world.client_a, "phq9", mode=Mode.IN_SESSION)
    services.save_answers(request, response, {"9": 1})
    assert services.open_alerts_for(world.clinician).count() == 1
    assert services.open_alerts_for(world.colleague).count() == 0
    assert services.open_alerts_for(world.stranger).count() == 0
    assert services.escalated_alerts_for_admin(world.admin).count() == 0
    RiskAlert.objects.update(escalated_at=timezone.now())
    assert services.escalated_alerts_for_admin(world.admin).count() == 1
    assert services.escalated_alerts_for_admin(world.stranger).count() == 0


def test_it_puts_the_alert_in_the_care_teams_inbox_at_once(
    world: World, rf: RequestFactory
) -> None:
    from kithkin.notifications.models import Notification

    request = request_as(rf, world.client_a_user)
    response = services.open_response(request, factories.assignment(world.client_a, "phq9"))
    (alert,) = services.save_answers(request, response, {"9": 1})
    (note,) = Notification.objects.all()
    assert note.user == world.clinician
    assert note.kind == "measures.risk_alert" and note.critical
    assert str(alert.pk) in note.url
    services.escalate_alert(str(alert.pk))
    assert (
        Notification.objects.filter(user=world.admin, kind="measures.alert_escalation").count() == 1
    )
