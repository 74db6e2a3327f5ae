from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from kithkin.care.models import Goal, GoalStatus, Indicator, IndicatorKind, Problem
from tests import factories
from tests.care import plan_data
from tests.care.plan_data import url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


# --- problems --------------------------------------------------------------------------------


def test_it_adds_a_problem_to_the_plan(world: World) -> None:
    http = signed_in(world.clinician)
    response = http.post(url("care_problem_add", world.client_a), {"text": "Lonely evenings"})
    assert response.status_code == 302
    assert response["Location"] == url("care_plan", world.client_a)
    problem = Problem.objects.get()
    assert (problem.client, problem.text, problem.created_by) == (
        world.client_a,
        "Lonely evenings",
        world.clinician,
    )
    event = AuditEvent.objects.get(action="care.problem.create")
    assert event.object_id == str(problem.pk) and event.client_id == str(world.client_a.pk)
    assert "Lonely" not in str(event.detail)
    assert "Lonely evenings" in http.get(url("care_plan", world.client_a)).content.decode()


def test_it_explains_an_empty_problem(world: World) -> None:
    response = signed_in(world.clinician).post(
        url("care_problem_add", world.client_a), {"text": "  "}
    )
    assert response.status_code == 200
    assert "Write what the problem is." in response.content.decode()
    assert not Problem.objects.exists()


def test_it_edits_and_resolves_a_problem(world: World) -> None:
    problem = plan_data.problem(world.client_a)
    page = url("care_problem", world.client_a, problem_id=problem.pk)
    http = signed_in(world.clinician)
    assert "Isolated since the move" in http.get(page).content.decode()
    http.post(page, {"text": "Isolated since moving", "resolved": "on"})
    problem.refresh_from_db()
    assert problem.text == "Isolated since moving" and problem.resolved_at is not None
    event = AuditEvent.objects.get(action="care.problem.update")
    assert event.detail == {"fields": ["text", "resolved_at"]}
    http.post(page, {"text": "Isolated since moving"})
    problem.refresh_from_db()
    assert problem.resolved_at is None


# --- goals -----------------------------------------------------------------------------------


def test_it_adds_a_goal_linked_to_a_problem(world: World) -> None:
    problem = plan_data.problem(world.client_a)
    target = timezone.localdate() + timedelta(days=60)
    response = signed_in(world.clinician).post(
        url("care_goal_add", world.client_a),
        {
            "title": "Call my sister weekly",
            "description": "A call most Sundays",
            "problem": str(problem.pk),
            "target_date": target.isoformat(),
        },
    )
    goal = Goal.objects.get()
    assert response["Location"] == url("care_indicator_add", world.client_a, goal_id=goal.pk)
    assert (goal.title, goal.description, goal.problem, goal.target_date) == (
        "Call my sister weekly",
        "A call most Sundays",
        problem,
        target,
    )
    assert goal.status == GoalStatus.ACTIVE and goal.created_by == world.clinician
    assert AuditEvent.objects.filter(action="care.goal.create", object_id=str(goal.pk)).exists()


