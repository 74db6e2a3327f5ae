from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient

from kithkin.accounts.models import Client, Practice, Role, User
from tests import factories


@dataclass
class World:
    """The standard cast: a practice with a client and her care team, and strangers.

    - ``practice``: admin, clinician (on client A's care team), colleague (same practice, not on it)
    - ``client_a``: portal login, one network member (``member``, no grants)
    - ``client_b``: another client of the same practice, with a portal login
    - ``other_practice``: its own clinician (``stranger``) and client
    """

    practice: Practice
    admin: User
    clinician: User
    colleague: User
    client_a: Client
    client_b: Client
    member: User
    other_practice: Practice
    stranger: User
    other_client: Client

    @property
    def client_a_user(self) -> User:
        assert self.client_a.user is not None
        return self.client_a.user

    @property
    def client_b_user(self) -> User:
        assert self.client_b.user is not None
        return self.client_b.user


@pytest.fixture
def world(db: None) -> World:
    practice = factories.PracticeFactory.create(name="Harbour Practice")
    admin = factories.staff(practice, Role.ADMIN, display_name="Ada Admin")
    clinician = factories.staff(practice, Role.CLINICIAN, display_name="Cleo Clinician")
    colleague = factories.staff(practice, Role.CLINICIAN, display_name="Colin Colleague")
    client_a = factories.client_of(practice, clinician, portal=True, display_name="Alex Rivers")
    client_b = factories.client_of(practice, colleague, portal=True, display_name="Bea Stone")
    member = factories.member_of(client_a, display_name="Mel Member")
    other_practice = factories.PracticeFactory.create(name="Elsewhere Clinic")
    stranger = factories.staff(other_practice, Role.CLINICIAN, display_name="Sam Stranger")
    other_client = factories.client_of(other_practice, stranger, display_name="Oli Other")
    return World(
        practice,
        admin,
        clinician,
        colleague,
        client_a,
        client_b,
        member,
        other_practice,
        stranger,
        other_client,
    )


def signed_in(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http
