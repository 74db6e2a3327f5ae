"""Reminders to get in touch ("nudges"), for clients who turned them on.

A nudge is a :class:`~kithkin.connection.models.Nudge` row, queued by the daily sweep for one
drifting relationship, and sent by a ``connection.send_nudge`` job. Sending re-reads everything
(the settings, the person, the contact log) inside one transaction and marks the row sent with
a conditional update in the same transaction as the inbox notification, so:

- a person marked "not safe", removed from the map, or muted since the nudge was queued gets
  nothing; nor does anyone once reminders are turned off, or once the client is back in touch;
- quiet hours, a snooze and the weekly cap (rolling seven days) move the nudge later, never
  drop it;
- two workers running jobs for the same nudge send it once (the second finds it sent).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts.models import Client
from kithkin.audit import services as audit
from kithkin.connection import rhythm
from kithkin.connection.models import Nudge, NudgeKind, NudgeSettings, NudgeState, SkipReason
from kithkin.jobs import services as jobs
from kithkin.network.models import Contact, Person

SEND_JOB = "connection.send_nudge"
NOTIFICATION_KIND = "connection.nudge"
WEEK = datetime.timedelta(days=7)
SNOOZE_CHOICES_DAYS = (7, 14, 28)


# --- when a nudge may go out ---------------------------------------------------------------


def after_quiet_hours(
    when: datetime.datetime,
    zone: datetime.tzinfo,
    start: datetime.time,
    end: datetime.time,
) -> datetime.datetime:
    """``when``, or the end of the quiet hours it falls in (local times; start after end spans
    midnight; equal times mean no quiet hours)."""
    if start == end:
        return when
    local = timezone.localtime(when, zone)
    moment = local.time().replace(tzinfo=None)
    if start < end:
        quiet = start <= moment < end
        end_day = local.date()
    else:
        quiet = moment >= start or moment < end
        end_day = local.date() + datetime.timedelta(days=1) if moment >= start else local.date()
    if not quiet:
        return when
    return datetime.datetime.combine(end_day, end, tzinfo=zone).astimezone(datetime.UTC)


def next_send_time(
    *,
    now: datetime.datetime,
    zone: datetime.tzinfo,
    quiet_start: datetime.time,
    quiet_end: datetime.time,
    weekly_cap: int,
    snoozed_until: datetime.datetime | None,
    sent: Iterable[datetime.datetime],
) -> datetime.datetime:
    """The first moment from ``now`` outside a snooze, under the weekly cap (at most
    ``weekly_cap`` nudges in any seven days, counting those already ``sent``) and outside quiet
    hours. Each step only moves later, so applying them in turn satisfies all three."""
    when = now
    if snoozed_until is not None and snoozed_until > when:
        when = snoozed_until
    cap = max(1, weekly_cap)
    recent = sorted((moment for moment in sent if moment > when - WEEK), reverse=True)
    if len(recent) >= cap:
        when = max(when, recent[cap - 1] + WEEK)
    return after_quiet_hours(when, zone, quiet_start, quiet_end)


def send_time_for(
    settings: NudgeSettings, zone: datetime.tzinfo, sent: Iterable[datetime.datetime], now: Any
) -> datetime.datetime:
    return next_send_time(
        now=now,
        zone=zone,
        quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
        weekly_cap=settings.weekly_cap,
        snoozed_until=settings.snoozed_until,
        sent=sent,
    )


# --- wording -------------------------------------------------------------------------------


def nudge_body(name: str, state: rhythm.PersonRhythm) -> str:
    """ "It's been 3 weeks since you talked with Sam; you usually talk every week." The name is
    written as the client wrote it on their map."""
    since = rhythm.span_text(state.days_since or 0)
    expected = state.expected_days or 0
    if state.basis is rhythm.Basis.LEARNED:
        return _(
            "It's been %(since)s since you talked with %(name)s; you usually talk %(every)s."
        ) % {"since": since, "name": name, "every": rhythm.every_text(expected)}
    return _(
        "It's been %(since)s since you were last in touch with %(name)s; you wanted to be in "
        "touch %(every)s."
    ) % {"since": since, "name": name, "every": rhythm.every_text(expected)}


# --- settings (the client's page) ----------------------------------------------------------


def settings_of(client: Client) -> NudgeSettings:
    """The client's settings, or unsaved defaults (reminders off) if they never chose."""
    found = NudgeSettings.objects.filter(client=client).first()
    return found if found is not None else NudgeSettings(client=client)


def save_settings(
    request: HttpRequest,
    client: Client,
    *,
    enabled: bool,
    quiet_start: datetime.time,
    quiet_end: datetime.time,
    weekly_cap: int,
    snooze_days: int | None,
    resume: bool,
    muted: Sequence[Person],
) -> NudgeSettings:
    """Save the client's choices, audited with field names only. ``snooze_days`` pauses
    reminders from now; ``resume`` ends a pause."""
    now = timezone.now()
    user = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        current, _created = NudgeSettings.objects.select_for_update().get_or_create(client=client)
        current.enabled = enabled
        current.quiet_start = quiet_start
        current.quiet_end = quiet_end
        current.weekly_cap = weekly_cap
        if snooze_days:
            current.snoozed_until = now + datetime.timedelta(days=snooze_days)
        elif resume:
            current.snoozed_until = None
        current.updated_at = now
        current.updated_by = user
        current.save()
        current.muted_people.set(muted)
        audit.record(
            request,
            action="connection.nudges.update",
            object_type="nudgesettings",
            object_id=current.pk,
            client=client,
            detail={
                "enabled": enabled,
                "weekly_cap": weekly_cap,
                "snoozed": bool(snooze_days),
                "resumed": resume,
                "muted": len(muted),
            },
        )
    return current


# --- queueing (the sweep) ------------------------------------------------------------------


def send_job_key(nudge_id: UUID | str, when: datetime.datetime | None = None) -> str:
    """One job per nudge and due time: a deferral queues a new job with a new key, and two
    deferrals to the same moment share one."""
    base = f"{SEND_JOB}:{nudge_id}"
    return base if when is None else f"{base}:{int(when.timestamp())}"


def enqueue_sends(nudges: Sequence[Nudge]) -> None:
    """Queue a send job for each new nudge, in the caller's transaction (in bulk: the sweep
    queues thousands at once)."""
    jobs.enqueue_many(
        SEND_JOB,
        (
            jobs.NewJob({"nudge": str(n.pk)}, run_after=n.due_at, key=send_job_key(n.pk))
            for n in nudges
        ),
    )


@dataclass(frozen=True)
class ClientNudging:
    """What the sweep knows about one opted-in client when choosing a nudge."""

    client_id: UUID
    settings: NudgeSettings
    zone: datetime.tzinfo
    muted: frozenset[UUID]
    sent: tuple[datetime.datetime, ...]
    pending: bool


def choose(
    client: ClientNudging,
    rhythms: Iterable[rhythm.PersonRhythm],
    nudged: set[tuple[UUID, datetime.datetime]],
    *,
    now: datetime.datetime,
) -> Nudge | None:
    """At most one new nudge per client at a time: the most overdue drifting relationship not
    nudged in this drift episode yet. None while an earlier nudge still waits, so deferred
    nudges never pile up behind a snooze or the cap."""
    if client.pending:
        return None
    candidates = [
        state
        for state in rhythms
        if state.drifting
        and state.last_contact_at is not None
        and state.person_id not in client.muted
        and (state.person_id, state.last_contact_at) not in nudged
    ]
    if not candidates:
        return None
    chosen = max(
        candidates,
        key=lambda s: ((s.days_since or 0) / (s.expected_days or 1), str(s.person_id)),
    )
    assert chosen.last_contact_at is not None
    return Nudge(
        client_id=client.client_id,
        person_id=chosen.person_id,
        kind=NudgeKind.DRIFT,
        last_contact_at=chosen.last_contact_at,
        created_at=now,
        due_at=send_time_for(client.settings, client.zone, client.sent, now),
    )


# --- sending (the job) ---------------------------------------------------------------------


def _skip_reason(
    nudge: Nudge, settings: NudgeSettings | None, state: rhythm.PersonRhythm | None
) -> SkipReason | None:
    """Why the nudge no longer applies, checked in this order; None if it still does."""
    person = nudge.person
    client = nudge.client
    user = client.user
    checks: list[tuple[SkipReason, Any]] = [
        (SkipReason.NOT_SAFE, lambda: person.not_safe),
        (SkipReason.OFF_MAP, lambda: person.removed_at is not None),
        (SkipReason.OPTED_OUT, lambda: settings is None or not settings.enabled),
        (
            SkipReason.NO_ACCOUNT,
            lambda: client.discharged_at is not None or user is None or not user.is_active,
        ),
        (
            SkipReason.MUTED,
            lambda: settings is not None and settings.muted_people.filter(pk=person.pk).exists(),
        ),
        (
            SkipReason.IN_TOUCH,
            lambda: (
                state is None
                or not state.drifting
                or state.last_contact_at is None
                or state.last_contact_at > nudge.last_contact_at
            ),
        ),
    ]
    for reason, applies in checks:
        if applies():
            return reason
    return None


def _current_rhythm(nudge: Nudge, zone: datetime.tzinfo, now: datetime.datetime) -> Any:
    person = nudge.person
    moments = list(Contact.objects.filter(person=person).values_list("occurred_at", flat=True))
    return rhythm.assess(
        person.pk,
        nudge.client_id,
        moments,
        person.wished_rhythm_days,
        today=timezone.localtime(now, zone).date(),
        zone=zone,
    )


def send(nudge_id: UUID | str, *, now: datetime.datetime | None = None) -> str:
    """Send one queued nudge if it still applies: "sent", "deferred" (moved past quiet hours,
    a snooze or the cap), "skipped" (no longer applies; see SkipReason) or "gone" (already sent
    or skipped: a second job for the same nudge does nothing)."""
    from kithkin.notifications import services as notifications

    now = now or timezone.now()
    with transaction.atomic():
        nudge = (
            Nudge.objects.select_related("client__user", "client__practice", "person")
            .filter(pk=nudge_id, state=NudgeState.QUEUED)
            .first()
        )
        if nudge is None:
            return "gone"
        # Locks the client's settings on PostgreSQL, so two nudges of one client are sent one
        # after the other and the weekly cap holds (SQLite has one writer at a time anyway).
        settings = NudgeSettings.objects.select_for_update().filter(client=nudge.client).first()
        zone = rhythm.zone_of(nudge.client)
        state = None
        if not nudge.person.not_safe and nudge.person.removed_at is None:
            state = _current_rhythm(nudge, zone, now)
        reason = _skip_reason(nudge, settings, state)
        queued = Nudge.objects.filter(pk=nudge.pk, state=NudgeState.QUEUED)
        if reason is not None:
            queued.update(state=NudgeState.SKIPPED, skipped_reason=reason)
            return "skipped"
        assert settings is not None and state is not None and nudge.client.user is not None
        sent = Nudge.objects.filter(
            client=nudge.client, state=NudgeState.SENT, sent_at__gt=now - WEEK
        ).values_list("sent_at", flat=True)
        when = send_time_for(settings, zone, [moment for moment in sent if moment], now)
        if when > now:
            queued.update(due_at=when)
            jobs.enqueue(
                SEND_JOB, {"nudge": str(nudge.pk)}, run_after=when, key=send_job_key(nudge.pk, when)
            )
            return "deferred"
        if queued.update(state=NudgeState.SENT, sent_at=now) != 1:
            return "gone"
        url = reverse("network_contact_log", kwargs={"client_id": nudge.client_id})
        notifications.notify(
            nudge.client.user,
            kind=NOTIFICATION_KIND,
            title=_("A reminder to get in touch"),
            body=nudge_body(nudge.person.name, state),
            url=f"{url}?person={nudge.person_id}",
            critical=False,
        )
    return "sent"


def queued_for(client: Client) -> list[Nudge]:
    return list(
        Nudge.objects.filter(client=client, state=NudgeState.QUEUED)
        .filter(person__in=Person.objects.safe_to_suggest())
        .select_related("person")
        .order_by("due_at")
    )


def recent_for(client: Client, *, limit: int = 5) -> list[Nudge]:
    return list(
        Nudge.objects.filter(client=client, state=NudgeState.SENT)
        .filter(person__in=Person.objects.safe_to_suggest())
        .select_related("person")
        .order_by("-sent_at")[:limit]
    )
