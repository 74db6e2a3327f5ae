"""Reminders go out through jobs: the day before a session to everyone taking part (time in
their own zone, place and link), and the day before an action is due to its owner. Handlers
re-check the data, send once however often they run, and stand down for a cancelled or moved
session, an action no longer open or re-dated, or a member the client no longer shares it with.
Emails name nobody's health; a member's names the client by first name only."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from kithkin.accounts.models import CareTeamMember
from kithkin.care import consent, sessions
from kithkin.care.models import ActionStatus, OwnerKind, Participant, SessionStatus
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job
from tests.care.session_data import action_of, in_days, mail_to, member_record, session_of
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


# --- sessions --------------------------------------------------------------------------------


def test_it_reminds_everyone_once_in_their_own_time_zone(world: World) -> None:
    world.member.time_zone = "Australia/Sydney"
    world.member.save(update_fields=["time_zone"])
    session = session_of(world, starts_at=in_days(3), video_link="https://meet.example.org/x")
    sessions._queue_session_reminder(session)
    job = Job.objects.get(key=f"care.session_reminder:{session.pk}:0")

    jobs.run_due("test", now=job.run_after - timedelta(minutes=1))
    assert mail.outbox == []
    jobs.run_due("test", now=job.run_after + timedelta(minutes=1))

    assert sorted(to for m in mail.outbox for to in m.to) == sorted(
        [world.client_a_user.email, world.member.email, world.clinician.email]
    )
    (to_member,) = mail_to(world.member.email)
    sydney = session.starts_at.astimezone(zoneinfo.ZoneInfo("Australia/Sydney"))
    assert sydney.strftime("%H:%M") in to_member.subject
    assert "Australia/Sydney" in to_member.body
    assert "Harbour Practice, room 2" in to_member.body
    assert "https://meet.example.org/x" in to_member.body
    assert "Alex" in to_member.body and "Rivers" not in to_member.body
    (to_clinician,) = mail_to(world.clinician.email)
    assert "Alex" not in to_clinician.body

    # Idempotent: the job running again, or the handler called again, sends nothing more.
    assert sessions.send_session_reminder(str(session.pk), 0) == 0
    Job.objects.filter(pk=job.pk).update(state="queued", attempts=0)
    jobs.run_due("test", now=job.run_after + timedelta(minutes=2))
    assert len(mail.outbox) == 3


@pytest.mark.parametrize(
    "change", ["cancelled", "moved", "held", "started", "member_left", "clinician_left"]
)
def test_it_stands_down_when_the_session_changed(world: World, change: str) -> None:
    session = session_of(world, starts_at=in_days(3))
    if change == "cancelled":
        session.status = SessionStatus.CANCELLED
    elif change == "moved":
        session.sequence = 1
    elif change == "held":
        session.status = SessionStatus.HELD
    elif change == "started":
        session.starts_at = timezone.now() - timedelta(minutes=5)
    session.save()
    if change == "member_left":
        member = member_record(world)
        member.ended_at = timezone.now()
        member.save(update_fields=["ended_at"])
    if change == "clinician_left":
        CareTeamMember.objects.filter(client=world.client_a, user=world.clinician).delete()

    sent = sessions.send_session_reminder(str(session.pk), 0)

    if change in ("member_left", "clinician_left"):
        assert sent == 2
        gone = world.member if change == "member_left" else world.clinician
        assert mail_to(gone.email) == []
    else:
        assert sent == 0
        assert mail.outbox == []


def test_it_tells_of_a_cancellation_only_those_who_were_invited(world: World) -> None:
    session = session_of(world, starts_at=in_days(3))
    Participant.objects.filter(session=session, user=world.member).update(notified_sequence=0)
    session.status = SessionStatus.CANCELLED
    session.sequence = 1
    session.save(update_fields=["status", "sequence"])
    assert sessions.send_notice(str(session.pk), 1) == 1
    (message,) = mail.outbox
    assert message.to == [world.member.email]
    assert message.subject.startswith("Cancelled:")
    assert sessions.send_notice(str(session.pk), 1) == 0


def test_a_late_invitee_gets_an_invitation_not_a_change(world: World) -> None:
    session = session_of(world, starts_at=in_days(3))
    Participant.objects.filter(session=session).exclude(user=world.member).update(
        notified_sequence=0
    )
    session.sequence = 1
    session.save(update_fields=["sequence"])
    assert sessions.send_notice(str(session.pk), 1) == 3
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects[world.member.email].startswith("Invitation:")
    assert subjects[world.clinician.email].startswith("Changed:")


# --- actions ---------------------------------------------------------------------------------


def test_it_reminds_a_member_of_their_action_once(world: World) -> None:
    member = member_record(world)
    consent.decide(None, member, own_actions=True)
    due_on = timezone.localdate() + timedelta(days=4)
    action = action_of(world, session_of(world), title="Call Alex on Friday", due_on=due_on)
    sessions.queue_action_reminder(action)
    job = Job.objects.get(key=f"care.action_reminder:{action.pk}")

    jobs.run_due("test", now=job.run_after + timedelta(minutes=1))

    (message,) = mail.outbox
    assert message.to == [world.member.email]
    assert "Alex" in message.body and "Rivers" not in message.body
    # The title stays inside Kithkin.
    assert "Call Alex on Friday" not in f"{message.subject} {message.body}"
    assert f"/circles/{world.client_a.pk}/actions/{action.pk}/" in message.body
    action.refresh_from_db()
    assert action.reminded_for == due_on
    assert sessions.send_action_reminder(str(action.pk), due_on.isoformat()) is False
    assert len(mail.outbox) == 1

    # The link opens for the member, and for nobody else.
    path = f"/circles/{world.client_a.pk}/actions/{action.pk}/"
    assert signed_in(world.member).get(path).status_code == 200
    for stranger in (world.stranger, world.colleague, world.client_b_user):
        assert signed_in(stranger).get(path).status_code == 404


@pytest.mark.parametrize("kind", [OwnerKind.CLIENT, OwnerKind.CLINICIAN])
def test_it_reminds_the_client_and_the_clinician(world: World, kind: str) -> None:
    action = action_of(world, session_of(world), kind=kind)
    assert sessions.send_action_reminder(str(action.pk), action.due_on.isoformat()) is True
    (message,) = mail.outbox
    path = f"/clients/{world.client_a.pk}/care/actions/{action.pk}/"
    assert path in message.body
    owner = world.client_a_user if kind == OwnerKind.CLIENT else world.clinician
    assert message.to == [owner.email]
    assert signed_in(owner).get(path).status_code == 200
    assert signed_in(world.stranger).get(path).status_code == 404
    if kind == OwnerKind.CLINICIAN:
        assert "Alex" not in message.body


@pytest.mark.parametrize("change", ["done", "not_possible", "redated", "no_consent", "past"])
def test_it_sends_nothing_once_the_action_changed(world: World, change: str) -> None:
    member = member_record(world)
    consent.decide(None, member, own_actions=change != "no_consent")
    due_on = timezone.localdate() + timedelta(days=4)
    action = action_of(world, session_of(world), due_on=due_on)
    payload_due = due_on.isoformat()
    if change in ("done", "not_possible"):
        action.status = ActionStatus(change)
    elif change == "redated":
        action.due_on = due_on + timedelta(days=7)
    elif change == "past":
        action.due_on = timezone.localdate() - timedelta(days=2)
        payload_due = action.due_on.isoformat()
    action.save()

    assert sessions.send_action_reminder(str(action.pk), payload_due) is False
    assert mail.outbox == []


def test_it_forgets_a_deleted_session_or_action(world: World) -> None:
    session = session_of(world)
    action = action_of(world, session)
    session_id, action_id = str(session.pk), str(action.pk)
    action.delete()
    session.delete()
    assert sessions.send_session_reminder(session_id, 0) == 0
    assert sessions.send_notice(session_id, 0) == 0
    assert sessions.send_action_reminder(action_id, "2030-01-01") is False
