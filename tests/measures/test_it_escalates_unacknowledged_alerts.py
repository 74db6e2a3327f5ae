"""An alert nobody acknowledges in time is emailed to the practice admins, once; an acknowledged
one is not. The delay is the practice's setting or the installation default."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Role, User
from kithkin.jobs import services as jobs
from kithkin.measures import services
from kithkin.measures.models import PracticeMeasuresSettings, RiskAlert
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

ESCALATED = "Kithkin: a risk alert has not been acknowledged"


def _request(rf: RequestFactory, user: User) -> HttpRequest:
    request = rf.post("/")
    request.user = user
    return request


def _raise(world: World, rf: RequestFactory) -> tuple[RiskAlert, datetime]:
    request = _request(rf, world.client_a_user)
    response = services.open_response(request, factories.assignment(world.client_a, "phq9"))
    raised = timezone.now()
    (alert,) = services.save_answers(request, response, {"9": 1})
    return alert, raised


def _escalation_mail() -> list[list[str]]:
    return [m.to for m in mail.outbox if m.subject == ESCALATED]


def test_it_tells_the_admins_once_after_the_default_delay(world: World, rf: RequestFactory) -> None:
    other_admin = factories.staff(world.other_practice, Role.ADMIN)
    alert, raised = _raise(world, rf)
    delay = services.practice_settings(world.practice).escalate_after
    assert delay == timedelta(minutes=settings.MEASURES_ALERT_ESCALATION_MINUTES)
    jobs.run_due("test", now=raised + delay - timedelta(minutes=1))
    assert _escalation_mail() == []
    alert.refresh_from_db()
    assert alert.escalated_at is None

    jobs.run_due("test", now=raised + delay + timedelta(minutes=1))
    assert _escalation_mail() == [[world.admin.email]]
    assert other_admin.email not in {to for m in mail.outbox for to in m.to}
    assert "Alex" not in mail.outbox[-1].body
    assert str(alert.pk) in mail.outbox[-1].body
    alert.refresh_from_db()
    assert alert.escalated_at is not None

    # Running again, or the job running twice, does not email again.
    jobs.run_due("test", now=raised + delay + timedelta(hours=2))
    services.escalate_alert(str(alert.pk))
    assert len(_escalation_mail()) == 1
    # Now the admin may see it in the limited form.
    url = reverse("measures_alert", kwargs={"client_id": world.client_a.pk, "alert_id": alert.pk})
    assert signed_in(world.admin).get(url).status_code == 200
    assert signed_in(other_admin).get(url).status_code == 404


def test_it_uses_the_practices_own_delay(world: World, rf: RequestFactory) -> None:
    PracticeMeasuresSettings.objects.create(practice=world.practice, escalate_after_minutes=10)
    alert, raised = _raise(world, rf)
    jobs.run_due("test", now=raised + timedelta(minutes=11))
    assert _escalation_mail() == [[world.admin.email]]
    alert.refresh_from_db()
    assert alert.escalated_at is not None


def test_it_does_not_escalate_an_acknowledged_alert(world: World, rf: RequestFactory) -> None:
    alert, raised = _raise(world, rf)
    assert services.acknowledge(_request(rf, world.clinician), alert, "Phoned; she is safe.")
    jobs.run_due("test", now=raised + timedelta(days=2))
    assert _escalation_mail() == []
    alert.refresh_from_db()
    assert alert.escalated_at is None


def test_it_acknowledges_through_the_page_before_the_delay_and_nothing_escalates(
    world: World, rf: RequestFactory
) -> None:
    alert, raised = _raise(world, rf)
    url = reverse("measures_alert", kwargs={"client_id": world.client_a.pk, "alert_id": alert.pk})
    # A stranger cannot acknowledge it for the care team.
    assert signed_in(world.stranger).post(url, {"note": "x"}).status_code == 404
    assert signed_in(world.clinician).post(url, {"note": "Seen in clinic."}).status_code == 302
    jobs.run_due("test", now=raised + timedelta(days=2))
    assert _escalation_mail() == []


def test_the_admin_sees_how_to_reach_the_care_team_and_how_to_add_someone(
    world: World, rf: RequestFactory
) -> None:
    alert, raised = _raise(world, rf)
    delay = services.practice_settings(world.practice).escalate_after
    jobs.run_due("test", now=raised + delay + timedelta(minutes=1))
    url = reverse("measures_alert", kwargs={"client_id": world.client_a.pk, "alert_id": alert.pk})
    page = signed_in(world.admin).get(url).content.decode()
    # Each clinician on the care team with a way to reach them now, and a way to add a duty
    # clinician who can acknowledge it; never the answers.
    assert f'<a href="mailto:{world.clinician.email}">' in page
    assert "add a clinician who can (the duty clinician, say)" in page
    assert reverse("client_care_team", kwargs={"client_id": world.client_a.pk}) in page
    assert "Several days" not in page and "More than half the days" not in page
    # A stranger admin of another practice gets nothing.
    stranger_admin = factories.staff(world.other_practice, Role.ADMIN)
    assert signed_in(stranger_admin).get(url).status_code == 404
