"""Nudges: opt-in, one per drift episode, one waiting per client at a time; quiet hours, the
weekly cap and a snooze move them later and never drop them; never about a not-safe person,
even one marked so after the nudge was queued; the text says what the client would say."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone

from kithkin.accounts.models import User
from kithkin.connection import nudges, sweep
from kithkin.connection.models import Nudge, NudgeSettings, NudgeState, SkipReason
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job, JobState
from kithkin.network.models import Person
from kithkin.notifications.models import Notification
from tests.conftest import World
from tests.connection.rhythm_data import contacts_days_ago, opted_in, weekly_friend

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = datetime.UTC
TIME = datetime.time


def _at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _next(now: str, **overrides: object) -> datetime.datetime:
    options: dict[str, object] = {
        "now": _at(now),
        "zone": LONDON,
        "quiet_start": TIME(21, 0),
        "quiet_end": TIME(8, 0),
        "weekly_cap": 2,
        "snoozed_until": None,
        "sent": (),
    }
    options.update(overrides)
    return nudges.next_send_time(**options)  # type: ignore[arg-type]


# --- when a nudge may go out (pure) --------------------------------------------------------


def test_quiet_hours_spanning_midnight_defer_to_their_end() -> None:
    # 11 March 2026: London is on GMT (UTC+0).
    assert _next("2026-03-11T12:00+00:00") == _at("2026-03-11T12:00+00:00")
    assert _next("2026-03-11T21:30+00:00") == _at("2026-03-12T08:00+00:00")
    assert _next("2026-03-11T03:00+00:00") == _at("2026-03-11T08:00+00:00")
    assert _next("2026-03-11T08:00+00:00") == _at("2026-03-11T08:00+00:00")
    # In summer time (UTC+1), 08:00 in London is 07:00 UTC.
    assert _next("2026-07-01T22:00+00:00") == _at("2026-07-02T07:00+00:00")


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = {"quiet_start": TIME(12, 0), "quiet_end": TIME(14, 0)}
    assert _next("2026-03-11T12:30+00:00", **lunch) == _at("2026-03-11T14:00+00:00")
    assert _next("2026-03-11T14:30+00:00", **lunch) == _at("2026-03-11T14:30+00:00")
    none = {"quiet_start": TIME(9, 0), "quiet_end": TIME(9, 0)}
    assert _next("2026-03-11T23:30+00:00", **none) == _at("2026-03-11T23:30+00:00")


def test_the_weekly_cap_counts_a_rolling_seven_days() -> None:
    sent = (_at("2026-03-10T12:00+00:00"), _at("2026-03-06T10:00+00:00"))
    # Two in the last seven days: the next waits until the older one is a week old.
    assert _next("2026-03-11T12:00+00:00", sent=sent) == _at("2026-03-13T10:00+00:00")
    assert _next("2026-03-11T12:00+00:00", sent=sent, weekly_cap=3) == _at("2026-03-11T12:00+00:00")
    # A nudge sent eight days ago no longer counts.
    old = (_at("2026-03-10T12:00+00:00"), _at("2026-03-03T11:00+00:00"))
    assert _next("2026-03-11T12:00+00:00", sent=old) == _at("2026-03-11T12:00+00:00")


def test_a_snooze_then_quiet_hours_apply_in_turn() -> None:
    snooze = _at("2026-03-14T23:00+00:00")
    assert _next("2026-03-11T12:00+00:00", snoozed_until=snooze) == _at("2026-03-15T08:00+00:00")
    # A snooze already over changes nothing.
    assert _next("2026-03-11T12:00+00:00", snoozed_until=_at("2026-03-01T00:00+00:00")) == _at(
        "2026-03-11T12:00+00:00"
    )


# --- queueing ------------------------------------------------------------------------------


def _sweep(now: datetime.datetime | None = None) -> sweep.SweepResult:
    return sweep.run(now=now or timezone.now())


def _queued(world: World) -> list[Nudge]:
    return list(Nudge.objects.filter(client=world.client_a, state=NudgeState.QUEUED))


def _send_all() -> int:
    return jobs.run_due("test-worker", limit=100)


def _inbox(user: User) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=nudges.NOTIFICATION_KIND))


def test_nothing_is_queued_until_the_client_turns_reminders_on(world: World) -> None:
    weekly_friend(world.client_a, "Sam", last=21, now=timezone.now())
    _sweep()
    assert not Nudge.objects.exists()
    NudgeSettings.objects.create(client=world.client_a)  # saved, but off
    _sweep()
    assert not Nudge.objects.exists()
    opted_in(world.client_a)
    assert _sweep().nudges_queued == 1
    nudge = _queued(world)[0]
    job = Job.objects.get(kind=nudges.SEND_JOB)
    assert job.payload == {"nudge": str(nudge.pk)} and job.run_after == nudge.due_at


def test_it_sends_the_nudge_in_the_clients_words(world: World) -> None:
    sam = weekly_friend(world.client_a, "Sam", last=21, now=timezone.now())
    opted_in(world.client_a)
    _sweep()
    assert _send_all() == 1
    [notification] = _inbox(world.client_a_user)
    assert notification.title == "A reminder to get in touch"
    assert notification.body == (
        "It's been 3 weeks since you talked with Sam; you usually talk every week."
    )
    assert notification.url == (
        f"/clients/{world.client_a.pk}/network/contacts/log/?person={sam.pk}"
    )
    assert not notification.critical
    nudge = Nudge.objects.get()
    assert nudge.state == NudgeState.SENT and nudge.sent_at is not None


def test_the_email_says_a_reminder_waits_but_names_nobody(world: World) -> None:
    weekly_friend(world.client_a, "Samwise", last=21, now=timezone.now())
    opted_in(world.client_a)
    _sweep()
    _send_all()  # the nudge, which queues its email
    _send_all()  # the email
    [message] = [m for m in mail.outbox if m.to == [world.client_a_user.email]]
    assert "A reminder to get in touch" in f"{message.subject}{message.body}"
    assert "waiting in your Kithkin inbox" in message.body
    assert "Samwise" not in f"{message.subject}{message.body}"
    # A stranger's inbox and mail stay empty.
    assert not _inbox(world.stranger)
    assert all(m.to != [world.stranger.email] for m in mail.outbox)


def test_a_wished_rhythm_is_worded_as_the_clients_wish(world: World) -> None:
    jo = Person.objects.create(client=world.client_a, name="Jo", wished_rhythm_days=14)
    contacts_days_ago(jo, [30], now=timezone.now())
    opted_in(world.client_a)
    _sweep()
    _send_all()
    [notification] = _inbox(world.client_a_user)
    assert notification.body == (
        "It's been 4 weeks since you were last in touch with Jo; you wanted to be in touch "
        "every 2 weeks."
    )


def test_the_same_drift_is_never_nudged_twice(world: World) -> None:
    sam = weekly_friend(world.client_a, "Sam", last=21, now=timezone.now())
    opted_in(world.client_a)
    _sweep()
    _sweep()  # waiting: nothing new
    assert Nudge.objects.count() == 1
    _send_all()
    _sweep()  # sent: the same episode is not nudged again
    _send_all()
    assert Nudge.objects.count() == 1
    assert len(_inbox(world.client_a_user)) == 1
    # Back in touch, then drifting again a month later: a new episode, a new nudge.
    later = timezone.now() + datetime.timedelta(days=30)
    contacts_days_ago(sam, [0], now=timezone.now())
    _sweep(later)
    assert Nudge.objects.count() == 2


def test_one_nudge_waits_per_client_and_the_most_overdue_goes_first(world: World) -> None:
    now = timezone.now()
    weekly_friend(world.client_a, "Sam", last=15, now=now)
    weekly_friend(world.client_a, "Kit", last=40, now=now)
    opted_in(world.client_a)
    _sweep()
    [first] = _queued(world)
    assert first.person.name == "Kit"
    _send_all()
    _sweep()
    [second] = _queued(world)
    assert second.person.name == "Sam"


def test_never_about_a_not_safe_person_or_a_muted_one(world: World) -> None:
    now = timezone.now()
    weekly_friend(world.client_a, "Rex", last=40, now=now, not_safe=True)
    muted = weekly_friend(world.client_a, "Mo", last=40, now=now)
    settings = opted_in(world.client_a)
    settings.muted_people.set([muted])
    assert _sweep().nudges_queued == 0
    assert not Nudge.objects.exists()


def test_a_person_marked_not_safe_after_queueing_gets_no_nudge(world: World) -> None:
    sam = weekly_friend(world.client_a, "Sam", last=21, now=timezone.now())
    opted_in(world.client_a)
    _sweep()
    Person.objects.filter(pk=sam.pk).update(not_safe=True)
    assert _send_all() == 1  # the job ran ...
    assert _inbox(world.client_a_user) == []  # ... and sent nothing
    nudge = Nudge.objects.get()
    assert nudge.state == NudgeState.SKIPPED and nudge.skipped_reason == SkipReason.NOT_SAFE
    # Nor is it listed on the client's settings page as waiting.
    assert nudges.queued_for(world.client_a) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("opt_out", SkipReason.OPTED_OUT),
        ("mute", SkipReason.MUTED),
        ("remove", SkipReason.OFF_MAP),
        ("contact", SkipReason.IN_TOUCH),
        ("deactivate", SkipReason.NO_ACCOUNT),
    ],
)
def test_send_time_checks_again(world: World, change: str, reason: SkipReason) -> None:
    sam = weekly_friend(world.client_a, "Sam", last=21, now=timezone.now())
    settings = opted_in(world.client_a)
    _sweep()
    if change == "opt_out":
        NudgeSettings.objects.filter(pk=settings.pk).update(enabled=False)
    elif change == "mute":
        settings.muted_people.set([sam])
    elif change == "remove":
        Person.objects.filter(pk=sam.pk).update(removed_at=timezone.now())
    elif change == "contact":
        contacts_days_ago(sam, [0], now=timezone.now())
    else:
        User.objects.filter(pk=world.client_a_user.pk).update(is_active=False)
    _send_all()
    assert _inbox(world.client_a_user) == []
    assert Nudge.objects.get().skipped_reason == reason


def test_quiet_hours_at_send_time_defer_and_never_drop(world: World) -> None:
    User.objects.filter(pk=world.client_a_user.pk).update(time_zone="Europe/London")
    night = _at("2026-03-11T23:30+00:00")
    weekly_friend(world.client_a, "Sam", last=21, now=night)
    opted_in(world.client_a, quiet_start=TIME(21, 0), quiet_end=TIME(8, 0))
    _sweep(night)
    nudge = Nudge.objects.get()
    assert nudge.due_at == _at("2026-03-12T08:00+00:00")  # queued for the end of quiet hours
    # Suppose a job runs early anyway (the client changed their quiet hours since): it defers.
    assert nudges.send(nudge.pk, now=night) == "deferred"
    nudge.refresh_from_db()
    assert nudge.state == NudgeState.QUEUED and nudge.due_at == _at("2026-03-12T08:00+00:00")
    later = Job.objects.get(key=nudges.send_job_key(nudge.pk, nudge.due_at))
    assert later.run_after == nudge.due_at and later.state == JobState.QUEUED
    assert nudges.send(nudge.pk, now=_at("2026-03-12T08:00+00:00")) == "sent"
    assert len(_inbox(world.client_a_user)) == 1


def test_the_weekly_cap_and_a_snooze_defer_at_send_time(world: World) -> None:
    now = timezone.now()
    sam = weekly_friend(world.client_a, "Sam", last=21, now=now)
    kit = weekly_friend(world.client_a, "Kit", last=30, now=now)
    opted_in(world.client_a, weekly_cap=1)
    for person, days in ((sam, 2), (kit, 5)):
        Nudge.objects.create(
            client=world.client_a,
            person=person,
            last_contact_at=now - datetime.timedelta(days=60 + days),
            state=NudgeState.SENT,
            sent_at=now - datetime.timedelta(days=days),
        )
    _sweep(now)
    nudge = Nudge.objects.get(state=NudgeState.QUEUED)
    # One sent two days ago with a cap of one a week: due five days from now.
    assert nudge.due_at == now - datetime.timedelta(days=2) + nudges.WEEK
    assert nudges.send(nudge.pk, now=now) == "deferred"
    NudgeSettings.objects.filter(client=world.client_a).update(
        weekly_cap=2, snoozed_until=now + datetime.timedelta(days=3)
    )
    # Cap now free (two in a week), but the snooze holds for three more days.
    assert nudges.send(nudge.pk, now=now + datetime.timedelta(days=1)) == "deferred"
    nudge.refresh_from_db()
    assert nudge.due_at == now + datetime.timedelta(days=3)
    assert nudges.send(nudge.pk, now=now + datetime.timedelta(days=3)) == "sent"


def test_a_second_job_for_a_sent_nudge_does_nothing(world: World) -> None:
    weekly_friend(world.client_a, "Sam", last=21, now=timezone.now())
    opted_in(world.client_a)
    _sweep()
    nudge = Nudge.objects.get()
    assert nudges.send(nudge.pk) == "sent"
    assert nudges.send(nudge.pk) == "gone"
    assert len(_inbox(world.client_a_user)) == 1


def test_clients_without_a_portal_login_or_discharged_get_none(world: World) -> None:
    now = timezone.now()
    weekly_friend(world.other_client, "Sam", last=21, now=now)  # no portal login
    opted_in(world.other_client)
    weekly_friend(world.client_b, "Sam", last=21, now=now)
    opted_in(world.client_b)
    world.client_b.discharged_at = now
    world.client_b.save(update_fields=["discharged_at"])
    assert _sweep().nudges_queued == 0
