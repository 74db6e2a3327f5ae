"""Factories for test data. Passwords are all ``PASSWORD`` so tests can sign in.

Call ``XFactory.create(...)`` (typed) rather than ``XFactory(...)`` (untyped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import factory
from django.utils import timezone

from kithkin.accounts.models import (
    CareTeamMember,
    Client,
    Membership,
    NetworkMember,
    Practice,
    Role,
    User,
)
from kithkin.measures import services as measures
from kithkin.measures.models import Assignment, Cadence, Mode, Response, ResponseStatus
from kithkin.network.models import Category, Contact, Person, Ring, Tie

PASSWORD = "a long test passphrase"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    time_zone = "Europe/London"

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        password = kwargs.pop("password", PASSWORD)
        user = model_class(**kwargs)
        user.set_password(password)
        user.save()
        return user


class PracticeFactory(factory.django.DjangoModelFactory[Practice]):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    time_zone = "Europe/London"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    practice = factory.SubFactory(PracticeFactory)
    role = Role.CLINICIAN


class ClientFactory(factory.django.DjangoModelFactory[Client]):
    class Meta:
        model = Client

    practice = factory.SubFactory(PracticeFactory)
    display_name = factory.Sequence(lambda n: f"Client {n}")
    birth_year = 1990
    presenting_concerns = "Sleep, low mood"


def staff(practice: Practice, role: Role = Role.CLINICIAN, display_name: str = "Staff") -> User:
    membership = MembershipFactory.create(
        practice=practice, role=role, user__display_name=display_name
    )
    return membership.user


def client_of(practice: Practice, *care_team: User, portal: bool = False, **kwargs: Any) -> Client:
    client = ClientFactory.create(practice=practice, **kwargs)
    for index, clinician in enumerate(care_team):
        CareTeamMember.objects.create(client=client, user=clinician, is_lead=index == 0)
    if portal:
        client.user = UserFactory.create(display_name=client.display_name)
        client.save(update_fields=["user"])
    return client


def member_of(client: Client, **kwargs: Any) -> User:
    user = UserFactory.create(**kwargs)
    NetworkMember.objects.create(client=client, user=user, relationship="Sister")
    return user


def person_of(
    client: Client,
    name: str = "Sam",
    *,
    ring: int = Ring.INNER,
    category: str = Category.FRIEND,
    **fields: Any,
) -> Person:
    """A person on a client's map; pass e.g. helps_safe=True, not_safe=True, strain=2."""
    return Person.objects.create(client=client, name=name, ring=ring, category=category, **fields)


def tie(a: Person, b: Person, strength: int = Tie.Strength.KNOW) -> Tie:
    first, second = sorted([a, b], key=lambda p: str(p.pk))
    return Tie.objects.create(client=a.client, person_a=first, person_b=second, strength=strength)


def contact(person: Person, **fields: Any) -> Contact:
    fields.setdefault("channel", "phone")
    return Contact.objects.create(client=person.client, person=person, **fields)


def assignment(
    client: Client,
    instrument_id: str = "phq9",
    *,
    cadence: str = Cadence.REPEAT,
    interval_days: int | None = 14,
    next_due_at: datetime | None = None,
) -> Assignment:
    return Assignment.objects.create(
        client=client,
        instrument_id=instrument_id,
        cadence=cadence,
        interval_days=interval_days if cadence == Cadence.REPEAT else None,
        next_due_at=next_due_at if next_due_at is not None else timezone.now(),
    )


def all_answers(instrument_id: str, value: float) -> dict[str, float | None]:
    """Every item of the instrument answered with ``value``."""
    return {item.id: value for item in measures.instrument(instrument_id).items}


def submitted_response(
    client: Client,
    instrument_id: str = "phq9",
    answers: dict[str, float | None] | None = None,
    *,
    when: datetime | None = None,
    mode: str = Mode.PORTAL,
    assignment: Assignment | None = None,
) -> Response:
    """A scored, submitted response written directly (no alerts, no audit): for read-side tests.
    Tests of the answering path go through kithkin.measures.services instead."""
    chosen = measures.instrument(instrument_id)
    response = Response(
        client=client,
        instrument_id=chosen.id,
        definition_version=chosen.version,
        status=ResponseStatus.SUBMITTED,
        mode=mode,
        assignment=assignment,
        answers={
            k: v for k, v in (answers or all_answers(instrument_id, 0)).items() if v is not None
        },
        submitted_at=when or timezone.now(),
    )
    measures.apply_score(response, chosen)
    response.save()
    return response
