"""The staff lists: open risk alerts on my care teams (and escalated ones for admins), and due and
overdue check-ins across my caseload. Only for staff, only their clients, in constant queries."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client, Role
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.measures.models import OVERDUE_AFTER, RiskAlert
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

ALERTS = reverse("measures_alerts")
DUE = reverse("measures_due")


def _alert(client: Client, **fields: Any) -> RiskAlert:
    response = factories.submitted_response(
        client, "phq9", {**factories.all_answers("phq9", 0), "9": 1}
    )
    return RiskAlert.objects.create(
        client=client,
        response=response,
        instrument_id="phq9",
        rule_id="phq9_item9",
        item_id="9",
        value=1,
        severity="urgent",
        **fields,
    )


# --- alerts ---------------------------------------------------------------------------------


def test_it_lists_open_alerts_on_my_care_teams(world: World) -> None:
    alert = _alert(world.client_a)
    done = _alert(world.client_a)
    RiskAlert.objects.filter(pk=done.pk).update(
        acknowledged_at=timezone.now(), acknowledgement_note="ok"
    )
    _alert(world.client_b)
    body = signed_in(world.clinician).get(ALERTS).content.decode()
    assert "Alex Rivers" in body
    assert (
        reverse("measures_alert", kwargs={"client_id": world.client_a.pk, "alert_id": alert.pk})
        in body
    )
    assert body.count("Waiting for acknowledgement") == 1
    assert "Bea Stone" not in body
    assert "PHQ-9" in body
    assert AuditEvent.objects.filter(action="measures.alerts.view", detail={"count": 1}).exists()


def test_it_shows_an_empty_list_calmly(world: World) -> None:
    body = signed_in(world.clinician).get(ALERTS).content.decode()
    assert "No open alerts" in body


def test_it_shows_admins_escalated_alerts_with_the_care_team_but_not_the_questionnaire(
    world: World,
) -> None:
    _alert(world.client_a)  # not escalated: the admin does not see it
    escalated = _alert(world.client_b, escalated_at=timezone.now())
    body = signed_in(world.admin).get(ALERTS).content.decode()
    assert "Alex Rivers" not in body
    assert "Bea Stone" in body
    assert "Escalated" in body
    assert "Colin Colleague" in body  # Bea's care team, to contact
    assert "PHQ-9" not in body
    assert str(escalated.pk) in body


def test_it_keeps_other_practices_escalated_alerts_from_an_admin(world: World) -> None:
    _alert(world.client_a, escalated_at=timezone.now())
    other_admin = factories.staff(world.other_practice, Role.ADMIN)
    body = signed_in(other_admin).get(ALERTS).content.decode()
    assert "Alex Rivers" not in body
    assert "No open alerts" in body


@pytest.mark.parametrize("who", ["client_a_user", "client_b_user", "member"])
def test_it_refuses_the_lists_to_anyone_who_is_not_staff(world: World, who: str) -> None:
    _alert(world.client_a)
    factories.assignment(world.client_a, "phq9")
    user = getattr(world, who)
    http = signed_in(user)
    for url in (ALERTS, DUE):
        response = http.get(url)
        assert response.status_code == 403
        assert "Alex Rivers" not in response.content.decode() or who == "client_a_user"
    assert AuditEvent.objects.filter(actor_id=user.pk, outcome=Outcome.DENIED).count() == 2


def test_it_refuses_the_lists_to_anonymous_visitors(world: World) -> None:
    from django.test import Client as HttpClient

    for url in (ALERTS, DUE):
        response = HttpClient().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_it_keeps_client_a_off_a_strangers_lists(world: World) -> None:
    _alert(world.client_a)
    factories.assignment(world.client_a, "phq9")
    for user in (world.stranger, world.colleague):
        http = signed_in(user)
        for url in (ALERTS, DUE):
            assert "Alex Rivers" not in http.get(url).content.decode()


def _queries(world: World, url: str, size: int, make: Callable[[Client], object]) -> int:
    clinician = factories.staff(world.practice, Role.CLINICIAN, display_name=f"Size {size}")
    for index in range(size):
        client = factories.client_of(world.practice, clinician, display_name=f"Q{size} {index}")
        make(client)
    http = signed_in(clinician)
    http.get(url)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == size + 1
    return len(queries)


def test_it_lists_alerts_in_a_constant_number_of_queries(world: World) -> None:
    small = _queries(world, ALERTS, 2, _alert)
    assert _queries(world, ALERTS, 9, _alert) == small


# --- due check-ins --------------------------------------------------------------------------


def test_it_lists_due_and_overdue_check_ins_most_overdue_first(world: World) -> None:
    now = timezone.now()
    other = factories.client_of(world.practice, world.clinician, display_name="Nora North")
    factories.assignment(world.client_a, "phq9", next_due_at=now - timedelta(hours=1))
    factories.assignment(other, "gad7", next_due_at=now - OVERDUE_AFTER - timedelta(hours=1))
    factories.assignment(other, "phq9", next_due_at=now + timedelta(days=1))  # not yet
    factories.assignment(world.client_b, "phq9", next_due_at=now - timedelta(days=9))
    body = signed_in(world.clinician).get(DUE).content.decode()
    assert body.index("Nora North") < body.index("Alex Rivers")
    assert body.count("<tr>") == 3
    assert 'badge badge--warn">Overdue' in body
    assert '<span class="badge">Due</span>' in body
    assert "GAD-7" in body
    assert "Bea Stone" not in body
    overview = reverse("measures_overview", kwargs={"client_id": world.client_a.pk})
    assert f'href="{overview}"' in body


def test_it_says_when_nothing_is_due(world: World) -> None:
    assert "Nothing is due" in signed_in(world.clinician).get(DUE).content.decode()


def test_it_paginates_the_due_list(world: World) -> None:
    for index in range(26):
        client = factories.client_of(
            world.practice, world.clinician, display_name=f"Pat {index:02d}"
        )
        factories.assignment(client, "phq9", next_due_at=timezone.now() - timedelta(minutes=index))
    http = signed_in(world.clinician)
    assert "Page 1 of 2" in http.get(DUE).content.decode()
    assert http.get(DUE + "?page=2").content.decode().count("<tr>") == 2


def _due(client: Client) -> object:
    return factories.assignment(client, "phq9", next_due_at=timezone.now() - timedelta(hours=1))


def test_it_lists_due_check_ins_in_a_constant_number_of_queries(
    world: World, django_assert_num_queries: Callable[[int], AbstractContextManager[Any]]
) -> None:
    small = _queries(world, DUE, 2, _due)
    clinician = factories.staff(world.practice, Role.CLINICIAN, display_name="Big caseload")
    for index in range(9):
        _due(factories.client_of(world.practice, clinician, display_name=f"Big {index}"))
    http = signed_in(clinician)
    http.get(DUE)
    with django_assert_num_queries(small):
        assert http.get(DUE).content.decode().count("<tr>") == 10
