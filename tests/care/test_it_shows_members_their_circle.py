"""A network member's circle page shows exactly what the client shares, decided on each request:
never clinician notes, raw answers, scores or another member's actions; a kind explanation when
nothing is shared; the sessions they are invited to in any case; and nothing to anyone else."""

from __future__ import annotations

import re
import zoneinfo

import pytest
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from tests.care.circle_data import (
    CLINICIAN_ACTION_CANARY,
    DONE_ACTION,
    GOAL_TITLE,
    MEMBER_ACTION,
    NOTE_CANARY,
    OTHER_ACTION_CANARY,
    RESPONSE_CANARY,
    Circle,
    build_circle,
    circle_url,
    end_membership,
    grant,
    grant_all,
    outsiders,
)
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

NEVER = (
    NOTE_CANARY,
    RESPONSE_CANARY,
    OTHER_ACTION_CANARY,
    CLINICIAN_ACTION_CANARY,
    "Olive",  # the other member
    "Rivers",  # the client's surname: first name only
    "PHQ-9",
    "Patient Health",
    "Too tired this week",  # the client's own action note
)


@pytest.fixture
def circle(world: World) -> Circle:
    return build_circle(world)


def page(circle: Circle) -> str:
    response = signed_in(circle.world.member).get(circle_url(circle.client))
    assert response.status_code == 200
    return response.content.decode()


def test_it_explains_kindly_when_nothing_is_shared(circle: Circle) -> None:
    body = page(circle)
    assert "Alex hasn't chosen to share anything with you here yet." in body
    assert "That's their choice." in body
    for hidden in (GOAL_TITLE, MEMBER_ACTION, DONE_ACTION, "check-ins in the last"):
        assert hidden not in body
    for canary in NEVER:
        assert canary not in body


def test_it_always_shows_the_session_an_invited_member_needs_to_come_to(circle: Circle) -> None:
    circle.world.member.time_zone = "Asia/Tokyo"
    circle.world.member.save(update_fields=["time_zone"])
    body = page(circle)
    assert "Coming up" in body
    assert "Harbour Practice, room 2" in body
    assert 'href="https://meet.example.test/abc"' in body
    assert f"/sessions/{circle.planned.pk}/session.ics" in body
    # In the member's own time zone.
    local = timezone.localtime(circle.planned.starts_at, zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert local.strftime("%H:%M") in body


def test_it_leaves_out_a_session_the_member_is_not_invited_to(circle: Circle) -> None:
    circle.planned.participants.filter(member=circle.member).delete()
    body = page(circle)
    assert "Coming up" not in body
    assert "room 2" not in body


@pytest.mark.parametrize(
    ("key", "shown", "hidden"),
    [
        ("goals", [GOAL_TITLE], [MEMBER_ACTION, "Past meetings", "Check-ins"]),
        ("own_actions", [MEMBER_ACTION, DONE_ACTION], [GOAL_TITLE, "Past meetings", "Check-ins"]),
        ("session_summaries", ["Past meetings", "evenings"], [GOAL_TITLE, MEMBER_ACTION]),
        ("checkin_summary", ["Check-ins", "Alex has completed 2 check-ins"], [GOAL_TITLE]),
    ],
)
def test_it_shows_exactly_what_is_granted(
    circle: Circle, key: str, shown: list[str], hidden: list[str]
) -> None:
    grant(circle.member, **{key: True})
    body = page(circle)
    for text in shown:
        assert text in body, text
    for text in hidden:
        assert text not in body, text
    assert "hasn't chosen to share anything" not in body
    for canary in NEVER:
        assert canary not in body


def test_it_never_shows_what_is_not_shareable_even_when_everything_is_granted(
    circle: Circle,
) -> None:
    grant_all(circle.member)
    body = page(circle)
    for text in (GOAL_TITLE, MEMBER_ACTION, DONE_ACTION, "Past meetings", "Check-ins"):
        assert text in body
    for canary in NEVER:
        assert canary not in body
    # The check-in summary is words only: no score, no band (only "2 check-ins", "4 weeks").
    section = body.split('id="checkins"', 1)[1].split("</section>", 1)[0]
    assert "Mood: a little better" in section
    assert set(re.findall(r"\d", section)) <= {"2", "4"}
    assert "Mild" not in section and "Severe" not in section and "severe" not in section


def test_a_revocation_takes_effect_on_the_very_next_request(circle: Circle) -> None:
    grant_all(circle.member)
    http = signed_in(circle.world.member)
    assert GOAL_TITLE in http.get(circle_url(circle.client)).content.decode()
    grant(circle.member, own_actions=True)
    body = http.get(circle_url(circle.client)).content.decode()
    assert GOAL_TITLE not in body
    assert "Check-ins" not in body
    assert MEMBER_ACTION in body
    grant(circle.member)
    body = http.get(circle_url(circle.client)).content.decode()
    assert MEMBER_ACTION not in body
    assert "hasn't chosen to share anything" in body


def test_it_audits_each_read(circle: Circle) -> None:
    page(circle)
    assert AuditEvent.objects.filter(
        action="care.circle.view",
        client_id=str(circle.client.pk),
        actor_id=circle.world.member.pk,
        outcome="success",
    ).exists()


def test_the_member_home_links_to_the_circle(circle: Circle) -> None:
    body = signed_in(circle.world.member).get("/").content.decode()
    assert circle_url(circle.client) in body


@pytest.mark.parametrize(
    "who",
    ["other_clients_member", "stranger", "colleague", "client_b", "admin", "clinician", "client_a"],
)
def test_it_refuses_everyone_else(circle: Circle, who: str) -> None:
    grant_all(circle.member)
    user = outsiders(circle.world)[who]
    response = signed_in(user).get(circle_url(circle.client))
    assert response.status_code == 404
    body = response.content.decode()
    assert GOAL_TITLE not in body
    assert AuditEvent.objects.filter(action="care.circle.view", outcome="denied").exists()


def test_it_refuses_a_member_whose_access_was_ended(circle: Circle) -> None:
    grant_all(circle.member)
    http = signed_in(circle.world.member)
    assert http.get(circle_url(circle.client)).status_code == 200
    end_membership(circle.member)
    response = http.get(circle_url(circle.client))
    assert response.status_code == 404
    assert GOAL_TITLE not in response.content.decode()
