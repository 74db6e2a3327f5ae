"""Assignments: once, every N days, or before each network session; due and overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils import timezone

from kithkin.accounts.models import User
from kithkin.measures import services
from kithkin.measures.models import OVERDUE_AFTER, Assignment, Cadence, DueState
from tests import factories
from tests.conftest import World


def request_as(rf: RequestFactory, user: User) -> HttpRequest:
    request = rf.post("/")
    request.user = user
    return request


def complete(request: HttpRequest, assignment: Assignment) -> None:
    response = services.open_response(request, assignment)
    services.save_answers(request, response, factories.all_answers(assignment.instrument_id, 1))
    services.submit(request, response)


def test_it_finishes_a_one_off_check_in(world: World, rf: RequestFactory) -> None:
    request = request_as(rf, world.clinician)
    assignment = services.assign(request, world.client_a, "gad7", cadence=Cadence.ONCE)
    assert assignment.due_state() is DueState.DUE
    complete(request_as(rf, world.client_a_user), assignment)
    assignment.refresh_from_db()
    assert assignment.due_state() is DueState.DONE
    # Finished, so the same instrument can be assigned again.
    services.assign(request, world.client_a, "gad7", cadence=Cadence.ONCE)


def test_it_repeats_every_n_days_from_the_last_completion(world: World, rf: RequestFactory) -> None:
    request = request_as(rf, world.clinician)
    assignment = services.assign(
        request, world.client_a, "phq9", cadence=Cadence.REPEAT, interval_days=14
    )
    before = timezone.now()
    complete(request_as(rf, world.client_a_user), assignment)
    assignment.refresh_from_db()
    assert assignment.next_due_at is not None
    assert assignment.next_due_at >= before + timedelta(days=14)
    assert assignment.due_state() is DueState.UPCOMING
    assert assignment.due_state(assignment.next_due_at) is DueState.DUE
    assert assignment.due_state(assignment.next_due_at + OVERDUE_AFTER) is DueState.OVERDUE


def test_it_waits_for_a_session_before_a_before_session_check_in(
    world: World, rf: RequestFactory
) -> None:
    request = request_as(rf, world.clinician)
    assignment = services.assign(request, world.client_a, "five_s", cadence=Cadence.BEFORE_SESSION)
    assert assignment.due_state() is DueState.WAITING
    session_at = timezone.now() + timedelta(days=7)
    assert services.schedule_before_session(world.client_a, session_at) == 1
    assignment.refresh_from_db()
    assert assignment.next_due_at == session_at - services.BEFORE_SESSION_LEAD
    complete(request_as(rf, world.client_a_user), assignment)
    assignment.refresh_from_db()
    assert assignment.due_state() is DueState.WAITING


@pytest.mark.parametrize(
    ("instrument_id", "cadence", "interval", "message"),
    [
        ("nope", Cadence.ONCE, None, "no questionnaire with that name"),
        ("ssps", Cadence.ONCE, None, "cannot be assigned"),
        ("phq9", Cadence.REPEAT, None, "how many days apart"),
        ("phq9", Cadence.REPEAT, 0, "how many days apart"),
        ("phq9", Cadence.REPEAT, 366, "how many days apart"),
    ],
)
def test_it_refuses_what_cannot_be_assigned_and_says_why(
    world: World,
    rf: RequestFactory,
    *,
    instrument_id: str,
    cadence: str,
    interval: int | None,
    message: str,
) -> None:
    with pytest.raises(services.NotAssignable, match=message):
        services.assign(
            request_as(rf, world.clinician),
            world.client_a,
            instrument_id,
            cadence=cadence,
            interval_days=interval,
        )
    assert not Assignment.objects.exists()


def test_it_refuses_a_second_active_assignment_of_the_same_instrument(
    world: World, rf: RequestFactory
) -> None:
    request = request_as(rf, world.clinician)
    services.assign(request, world.client_a, "phq9", cadence=Cadence.ONCE)
    with pytest.raises(services.NotAssignable, match="already assigned"):
        services.assign(request, world.client_a, "phq9", cadence=Cadence.REPEAT, interval_days=7)


def test_it_resumes_the_response_in_progress(world: World, rf: RequestFactory) -> None:
    request = request_as(rf, world.client_a_user)
    assignment = factories.assignment(world.client_a, "phq9")
    first = services.open_response(request, assignment)
    services.save_answers(request, first, {"1": 2, "2": 1})
    again = services.open_response(request, assignment)
    assert again.pk == first.pk
    assert again.answers == {"1": 2, "2": 1}


def test_it_lists_due_check_ins_for_the_care_team_only(world: World) -> None:
    now = timezone.now()
    factories.assignment(world.client_a, "phq9", next_due_at=now - timedelta(days=3))
    factories.assignment(world.client_a, "gad7", next_due_at=now + timedelta(days=3))
    factories.assignment(world.client_b, "phq9", next_due_at=now - timedelta(days=1))
    due = list(services.due_assignments(world.clinician, now))
    assert [(a.client_id, a.instrument_id) for a in due] == [(world.client_a.pk, "phq9")]
    assert due[0].due_state(now) is DueState.OVERDUE
    assert list(services.due_assignments(world.stranger, now)) == []
    assert [a.instrument_id for a in services.due_for_client(world.client_a, now)] == ["phq9"]
