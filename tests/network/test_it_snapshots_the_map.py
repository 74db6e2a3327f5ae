"""Snapshots keep the whole map, encrypted, on review and on demand; only the care team and the
client reach them."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kithkin.accounts.models import Client, User
from kithkin.audit.models import AuditEvent
from kithkin.network.models import Group, Person, Snapshot
from kithkin.network.snapshots import SCHEMA_VERSION, parse, take_snapshot
from tests import factories
from tests.conftest import World, signed_in


def build_map(client: Client, size: int = 3) -> list[Person]:
    people = [
        factories.person_of(client, f"Person {index}", ring=1 + index % 3, helps_safe=index == 0)
        for index in range(size)
    ]
    for a, b in itertools.pairwise(people):
        factories.tie(a, b)
    group = Group.objects.create(client=client, name="Walking group", kind="club")
    group.members.set(people[:2])
    for person in people:
        factories.contact(person)
    return people


@pytest.mark.django_db
def test_it_keeps_every_field_encrypted_in_a_constant_number_of_queries(world: World) -> None:
    sam = factories.person_of(
        world.client_a, "Sam Ellis", ring=1, category="family", helps_safe=True,
        helps_seen=True, gives_crisis=True, strain=1, wished_rhythm_days=7,
        preferred_channel="phone", notes="Brother; Sunday calls",
    )  # fmt: skip
    ex = factories.person_of(world.client_a, "Marek Novak", ring=3, not_safe=True, strain=3)
    gone = factories.person_of(world.client_a, "Gone Person", removed_at="2026-01-01T00:00Z")
    factories.tie(sam, ex, strength=2)
    group = Group.objects.create(client=world.client_a, name="Climbing club", kind="club")
    group.members.set([sam, gone])

    snapshot = take_snapshot(world.client_a, world.clinician, reason=Snapshot.Reason.REVIEW)
    content = parse(Snapshot.objects.get(pk=snapshot.pk))
    assert content["schema"] == SCHEMA_VERSION
    assert snapshot.person_count == 2
    people = {entry["name"]: entry for entry in content["people"]}
    assert set(people) == {"Sam Ellis", "Marek Novak"}
    assert people["Sam Ellis"] | {"layout_x": None} == {
        "id": str(sam.pk), "name": "Sam Ellis", "category": "family", "ring": 1, "strain": 1,
        "not_safe": False, "wished_rhythm_days": 7, "preferred_channel": "phone",
        "notes": "Brother; Sunday calls", "layout_x": None, "layout_y": None,
        "external_uuid": "", "helps": ["seen", "safe"], "gives": ["crisis"],
    }  # fmt: skip
    assert people["Marek Novak"]["not_safe"] is True
    assert content["ties"] == [
        {"a": min(str(sam.pk), str(ex.pk)), "b": max(str(sam.pk), str(ex.pk)), "strength": 2}
    ]
    assert content["groups"] == [
        {"id": str(group.pk), "name": "Climbing club", "kind": "club", "members": [str(sam.pk)]}
    ]

    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM network_snapshot WHERE id = %s", [snapshot.pk.hex])
        raw = cursor.fetchone()[0]
    for plaintext in ("Sam Ellis", "Marek", "Climbing", "Sunday", "people"):
        assert plaintext not in raw

    event = AuditEvent.objects.filter(action="network.snapshot.create").get()
    assert event.object_id == str(snapshot.pk) and event.actor_id == world.clinician.pk
    assert "Sam" not in json.dumps(event.detail)

    def queries(size: int) -> int:
        build_map(world.client_b, size)
        with CaptureQueriesContext(connection) as captured:
            take_snapshot(world.client_b, None, reason=Snapshot.Reason.ON_DEMAND)
        Person.objects.filter(client=world.client_b).delete()
        Group.objects.filter(client=world.client_b).delete()
        return len(captured)

    assert queries(2) == queries(12)


@pytest.mark.django_db
def test_it_keeps_a_review_snapshot_when_the_map_is_marked_reviewed(world: World) -> None:
    build_map(world.client_a)
    http = signed_in(world.clinician)
    url = reverse("network_review", kwargs={"client_id": world.client_a.pk})
    response = http.post(url, {"label": "March review"})
    assert response.status_code == 302
    snapshot = Snapshot.objects.get(client=world.client_a)
    assert snapshot.reason == Snapshot.Reason.REVIEW
    assert snapshot.label == "March review" and snapshot.taken_by == world.clinician
    assert snapshot.person_count == 3

    # The client keeps one on demand from her own portal.
    own = signed_in(world.client_a_user)
    take = reverse("network_snapshot_take", kwargs={"client_id": world.client_a.pk})
    assert own.post(take, {"label": ""}).status_code == 302
    assert Snapshot.objects.filter(
        client=world.client_a, reason=Snapshot.Reason.ON_DEMAND, taken_by=world.client_a_user
    ).exists()
    assert own.post(take, {"label": "x" * 200}).status_code == 302
    assert Snapshot.objects.filter(client=world.client_a).count() == 2
    assert http.get(url).status_code == 405


@pytest.mark.django_db
def test_it_lists_snapshots_newest_first_in_constant_queries(world: World) -> None:
    build_map(world.client_a)
    http = signed_in(world.client_a_user)
    list_url = reverse("network_snapshots", kwargs={"client_id": world.client_a.pk})

    def queries(count: int) -> int:
        Snapshot.objects.filter(client=world.client_a).delete()
        for index in range(count):
            take_snapshot(world.client_a, world.clinician, reason="review", label=f"L{index}")
        with CaptureQueriesContext(connection) as captured:
            response = http.get(list_url)
        assert response.status_code == 200
        body = response.content.decode()
        # Matched as whole table cells: a bare "L0" can turn up inside a random CSRF token.
        cell = '<td data-label="Label">L{}</td>'
        newest, oldest = cell.format(count - 1), cell.format(0)
        assert newest in body
        assert body.index(newest) < body.index(oldest)
        assert "Cleo Clinician" in body
        return len(captured)

    assert queries(2) == queries(12)

    snapshot = Snapshot.objects.filter(client=world.client_a).first()
    assert snapshot is not None
    detail = reverse(
        "network_snapshot", kwargs={"client_id": world.client_a.pk, "snapshot_id": snapshot.pk}
    )
    page = signed_in(world.clinician).get(detail)
    assert page.status_code == 200
    assert "Person 0" in page.content.decode()


def snapshot_urls(client: Client, snapshot: Snapshot, other: Snapshot) -> list[tuple[str, str]]:
    kwargs: dict[str, Any] = {"client_id": client.pk}
    one = {**kwargs, "snapshot_id": snapshot.pk}
    two = {**one, "other_snapshot_id": other.pk}
    return [
        ("get", reverse("network_snapshots", kwargs=kwargs)),
        ("get", reverse("network_snapshot", kwargs=one)),
        ("get", reverse("network_snapshot_diff", kwargs=two)),
        ("get", reverse("network_snapshot_compare", kwargs=kwargs)
         + f"?older={snapshot.pk}&newer={other.pk}"),
        ("post", reverse("network_snapshot_take", kwargs=kwargs)),
        ("post", reverse("network_review", kwargs=kwargs)),
    ]  # fmt: skip


@pytest.mark.django_db
def test_it_refuses_everyone_outside_the_care_team_and_the_client(world: World) -> None:
    build_map(world.client_a)
    first = take_snapshot(world.client_a, world.clinician, reason="review")
    second = take_snapshot(world.client_a, world.clinician, reason="on_demand")
    strangers: list[User] = [
        world.colleague, world.admin, world.member, world.client_b_user, world.stranger,
    ]  # fmt: skip
    for user in strangers:
        http = signed_in(user)
        for method, url in snapshot_urls(world.client_a, first, second):
            response = getattr(http, method)(url)
            assert response.status_code == 404, (user.display_name, url)
    assert Snapshot.objects.filter(client=world.client_a).count() == 2
    assert AuditEvent.objects.filter(outcome="denied").count() >= len(strangers) * 6

    for user in (world.clinician, world.client_a_user):
        http = signed_in(user)
        for method, url in snapshot_urls(world.client_a, first, second):
            assert getattr(http, method)(url).status_code in {200, 302}, url
