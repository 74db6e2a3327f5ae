"""Factories for test data. Passwords are all ``PASSWORD`` so tests can sign in."""

from __future__ import annotations

from typing import Any

import factory

from kithkin.accounts.models import (
    CareTeamMember,
    Client,
    Membership,
    NetworkMember,
    Practice,
    Role,
    User,
)

PASSWORD = "a long test passphrase"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    time_zone = "Europe/London"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    time_zone = "Europe/London"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    practice = factory.SubFactory(PracticeFactory)
    role = Role.CLINICIAN


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    practice = factory.SubFactory(PracticeFactory)
    display_name = factory.Sequence(lambda n: f"Client {n}")
    birth_year = 1990
    presenting_concerns = "Sleep, low mood"


def staff(practice: Practice, role: Role = Role.CLINICIAN, display_name: str = "Staff") -> User:
    membership: Membership = MembershipFactory(
        practice=practice, role=role, user__display_name=display_name
    )
    return membership.user


def client_of(practice: Practice, *care_team: User, portal: bool = False, **kwargs: Any) -> Client:
    client: Client = ClientFactory(practice=practice, **kwargs)
    for index, clinician in enumerate(care_team):
        CareTeamMember.objects.create(client=client, user=clinician, is_lead=index == 0)
    if portal:
        client.user = UserFactory(display_name=client.display_name)
        client.save(update_fields=["user"])
    return client


def member_of(client: Client, **kwargs: Any) -> User:
    user: User = UserFactory(**kwargs)
    NetworkMember.objects.create(client=client, user=user, relationship="Sister")
    return user
