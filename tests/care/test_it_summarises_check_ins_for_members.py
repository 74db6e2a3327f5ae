"""The check-in summary a member may be shown: how many check-ins lately and, per questionnaire,
only a direction word. Never a score, an answer, a band, a risk item or an alert; nothing at
all unless the client shares it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kithkin.care import consent, review
from tests import factories
from tests.care.circle_data import grant, membership
from tests.conftest import World

pytestmark = pytest.mark.django_db


def answered(world: World, instrument_id: str, value: float, days_ago: float) -> None:
    factories.submitted_response(
        world.client_a,
        instrument_id,
        factories.all_answers(instrument_id, value),
        when=timezone.now() - timedelta(days=days_ago),
    )


def summary(world: World) -> review.CheckinSummary | None:
    return consent.scope_of(membership(world.client_a, world.member)).checkin_summary()


def test_it_is_nothing_unless_the_client_shares_it(world: World) -> None:
    answered(world, "phq9", 2, 3)
    assert summary(world) is None
    grant(membership(world.client_a, world.member), goals=True, own_actions=True)
    assert summary(world) is None
    grant(membership(world.client_a, world.member), checkin_summary=True)
    assert summary(world) is not None
    grant(membership(world.client_a, world.member))
    assert summary(world) is None


def test_it_counts_the_last_four_weeks_and_gives_directions_only(world: World) -> None:
    grant(membership(world.client_a, world.member), checkin_summary=True)
    answered(world, "phq9", 3, 60)  # 27, eight weeks ago: not counted, but the start of the trend
    answered(world, "phq9", 1, 10)  # 9
    answered(world, "gad7", 0, 50)  # 0
    answered(world, "gad7", 2, 5)  # 14
    answered(world, "protective_factors", 3, 40)
    answered(world, "protective_factors", 3, 2)
    answered(world, "ucla3", 2, 1)  # only once: no direction
    answered(world, "phq4", 0, 70)
    answered(world, "phq4", 3, 40)  # nothing lately: no direction
    result = summary(world)
    assert result is not None
    assert result.count == 4
    assert result.sentence == "Alex has completed 4 check-ins in the last 4 weeks."
    assert [(d.topic, d.word) for d in result.directions] == [
        ("Mood", "a little better"),
        ("Things that help", "about the same"),
        ("Worry", "harder lately"),
    ]
    words = " ".join([result.sentence, *(f"{d.topic} {d.word}" for d in result.directions)])
    assert set(re.findall(r"\d", words)) <= {"4"}
    for never in ("PHQ", "GAD", "Mild", "Moderate", "Severe", "27", "14", "9 "):
        assert never not in words


def test_a_higher_is_better_questionnaire_rising_is_better(world: World) -> None:
    grant(membership(world.client_a, world.member), checkin_summary=True)
    answered(world, "protective_factors", 1, 30)
    answered(world, "protective_factors", 5, 3)
    result = summary(world)
    assert result is not None
    assert [(d.topic, d.word) for d in result.directions] == [
        ("Things that help", "a little better")
    ]


def test_it_says_so_calmly_when_there_were_no_check_ins_lately(world: World) -> None:
    grant(membership(world.client_a, world.member), checkin_summary=True)
    answered(world, "phq9", 1, 45)
    result = summary(world)
    assert result is not None
    assert result.count == 0
    assert result.sentence == "Alex hasn't completed a check-in in the last 4 weeks."
    assert result.directions == ()


def test_it_reads_in_one_query_without_answers(
    world: World, django_assert_num_queries: Callable[[int], Any]
) -> None:
    for days in range(1, 30, 3):
        answered(world, "phq9", days % 4, days)
    with django_assert_num_queries(1) as captured:
        review.checkin_summary(world.client_a)
    sql = captured.captured_queries[0]["sql"]
    assert "answers" not in sql and "note" not in sql


def test_it_is_only_about_this_client(world: World) -> None:
    factories.submitted_response(world.client_b, "phq9", factories.all_answers("phq9", 3))
    grant(membership(world.client_a, world.member), checkin_summary=True)
    result = summary(world)
    assert result is not None
    assert result.count == 0
