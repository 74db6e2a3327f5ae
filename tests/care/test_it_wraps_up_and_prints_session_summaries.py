"""Wrapping up writes the shared summary and the plan for next time and marks the session held;
the summary PDF shows the date, who came (first names), the summary, what was said (attributed),
the actions agreed and the plan. A member's version follows the client's consent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from kithkin.care import consent, sessions
from kithkin.care.models import (
    AgendaStep,
    Goal,
    NetworkSession,
    OwnerKind,
    Participant,
    SessionStatus,
)
from tests import factories
from tests.care.session_data import action_of, member_record, said, session_of, session_url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _wrap(world: World, session: NetworkSession, **data: str) -> Any:
    return signed_in(world.clinician).post(
        session_url("care_session_wrap_up", world, session),
        {"shared_summary": "A good talk.", "next_plan": "Look at weekends.", **data},
    )


def test_it_wraps_up_and_marks_the_session_held(world: World) -> None:
    session = session_of(world, starts_at=timezone.now() - timedelta(hours=1))
    response = _wrap(world, session, mark_held="on")
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.HELD
    assert session.held_at is not None
    assert session.shared_summary == "A good talk."
    assert session.next_plan == "Look at weekends."


def test_it_will_not_mark_a_future_session_held(world: World) -> None:
    session = session_of(world)
    response = _wrap(world, session, mark_held="on")
    assert "has not started yet" in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED
    assert session.shared_summary == ""


def _held(world: World) -> NetworkSession:
    session = session_of(world, status="held", starts_at=timezone.now() - timedelta(days=1))
    session.shared_summary = "We agreed on a calmer Friday routine."
    session.next_plan = "Weekends next time."
    session.save(update_fields=["shared_summary", "next_plan"])
    Participant.objects.filter(session=session).exclude(user=world.member).update(attended=True)
    Participant.objects.filter(session=session, user=world.member).update(attended=False)
    problem = said(session, AgendaStep.PROBLEM, "Fridays are hard", world.client_a_user)
    said(session, AgendaStep.SOLUTION, "A call at seven", world.member, problem=problem)
    goal = Goal.objects.create(client=world.client_a, title="Calmer evenings")
    action_of(world, session, title="Member calls on Friday", goal=goal)
    action_of(world, session, kind=OwnerKind.CLIENT, title="Client writes a list")
    return session


@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_prints_the_summary(world: World, who: str) -> None:
    session = _held(world)
    response = signed_in(getattr(world, who)).get(session_url("care_session_pdf", world, session))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == 'inline; filename="session-summary.pdf"'


def test_the_summary_names_people_by_first_name(world: World) -> None:
    session = _held(world)
    context = sessions.summary_context(session, audience="client")
    assert context["attended"] == ["Alex", "Cleo"]
    html = render_to_string("care/session_summary_pdf.html", context)
    for text in (
        "calmer Friday routine",
        "Fridays are hard",
        "(Alex)",
        "A call at seven",
        "(Mel)",
        "Member calls on Friday",
        "Client writes a list",
        "Calmer evenings",
        "Weekends next time.",
    ):
        assert text in html
    assert "Rivers" not in html


def test_a_member_needs_consent_to_read_a_summary(world: World) -> None:
    session = _held(world)
    member = member_record(world)
    with pytest.raises(sessions.NotShared):
        sessions.summary_context(session, audience="member", scope=consent.scope_of(member))
    with pytest.raises(sessions.NotShared):
        sessions.summary_context(session, audience="member")
    consent.decide(None, member, own_actions=True)
    with pytest.raises(sessions.NotShared):
        sessions.summary_context(session, audience="member", scope=consent.scope_of(member))


def test_a_member_sees_only_their_own_actions_and_goals_if_shared(world: World) -> None:
    session = _held(world)
    member = member_record(world)
    consent.decide(None, member, session_summaries=True)
    context = sessions.summary_context(session, audience="member", scope=consent.scope_of(member))
    assert context["actions"] == []
    assert context["shared_summary"] == "We agreed on a calmer Friday routine."

    consent.decide(None, member, session_summaries=True, own_actions=True)
    context = sessions.summary_context(session, audience="member", scope=consent.scope_of(member))
    assert [a.title for a in context["actions"]] == ["Member calls on Friday"]
    assert context["actions"][0].goal == ""
    assert not context["show_goals"]

    consent.decide(None, member, session_summaries=True, own_actions=True, goals=True)
    context = sessions.summary_context(session, audience="member", scope=consent.scope_of(member))
    assert context["actions"][0].goal == "Calmer evenings"
    html = render_to_string("care/session_summary_pdf.html", context)
    assert "Client writes a list" not in html


def test_a_member_of_another_client_gets_nothing(world: World) -> None:
    session = _held(world)
    other = factories.client_of(world.practice, world.clinician, display_name="Zed Other")
    factories.member_of(other)
    stranger_member = other.network_members.get()
    consent.decide(None, stranger_member, session_summaries=True, own_actions=True, goals=True)
    with pytest.raises(sessions.NotShared):
        sessions.summary_context(
            session, audience="member", scope=consent.scope_of(stranger_member)
        )


def test_a_planned_session_is_no_summary_for_a_member(world: World) -> None:
    session = session_of(world)
    member = member_record(world)
    consent.decide(None, member, session_summaries=True, own_actions=True, goals=True)
    with pytest.raises(sessions.NotShared):
        sessions.summary_context(session, audience="member", scope=consent.scope_of(member))


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers(world: World, who: str) -> None:
    session = _held(world)
    http = signed_in(getattr(world, who))
    response = http.get(session_url("care_session_pdf", world, session))
    assert response.status_code == 404
    assert not response.content.startswith(b"%PDF")
    assert http.get(session_url("care_session_wrap_up", world, session)).status_code == 404
    response = http.post(
        session_url("care_session_wrap_up", world, session), {"shared_summary": "Hijacked"}
    )
    assert response.status_code == 404
    session.refresh_from_db()
    assert session.shared_summary == "We agreed on a calmer Friday routine."
