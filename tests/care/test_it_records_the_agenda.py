"""The structured agenda: review, problems and solutions are written down in the words of whoever
said it (a participant), a solution may answer a problem of the same session, attendance is
recorded, and the review step shows the goals and the actions due since last time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from kithkin.care.models import (
    ActionStatus,
    AgendaStep,
    Contribution,
    Goal,
    NetworkSession,
    OwnerKind,
    Participant,
)
from tests import factories
from tests.care.session_data import action_of, said, session_of, session_url, url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _say(world: World, session: NetworkSession, **data: str) -> Any:
    posted = {f"said-{key}": value for key, value in data.items()}
    return signed_in(world.clinician).post(
        session_url("care_session_contribute", world, session), posted
    )


def test_it_attributes_each_contribution(world: World) -> None:
    session = session_of(world)
    response = _say(
        world,
        session,
        step="problem",
        said_by=str(world.member.pk),
        text="Friday evenings are when it goes wrong",
    )
    assert response.status_code == 302
    problem = Contribution.objects.get(session=session)
    assert problem.said_by == world.member
    assert problem.recorded_by == world.clinician
    assert problem.step == AgendaStep.PROBLEM

    _say(
        world,
        session,
        step="solution",
        said_by=str(world.client_a_user.pk),
        text="Mel calls at seven on Fridays",
        problem=str(problem.pk),
    )
    solution = Contribution.objects.get(session=session, step=AgendaStep.SOLUTION)
    assert solution.problem == problem
    assert solution.said_by == world.client_a_user
    assert AuditEvent.objects.filter(
        action="care.session.contribute", object_id=str(solution.pk)
    ).exists()

    for user in (world.clinician, world.client_a_user):
        body = signed_in(user).get(session_url("care_session", world, session)).content.decode()
        assert "Friday evenings are when it goes wrong" in body
        assert "— Mel Member" in body
        assert "Mel calls at seven on Fridays" in body
        assert "— Alex Rivers" in body
        # The template's prompts are shown at each step.
        assert "Which places, people, times or feelings make using more likely" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"step": "problem", "said_by": "", "text": "x"}, "Choose who said it"),
        ({"step": "problem", "said_by": "COLLEAGUE", "text": "x"}, "Choose who said it"),
        ({"step": "problem", "said_by": "MEMBER", "text": ""}, "Write down what was said"),
        ({"step": "gossip", "said_by": "MEMBER", "text": "x"}, "Choose the step of the agenda"),
        (
            {"step": "review", "said_by": "MEMBER", "text": "x", "problem": "THIS"},
            "Only a solution can answer a problem",
        ),
        (
            {"step": "solution", "said_by": "MEMBER", "text": "x", "problem": "OTHER"},
            "That problem was not raised in this session",
        ),
    ],
)
def test_it_names_what_is_wrong(world: World, data: dict[str, str], message: str) -> None:
    session = session_of(world)
    other = session_of(world, starts_at=timezone.now() + timedelta(days=30))
    elsewhere = said(other, AgendaStep.PROBLEM, "Another session's problem", world.member)
    people = {"COLLEAGUE": str(world.colleague.pk), "MEMBER": str(world.member.pk)}
    data = {k: people.get(v, v) for k, v in data.items()}
    here = said(session, AgendaStep.PROBLEM, "This session's problem", world.member)
    data["problem"] = {"OTHER": str(elsewhere.pk), "THIS": str(here.pk)}.get(
        data.get("problem", ""), ""
    )
    response = _say(world, session, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(Contribution.objects.filter(session=session)) == [here]


def test_it_records_attendance(world: World) -> None:
    session = session_of(world, starts_at=timezone.now() - timedelta(hours=1))
    client_row, member_row, clinician_row = (
        Participant.objects.get(session=session, user=user)
        for user in (world.client_a_user, world.member, world.clinician)
    )
    response = signed_in(world.clinician).post(
        session_url("care_session_attendance", world, session),
        {
            f"attendance-p{client_row.pk}": "yes",
            f"attendance-p{member_row.pk}": "no",
            f"attendance-p{clinician_row.pk}": "yes",
        },
    )
    assert response.status_code == 302
    assert dict(Participant.objects.filter(session=session).values_list("user_id", "attended")) == {
        world.client_a_user.pk: True,
        world.member.pk: False,
        world.clinician.pk: True,
    }
    body = signed_in(world.client_a_user).get(session_url("care_session", world, session))
    assert "Did not come" in body.content.decode()


def test_it_reviews_goals_and_the_actions_due_since_last_time(world: World) -> None:
    previous = session_of(world, starts_at=timezone.now() - timedelta(days=14), status="held")
    session = session_of(world, starts_at=timezone.now() + timedelta(hours=2))
    goal = Goal.objects.create(client=world.client_a, title="Sleep through most nights")
    factories.submitted_response(world.client_a, "phq9")
    today = timezone.localdate()
    action_of(
        world,
        previous,
        title="Done since last time",
        due_on=today - timedelta(days=3),
        status=ActionStatus.DONE,
        goal=goal,
    )
    action_of(world, previous, title="Missed and still open", due_on=today - timedelta(days=2))
    action_of(
        world,
        None,
        title="Closed long ago",
        due_on=today - timedelta(days=40),
        status=ActionStatus.DONE,
    )
    action_of(world, previous, title="Not due yet", due_on=today + timedelta(days=20))
    action_of(world, session, title="Agreed today", kind=OwnerKind.CLIENT)

    body = signed_in(world.clinician).get(session_url("care_session", world, session))
    text = body.content.decode()
    review = text[text.index('id="step-review"') : text.index('id="step-problem"')]
    assert "Sleep through most nights" in review
    assert "Done since last time" in review
    assert "Missed and still open" in review
    assert "Past its date" in review
    assert "Closed long ago" not in review
    assert "Not due yet" not in review
    agreed = text[text.index('id="step-action"') : text.index('id="step-plan"')]
    assert "Agreed today" in agreed


def test_it_keeps_the_forms_from_the_client(world: World) -> None:
    session = session_of(world)
    body = signed_in(world.client_a_user).get(session_url("care_session", world, session))
    text = body.content.decode()
    assert body.status_code == 200
    assert "Add to the agenda" not in text
    assert "Save attendance" not in text
    assert session_url("care_session_action_add", world, session) not in text
    response = signed_in(world.client_a_user).post(
        session_url("care_session_contribute", world, session),
        {"said-step": "problem", "said-said_by": str(world.client_a_user.pk), "said-text": "x"},
    )
    assert response.status_code == 404
    assert not Contribution.objects.exists()


def test_it_takes_posts_only(world: World) -> None:
    session = session_of(world)
    http = signed_in(world.clinician)
    assert http.get(session_url("care_session_contribute", world, session)).status_code == 405
    assert http.get(session_url("care_session_attendance", world, session)).status_code == 405


def test_it_adds_nothing_to_a_cancelled_session(world: World) -> None:
    session = session_of(world, status="cancelled")
    response = _say(world, session, step="problem", said_by=str(world.member.pk), text="x")
    assert "This session was cancelled" in response.content.decode()
    assert not Contribution.objects.exists()


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers(world: World, who: str) -> None:
    session = session_of(world)
    said(session, AgendaStep.PROBLEM, "Private words", world.member)
    http = signed_in(getattr(world, who))
    page = http.get(session_url("care_session", world, session))
    assert page.status_code == 404
    assert "Private words" not in page.content.decode()
    response = http.post(
        session_url("care_session_contribute", world, session),
        {"said-step": "problem", "said-said_by": str(world.member.pk), "said-text": "x"},
    )
    assert response.status_code == 404
    participant = Participant.objects.get(session=session, user=world.member)
    response = http.post(
        session_url("care_session_attendance", world, session),
        {f"attendance-p{participant.pk}": "yes"},
    )
    assert response.status_code == 404
    assert Contribution.objects.count() == 1
    participant.refresh_from_db()
    assert participant.attended is None


def test_it_opens_each_page_for_the_care_team_and_the_client(world: World) -> None:
    session = session_of(world, video_link="https://meet.example.org/x")
    mine = action_of(world, session, kind=OwnerKind.CLIENT, title="Write a list")
    staff_pages = [
        session_url(name, world, session)
        for name in ("care_session_edit", "care_session_action_add", "care_session_wrap_up")
    ]
    shared_pages = [
        session_url("care_session", world, session),
        url("care_sessions", world),
        url("care_actions", world),
        url("care_action", world, action_id=mine.pk),
    ]
    for page in staff_pages + shared_pages:
        response = signed_in(world.clinician).get(page)
        assert response.status_code == 200, page
    for page in shared_pages:
        response = signed_in(world.client_a_user).get(page)
        assert response.status_code == 200, page
    listing = signed_in(world.client_a_user).get(url("care_actions", world)).content.decode()
    assert "Write a list" in listing
    for page in staff_pages:
        assert signed_in(world.client_a_user).get(page).status_code == 404
    detail = signed_in(world.clinician).get(session_url("care_session", world, session))
    assert 'href="https://meet.example.org/x"' in detail.content.decode()


def test_it_never_links_an_unsafe_video_address(world: World) -> None:
    session = session_of(world, video_link="javascript:alert(1)")
    body = signed_in(world.clinician).get(session_url("care_session", world, session))
    assert 'href="javascript:' not in body.content.decode()
