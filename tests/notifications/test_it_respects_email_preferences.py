"""Each person chooses email per category; the inbox always gets everything. Critical categories
(risk alerts) are emailed whatever anyone chose: the service, the form and the database all
refuse to turn them off. Choices are checked again when the email is sent."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client as HttpClient

from kithkin.audit.models import AuditEvent
from kithkin.jobs.models import Job
from kithkin.notifications import kinds, services
from kithkin.notifications.kinds import Category
from kithkin.notifications.models import Notification, Preference
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]
PAGE = "/notifications/preferences/"


def test_a_category_turned_off_gets_no_email_but_still_reaches_the_inbox(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    services.save_preferences(None, world.client_a_user, {Category.NUDGES: False})
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(world.client_a_user, kind=kinds.NUDGE, title="Time to call Sam?", body="")
        services.notify(
            world.client_a_user, kind=kinds.SESSION_REMINDER, title="Session tomorrow", body=""
        )
    assert [m.subject for m in mail.outbox] == ["Kithkin: Session tomorrow"]
    assert Notification.objects.filter(user=world.client_a_user).count() == 2


def test_critical_mail_ignores_preferences(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    services.save_preferences(None, world.clinician, {Category.SESSIONS: False})
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            world.clinician, kind=kinds.SESSION_NOTICE, title="An ordinary notice", body=""
        )
        services.notify(
            world.clinician,
            kind=kinds.SESSION_NOTICE,
            title="A notice marked critical",
            body="",
            critical=True,
        )
        services.notify(world.clinician, kind=kinds.RISK_ALERT, title="A risk alert", body="")
    assert sorted(m.subject for m in mail.outbox) == [
        "Kithkin: A notice marked critical",
        "Kithkin: A risk alert",
    ]


def test_choices_are_checked_again_at_send_time(world: World) -> None:
    notification = services.notify(
        world.client_a_user, kind=kinds.CHECKIN_DUE, title="A check-in is ready", body=""
    )
    critical = services.notify(world.admin, kind=kinds.ALERT_ESCALATION, title="Waiting", body="")
    services.save_preferences(None, world.client_a_user, {Category.CHECKINS: False})
    assert services.send_email(notification.pk) is False
    assert services.send_email(critical.pk) is True
    assert [m.to for m in mail.outbox] == [[world.admin.email]]
    assert Notification.objects.get(pk=notification.pk).emailed_at is None


def test_the_service_and_the_database_refuse_to_turn_off_risk_alerts(world: World) -> None:
    with pytest.raises(services.CriticalCategory):
        services.save_preferences(
            None, world.clinician, {Category.ALERTS: False, Category.SESSIONS: False}
        )
    assert not Preference.objects.exists()  # nothing half-saved
    with pytest.raises(IntegrityError), transaction.atomic():
        Preference.objects.create(user=world.clinician, category=Category.ALERTS, email=False)


def test_the_page_shows_risk_alerts_always_on_and_ignores_a_forged_post(world: World) -> None:
    http = signed_in(world.clinician)
    page = http.get(PAGE).content.decode()
    assert "Risk alerts" in page and "cannot be turned off" in page
    (alerts,) = re.findall(r'<input type="checkbox" name="alerts"[^>]*>', page)
    assert " disabled" in alerts and " checked" in alerts
    # A clinician is not asked about check-ins or nudges, which only clients get.
    assert 'name="nudges"' not in page

    # Posting everything off (alerts included) turns off what may be turned off, nothing else.
    response = http.post(PAGE, {})
    assert response.status_code == 302
    assert services.email_preferences(world.clinician) == {
        Category.ALERTS: True,
        Category.SESSIONS: False,
        Category.ACTIONS: False,
        Category.CHECKINS: True,
        Category.NUDGES: True,
    }
    event = AuditEvent.objects.get(action="notifications.preferences.update")
    assert event.actor_id == world.clinician.pk
    assert event.detail == {"email": {"sessions": False, "actions": False}}

    http.post(PAGE, {"sessions": "on", "actions": "on"})
    assert all(services.email_preferences(world.clinician).values())


def test_a_client_chooses_for_her_own_categories(world: World) -> None:
    http = signed_in(world.client_a_user)
    page = http.get(PAGE).content.decode()
    assert 'name="nudges"' in page and 'name="checkins"' in page
    assert 'name="alerts"' not in page
    http.post(PAGE, {"sessions": "on", "actions": "on", "checkins": "on"})
    assert services.email_preferences(world.client_a_user)[Category.NUDGES] is False


def test_a_category_turned_off_elsewhere_can_be_turned_back_on(world: World) -> None:
    # A member is not asked about check-ins; if a link turned them off, they can undo it here.
    services.save_preferences(None, world.member, {Category.CHECKINS: False})
    http = signed_in(world.member)
    assert 'name="checkins"' in http.get(PAGE).content.decode()
    http.post(PAGE, {"sessions": "on", "actions": "on", "checkins": "on"})
    assert services.email_preferences(world.member)[Category.CHECKINS] is True


def test_each_person_changes_only_their_own_choices(world: World) -> None:
    signed_in(world.stranger).post(PAGE, {})
    assert all(services.email_preferences(world.clinician).values())
    assert not Preference.objects.exclude(user=world.stranger).exists()
    assert not Job.objects.exists()


def test_signing_in_is_required(world: World) -> None:
    response = HttpClient().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