def test_it_explains_bad_goals(world: World) -> None:
    other_problem = plan_data.problem(world.client_b, "Someone else's problem")
    yesterday = timezone.localdate() - timedelta(days=1)
    response = signed_in(world.clinician).post(
        url("care_goal_add", world.client_a),
        {"title": "", "problem": str(other_problem.pk), "target_date": yesterday.isoformat()},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Write what the goal is." in body
    assert "The target date is in the past. Choose today or later." in body
    assert "Select a valid choice" in body
    assert "Someone else&#x27;s problem" not in body
    assert not Goal.objects.exists()


def test_it_edits_a_goal_and_its_status(world: World) -> None:
    past = timezone.localdate() - timedelta(days=3)
    goal = plan_data.goal(world.client_a, target_date=past)
    page = url("care_goal", world.client_a, goal_id=goal.pk)
    http = signed_in(world.clinician)
    assert "See a friend every week" in http.get(page).content.decode()
    # The date already on the goal may have passed; it is kept as it was.
    response = http.post(
        page,
        {"title": "See two friends a week", "target_date": past.isoformat(), "status": "achieved"},
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert (goal.title, goal.status, goal.target_date) == (
        "See two friends a week",
        GoalStatus.ACHIEVED,
        past,
    )
    event = AuditEvent.objects.get(action="care.goal.update")
    assert event.detail == {"fields": ["title", "status"]}


# --- indicators ------------------------------------------------------------------------------


def test_it_adds_a_score_indicator(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    response = signed_in(world.clinician).post(
        url("care_indicator_add", world.client_a, goal_id=goal.pk),
        {"kind": "score", "instrument_id": "phq9", "target_score": "5"},
    )
    assert response["Location"] == url("care_goal", world.client_a, goal_id=goal.pk)
    indicator = Indicator.objects.get()
    assert (indicator.goal, indicator.kind, indicator.instrument_id, indicator.target_score) == (
        goal,
        IndicatorKind.SCORE,
        "phq9",
        5,
    )
    event = AuditEvent.objects.get(action="care.indicator.create")
    assert event.detail == {"goal": str(goal.pk), "kind": "score"}


@pytest.mark.parametrize("target", ["28", "-1"])
def test_it_refuses_a_target_outside_the_instruments_range(world: World, target: str) -> None:
    goal = plan_data.goal(world.client_a)
    response = signed_in(world.clinician).post(
        url("care_indicator_add", world.client_a, goal_id=goal.pk),
        {"kind": "score", "instrument_id": "phq9", "target_score": target},
    )
    assert response.status_code == 200
    assert (
        "PHQ-9 scores run from 0 to 27, so the target must be between 0 and 27."
        in response.content.decode()
    )
    assert not Indicator.objects.exists()


def test_it_names_what_a_score_indicator_lacks(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    response = signed_in(world.clinician).post(
        url("care_indicator_add", world.client_a, goal_id=goal.pk),
        {"kind": "score", "instrument_id": "no-such-thing"},
    )
    body = response.content.decode()
    assert "Select a valid choice" in body
    assert "Give the score that would mean success." in body
    assert not Indicator.objects.exists()


def test_it_adds_a_rhythm_indicator_with_someone_safe(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    sam = factories.person_of(world.client_a, "Sam")
    response = signed_in(world.clinician).post(
        url("care_indicator_add", world.client_a, goal_id=goal.pk),
        {"kind": "rhythm", "person": str(sam.pk), "target_days": "10"},
    )
    assert response.status_code == 302
    indicator = Indicator.objects.get()
    assert (indicator.kind, indicator.person, indicator.target_days) == ("rhythm", sam, 10)


def test_it_never_offers_or_accepts_a_not_safe_person_for_a_rhythm(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    factories.person_of(world.client_a, "Sam Safe")
    ex = factories.person_of(world.client_a, "Rex Unsafe", not_safe=True)
    page = url("care_indicator_add", world.client_a, goal_id=goal.pk)
    http = signed_in(world.clinician)
    form = http.get(page).content.decode()
    assert "Sam Safe" in form and "Rex Unsafe" not in form
    response = http.post(page, {"kind": "rhythm", "person": str(ex.pk), "target_days": "7"})
    assert (
        "Rex Unsafe is marked as not safe for the client, so they cannot be involved."
        in response.content.decode()
    )
    assert not Indicator.objects.exists()


@pytest.mark.parametrize("days", ["0", "366", ""])
def test_it_refuses_a_rhythm_outside_one_to_365_days(world: World, days: str) -> None:
    goal = plan_data.goal(world.client_a)
    sam = factories.person_of(world.client_a, "Sam")
    response = signed_in(world.clinician).post(
        url("care_indicator_add", world.client_a, goal_id=goal.pk),
        {"kind": "rhythm", "person": str(sam.pk), "target_days": days},
    )
    assert "Choose how often in days, from 1 to 365." in response.content.decode()
    assert not Indicator.objects.exists()


def test_it_refuses_someone_from_another_clients_map(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    theirs = factories.person_of(world.client_b, "Bea's friend")
    response = signed_in(world.clinician).post(
        url("care_indicator_add", world.client_a, goal_id=goal.pk),
        {"kind": "rhythm", "person": str(theirs.pk), "target_days": "7"},
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Indicator.objects.exists()


def test_it_removes_an_indicator_by_post_only(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    indicator = plan_data.score_indicator(goal)
    remove = url(
        "care_indicator_remove", world.client_a, goal_id=goal.pk, indicator_id=indicator.pk
    )
    http = signed_in(world.clinician)
    assert http.get(remove).status_code == 405
    assert Indicator.objects.exists()
    response = http.post(remove)
    assert response["Location"] == url("care_goal", world.client_a, goal_id=goal.pk)
    assert not Indicator.objects.exists()
    event = AuditEvent.objects.get(action="care.indicator.remove")
    assert event.object_id == str(indicator.pk) and event.client_id == str(world.client_a.pk)


# --- who may edit ----------------------------------------------------------------------------


def _edit_pages(world: World) -> list[str]:
    problem = plan_data.problem(world.client_a)
    goal = plan_data.goal(world.client_a)
    indicator = plan_data.score_indicator(goal)
    return [
        url("care_problem_add", world.client_a),
        url("care_problem", world.client_a, problem_id=problem.pk),
        url("care_goal_add", world.client_a),
        url("care_goal", world.client_a, goal_id=goal.pk),
        url("care_indicator_add", world.client_a, goal_id=goal.pk),
        url("care_indicator_remove", world.client_a, goal_id=goal.pk, indicator_id=indicator.pk),
    ]


def test_it_lets_the_client_see_her_plan_but_not_edit_it(world: World) -> None:
    pages = _edit_pages(world)
    http = signed_in(world.client_a_user)
    hub = http.get(url("care_plan", world.client_a)).content.decode()
    assert "My plan" in hub and "See a friend every week" in hub
    assert reverse("care_goal_add", kwargs={"client_id": world.client_a.pk}) not in hub
    for page in pages:
        assert http.get(page).status_code == 404, page
        assert http.post(page, {"text": "x", "title": "x"}).status_code == 404, page
    assert Problem.objects.count() == 1 and Goal.objects.count() == 1
    assert Indicator.objects.count() == 1


@pytest.mark.parametrize("who", plan_data.STRANGERS)
def test_it_refuses_strangers(world: World, who: str) -> None:
    pages = [url("care_plan", world.client_a), *_edit_pages(world)]
    http = signed_in(getattr(world, who))
    for page in pages:
        assert http.get(page).status_code == 404, page
        response = http.post(page, {"text": "x", "title": "x", "status": "dropped"})
        assert response.status_code == 404, page
        assert "See a friend every week" not in response.content.decode()
    assert Problem.objects.count() == 1 and Goal.objects.count() == 1
    assert Goal.objects.get().status == GoalStatus.ACTIVE and Indicator.objects.count() == 1
    assert AuditEvent.objects.filter(
        actor_id=getattr(world, who).pk, outcome="denied", action__startswith="care."
    ).count() == 2 * len(pages)
