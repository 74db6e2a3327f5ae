"""An indicator's label follows the evidence shown beside it, in calm words.

A score: "Target reached" when the latest score meets the target; otherwise which way the latest
score has moved from the first one ("Moving closer", "No change yet", "Further from the target"),
read in the questionnaire's own direction; "Not reached yet" with a single score and "Waiting for
a first score" with none.

Keeping in touch: "On track" only when the latest four-week period kept to the rhythm, most of the
periods shown did, and the last contact is within the rhythm; "Time to get in touch" when the
periods kept to it but the last contact is longer ago than the rhythm; "Too early to tell" while
the indicator has not been followed for four weeks; "Not quite yet" otherwise."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.care import plan, review
from kithkin.care.models import Goal, Indicator
from kithkin.measures import services as measures
from kithkin.network.models import Person
from tests import factories
from tests.care import plan_data
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

# Words that must never label an indicator that is not on track or reached.
HOPEFUL = ("On the way", "On track", "Target reached")


def _answers_totalling(instrument_id: str, total: int) -> dict[str, float | None]:
    answers: dict[str, float | None] = {}
    left = total
    for item in measures.instrument(instrument_id).items:
        value = min(item.highest, left)
        answers[item.id] = value
        left -= int(value)
    assert left == 0
    return answers


def _scores(client: Client, instrument_id: str, *totals: int) -> None:
    """The totals a week apart, the last one today."""
    start = timezone.now() - timedelta(days=(len(totals) - 1) * 7, hours=1)
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


def _review_url(client: Client) -> str:
    return reverse("care_review", kwargs={"client_id": client.pk})


def _plan_url(client: Client) -> str:
    return reverse("care_plan", kwargs={"client_id": client.pk})


def _score_goal(world: World, instrument_id: str, target: float, *totals: int) -> Goal:
    goal = plan_data.goal(world.client_a, "Feel lighter most days")
    plan_data.score_indicator(goal, instrument_id, target)
    _scores(world.client_a, instrument_id, *totals)
    return goal


# --- scores ----------------------------------------------------------------------------------


def test_a_worsening_score_is_further_from_the_target(world: World) -> None:
    goal = _score_goal(world, "phq9", 9, 9, 17)
    progress = _only(goal)
    assert progress.trend is plan.ScoreTrend.FURTHER and not progress.met
    assert progress.state_text == "Further from the target"
    assert progress.sentence == "PHQ-9: 9 at first, 17 most recently; the target is 9."
    for who in (world.clinician, world.client_a_user):
        body = signed_in(who).get(_review_url(world.client_a)).content.decode()
        assert "Further from the target" in body
        assert not any(word in body for word in HOPEFUL)
    client_plan = signed_in(world.client_a_user).get(_plan_url(world.client_a)).content.decode()
    assert "Further from the target" in client_plan
    # No "0% of the way" bar beside it: the sentence says what happened.
    assert "of the way from the first score" not in client_plan


def test_an_improving_score_is_moving_closer(world: World) -> None:
    progress = _only(_score_goal(world, "phq9", 9, 18, 14, 12))
    assert progress.trend is plan.ScoreTrend.CLOSER
    assert progress.state_text == "Moving closer"


def test_a_score_that_went_down_then_up_compares_first_with_latest(world: World) -> None:
    # 18 at first, 12 most recently: closer overall, whatever the wobble in between.
    assert _only(_score_goal(world, "phq9", 9, 18, 10, 12)).state_text == "Moving closer"


def test_an_unchanged_score_says_no_change_yet(world: World) -> None:
    progress = _only(_score_goal(world, "phq9", 9, 14, 14))
    assert progress.trend is plan.ScoreTrend.NO_CHANGE
    assert progress.state_text == "No change yet"


def test_a_score_at_the_target_is_reached(world: World) -> None:
    progress = _only(_score_goal(world, "phq9", 9, 17, 9))
    assert progress.met and progress.state_text == "Target reached"


def test_a_single_score_short_of_the_target_is_not_reached_yet(world: World) -> None:
    progress = _only(_score_goal(world, "phq9", 9, 17))
    assert progress.trend is plan.ScoreTrend.NOT_REACHED
    assert progress.state_text == "Not reached yet"
    assert _only(_score_goal(world, "gad7", 10, 4)).state_text == "Target reached"


def test_no_score_yet_is_waiting_for_a_first_one(world: World) -> None:
    goal = _score_goal(world, "phq9", 9)
    assert _only(goal).state_text == "Waiting for a first score"


@pytest.mark.parametrize(
    ("totals", "label"),
    [
        ((5, 15), "Moving closer"),  # higher is better: up is closer
        ((15, 10), "Further from the target"),
        ((10, 20), "Target reached"),
    ],
)
def test_a_higher_is_better_score_is_read_upwards(
    world: World, totals: tuple[int, ...], label: str
) -> None:
    assert _only(_score_goal(world, "five_s", 20, *totals)).state_text == label


# --- keeping in touch ------------------------------------------------------------------------


def _rhythm_goal(world: World, *, set_days_ago: int = 84) -> tuple[Goal, Person]:
    goal = plan_data.goal(world.client_a, "Keep in touch with Elif")
    elif_ = factories.person_of(world.client_a, "Elif")
    indicator = plan_data.rhythm_indicator(goal, elif_, days=7)
    Indicator.objects.filter(pk=indicator.pk).update(
        created_at=timezone.now() - timedelta(days=set_days_ago)
    )
    return goal, elif_


def _in_touch(person: Person, *days_ago: int) -> None:
    now = timezone.now()
    for days in days_ago:
        factories.contact(person, occurred_at=now - timedelta(days=days, minutes=5))


# Days ago, per four-week period (oldest first), four contacts being what "every 7 days" asks.
KEPT_OLDEST = (58, 65, 72, 79)
KEPT_MIDDLE = (30, 37, 44, 51)
KEPT_LATEST = (1, 8, 15, 22)


def _review_periods(client: Client) -> list[plan.RhythmPeriod]:
    [indicator] = review.progress_review(client).goals[0].indicators
    assert isinstance(indicator.progress, plan.RhythmProgress)
    assert indicator.periods == list(indicator.progress.periods)  # the label reads the table
    return indicator.periods


def test_a_rhythm_mostly_missed_is_not_quite_yet_even_after_a_recent_contact(
    world: World,
) -> None:
    goal, elif_ = _rhythm_goal(world)
    _in_touch(elif_, *KEPT_OLDEST, 40, 1)  # kept in the oldest period only; in touch yesterday
    progress = _only(goal)
    assert progress.days_since == 1  # within every 7 days, which used to read "On track"
    assert [p.met for p in _review_periods(world.client_a)] == [True, False, False]
    assert not progress.met
    assert progress.standing is plan.RhythmStanding.NOT_QUITE
    assert progress.state_text == "Not quite yet"
    for who in (world.clinician, world.client_a_user):
        body = signed_in(who).get(_review_url(world.client_a)).content.decode()
        assert "Not quite yet" in body and "On track" not in body


def test_a_rhythm_kept_only_lately_is_not_quite_yet(world: World) -> None:
    goal, elif_ = _rhythm_goal(world)
    _in_touch(elif_, *KEPT_LATEST)
    assert [p.met for p in _review_periods(world.client_a)] == [False, False, True]
    assert _only(goal).state_text == "Not quite yet"


def test_a_rhythm_kept_lately_and_mostly_is_on_track(world: World) -> None:
    goal, elif_ = _rhythm_goal(world)
    _in_touch(elif_, *KEPT_MIDDLE, *KEPT_LATEST)
    assert [p.met for p in _review_periods(world.client_a)] == [False, True, True]
    progress = _only(goal)
    assert progress.met and progress.state_text == "On track"
    body = signed_in(world.client_a_user).get(_review_url(world.client_a)).content.decode()
    assert "On track" in body


def test_a_rhythm_that_missed_the_latest_period_is_not_on_track(world: World) -> None:
    goal, elif_ = _rhythm_goal(world)
    _in_touch(elif_, *KEPT_OLDEST, *KEPT_MIDDLE, 3)
    assert [p.met for p in _review_periods(world.client_a)] == [True, True, False]
    assert _only(goal).state_text == "Not quite yet"


def test_a_rhythm_kept_but_quiet_lately_is_time_to_get_in_touch(world: World) -> None:
    goal, elif_ = _rhythm_goal(world)
    _in_touch(elif_, *KEPT_MIDDLE, 10, 15, 20, 25)  # four in four weeks, none for ten days
    progress = _only(goal)
    assert [p.met for p in progress.periods] == [False, True, True]
    assert not progress.met
    assert progress.state_text == "Time to get in touch"


def test_a_rhythm_set_less_than_four_weeks_ago_is_too_early_to_tell(world: World) -> None:
    goal, elif_ = _rhythm_goal(world, set_days_ago=10)
    assert _only(goal).state_text == "Too early to tell"  # no contact yet
    _in_touch(elif_, 1, 8)
    progress = _only(goal)
    assert not progress.met and progress.state_text == "Too early to tell"
    # Too early is not a nudge: the plain badge, not the amber one.
    plan_page = signed_in(world.client_a_user).get(_plan_url(world.client_a)).content.decode()
    assert '<span class="badge">Too early to tell</span>' in plan_page
    # Contacts logged on the map before the goal count as evidence all the same.
    _in_touch(elif_, 15, 22, *KEPT_MIDDLE)
    assert _only(goal).state_text == "On track"


def test_a_rhythm_with_no_contact_after_four_weeks_is_not_quite_yet(world: World) -> None:
    goal, _elif = _rhythm_goal(world, set_days_ago=30)
    assert _only(goal).state_text == "Not quite yet"


def test_a_person_since_marked_not_safe_is_not_followed(world: World) -> None:
    goal, elif_ = _rhythm_goal(world)
    _in_touch(elif_, *KEPT_MIDDLE, *KEPT_LATEST)
    Person.objects.filter(pk=elif_.pk).update(not_safe=True)
    progress = _only(goal)
    assert not progress.met and progress.state_text == "Not followed"


# --- who sees it -----------------------------------------------------------------------------


def test_a_clinician_of_another_practice_is_refused_the_review(world: World) -> None:
    _score_goal(world, "phq9", 9, 9, 17)
    response = signed_in(world.stranger).get(_review_url(world.client_a))
    assert response.status_code == 404
    body = response.content.decode()
    assert "Feel lighter most days" not in body and "Further from the target" not in body
