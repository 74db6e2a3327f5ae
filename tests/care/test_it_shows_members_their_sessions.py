"""A member opens a held session's shared summary (page and PDF) only while the client shares
session summaries; a planned session's logistics and calendar file only if they are invited;
never the clinician's private notes or another member's actions; nobody else gets anything."""

from __future__ import annotations

import pytest

from kithkin.audit.models import AuditEvent
from kithkin.care.models import SessionStatus
from tests.care.circle_data import (
    MEMBER_ACTION,
    NOTE_CANARY,
    OTHER_ACTION_CANARY,
    SUMMARY_TEXT,
    Circle,
    build_circle,
    end_membership,
    grant,
    grant_all,
    outsiders,
    session_url,
)
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle(world: World) -> Circle:
    return build_circle(world)


def test_it_shows_a_held_session_summary_when_shared(circle: Circle) -> None:
    http = signed_in(circle.world.member)
    url = session_url(circle.client, circle.held)
    assert http.get(url).status_code == 404  # nothing shared yet
    grant(circle.member, session_summaries=True)
    response = http.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert SUMMARY_TEXT in body
    assert "Look back at the Sunday calls." in body
    assert "Evenings alone" in body  # a problem raised, attributed
    for canary in (NOTE_CANARY, OTHER_ACTION_CANARY, MEMBER_ACTION):
        assert canary not in body  # own actions are not shared yet
    assert AuditEvent.objects.filter(
        action="care.circle.session.view", object_id=str(circle.held.pk), outcome="success"
    ).exists()


def test_it_lists_only_the_members_own_actions_in_the_summary(circle: Circle) -> None:
    grant_all(circle.member)
    body = (
        signed_in(circle.world.member).get(session_url(circle.client, circle.held)).content.decode()
    )
    assert MEMBER_ACTION in body
    assert OTHER_ACTION_CANARY not in body
    assert NOTE_CANARY not in body


def test_a_revocation_hides_the_summary_on_the_next_request(circle: Circle) -> None:
    grant(circle.member, session_summaries=True)
    http = signed_in(circle.world.member)
    url = session_url(circle.client, circle.held)
    assert http.get(url).status_code == 200
    grant(circle.member, goals=True)
    assert http.get(url).status_code == 404
    assert http.get(session_url(circle.client, circle.held, "circle_session_pdf")).status_code == (
        404
    )


def test_it_prints_the_summary_pdf_only_when_shared(circle: Circle) -> None:
    http = signed_in(circle.world.member)
    url = session_url(circle.client, circle.held, "circle_session_pdf")
    refused = http.get(url)
    assert refused.status_code == 404
    assert not refused.content.startswith(b"%PDF")
    grant(circle.member, session_summaries=True)
    response = http.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == 'inline; filename="session-summary.pdf"'
    assert AuditEvent.objects.filter(
        action="care.circle.session.pdf", object_id=str(circle.held.pk), outcome="success"
    ).exists()


def test_it_shows_an_invited_member_the_planned_session_whatever_is_shared(
    circle: Circle,
) -> None:
    http = signed_in(circle.world.member)
    response = http.get(session_url(circle.client, circle.planned))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Harbour Practice, room 2" in body
    assert "Add to my calendar" in body
    # A planned session has no summary to print.
    assert http.get(
        session_url(circle.client, circle.planned, "circle_session_pdf")
    ).status_code == (404)


def test_it_gives_an_invited_member_the_calendar_file(circle: Circle) -> None:
    response = signed_in(circle.world.member).get(
        session_url(circle.client, circle.planned, "circle_session_ics")
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "Alex" not in response["Content-Disposition"]
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body
    assert "Harbour Practice" in body
    assert "Alex" not in body  # the event is named neutrally


def test_it_refuses_the_planned_session_to_a_member_who_is_not_invited(circle: Circle) -> None:
    grant_all(circle.other_member)
    http = signed_in(circle.other_user)
    assert http.get(session_url(circle.client, circle.planned)).status_code == 404
    ics = session_url(circle.client, circle.planned, "circle_session_ics")
    assert http.get(ics).status_code == 404


def test_it_refuses_a_cancelled_session(circle: Circle) -> None:
    circle.planned.status = SessionStatus.CANCELLED
    circle.planned.save(update_fields=["status"])
    http = signed_in(circle.world.member)
    assert http.get(session_url(circle.client, circle.planned)).status_code == 404
    ics = session_url(circle.client, circle.planned, "circle_session_ics")
    assert http.get(ics).status_code == 404


def test_the_held_session_has_no_calendar_file(circle: Circle) -> None:
    grant_all(circle.member)
    url = session_url(circle.client, circle.held, "circle_session_ics")
    assert signed_in(circle.world.member).get(url).status_code == 404


@pytest.mark.parametrize("name", ["circle_session", "circle_session_ics", "circle_session_pdf"])
@pytest.mark.parametrize(
    "who",
    ["other_clients_member", "stranger", "colleague", "client_b", "admin", "clinician", "client_a"],
)
def test_it_refuses_everyone_else(circle: Circle, who: str, name: str) -> None:
    grant_all(circle.member)
    http = signed_in(outsiders(circle.world)[who])
    for session in (circle.held, circle.planned):
        response = http.get(session_url(circle.client, session, name))
        assert response.status_code == 404
        assert not response.content.startswith(b"%PDF")
        assert b"BEGIN:VCALENDAR" not in response.content


@pytest.mark.parametrize("name", ["circle_session", "circle_session_ics", "circle_session_pdf"])
def test_it_refuses_a_member_whose_access_was_ended(circle: Circle, name: str) -> None:
    grant_all(circle.member)
    end_membership(circle.member)
    http = signed_in(circle.world.member)
    for session in (circle.held, circle.planned):
        assert http.get(session_url(circle.client, session, name)).status_code == 404
