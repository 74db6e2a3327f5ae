"""The care team assigns a questionnaire with a cadence, and stops a schedule; nobody else can."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import User
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.measures.models import Assignment, Cadence
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


def _url(world: World) -> str:
    return reverse("measures_assign", kwargs={"client_id": world.client_a.pk})


def _today() -> datetime.date:
    return timezone.localtime(timezone.now(), LONDON).date()


def _post(user: User, world: World, **data: Any) -> Any:
    form = {"instrument": "phq9", "cadence": Cadence.ONCE, "first_due": _today().isoformat()}
    form.update({k: v for k, v in data.items() if v is not None})
    for key in [k for k, v in data.items() if v is None]:
        form.pop(key, None)
    return signed_in(user).post(_url(world), form)


def test_it_offers_only_assignable_instruments_and_explains_the_others(world: World) -> None:
    response = signed_in(world.clinician).get(_url(world))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<option value="phq9"' in body
    assert '<option value="ssps"' not in body
    # The unassignable ones are listed with the reason, so the clinician sees why.
    assert "Not available to assign yet" in body
    assert "Social Safeness and Pleasure Scale" in body
    assert "ships without its questions" in body


def test_it_assigns_a_repeating_check_in_due_now(world: World) -> None:
    before = timezone.now()
    response = _post(world.clinician, world, cadence=Cadence.REPEAT, interval_days="14")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "measures_overview", kwargs={"client_id": world.client_a.pk}
    )
    assignment = Assignment.objects.get()
    assert (assignment.client, assignment.instrument_id) == (world.client_a, "phq9")
    assert (assignment.cadence, assignment.interval_days) == (Cadence.REPEAT, 14)
    assert assignment.assigned_by == world.clinician
    assert assignment.next_due_at is not None and assignment.next_due_at >= before
    assert AuditEvent.objects.filter(
        action="measures.assignment.create", object_id=str(assignment.pk)
    ).exists()


def test_it_makes_a_later_first_due_date_start_at_midnight_in_the_users_zone(
    world: World,
) -> None:
    later = _today() + datetime.timedelta(days=3)
    assert _post(world.clinician, world, first_due=later.isoformat()).status_code == 302
    due = Assignment.objects.get().next_due_at
    assert due is not None
    assert timezone.localtime(due, LONDON) == datetime.datetime.combine(
        later, datetime.time.min, tzinfo=LONDON
    )


def test_it_leaves_a_before_session_check_in_waiting_for_a_session(world: World) -> None:
    # An interval typed by mistake is ignored for a cadence without one.
    response = _post(world.clinician, world, cadence=Cadence.BEFORE_SESSION, interval_days="7")
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.interval_days, assignment.next_due_at) == (None, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cadence": Cadence.REPEAT}, "Days apart: Enter how many days apart, from 1 to 365"),
        ({"cadence": Cadence.REPEAT, "interval_days": "0"}, "Days apart: Days apart must be"),
        ({"cadence": Cadence.REPEAT, "interval_days": "366"}, "Days apart: Days apart must be"),
        ({"cadence": Cadence.REPEAT, "interval_days": "two"}, "Days apart: Enter the number"),
        ({"cadence": "monthly"}, "How often: Select a valid choice"),
        ({"cadence": None}, "How often: Choose how often."),
        ({"instrument": None}, "Questionnaire: Choose a questionnaire."),
        ({"instrument": "nope"}, "Questionnaire: Choose a questionnaire from the list."),
        ({"first_due": "2001-01-01"}, "First due: The first due date cannot be in the past."),
        ({"first_due": "3000-01-01"}, "First due: The first due date must be within a year"),
        ({"first_due": "soon"}, "First due: Enter the first due date as a date."),
    ],
)
def test_it_refuses_bad_input_naming_the_field(
    world: World, data: dict[str, Any], message: str
) -> None:
    response = _post(world.clinician, world, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Assignment.objects.exists()


def test_it_refuses_an_unassignable_instrument_with_its_reason(world: World) -> None:
    response = _post(world.clinician, world, instrument="ssps")
    assert response.status_code == 200
    assert "Questionnaire: SSPS ships without its questions" in response.content.decode()
    assert not Assignment.objects.exists()


def test_it_refuses_a_second_active_schedule_of_the_same_instrument(world: World) -> None:
    factories.assignment(world.client_a, "phq9")
    response = _post(world.clinician, world)
    assert response.status_code == 200
    assert "PHQ-9 is already assigned. Stop the current schedule first" in (
        response.content.decode()
    )
    assert Assignment.objects.count() == 1


@pytest.mark.parametrize("who", ["colleague", "admin", "stranger", "client_a_user", "member"])
def test_it_refuses_everyone_outside_the_care_team(world: World, who: str) -> None:
    user = getattr(world, who)
    http = signed_in(user)
    assert http.get(_url(world)).status_code == 404
    assert _post(user, world).status_code == 404
    assert not Assignment.objects.exists()
    assert AuditEvent.objects.filter(
        actor_id=user.pk, action="measures.assign", outcome=Outcome.DENIED
    ).exists()


def _end_url(world: World, assignment: Assignment) -> str:
    return reverse(
        "measures_assignment_end",
        kwargs={"client_id": world.client_a.pk, "assignment_id": assignment.pk},
    )


def test_it_stops_a_schedule(world: World) -> None:
    assignment = factories.assignment(world.client_a, "phq9")
    http = signed_in(world.clinician)
    assert http.get(_end_url(world, assignment)).status_code == 405
    response = http.post(_end_url(world, assignment))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "measures_overview", kwargs={"client_id": world.client_a.pk}
    )
    assignment.refresh_from_db()
    assert assignment.ended_at is not None
    assert AuditEvent.objects.filter(
        action="measures.assignment.end", outcome=Outcome.SUCCESS, object_id=str(assignment.pk)
    ).exists()
    # Stopping twice is harmless.
    assert http.post(_end_url(world, assignment)).status_code == 302


def test_it_refuses_to_stop_a_schedule_through_another_clients_address(world: World) -> None:
    other = factories.assignment(world.client_b, "phq9")
    url = reverse(
        "measures_assignment_end",
        kwargs={"client_id": world.client_a.pk, "assignment_id": other.pk},
    )
    assert signed_in(world.clinician).post(url).status_code == 404
    other.refresh_from_db()
    assert other.ended_at is None


@pytest.mark.parametrize("who", ["colleague", "admin", "stranger", "client_a_user"])
def test_it_refuses_strangers_stopping_a_schedule(world: World, who: str) -> None:
    assignment = factories.assignment(world.client_a, "phq9")
    assert signed_in(getattr(world, who)).post(_end_url(world, assignment)).status_code == 404
    assignment.refresh_from_db()
    assert assignment.ended_at is None
