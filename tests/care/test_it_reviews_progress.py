"""The progress review: per goal, its indicators over time (dated scores against the target,
contacts per four-week period against the rhythm) beside the actions of everyone involved; per
person, actions agreed and done. For the care team and the client herself, in a fixed number of
queries; nobody else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.audit.models import AuditEvent
from kithkin.care import plan, review
from kithkin.care.models import ActionStatus, Goal, Indicator, IndicatorKind, OwnerKind
from tests import factories
from tests.care.circle_data import (
    NOTE_CANARY,
    RESPONSE_CANARY,
    Circle,
    action_for,
    build_circle,
    end_membership,
    grant_all,
    outsiders,
)
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def review_url(client: Client) -> str:
    return reverse("care_review", kwargs={"client_id": client.pk})


@pytest.fixture
def circle(world: World) -> Circle:
    built = build_circle(world)
    Indicator.objects.create(
        goal=built.goal, kind=IndicatorKind.SCORE, instrument_id="phq9", target_score=9
    )
    sam = factories.person_of(world.client_a, "Sam Sunday")
    Indicator.objects.create(goal=built.goal, kind=IndicatorKind.RHYTHM, person=sam, target_days=7)
    now = timezone.now()
    for days in (1, 8, 15, 40, 90):  # 3 in the last four weeks, 1 in the four before, 1 older
        factories.contact(sam, occurred_at=now - timedelta(days=days))
    return built


def tallies(rows: list[review.OwnerTally]) -> dict[str, tuple[int, int, int, int, int]]:
    return {r.name: (r.agreed, r.done, r.not_possible, r.open, r.overdue) for r in rows}


def test_it_counts_actions_per_goal_and_per_person(circle: Circle) -> None:
    result = review.progress_review(circle.client)
    assert [g.goal.pk for g in result.goals] == [circle.goal.pk]
    goal = result.goals[0]
    expected = {
        "Alex Rivers": (1, 0, 1, 0, 0),
        "Mel Member": (2, 1, 0, 1, 0),
        "Olive Other": (1, 0, 0, 0, 1),
        "Cleo Clinician": (1, 0, 0, 1, 0),
    }
    assert tallies(goal.owners) == expected
    assert (goal.total.agreed, goal.total.done, goal.total.overdue) == (5, 1, 1)
    # Per person: everyone who can hold an action, in order: client, members, care team.
    assert [p.name for p in result.people] == list(expected)
    assert [p.kind for p in result.people] == [
        OwnerKind.CLIENT,
        OwnerKind.MEMBER,
        OwnerKind.MEMBER,
        OwnerKind.CLINICIAN,
    ]
    assert tallies(result.people) == expected


def test_it_counts_an_action_without_a_goal_for_the_person_only(circle: Circle) -> None:
    action_for(
        circle.client,
        circle.world.member,
        kind=OwnerKind.MEMBER,
        member=circle.member,
        title="Unlinked",
        due_on=timezone.localdate(),
        status=ActionStatus.DONE,
    )
    result = review.progress_review(circle.client)
    assert tallies(result.people)["Mel Member"] == (3, 2, 0, 1, 0)
    assert tallies(result.goals[0].owners)["Mel Member"] == (2, 1, 0, 1, 0)
    assert result.without_goal.agreed == 1


def test_it_keeps_a_member_who_left_in_the_record(circle: Circle) -> None:
    end_membership(circle.other_member)
    result = review.progress_review(circle.client)
    assert tallies(result.people)["Olive Other"] == (1, 0, 0, 0, 1)


def test_it_follows_scores_over_time_against_the_target(circle: Circle) -> None:
    indicators = review.progress_review(circle.client).goals[0].indicators
    score = next(i for i in indicators if i.is_score)
    assert [p.score for p in score.points] == [27, 9]
    assert [p.meets_target for p in score.points] == [False, True]
    assert score.progress.met
    assert score.chart is not None and len(score.chart.rows) == 2


def test_it_counts_contacts_per_four_week_period_against_the_rhythm(circle: Circle) -> None:
    indicators = review.progress_review(circle.client).goals[0].indicators
    rhythm = next(i for i in indicators if not i.is_score)
    assert [(p.contacts, p.expected, p.met) for p in rhythm.periods] == [
        (0, 4, False),
        (1, 4, False),
        (3, 4, False),
    ]
    # Whole days, back to back, the last one ending today.
    assert rhythm.periods[-1].ends_on == timezone.localdate()
    for earlier, later in zip(rhythm.periods, rhythm.periods[1:], strict=False):
        assert later.starts_on == earlier.ends_on + timedelta(days=1)
        assert (later.ends_on - later.starts_on).days == 27
    # In touch yesterday, but no period kept to the rhythm: the label reads the table's periods.
    assert isinstance(rhythm.progress, plan.RhythmProgress)
    assert rhythm.progress.periods == tuple(rhythm.periods)
    assert not rhythm.progress.met


def test_a_rhythm_with_a_person_since_marked_not_safe_is_not_followed(circle: Circle) -> None:
    indicator = Indicator.objects.get(kind=IndicatorKind.RHYTHM)
    assert indicator.person is not None
    indicator.person.not_safe = True
    indicator.person.save(update_fields=["not_safe"])
    indicators = review.progress_review(circle.client).goals[0].indicators
    rhythm = next(i for i in indicators if not i.is_score)
    assert rhythm.periods == []
    assert not rhythm.progress.met


@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_shows_the_review_page(circle: Circle, who: str) -> None:
    response = signed_in(getattr(circle.world, who)).get(review_url(circle.client))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sleep through most nights" in body
    assert "Mel Member" in body and "Olive Other" in body
    assert "PHQ-9" in body
    assert NOTE_CANARY not in body and RESPONSE_CANARY not in body
    assert AuditEvent.objects.filter(
        action="care.review.view", client_id=str(circle.client.pk), outcome="success"
    ).exists()
    report_link = reverse("care_report_pdf", kwargs={"client_id": circle.client.pk})
    assert (report_link in body) == (who == "clinician")


def test_it_draws_the_review_in_a_constant_number_of_queries(world: World) -> None:
    client = world.client_a
    member = factories.member_of(client, display_name="Extra Member")
    now = timezone.now()
    counts: list[int] = []
    made = 0
    http = signed_in(world.clinician)
    for size in (1, 6):
        for index in range(made, size):
            goal = Goal.objects.create(client=client, title=f"Goal {index}")
            Indicator.objects.create(
                goal=goal, kind=IndicatorKind.SCORE, instrument_id="gad7", target_score=5
            )
            person = factories.person_of(client, f"Person {index}")
            Indicator.objects.create(
                goal=goal, kind=IndicatorKind.RHYTHM, person=person, target_days=14
            )
            factories.contact(person, occurred_at=now - timedelta(days=index + 1))
            factories.submitted_response(
                client, "gad7", factories.all_answers("gad7", 1), when=now - timedelta(days=index)
            )
            owner = member if index % 2 else world.clinician
            action_for(
                client,
                owner,
                kind=OwnerKind.MEMBER if index % 2 else OwnerKind.CLINICIAN,
                member=client.network_members.get(user=member) if index % 2 else None,
                title=f"Action {index}",
                due_on=timezone.localdate() - timedelta(days=index - 2),
                goal=goal,
            )
        made = size
        http.get(review_url(client))  # warm the session alike for both sizes
        with CaptureQueriesContext(connection) as queries:
            response = http.get(review_url(client))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(
    "who", ["other_clients_member", "stranger", "colleague", "client_b", "admin"]
)
def test_it_refuses_everyone_else(circle: Circle, who: str) -> None:
    response = signed_in(outsiders(circle.world)[who]).get(review_url(circle.client))
    assert response.status_code == 404
    assert "Sleep through most nights" not in response.content.decode()


def test_it_refuses_the_clients_own_network_member(circle: Circle) -> None:
    grant_all(circle.member)
    response = signed_in(circle.world.member).get(review_url(circle.client))
    assert response.status_code == 404


def test_it_refuses_a_member_whose_access_was_ended(circle: Circle) -> None:
    end_membership(circle.member)
    assert signed_in(circle.world.member).get(review_url(circle.client)).status_code == 404
