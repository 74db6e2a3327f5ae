from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from hypothesis import HealthCheck, settings

from kithkin.accounts.models import AuthenticatorDevice, Client, Membership, Practice, Role, User
from kithkin.security import throttle
from tests import factories

# CI runs on two shared cores: generating data can be slow there, which is not a bug. Property
# tests still run their examples; they just never fail for taking long.
settings.register_profile("kithkin", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kithkin")


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
    """A browser session for ``user``. Staff, and anyone enrolled in two-step sign-in, get a
    session that has passed the second step (as ``django_otp.login`` leaves it), with a
    confirmed authenticator device made for them if they have none. Sign in through the forms
    (tests/accounts/test_it_requires_mfa_for_staff.py) to test the steps themselves."""
    http = HttpClient()
    http.force_login(user)
    is_staff = Membership.objects.filter(user=user).exists()
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if is_staff or device is not None:
        if device is None:
            device = AuthenticatorDevice.objects.create(user=user, name="test", confirmed=True)
        session = http.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return http


@pytest.fixture(autouse=True)
def _audit_trail_emptied_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """Transactional and live-server tests commit, and pytest-django empties every table after
    them. SQLite's flush deletes row by row, which the audit table's append-only triggers refuse
    (PostgreSQL truncates, which they allow). So on SQLite, lift the triggers, empty the trail and
    put them back before the flush runs."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if transactional:
        # Set up first, so this teardown runs before the flush.
        request.getfixturevalue("transactional_db")
    yield
    if not transactional or connection.vendor != "sqlite":
        return
    migration = importlib.import_module("kithkin.audit.migrations.0002_append_only")
    with connection.cursor() as cursor:
        for statement in migration.SQLITE_REVERSE:
            cursor.execute(statement)
        cursor.execute("DELETE FROM audit_auditevent")
        for statement in migration.SQLITE:
            cursor.execute(statement)


@pytest.fixture(autouse=True)
def _throttle_windows_start_with_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate-limit windows are fixed (aligned to the clock), so a test that makes thirty requests
    could straddle a minute boundary and see its count restart. The throttle's clock is shifted so
    each test begins exactly on an hour boundary, which every window length divides; it still
    moves with real time, and with a test that moves ``timezone.now``."""
    now = timezone.now()
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    offset = next_hour - now
    monkeypatch.setattr(throttle, "timezone", SimpleNamespace(now=lambda: timezone.now() + offset))
