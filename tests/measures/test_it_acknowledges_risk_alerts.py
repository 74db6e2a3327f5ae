"""The care team sees a risk alert in full and acknowledges it with a note; a practice admin sees
an escalated one in a limited form; nobody else sees it at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import CareTeamMember, Role
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.measures.models import RiskAlert
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"


def _alert(world: World, **fields: object) -> RiskAlert:
    answers = {**factories.all_answers("phq9", 0), "9": 2}
    response = factories.submitted_response(world.client_a, "phq9", answers)
    return RiskAlert.objects.create(
        client=world.client_a,
        response=response,
        instrument_id="phq9",
        rule_id="phq9_item9",
        item_id="9",
        value=2,
        severity="urgent",
        **fields,
    )


def _url(alert: RiskAlert) -> str:
    return reverse("measures_alert", kwargs={"client_id": alert.client_id, "alert_id": alert.pk})


def test_it_shows_the_care_team_what_was_answered(world: World) -> None:
    alert = _alert(world, notified_at=timezone.now())
    response = signed_in(world.clinician).get(_url(alert))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alex Rivers" in body
    assert reverse("measures_overview", kwargs={"client_id": world.client_a.pk}) in body
    assert "Patient Health Questionnaire-9" in body
    assert f"Question 9: {ITEM_9}" in body
    assert "More than half the days (2)" in body
    assert "The care team was emailed on" in body
    assert "the practice admins are emailed on" in body
    assert "What did you do?" in body
    assert AuditEvent.objects.filter(
        action="measures.alert.view", object_id=str(alert.pk), outcome=Outcome.SUCCESS
    ).exists()


def test_it_shows_the_raised_time_in_the_users_time_zone(world: World) -> None:
    raised = timezone.now().replace(month=7, day=1, hour=11, minute=5, second=0, microsecond=0)
    alert = _alert(world, created_at=raised)
    body = signed_in(world.clinician).get(_url(alert)).content.decode()
    assert "1 Jul" in body and "12:05" in body  # Europe/London is UTC+1 in July


def test_it_needs_a_note_to_acknowledge(world: World) -> None:
    alert = _alert(world)
    response = signed_in(world.clinician).post(_url(alert), {"note": "   "})
    assert response.status_code == 200
    assert "What did you do?: Write what you did" in response.content.decode()
    alert.refresh_from_db()
    assert alert.is_open


def test_it_acknowledges_with_the_note_and_shows_who_and_when(world: World) -> None:
    alert = _alert(world)
    http = signed_in(world.clinician)
    response = http.post(_url(alert), {"note": "Called her; safety plan agreed."})
    assert response.status_code == 302
    assert response["Location"] == _url(alert)
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.clinician
    assert alert.acknowledgement_note == "Called her; safety plan agreed."
    body = http.get(_url(alert)).content.decode()
    assert "by Cleo Clinician on" in body
    assert "Called her; safety plan agreed." in body
    assert "What did you do?" not in body  # no second form


def test_it_tells_the_second_clinician_politely_that_someone_got_there_first(
    world: World,
) -> None:
    CareTeamMember.objects.create(client=world.client_a, user=world.colleague)
    alert = _alert(world)
    first = signed_in(world.clinician)
    second = signed_in(world.colleague)
    assert second.get(_url(alert)).status_code == 200  # both have the form open
    first.post(_url(alert), {"note": "Rang the client."})
    response = second.post(_url(alert), {"note": "I rang too."}, follow=True)
    body = response.content.decode()
    assert "Someone else acknowledged this alert first" in body
    assert "Rang the client." in body
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.clinician
    assert alert.acknowledgement_note == "Rang the client."


def test_it_hides_an_alert_that_has_not_escalated_from_the_admin(world: World) -> None:
    alert = _alert(world)
    assert signed_in(world.admin).get(_url(alert)).status_code == 404
    assert AuditEvent.objects.filter(
        actor_id=world.admin.pk, outcome=Outcome.DENIED, action="measures.alert.view_escalated"
    ).exists()


def test_it_shows_the_admin_an_escalated_alert_without_the_answers(world: World) -> None:
    alert = _alert(world, escalated_at=timezone.now())
    http = signed_in(world.admin)
    response = http.get(_url(alert))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alex Rivers" in body
    assert "Not acknowledged yet" in body
    assert "Cleo Clinician" in body  # the care team to contact
    for secret in (ITEM_9, "More than half the days", "Patient Health Questionnaire", "PHQ-9"):
        assert secret not in body
    assert "What did you do?" not in body
    # An admin cannot acknowledge on the care team's behalf.
    assert http.post(_url(alert), {"note": "Done"}).status_code == 403
    alert.refresh_from_db()
    assert alert.is_open


def test_it_gives_an_admin_on_the_care_team_the_full_view(world: World) -> None:
    CareTeamMember.objects.create(client=world.client_a, user=world.admin)
    alert = _alert(world)
    body = signed_in(world.admin).get(_url(alert)).content.decode()
    assert ITEM_9 in body
    assert "What did you do?" in body


def test_it_refuses_an_alert_through_another_clients_address(world: World) -> None:
    alert = _alert(world)
    url = reverse("measures_alert", kwargs={"client_id": world.client_b.pk, "alert_id": alert.pk})
    assert signed_in(world.colleague).get(url).status_code == 404


@pytest.mark.parametrize("who", ["colleague", "stranger", "client_a_user", "member", "other_admin"])
def test_it_refuses_everyone_else_even_when_escalated(world: World, who: str) -> None:
    user = (
        factories.staff(world.other_practice, Role.ADMIN)
        if who == "other_admin"
        else getattr(world, who)
    )
    alert = _alert(world, escalated_at=timezone.now() - timedelta(minutes=5))
    http = signed_in(user)
    for response in (http.get(_url(alert)), http.post(_url(alert), {"note": "x"})):
        assert response.status_code == 404
        assert ITEM_9 not in response.content.decode()
        assert "Not acknowledged yet" not in response.content.decode()
    alert.refresh_from_db()
    assert alert.is_open
