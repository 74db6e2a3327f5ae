from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.care import plan
from kithkin.care.models import Goal, GoalStatus
from kithkin.measures import services as measures
from kithkin.network.services import Rhythm
from tests import factories
from tests.care import plan_data
from tests.care.plan_data import url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _answers_totalling(instrument_id: str, total: int) -> dict[str, float | None]:
    """Answers whose plain sum is ``total``: the highest option on the first items first."""
    answers: dict[str, float | None] = {}
    left = total
    for item in measures.instrument(instrument_id).items:
        value = min(item.highest, left)
        answers[item.id] = value
        left -= int(value)
    assert left == 0
    return answers


def _scores(client: Client, instrument_id: str, *totals: int) -> None:
    start = timezone.now() - timedelta(days=len(totals) * 7)
    for index, total in enumerate(totals):
        factories.submitted_response(
            client,
            instrument_id,
            _answers_totalling(instrument_id, total),
            when=start + timedelta(days=index * 7),
        )


def _only(goal: Goal, audience: str = "clinician") -> Any:
    [progress] = plan.progress_for([goal], audience=audience)[goal.pk]
    return progress


# --- scores ----------------------------------------------------------------------------------


def test_it_follows_a_score_improving_toward_its_target(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    plan_data.score_indicator(goal, "phq9", 5)
    _scores(world.client_a, "phq9", 18, 12, 9)
    progress = _only(goal)
    assert (progress.baseline, progress.latest, progress.count) == (18, 9, 3)
    assert not progress.met
    assert progress.percent == 69  # 9 of the 13 points from 18 down to 5
    assert progress.sentence == "PHQ-9: 18 at first, 9 most recently; the target is 5."
    assert progress.target_text == "PHQ-9 score of 5 or lower"
    body = signed_in(world.clinician).get(url("care_plan", world.client_a)).content.decode()
    assert "PHQ-9: 18 at first, 9 most recently; the target is 5." in body
    assert '<progress max="100" value="69"' in body
    assert "Moving closer" in body


def test_it_marks_a_score_target_reached(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    plan_data.score_indicator(goal, "phq9", 5)
    _scores(world.client_a, "phq9", 18, 4)
    progress = _only(goal)
    assert progress.met and progress.percent == 100
    assert progress.state_text == "Target reached"


def test_it_reads_a_higher_is_better_score_the_right_way(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    plan_data.score_indicator(goal, "five_s", 20)
    _scores(world.client_a, "five_s", 5, 15)
    progress = _only(goal)
    assert progress.target_text == "Five S's score of 20 or higher"
    assert not progress.met and progress.percent == 67
    _scores(world.client_a, "five_s", 20)
    assert _only(goal).met


def test_it_says_when_there_is_no_score_yet(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    plan_data.score_indicator(goal, "phq9", 5)
    _scores(world.client_b, "phq9", 3)  # another client's scores never count
    assert _only(goal).sentence == "No PHQ-9 score yet."
    assert _only(goal, "client").sentence == "No PHQ-9 check-in yet."
    assert _only(goal).percent is None and not _only(goal).met


# --- contact rhythm --------------------------------------------------------------------------


def test_it_follows_a_contact_rhythm_on_track_and_drifting(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    sam = factories.person_of(world.client_a, "Sam")
    indicator = plan_data.rhythm_indicator(goal, sam, days=7)
    never = _only(goal)
    assert never.state is Rhythm.NEVER and not never.met
    assert never.sentence == "No contact with Sam logged yet."
    assert never.state_text == "Too early to tell"  # set today: no four weeks followed yet

    # Followed for twelve weeks from here on.
    indicator.created_at = timezone.now() - timedelta(weeks=12)
    indicator.save(update_fields=["created_at"])
    factories.contact(sam, occurred_at=timezone.now() - timedelta(days=10))
    drifting = _only(goal)
    assert drifting.state is Rhythm.DUE and not drifting.met
    assert drifting.sentence == "Last in touch with Sam 10 days ago."
    assert drifting.state_text == "Not quite yet"
    assert drifting.target_text == "in touch with Sam at least every 7 days"

    # In touch two days ago, but twice in four weeks is not every week yet.
    factories.contact(sam, occurred_at=timezone.now() - timedelta(days=2))
    recent = _only(goal)
    assert recent.days_since == 2 and not recent.met and recent.state_text == "Not quite yet"

    # Every week for eight weeks: the last two periods kept to it, and the last contact is recent.
    for days in (16, 23, 30, 37, 44, 51):
        factories.contact(sam, occurred_at=timezone.now() - timedelta(days=days))
    on_track = _only(goal)
    assert [p.met for p in on_track.periods] == [False, True, True]
    assert on_track.met and on_track.days_since == 2 and on_track.state_text == "On track"

    body = signed_in(world.client_a_user).get(url("care_plan", world.client_a)).content.decode()
    assert "In touch with Sam at least every 7 days" in body
    assert "Last in touch with Sam 2 days ago." in body


def test_it_stops_following_someone_since_marked_not_safe(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    sam = factories.person_of(world.client_a, "Sam")
    plan_data.rhythm_indicator(goal, sam, days=7)
    factories.contact(sam, occurred_at=timezone.now() - timedelta(days=1))
    sam.not_safe = True
    sam.save()
    progress = _only(goal)
    assert progress.paused and not progress.met
    assert progress.sentence == "Sam is now marked as not safe, so this is no longer followed."


def test_it_can_leave_names_out(world: World) -> None:
    goal = plan_data.goal(world.client_a)
    plan_data.rhythm_indicator(goal, factories.person_of(world.client_a, "Sam"), days=7)
    [progress] = plan.progress_for([goal], audience="member", show_names=False)[goal.pk]
    assert "Sam" not in progress.sentence + progress.target_text


# --- the plan page ---------------------------------------------------------------------------


def _plan_of(client: Client, goals: int, people: int) -> None:
    problem = plan_data.problem(client)
    for index in range(goals):
        goal = plan_data.goal(client, f"Goal {index}", problem=problem)
        plan_data.score_indicator(goal, "phq9", 5)
        plan_data.score_indicator(goal, "five_s", 15)
        for number in range(people):
            person = factories.person_of(client, f"Person {index}-{number}")
            factories.contact(person)
            plan_data.rhythm_indicator(goal, person, days=7)
            plan_data.key_contact(client, person)
    _scores(client, "phq9", 18, 12)
    _scores(client, "five_s", 5, 10)


def test_it_shows_the_plan_in_a_constant_number_of_queries(
    world: World, django_assert_num_queries: Callable[[int], AbstractContextManager[Any]]
) -> None:
    page = url("care_plan", world.client_a)
    _plan_of(world.client_a, goals=1, people=1)
    http = signed_in(world.clinician)
    http.get(page)  # the first request warms the session and caches
    with CaptureQueriesContext(connection) as small:
        assert http.get(page).status_code == 200
    plan_data.goal(world.client_a, "Dropped one", status=GoalStatus.DROPPED)
    _plan_of(world.client_a, goals=4, people=3)
    with django_assert_num_queries(len(small)):
        body = http.get(page).content.decode()
    assert body.count('class="card plan-goal"') == 5
    assert "Person 3-2" in body and "Dropped one" in body
