"""The demo generator: same seed, same practice; the expected roles; bulk work at any scale."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kithkin.accounts.access import Purpose, clients_for
from kithkin.accounts.models import CareTeamMember, Client, Membership, NetworkMember, Role, User
from kithkin.audit.models import AuditEvent
from kithkin.demo import generator
from tests.conftest import World

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snapshot() -> list[tuple[Any, ...]]:
    rows = []
    for client in Client.objects.filter(practice__name=generator.PRACTICE_NAME).order_by("pk"):
        team = sorted(
            (link.user.email, link.is_lead)
            for link in CareTeamMember.objects.filter(client=client).select_related("user")
        )
        members = sorted(
            (m.user.email, m.user.display_name, m.relationship)
            for m in NetworkMember.objects.filter(client=client).select_related("user")
        )
        rows.append((
            client.pk, client.display_name, client.birth_year, client.presenting_concerns,
            client.created_at, client.discharged_at, client.user.email if client.user else None,
            tuple(team), tuple(members),
        ))  # fmt: skip
    staff = sorted(
        (m.user.email, m.user.display_name, m.role)
        for m in Membership.objects.filter(practice__name=generator.PRACTICE_NAME).select_related(
            "user"
        )
    )
    return [*rows, tuple(staff)]


def user(email: str) -> User:
    return User.objects.get(email=email)


@pytest.mark.django_db
def test_it_builds_the_same_practice_from_the_same_seed() -> None:
    generator.build_demo(clients=30, seed=7, now=NOW)
    first = snapshot()
    assert generator.remove_demo()
    generator.build_demo(clients=30, seed=7, now=NOW)
    assert snapshot() == first
    generator.remove_demo()
    generator.build_demo(clients=30, seed=8, now=NOW)
    assert snapshot() != first


@pytest.mark.django_db
def test_it_builds_every_demo_role(world: World) -> None:
    build = generator.build_demo(clients=60, now=NOW)
    practice = build.require_practice()
    admin = user(generator.ADMIN_EMAIL)
    clinician = user(generator.CLINICIAN_EMAIL)
    maya = Client.objects.get(user__email=generator.CLIENT_EMAIL)
    member = user(generator.MEMBER_EMAIL)

    assert admin.membership.role == Role.ADMIN and admin.membership.practice == practice
    assert not CareTeamMember.objects.filter(user=admin).exists()
    assert clients_for(admin, Purpose.CARE).count() == 0
    assert clients_for(admin, Purpose.MANAGE).count() == 60
    assert clients_for(clinician, Purpose.CARE).count() >= 10
    assert maya in clients_for(user(generator.CLINICIAN2_EMAIL), Purpose.CARE)
    assert list(clients_for(maya.user, Purpose.SELF)) == [maya]  # type: ignore[arg-type]
    assert list(clients_for(member, Purpose.MEMBER)) == [maya]
    assert NetworkMember.objects.get(user=member).relationship == "Brother"
    for login in generator.DEMO_LOGINS:
        assert user(login.email).check_password(generator.DEMO_PASSWORD)

    clients = list(Client.objects.filter(practice=practice))
    assert all(NOW.year - 80 <= (c.birth_year or 0) <= NOW.year - 18 for c in clients)
    assert all(c.presenting_concerns for c in clients)
    assert len({c.display_name for c in clients}) > 40
    assert 0 < sum(1 for c in clients if c.discharged_at) < 20
    leads = CareTeamMember.objects.filter(client__practice=practice, is_lead=True)
    assert leads.count() == 60
    sizes = {c.pk: 0 for c in clients}
    for link in CareTeamMember.objects.filter(client__practice=practice):
        sizes[link.client_id] += 1
    assert set(sizes.values()) <= {1, 2}
    assert all(email.endswith("@demo.kithkin.test") for email in
               User.objects.exclude(pk__in=[u.pk for u in (world.admin, world.clinician,
               world.colleague, world.member, world.stranger, world.client_a_user,
               world.client_b_user)]).values_list("email", flat=True))  # fmt: skip

    # A stranger from another practice sees none of the demo practice.
    assert set(clients_for(world.stranger, Purpose.CARE)) == {world.other_client}


@pytest.mark.django_db
def test_it_writes_one_audit_event_and_constant_queries_at_any_scale() -> None:
    def queries_for(size: int) -> tuple[int, int]:
        before = AuditEvent.objects.count()
        with CaptureQueriesContext(connection) as captured:
            build = generator.build_demo(clients=size, now=NOW)
        events = list(AuditEvent.objects.order_by("-pk")[: AuditEvent.objects.count() - before])
        assert [e.action for e in events] == ["demo.seed"]
        assert events[0].detail["clients"] == size
        generator.remove_demo()
        rows = sum(value for key, value in build.counts.items() if key != "discharged")
        return len(captured), rows

    # Rows go in with bulk_create: queries grow with the batches (a few per hundred rows on
    # SQLite's parameter limit; the map contacts are most of the rows), never one per row.
    (small, _rows), (large, rows) = queries_for(20), queries_for(200)
    assert large > small
    assert large < rows / 40


@pytest.mark.django_db
def test_it_refuses_an_empty_demo() -> None:
    with pytest.raises(ValueError, match="at least one client"):
        generator.build_demo(clients=0)
    assert not Client.objects.exists()
