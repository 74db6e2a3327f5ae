"""The care team books a network session: time in their own zone (stored in UTC), a place or an
https video link, and the people taking part, each of whom gets an invitation with a calendar
file. Before-session check-ins fall due and the reminder is queued. Bad input is named."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from kithkin.care import sessions
from kithkin.care.models import NetworkSession, Participant, ParticipantKind
from kithkin.jobs.models import Job
from kithkin.measures.models import Cadence
from tests import factories
from tests.care.session_data import booking, calendars_sent_to, event_of, mail_to, session_url, url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _when(days: int = 20, hour: int = 18) -> datetime:
    """A whole minute some days ahead, in UTC."""
    moment = timezone.now() + timedelta(days=days)
    return moment.replace(hour=hour, minute=30, second=0, microsecond=0).astimezone(UTC)


def _book(world: World, capture: Callable[..., Any], **overrides: Any) -> Any:
    world.clinician.time_zone = "Asia/Tokyo"
    world.clinician.save(update_fields=["time_zone"])
    data = booking(world, overrides.pop("starts_at", _when()), "Asia/Tokyo", **overrides)
    with capture(execute=True):
        return signed_in(world.clinician).post(url("care_session_new", world), data)


def test_it_books_a_session_and_invites_everyone(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    world.member.time_zone = "America/New_York"
    world.member.save(update_fields=["time_zone"])
    checkin = factories.assignment(world.client_a, "five_s", cadence=Cadence.BEFORE_SESSION)
    checkin.next_due_at = None
    checkin.save(update_fields=["next_due_at"])
    starts_at = _when()

    response = _book(world, django_capture_on_commit_callbacks, starts_at=starts_at)

    session = NetworkSession.objects.get(client=world.client_a)
    assert response.status_code == 302
    assert response["Location"] == session_url("care_session", world, session)
    # Typed as Tokyo time, stored in UTC.
    assert session.starts_at == starts_at
    assert session.duration_minutes == 90
    assert session.sequence == 0
    kinds = dict(Participant.objects.filter(session=session).values_list("user_id", "kind"))
    assert kinds == {
        world.client_a_user.pk: ParticipantKind.CLIENT,
        world.member.pk: ParticipantKind.MEMBER,
        world.clinician.pk: ParticipantKind.CLINICIAN,
    }

    # Everyone gets one invitation with a calendar file icalendar can read.
    for user in (world.client_a_user, world.member, world.clinician):
        (calendar,) = calendars_sent_to(user.email)
        assert str(calendar["method"]) == "REQUEST"
        event = event_of(calendar)
        assert str(event["uid"]) == sessions.session_uid(session)
        assert str(event["uid"]).startswith(f"{session.pk}@")
        assert event.decoded("dtstart") == starts_at
        assert event.decoded("dtend") == starts_at + timedelta(minutes=90)
        assert f"DTSTART:{starts_at:%Y%m%dT%H%M%SZ}".encode() in calendar.to_ical()
        assert int(str(event["sequence"])) == 0
        assert str(event["summary"]) == "Support session"
        assert str(event["location"]) == "Harbour Practice, room 2"
        assert user.email in str(event["attendee"])
    # No surname, no health, and each in their own time zone.
    (to_member,) = mail_to(world.member.email)
    assert "Alex" in to_member.body and "Rivers" not in to_member.body
    new_york = starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert new_york.strftime("%H:%M") in to_member.body
    assert "America/New_York" in to_member.body
    (to_clinician,) = mail_to(world.clinician.email)
    assert "Alex" not in to_clinician.body and "Alex" not in to_clinician.subject
    for message in mail_to(world.member.email) + mail_to(world.client_a_user.email):
        assert "Sleep" not in message.body and "relapse" not in message.body.lower()

    # The before-session check-in falls due, and the reminder waits for the day before.
    checkin.refresh_from_db()
    assert checkin.next_due_at is not None
    assert checkin.next_due_at < starts_at
    reminder = Job.objects.get(key=f"care.session_reminder:{session.pk}:0")
    assert reminder.run_after == starts_at - timedelta(hours=24)
    assert reminder.payload == {"id": str(session.pk), "sequence": 0}
    assert AuditEvent.objects.filter(
        action="care.session.create", object_id=str(session.pk), outcome="success"
    ).exists()


def test_it_accepts_a_video_link_instead_of_a_place(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    response = _book(
        world,
        django_capture_on_commit_callbacks,
        place="",
        video_link="https://meet.example.org/abc-def",
    )
    assert response.status_code == 302
    session = NetworkSession.objects.get(client=world.client_a)
    assert session.video_link == "https://meet.example.org/abc-def"
    event = event_of(calendars_sent_to(world.member.email)[0])
    assert str(event["location"]) == "https://meet.example.org/abc-def"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"participants": []}, "a session needs at least one participant"),
        ({"place": "", "video_link": ""}, "Give a place to meet, a video link, or both"),
        ({"video_link": "http://meet.example.org/abc"}, "starting with https://"),
        ({"video_link": "javascript:alert(1)"}, "starting with https://"),
        ({"starts_at": _when(days=-2)}, "That time has already passed"),
        ({"starts_at": _when(days=500)}, "within a year"),
        ({"duration_minutes": "5"}, "at least 15 minutes"),
        ({"participants": ["999999"]}, "can no longer take part"),
        ({"template": "astrology"}, "Choose one of the kinds of session listed"),
    ],
)
def test_it_names_the_problem_and_books_nothing(
    world: World,
    django_capture_on_commit_callbacks: Callable[..., Any],
    overrides: dict[str, Any],
    message: str,
) -> None:
    response = _book(world, django_capture_on_commit_callbacks, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NetworkSession.objects.exists()
    assert not Participant.objects.exists()
    assert mail_to(world.member.email) == []


def test_it_refuses_someone_who_is_no_longer_a_member(world: World, rf: Any) -> None:
    from tests.care.session_data import member_record, request_as

    member = member_record(world)
    member.ended_at = timezone.now()
    member.save(update_fields=["ended_at"])
    with pytest.raises(sessions.SessionError, match="can no longer take part"):
        sessions.schedule(
            request_as(world.clinician),
            world.client_a,
            template="crisis",
            starts_at=_when(),
            duration_minutes=60,
            place="Room 1",
            video_link="",
            participant_keys=[str(world.member.pk)],
        )
    assert [c.user for c in sessions.candidates(world.client_a)] == [
        world.client_a_user,
        world.clinician,
    ]


def test_it_shows_the_form_with_the_kinds_of_session(world: World) -> None:
    body = signed_in(world.clinician).get(url("care_session_new", world)).content.decode()
    for title in (
        "Substance use: preventing relapse",
        "Recovering after trauma",
        "Living with a long-term illness",
        "Family conflict",
        "Crisis support",
    ):
        assert title in body
    assert "Mel Member (network member)" in body
    assert "Colin Colleague" not in body


def test_it_lists_planned_and_earlier_sessions(world: World) -> None:
    from tests.care.session_data import session_of

    planned = session_of(world)
    held = session_of(world, starts_at=timezone.now() - timedelta(days=14), status="held")
    for user in (world.clinician, world.client_a_user):
        body = signed_in(user).get(url("care_sessions", world)).content.decode()
        assert session_url("care_session", world, planned) in body
        assert session_url("care_session", world, held) in body
    assert "Book a session" not in (
        signed_in(world.client_a_user).get(url("care_sessions", world)).content.decode()
    )


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers(world: World, who: str) -> None:
    http = signed_in(getattr(world, who))
    assert http.get(url("care_sessions", world)).status_code == 404
    assert http.get(url("care_session_new", world)).status_code == 404
    response = http.post(url("care_session_new", world), booking(world, _when(), "UTC"))
    assert response.status_code == 404
    assert not NetworkSession.objects.exists()


def test_it_does_not_let_the_client_book(world: World) -> None:
    http = signed_in(world.client_a_user)
    assert http.get(url("care_session_new", world)).status_code == 404
    assert (
        http.post(url("care_session_new", world), booking(world, _when(), "UTC")).status_code == 404
    )
