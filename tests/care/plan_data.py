"""Test data for the case plan, key contacts and consent (written directly: no audit, no email).
Tests of the writing paths go through the views or kithkin.care.plan instead."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.models import Client, NetworkMember, User
from kithkin.care import consent
from kithkin.care.models import (
    ConsentGrant,
    Goal,
    Indicator,
    IndicatorKind,
    KeyContact,
    Problem,
)
from kithkin.network.models import Person

PASSWORD = "a long enough passphrase 42"

# The client's plan and the members who may be refused, as the world fixture names them.
STRANGERS = ["stranger", "colleague", "admin", "client_b_user", "member"]


def problem(client: Client, text: str = "Isolated since the move", **fields: Any) -> Problem:
    return Problem.objects.create(client=client, text=text, **fields)


def goal(
    client: Client,
    title: str = "See a friend every week",
    *,
    target_date: date | None = None,
    **fields: Any,
) -> Goal:
    return Goal.objects.create(client=client, title=title, target_date=target_date, **fields)


def score_indicator(goal: Goal, instrument_id: str = "phq9", target: float = 5) -> Indicator:
    return Indicator.objects.create(
        goal=goal, kind=IndicatorKind.SCORE, instrument_id=instrument_id, target_score=target
    )


def rhythm_indicator(goal: Goal, person: Person, days: int = 7) -> Indicator:
    return Indicator.objects.create(
        goal=goal, kind=IndicatorKind.RHYTHM, person=person, target_days=days
    )


def key_contact(client: Client, person: Person, **fields: Any) -> KeyContact:
    return KeyContact.objects.create(client=client, person=person, **fields)


def member_record(client: Client, user: User) -> NetworkMember:
    return NetworkMember.objects.get(client=client, user=user)


def grant(member: NetworkMember, **choices: bool) -> ConsentGrant:
    return consent.decide(None, member, **choices)


def invitation_link(body: object) -> str:
    match = re.search(re.escape(settings.SITE_URL) + r"(/invite/[^/\s]+/)", str(body))
    assert match, body
    return match.group(1)


def accept(path: str, display_name: str = "Rob Brother") -> HttpClient:
    """Accept an invitation through its page, as the invited person would; signed in after."""
    http = HttpClient()
    response = http.post(
        path,
        {"display_name": display_name, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()
    return http


def url(name: str, client: Client, **kwargs: Any) -> str:
    return reverse(name, kwargs={"client_id": client.pk, **kwargs})
