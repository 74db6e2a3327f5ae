"""Session and action notices land in each person's inbox too, and the email follows their
preferences: someone who turned session mail off still sees the reminder in Kithkin."""

from __future__ import annotations

import pytest
from django.core import mail

from kithkin.care import sessions
from kithkin.notifications import kinds
from kithkin.notifications import services as notifications
from kithkin.notifications.models import Notification
from tests.care.session_data import in_days, session_of
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_it_puts_the_session_reminder_in_every_participants_inbox(world: World) -> None:
    notifications.save_preferences(None, world.member, {kinds.Category.SESSIONS: False})
    session = session_of(world, starts_at=in_days(3), video_link="https://meet.example.org/x")

    assert sessions.send_session_reminder(str(session.pk), 0) == 3

    told = set(
        Notification.objects.filter(kind=kinds.SESSION_REMINDER).values_list("user", flat=True)
    )
    assert told == {world.client_a_user.pk, world.member.pk, world.clinician.pk}
    # The member turned session email off: inbox only.
    emailed = {to for message in mail.outbox for to in message.to}
    assert world.member.email not in emailed
    assert {world.client_a_user.email, world.clinician.email} <= emailed
    # Strangers are told nothing, and each entry links inside the site.
    assert not Notification.objects.filter(user=world.stranger).exists()
    for note in Notification.objects.filter(kind=kinds.SESSION_REMINDER):
        assert note.url.startswith("/") and "://" not in note.url


def test_the_inbox_entry_reads_as_a_note_not_as_the_email(world: World) -> None:
    """The inbox links to the session itself and carries no attachment: its text leaves out
    the email's link, its "attached calendar file" and its signature. The email keeps them."""
    session = session_of(world, starts_at=in_days(3), video_link="https://meet.example.org/x")
    mail.outbox.clear()
    sessions.send_notice(str(session.pk), session.sequence)
    entry = Notification.objects.get(user=world.member, kind=kinds.SESSION_NOTICE)
    assert "support session" in entry.body
    assert "attached calendar file" not in entry.body
    assert "sign in" not in entry.body and "/circles/" not in entry.body
    assert not entry.body.rstrip().endswith("Kithkin")
    assert entry.url.startswith("/circles/")
    [email] = [m for m in mail.outbox if m.to == [world.member.email]]
    assert "attached calendar file" in email.body and "/circles/" in email.body
    # A stranger gets no entry at all.
    assert not Notification.objects.filter(user=world.stranger).exists()
