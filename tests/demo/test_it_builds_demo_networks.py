"""The demo's support network maps: the five archetypes with the stories they promise, in
clinician@'s caseload, with contact histories and two snapshots that differ; the same seed gives
the same maps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from kithkin.accounts.access import Purpose, clients_for
from kithkin.accounts.models import Client, User
from kithkin.demo import generator
from kithkin.network.models import Category, Contact, Group, Person, Snapshot, Tie
from kithkin.network.snapshots import diff, parse
from tests.conftest import World, signed_in

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ARCHETYPES = ["Maya Ellis", "Dmitri Petrov", "Joanna Mensah", "Lars Jensen", "Rosa Castillo"]


def demo_client(name: str) -> Client:
    return Client.objects.get(practice__name=generator.PRACTICE_NAME, display_name=name)


def on_map(client: Client) -> list[Person]:
    return list(Person.objects.on_map().filter(client=client))


def maps() -> list[tuple[Any, ...]]:
    people = Person.objects.filter(client__practice__name=generator.PRACTICE_NAME)
    rows: list[tuple[Any, ...]] = [
        (p.pk, p.client_id, p.name, p.category, p.ring, tuple(p.five_s()), p.strain, p.not_safe,
         p.wished_rhythm_days, p.removed_at)
        for p in people.order_by("pk")
    ]  # fmt: skip
    rows += list(
        Contact.objects.filter(person__in=people)
        .order_by("pk")
        .values_list("pk", "person_id", "occurred_at", "channel", "felt_safe")
    )
    rows += list(Tie.objects.filter(person_a__in=people).values_list("person_a", "person_b"))
    rows += [
        (g.pk, g.name, g.kind) for g in Group.objects.filter(client__in=people.values("client"))
    ]
    rows += [
        (s.pk, s.client_id, s.taken_at, s.content)
        for s in Snapshot.objects.filter(client__practice__name=generator.PRACTICE_NAME)
    ]
    return sorted(rows, key=repr)


@pytest.mark.django_db
def test_it_builds_the_archetypes_with_their_stories(world: World) -> None:
    generator.build_demo(clients=40, now=NOW)
    clinician = User.objects.get(email=generator.CLINICIAN_EMAIL)
    caseload = set(clients_for(clinician, Purpose.CARE))

    for name in ARCHETYPES:
        client = demo_client(name)
        assert client in caseload, name
        assert client.discharged_at is None
        people = on_map(client)
        assert len(people) >= 4, name
        # Lars's log reaches further back: his withdrawal needs a full 12-week baseline.
        days = 126 if name == "Lars Jensen" else 84
        recent = NOW - timedelta(days=days)
        contacts = Contact.objects.filter(client=client)
        assert contacts.count() >= 10 and all(c.occurred_at >= recent for c in contacts)
        older, newer = Snapshot.objects.filter(client=client).order_by("taken_at")
        assert older.reason == newer.reason == Snapshot.Reason.REVIEW
        assert diff(parse(older), parse(newer)).has_changes
        assert newer.person_count == len(people)

    maya = on_map(demo_client("Maya Ellis"))
    assert "Sam Ellis" in {p.name for p in maya}
    assert len(maya) >= 12 and Group.objects.filter(client__display_name="Maya Ellis").count() >= 3

    lifeline = [p for p in on_map(demo_client("Dmitri Petrov")) if p.ring == 1 and p.helps_safe]
    assert len(lifeline) == 1
    assert not any(p.helps_safe for p in on_map(demo_client("Dmitri Petrov")) if p not in lifeline)

    family = [p for p in on_map(demo_client("Joanna Mensah")) if p.category == Category.FAMILY]
    assert len(family) >= 10
    assert sum(1 for p in family if p.strain >= 2) >= len(family) // 2

    assert {p.category for p in on_map(demo_client("Lars Jensen"))} == {Category.WORK}

    rosa = demo_client("Rosa Castillo")
    unsafe = [p for p in on_map(rosa) if p.not_safe]
    assert [p.name for p in unsafe] == ["Marek"]
    assert not Contact.objects.filter(person__in=unsafe).exists()
    older, newer = Snapshot.objects.filter(client=rosa).order_by("taken_at")
    changes = diff(parse(older), parse(newer))
    assert [p.name for p in changes.newly_not_safe] == ["Marek"]
    assert "Marek" in {m.person.name for m in changes.further}

    # Other clients have small maps too.
    assert (
        Person.objects.filter(client__practice__name=generator.PRACTICE_NAME)
        .exclude(client__display_name__in=ARCHETYPES)
        .exists()
    )

    # The archetypes' maps are theirs: a stranger from another practice cannot open them.
    url = reverse("network_snapshots", kwargs={"client_id": rosa.pk})
    assert signed_in(world.stranger).get(url).status_code == 404
    assert signed_in(clinician).get(url).status_code == 200


@pytest.mark.django_db
def test_it_builds_the_same_maps_from_the_same_seed() -> None:
    generator.build_demo(clients=30, seed=11, now=NOW)
    first = maps()
    assert len(first) > 100
    generator.remove_demo()
    generator.build_demo(clients=30, seed=11, now=NOW)
    assert maps() == first


@pytest.mark.django_db
def test_it_puts_every_archetype_in_the_caseload_of_a_tiny_demo() -> None:
    generator.build_demo(clients=5, now=NOW)
    clinician = User.objects.get(email=generator.CLINICIAN_EMAIL)
    caseload = {c.display_name for c in clients_for(clinician, Purpose.CARE)}
    assert set(ARCHETYPES) <= caseload
