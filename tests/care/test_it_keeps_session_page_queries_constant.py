"""The session page runs the same number of queries for a small session and a large one (more
people, goals, indicators, contributions, actions and notes): nothing is loaded row by row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kithkin.accounts.models import NetworkMember
from kithkin.care.models import (
    AgendaStep,
    ClinicianNote,
    Goal,
    Indicator,
    IndicatorKind,
    NetworkSession,
    OwnerKind,
    Participant,
    ParticipantKind,
)
from kithkin.network.models import Person
from tests import factories
from tests.care.session_data import action_of, said, session_of, session_url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _grow(world: World, session: NetworkSession, previous: NetworkSession, size: int) -> None:
    for n in range(size):
        user = factories.member_of(world.client_a, display_name=f"Helper {n}")
        member = NetworkMember.objects.get(client=world.client_a, user=user)
        Participant.objects.create(
            session=session, kind=ParticipantKind.MEMBER, user=user, member=member
        )
        person: Person = factories.person_of(world.client_a, f"Friend {n}")
        factories.contact(person)
        goal = Goal.objects.create(client=world.client_a, title=f"Goal {n}")
        Indicator.objects.create(
            goal=goal, kind=IndicatorKind.SCORE, instrument_id="phq9", target_score=5
        )
        Indicator.objects.create(goal=goal, kind=IndicatorKind.RHYTHM, person=person, target_days=7)
        problem = said(session, AgendaStep.PROBLEM, f"Problem {n}", user)
        said(session, AgendaStep.SOLUTION, f"Idea {n}", world.client_a_user, problem=problem)
        said(session, AgendaStep.SOLUTION, f"Loose idea {n}", user)
        said(session, AgendaStep.REVIEW, f"Looking back {n}", world.clinician)
        action_of(world, session, title=f"Action {n}", goal=goal)
        action_of(world, session, kind=OwnerKind.CLIENT, title=f"Client action {n}")
        action_of(
            world,
            previous,
            kind=OwnerKind.CLINICIAN,
            title=f"Earlier action {n}",
            due_on=timezone.localdate() - timedelta(days=1),
        )
        ClinicianNote.objects.create(session=session, author=world.clinician, text=f"Note {n}")
    factories.submitted_response(world.client_a, "phq9")


def _count(world: World, user_name: str, session: NetworkSession) -> int:
    http = signed_in(getattr(world, user_name))
    url = session_url("care_session", world, session)
    http.get(url)  # warm caches that are not per page (the instrument library)
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_runs_the_same_queries_at_two_sizes(world: World, who: str) -> None:
    previous = session_of(world, status="held", starts_at=timezone.now() - timedelta(days=14))
    session = session_of(world, starts_at=timezone.now() + timedelta(hours=1))
    _grow(world, session, previous, 1)
    small = _count(world, who, session)
    _grow(world, session, previous, 6)
    large = _count(world, who, session)
    assert large == small
    # The page really shows the large session (and the notes to the care team only).
    body = signed_in(getattr(world, who)).get(session_url("care_session", world, session))
    text = body.content.decode()
    assert "Problem 5" in text and "Earlier action 5" in text and "Goal 5" in text
    assert ("Note 5" in text) is (who == "clinician")


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers(world: World, who: str) -> None:
    session = session_of(world)
    assert (
        signed_in(getattr(world, who)).get(session_url("care_session", world, session)).status_code
        == 404
    )
