"""A member marks their own action done or not possible (with a note saying why), only while
the client shares their actions with them; never another member's, the client's or the
clinician's actions; and nobody else reaches the page."""

from __future__ import annotations

import pytest

from kithkin.audit.models import AuditEvent
from kithkin.care.models import Action, ActionStatus
from tests.care.circle_data import (
    MEMBER_ACTION,
    Circle,
    action_url,
    build_circle,
    circle_url,
    end_membership,
    grant,
    grant_all,
    outsiders,
)
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle(world: World) -> Circle:
    built = build_circle(world)
    grant(built.member, own_actions=True)
    return built


def test_it_shows_the_action_with_a_calm_form(circle: Circle) -> None:
    response = signed_in(circle.world.member).get(action_url(circle.client, circle.member_action))
    assert response.status_code == 200
    body = response.content.decode()
    assert MEMBER_ACTION in body
    assert "I did it" in body and "It wasn&#x27;t possible" in body
    # The goal's title only when goals are shared too.
    assert "Sleep through most nights" not in body
    grant(circle.member, own_actions=True, goals=True)
    body = (
        signed_in(circle.world.member)
        .get(action_url(circle.client, circle.member_action))
        .content.decode()
    )
    assert "Sleep through most nights" in body
    assert AuditEvent.objects.filter(
        action="care.circle.action.view", object_id=str(circle.member_action.pk)
    ).exists()


def test_it_marks_an_action_done(circle: Circle) -> None:
    http = signed_in(circle.world.member)
    response = http.post(
        action_url(circle.client, circle.member_action), {"status": "done", "note": "Good chat"}
    )
    assert response.status_code == 302
    assert response["Location"] == circle_url(circle.client)
    action = Action.objects.get(pk=circle.member_action.pk)
    assert action.status == ActionStatus.DONE
    assert action.status_note == "Good chat"
    assert action.status_by == circle.world.member
    assert action.status_at is not None
    assert AuditEvent.objects.filter(
        action="care.action.status", object_id=str(action.pk), actor_id=circle.world.member.pk
    ).exists()
    body = http.get(circle_url(circle.client)).content.decode()
    assert "Thank you. Alex and the care team can see your update." in body


def test_not_possible_needs_a_note(circle: Circle) -> None:
    http = signed_in(circle.world.member)
    url = action_url(circle.client, circle.member_action)
    response = http.post(url, {"status": "not_possible", "note": "   "})
    assert response.status_code == 200
    assert "Please say in a few words why it wasn&#x27;t possible." in response.content.decode()
    assert Action.objects.get(pk=circle.member_action.pk).status == ActionStatus.OPEN

    response = http.post(url, {"status": "not_possible", "note": "I was ill all week"})
    assert response.status_code == 302
    action = Action.objects.get(pk=circle.member_action.pk)
    assert action.status == ActionStatus.NOT_POSSIBLE
    assert action.status_note == "I was ill all week"


@pytest.mark.parametrize("status", ["", "open", "anything"])
def test_it_refuses_a_status_that_is_not_offered(circle: Circle, status: str) -> None:
    response = signed_in(circle.world.member).post(
        action_url(circle.client, circle.member_action), {"status": status, "note": "x"}
    )
    assert response.status_code == 200
    assert "Choose whether you did it or it wasn&#x27;t possible." in response.content.decode()
    assert Action.objects.get(pk=circle.member_action.pk).status == ActionStatus.OPEN


@pytest.mark.parametrize("which", ["other_action", "clinician_action", "client_action"])
def test_it_refuses_actions_that_are_not_the_members_own(circle: Circle, which: str) -> None:
    grant_all(circle.member)
    action: Action = getattr(circle, which)
    before = (action.status, action.status_note)
    http = signed_in(circle.world.member)
    assert http.get(action_url(circle.client, action)).status_code == 404
    response = http.post(action_url(circle.client, action), {"status": "done", "note": "x"})
    assert response.status_code == 404
    action.refresh_from_db()
    assert (action.status, action.status_note) == before
    assert AuditEvent.objects.filter(
        action="care.circle.action.view", object_id=str(action.pk), outcome="denied"
    ).exists()


def test_it_refuses_once_the_client_stops_sharing_actions(circle: Circle) -> None:
    http = signed_in(circle.world.member)
    url = action_url(circle.client, circle.member_action)
    assert http.get(url).status_code == 200
    grant(circle.member, goals=True)
    assert http.get(url).status_code == 404
    assert http.post(url, {"status": "done"}).status_code == 404
    assert Action.objects.get(pk=circle.member_action.pk).status == ActionStatus.OPEN


def test_it_refuses_the_action_under_another_clients_address(circle: Circle) -> None:
    url = action_url(circle.world.client_b, circle.member_action)
    assert signed_in(circle.world.member).get(url).status_code == 404


@pytest.mark.parametrize(
    "who",
    ["other_clients_member", "stranger", "colleague", "client_b", "admin", "clinician", "client_a"],
)
def test_it_refuses_everyone_else(circle: Circle, who: str) -> None:
    user = outsiders(circle.world)[who]
    http = signed_in(user)
    url = action_url(circle.client, circle.member_action)
    assert http.get(url).status_code == 404
    assert http.post(url, {"status": "done", "note": "x"}).status_code == 404
    assert Action.objects.get(pk=circle.member_action.pk).status == ActionStatus.OPEN


def test_it_refuses_a_member_whose_access_was_ended(circle: Circle) -> None:
    end_membership(circle.member)
    http = signed_in(circle.world.member)
    url = action_url(circle.client, circle.member_action)
    assert http.get(url).status_code == 404
    assert http.post(url, {"status": "done", "note": "x"}).status_code == 404
    assert Action.objects.get(pk=circle.member_action.pk).status == ActionStatus.OPEN
