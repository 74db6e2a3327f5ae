"""Moving a session sends everyone an updated calendar entry (same UID, SEQUENCE + 1) and moves
the reminder; cancelling sends METHOD:CANCEL. The .ics download is the client's and the care
team's only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from kithkin.care import sessions
from kithkin.care.models import NetworkSession, SessionStatus
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job
from kithkin.measures import services as measures
from kithkin.measures.models import Assignment, Cadence
from kithkin.notifications.models import Notification
from tests import factories
from tests.care.session_data import (
    booking,
    calendars_sent_to,
    event_of,
    local_input,
    request_as,
    session_of,
    session_url,
    url,
)
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _when(days: int) -> datetime:
    moment = timezone.now() + timedelta(days=days)
    return moment.replace(hour=10, minute=0, second=0, microsecond=0).astimezone(UTC)


def _booked(world: World, capture: Callable[..., Any]) -> NetworkSession:
    with capture(execute=True):
        signed_in(world.clinician).post(
            url("care_session_new", world), booking(world, _when(10), "Europe/London")
        )
    return NetworkSession.objects.get(client=world.client_a)


def _move(world: World, session: NetworkSession, starts_at: datetime, **extra: Any) -> Any:
    data = {
        "reschedule": "1",
        "starts_at": local_input(starts_at, "Europe/London"),
        "duration_minutes": "60",
        "place": "Harbour Practice, room 4",
        "video_link": "",
        **extra,
    }
    return signed_in(world.clinician).post(session_url("care_session_edit", world, session), data)


def test_it_sends_an_update_and_moves_the_reminder(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    session = _booked(world, django_capture_on_commit_callbacks)
    first_uid = str(event_of(calendars_sent_to(world.member.email)[0])["uid"])
    new_time = _when(12)

    with django_capture_on_commit_callbacks(execute=True):
        response = _move(world, session, new_time)

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.sequence == 1
    assert session.starts_at == new_time
    for user in (world.client_a_user, world.member, world.clinician):
        _invitation, update = calendars_sent_to(user.email)
        event = event_of(update)
        assert str(update["method"]) == "REQUEST"
        assert str(event["uid"]) == first_uid
        assert int(str(event["sequence"])) == 1
        assert event.decoded("dtstart") == new_time
        assert str(event["location"]) == "Harbour Practice, room 4"
    assert any(m.subject.startswith("Changed:") for m in mail.outbox)

    # The old reminder stands down; the new one is keyed by the new sequence.
    old = Job.objects.get(key=f"care.session_reminder:{session.pk}:0")
    new = Job.objects.get(key=f"care.session_reminder:{session.pk}:1")
    assert new.run_after == new_time - timedelta(hours=24)
    sent = len(mail.outbox)
    jobs.run_due("test", now=old.run_after + timedelta(minutes=1))
    old.refresh_from_db()
    assert old.state == "done"
    assert len(mail.outbox) == sent
    jobs.run_due("test", now=new.run_after + timedelta(minutes=1))
    reminders = [m for m in mail.outbox[sent:] if m.subject.startswith("Reminder:")]
    assert sorted(to for m in reminders for to in m.to) == sorted(
        [world.client_a_user.email, world.member.email, world.clinician.email]
    )


def test_it_changes_nothing_when_nothing_changed(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    session = _booked(world, django_capture_on_commit_callbacks)
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = _move(
            world, session, session.starts_at, duration_minutes="90", place=session.place
        )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.sequence == 0
    assert len(mail.outbox) == sent


def test_it_refuses_a_bad_new_time(world: World) -> None:
    session = session_of(world)
    response = _move(world, session, _when(-1))
    assert "That time has already passed" in response.content.decode()
    response = _move(world, session, _when(3), place="", video_link="http://insecure.example")
    assert "starting with https://" in response.content.decode()
    session.refresh_from_db()
    assert session.sequence == 0


def test_it_cancels_and_tells_everyone(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    session = _booked(world, django_capture_on_commit_callbacks)
    edit = session_url("care_session_edit", world, session)

    response = signed_in(world.clinician).post(edit, {"cancel": "1"})
    assert "Tick the box to confirm the cancellation" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.clinician).post(edit, {"cancel": "1", "confirm": "on"})

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert session.sequence == 1
    for user in (world.client_a_user, world.member, world.clinician):
        cancellation = calendars_sent_to(user.email)[-1]
        assert str(cancellation["method"]) == "CANCEL"
        event = event_of(cancellation)
        assert str(event["status"]) == "CANCELLED"
        assert int(str(event["sequence"])) == 1
    # The reminder finds the session cancelled and sends nothing.
    sent = len(mail.outbox)
    reminder = Job.objects.get(key=f"care.session_reminder:{session.pk}:0")
    jobs.run_due("test", now=reminder.run_after + timedelta(minutes=1))
    assert len(mail.outbox) == sent
    # A cancelled session cannot be moved or cancelled again.
    again = signed_in(world.clinician).post(edit, {"cancel": "1", "confirm": "on"})
    assert again.status_code == 302
    with pytest.raises(sessions.SessionError):
        sessions.cancel(request_as(world.clinician), session)


def test_cancelling_puts_before_session_check_ins_back_to_wait_or_on_the_next_session(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    checkin = factories.assignment(world.client_a, "five_s", cadence=Cadence.BEFORE_SESSION)
    Assignment.objects.filter(pk=checkin.pk).update(next_due_at=None)
    # The stranger's practice has its own before-session check-in, due for its own session.
    other = factories.assignment(world.other_client, "five_s", cadence=Cadence.BEFORE_SESSION)
    other_due = timezone.now() + timedelta(days=3)
    Assignment.objects.filter(pk=other.pk).update(next_due_at=other_due)
    first = _booked(world, django_capture_on_commit_callbacks)
    checkin.refresh_from_db()
    assert checkin.next_due_at == first.starts_at - timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.clinician).post(
            url("care_session_new", world), booking(world, _when(30), "Europe/London")
        )
    second = NetworkSession.objects.filter(client=world.client_a).exclude(pk=first.pk).get()

    # Cancelling the first: the check-in follows the second session.
    sessions.cancel(request_as(world.clinician), first)
    checkin.refresh_from_db()
    assert checkin.next_due_at == second.starts_at - timedelta(days=2)
    # Cancelling the second too: nothing booked, so it waits, and its reminder sends nothing.
    sessions.cancel(request_as(world.clinician), second)
    checkin.refresh_from_db()
    assert checkin.next_due_at is None
    reminders = [
        job
        for job in Job.objects.filter(kind=measures.CHECKIN_DUE_JOB)
        if job.payload["assignment"] == str(checkin.pk)
    ]
    assert len(reminders) == 2
    before = Notification.objects.filter(user=world.client_a_user).count()
    for job in reminders:
        measures.send_checkin_due(job.payload["assignment"], job.payload["due"])
    assert Notification.objects.filter(user=world.client_a_user).count() == before
    other.refresh_from_db()
    assert other.next_due_at == other_due


@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_offers_the_calendar_file(world: World, who: str) -> None:
    session = session_of(world)
    response = signed_in(getattr(world, who)).get(session_url("care_session_ics", world, session))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "Alex" not in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["method"]) == "PUBLISH"
    event = event_of(calendar)
    assert event.decoded("dtstart") == session.starts_at
    assert "Rivers" not in response.content.decode()


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers(world: World, who: str) -> None:
    session = session_of(world)
    http = signed_in(getattr(world, who))
    assert http.get(session_url("care_session_edit", world, session)).status_code == 404
    assert http.get(session_url("care_session_ics", world, session)).status_code == 404
    response = http.post(
        session_url("care_session_edit", world, session), {"cancel": "1", "confirm": "on"}
    )
    assert response.status_code == 404
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED


def test_it_does_not_let_the_client_move_a_session(world: World) -> None:
    session = session_of(world)
    http = signed_in(world.client_a_user)
    response = http.post(
        session_url("care_session_edit", world, session), {"cancel": "1", "confirm": "on"}
    )
    assert response.status_code == 404
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED
