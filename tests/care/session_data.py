"""Test data for network sessions and actions: sessions written straight to the database (for
the read side), form data for booking through the page, and helpers to read the emails and
calendar files the session jobs send."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

import icalendar
from django.core import mail
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import NetworkMember, User
from kithkin.care.models import (
    Action,
    Contribution,
    NetworkSession,
    OwnerKind,
    Participant,
    ParticipantKind,
    SessionStatus,
)
from tests.conftest import World

DEFAULT_TEMPLATE = "relapse_prevention"


def in_days(days: float) -> datetime:
    """A whole minute some days from now (calendar files carry no seconds)."""
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def today_for(user: User) -> date:
    """Today where ``user`` is: the date their pages and forms go by."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(user.time_zone))


def member_record(world: World) -> NetworkMember:
    return NetworkMember.objects.get(client=world.client_a, user=world.member)


def request_as(user: User) -> HttpRequest:
    request = RequestFactory().post("/")
    request.user = user
    return request


def session_of(
    world: World,
    *,
    starts_at: datetime | None = None,
    status: str = SessionStatus.PLANNED,
    everyone: bool = True,
    **fields: Any,
) -> NetworkSession:
    """A session of client A, with the client, the member and the clinician taking part."""
    fields.setdefault("template", DEFAULT_TEMPLATE)
    fields.setdefault("place", "Harbour Practice, room 2")
    session = NetworkSession.objects.create(
        client=world.client_a,
        starts_at=starts_at or in_days(7),
        status=status,
        held_at=timezone.now() if status == SessionStatus.HELD else None,
        created_by=world.clinician,
        **fields,
    )
    if everyone:
        add_everyone(world, session)
    return session


def add_everyone(world: World, session: NetworkSession) -> list[Participant]:
    return [
        Participant.objects.create(
            session=session, kind=ParticipantKind.CLIENT, user=world.client_a_user
        ),
        Participant.objects.create(
            session=session,
            kind=ParticipantKind.MEMBER,
            user=world.member,
            member=member_record(world),
        ),
        Participant.objects.create(
            session=session, kind=ParticipantKind.CLINICIAN, user=world.clinician
        ),
    ]


def said(session: NetworkSession, step: str, text: str, by: User, **fields: Any) -> Contribution:
    return Contribution.objects.create(session=session, step=step, text=text, said_by=by, **fields)


def action_of(
    world: World,
    session: NetworkSession | None,
    *,
    kind: str = OwnerKind.MEMBER,
    due_on: date | None = None,
    title: str = "Walk together on Saturday",
    **fields: Any,
) -> Action:
    owner = {
        OwnerKind.CLIENT: world.client_a_user,
        OwnerKind.MEMBER: world.member,
        OwnerKind.CLINICIAN: world.clinician,
    }[OwnerKind(kind)]
    return Action.objects.create(
        client=world.client_a,
        session=session,
        title=title,
        owner_kind=kind,
        owner=owner,
        owner_member=member_record(world) if kind == OwnerKind.MEMBER else None,
        due_on=due_on or timezone.localdate() + timedelta(days=7),
        created_by=world.clinician,
        **fields,
    )


def local_input(moment: datetime, zone: str) -> str:
    """How a datetime-local input sends ``moment`` for someone in ``zone``."""
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def booking(world: World, starts_at: datetime, zone: str, **overrides: Any) -> dict[str, Any]:
    """Form data for booking a session with everyone, as the page posts it."""
    data: dict[str, Any] = {
        "template": DEFAULT_TEMPLATE,
        "starts_at": local_input(starts_at, zone),
        "duration_minutes": "90",
        "place": "Harbour Practice, room 2",
        "video_link": "",
        "participants": [
            str(world.client_a_user.pk),
            str(world.member.pk),
            str(world.clinician.pk),
        ],
    }
    data.update(overrides)
    return data


def url(name: str, world: World, **kwargs: Any) -> str:
    return reverse(name, kwargs={"client_id": world.client_a.pk, **kwargs})


def session_url(name: str, world: World, session: NetworkSession) -> str:
    return url(name, world, session_id=session.pk)


def calendars_sent_to(email: str) -> list[icalendar.Calendar]:
    """Every calendar file emailed to one address, oldest first."""
    found = []
    for message in mail.outbox:
        if email not in message.to:
            continue
        for attachment in message.attachments:
            _name, content, mimetype = attachment
            if mimetype == "text/calendar":
                found.append(icalendar.Calendar.from_ical(content))
    return found


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, icalendar.Event)
    return event


def mail_to(email: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if email in m.to]
