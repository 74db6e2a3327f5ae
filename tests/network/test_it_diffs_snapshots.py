"""The diff between two snapshots: who was added or removed, who moved closer or further away,
changes in the five S's, and who was newly marked "not safe"."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from kithkin.network.snapshots import diff, take_snapshot
from tests import factories
from tests.conftest import World, signed_in


def person(
    pid: str, name: str, ring: int, helps: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"id": pid, "name": name, "category": "friend", "ring": ring, "helps": helps or [],
            "gives": [], "not_safe": False, **extra}  # fmt: skip


def doc(*people: dict[str, Any]) -> dict[str, Any]:
    return {"schema": 1, "people": list(people), "ties": [], "groups": []}


def test_it_finds_every_kind_of_change_by_person_id() -> None:
    older = doc(
        person("1", "Sam", 2, ["seen"]),
        person("2", "Ana", 1, ["safe", "soothed"]),
        person("3", "Leaving", 3),
        person("4", "Marek", 1, ["secure"]),
        person("5", "Same", 2, ["stable"]),
    )
    newer = doc(
        person("1", "Sam E.", 1, ["seen", "safe"]),  # renamed: still the same person
        person("2", "Ana", 3, ["soothed"]),
        person("4", "Marek", 3, [], not_safe=True),
        person("5", "Same", 2, ["stable"]),
        person("6", "New", 2),
    )
    changes = diff(older, newer)
    assert [p.name for p in changes.added] == ["New"]
    assert [p.name for p in changes.removed] == ["Leaving"]
    assert [(m.person.name, m.from_ring, m.to_ring) for m in changes.closer] == [("Sam E.", 2, 1)]
    assert [(m.person.name, m.from_ring, m.to_ring) for m in changes.further] == [
        ("Ana", 1, 3), ("Marek", 1, 3),
    ]  # fmt: skip
    five_s = {c.person.name: (c.gained, c.lost) for c in changes.five_s}
    assert five_s == {"Sam E.": (("safe",), ()), "Ana": ((), ("safe",)), "Marek": ((), ("secure",))}
    assert [p.name for p in changes.newly_not_safe] == ["Marek"]
    assert changes.no_longer_not_safe == []
    assert changes.has_changes

    assert not diff(newer, newer).has_changes
    back = diff(newer, older)
    assert [p.name for p in back.no_longer_not_safe] == ["Marek"]
    assert [p.name for p in back.added] == ["Leaving"]


@pytest.mark.django_db
def test_it_shows_the_change_in_plain_words(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam Ellis", ring=2)
    marek = factories.person_of(world.client_a, "Marek", ring=1, helps_secure=True)
    gone = factories.person_of(world.client_a, "Jana", ring=3)
    older = take_snapshot(world.client_a, world.clinician, reason="review")
    sam.ring, sam.helps_safe = 1, True
    sam.save()
    marek.ring, marek.not_safe, marek.helps_secure = 3, True, False
    marek.save()
    gone.delete()
    factories.person_of(world.client_a, "Hana Sato", ring=2)
    newer = take_snapshot(world.client_a, world.client_a_user, reason="review")

    url = reverse("network_snapshot_diff", kwargs={
        "client_id": world.client_a.pk, "snapshot_id": newer.pk, "other_snapshot_id": older.pk,
    })  # fmt: skip
    body = signed_in(world.client_a_user).get(url).content.decode()
    assert "Hana Sato" in body
    assert "Jana" in body
    assert "Sam Ellis: from the middle circle to the inner circle" in body
    assert "Marek: from the inner circle to the outer circle" in body
    assert "now helps you feel safe" in body
    assert "Marek is now marked “not safe for me”" in body
    clinician_view = signed_in(world.clinician).get(url).content.decode()
    assert "now helps the client feel safe" in clinician_view


@pytest.mark.django_db
def test_it_refuses_to_compare_snapshots_of_two_clients(world: World) -> None:
    world.client_b.care_team_links.create(user=world.clinician)
    mine = take_snapshot(world.client_a, world.clinician, reason="review")
    theirs = take_snapshot(world.client_b, world.clinician, reason="review")
    http = signed_in(world.clinician)
    for client, first, second in [
        (world.client_a, mine, theirs),
        (world.client_b, mine, theirs),
        (world.client_a, theirs, mine),
    ]:  # fmt: skip
        url = reverse("network_snapshot_diff", kwargs={
            "client_id": client.pk, "snapshot_id": first.pk, "other_snapshot_id": second.pk,
        })  # fmt: skip
        assert http.get(url).status_code == 404
    # A stranger is refused even for two snapshots of the same client.
    url = reverse("network_snapshot_diff", kwargs={
        "client_id": world.client_a.pk, "snapshot_id": mine.pk, "other_snapshot_id": mine.pk,
    })  # fmt: skip
    assert signed_in(world.stranger).get(url).status_code == 404
    assert http.get(url).status_code == 200
