from __future__ import annotations

import json

import pytest
from django.urls import reverse

from kithkin.accounts.models import Client, User
from kithkin.audit.models import AuditEvent
from kithkin.network.models import Category, Group, Person, Ring, Tie
from tests import factories
from tests.conftest import World, signed_in

STRANGERS = ["colleague", "admin", "member", "client_b_user", "stranger"]


def _named(name: str) -> Person:
    # Names are encrypted, so they are matched in Python rather than in SQL.
    return next(p for p in Person.objects.all() if p.name == name)


def _quick_add_url(client: Client) -> str:
    return reverse("network_quick_add", kwargs={"client_id": client.pk})


def _person_url(person: Person, name: str = "network_person") -> str:
    return reverse(name, kwargs={"client_id": person.client_id, "person_id": person.pk})


def _person_post(person: Person, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": person.name,
        "category": person.category,
        "ring": person.ring,
        "strain": person.strain,
        "wished_rhythm_days": "",
        "preferred_channel": "",
        "notes": "",
        "save": "1",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_quick_adds_several_people_at_once(world: World, who: str) -> None:
    user: User = getattr(world, who)
    response = signed_in(user).post(
        _quick_add_url(world.client_a),
        {"names": "Sam\n\n  Kim , Lee\nJo  Ann\n", "ring": Ring.INNER, "category": Category.FAMILY},
    )
    people = list(Person.objects.filter(client=world.client_a).order_by("created_at", "name"))
    assert sorted(p.name for p in people) == ["Jo Ann", "Kim", "Lee", "Sam"]
    assert all(p.ring == Ring.INNER and p.category == Category.FAMILY for p in people)
    assert all(p.created_by == user and p.updated_by == user for p in people)
    # Straight on to describing the first of them, with a "next person" link.
    first = _named("Sam")
    assert response.status_code == 302
    assert response["Location"] == _person_url(first)
    event = AuditEvent.objects.get(action="network.person.create")
    assert event.detail["count"] == 4
    assert "Sam" not in json.dumps(event.detail)


@pytest.mark.django_db
def test_it_walks_through_the_new_people_one_by_one(world: World) -> None:
    http = signed_in(world.client_a_user)
    http.post(_quick_add_url(world.client_a), {"names": "Ana\nBo", "ring": 2, "category": "friend"})
    ana = _named("Ana")
    bo = _named("Bo")
    page = http.get(_person_url(ana)).content.decode()
    assert _person_url(bo) in page and "Next person" in page
    response = http.post(_person_url(ana), _person_post(ana, helps_safe="on", save_next="1"))
    assert response["Location"] == _person_url(bo)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("names", "problem"),
    [
        ("\n".join(f"P{i}" for i in range(201)), "at most 200"),
        ("Sam\n" + "x" * 81, "Name number 2 is longer than 80"),
        ("\n , \n", "at least one name"),
    ],
)
def test_it_refuses_a_bad_list_and_adds_nobody(world: World, names: str, problem: str) -> None:
    response = signed_in(world.clinician).post(
        _quick_add_url(world.client_a), {"names": names, "ring": 2, "category": "friend"}
    )
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_it_describes_a_person_with_ties_and_groups(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    kim = factories.person_of(world.client_a, "Kim")
    lee = factories.person_of(world.client_a, "Lee")
    factories.tie(sam, lee)
    group = Group.objects.create(client=world.client_a, name="Choir", kind="club")
    response = signed_in(world.clinician).post(
        _person_url(sam),
        _person_post(
            sam,
            name="Sam T",
            ring=Ring.OUTER,
            helps_safe="on",
            gives_crisis="on",
            strain=2,
            not_safe="on",
            wished_rhythm_days=14,
            preferred_channel="phone",
            notes="Met at the allotment",
            knows=[str(kim.pk)],
            knows_well=[str(kim.pk)],
            groups=[str(group.pk)],
        ),
    )
    assert response.status_code == 302
    sam.refresh_from_db()
    assert (sam.name, sam.ring, sam.strain, sam.wished_rhythm_days) == ("Sam T", 3, 2, 14)
    assert sam.helps_safe and sam.gives_crisis and sam.not_safe and not sam.helps_seen
    assert sam.updated_by == world.clinician
    ties = {(t.person_a_id, t.person_b_id): t.strength for t in Tie.objects.all()}
    assert ties == {tuple(sorted([sam.pk, kim.pk], key=str)): 2}  # Lee untied, Kim close
    assert list(group.members.all()) == [sam]
    event = AuditEvent.objects.get(action="network.person.update")
    assert "name" in event.detail["fields"] and "notes" in event.detail["fields"]
    assert "Sam" not in json.dumps(event.detail) and "allotment" not in json.dumps(event.detail)


@pytest.mark.django_db
def test_it_refuses_a_tie_to_someone_on_another_map(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    other = factories.person_of(world.client_b, "Bea's friend")
    response = signed_in(world.clinician).post(
        _person_url(sam), _person_post(sam, knows=[str(other.pk)])
    )
    assert response.status_code == 200
    assert not Tie.objects.exists()


@pytest.mark.django_db
def test_it_takes_someone_off_the_map_after_asking(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    http = signed_in(world.client_a_user)
    page = http.get(_person_url(sam, "network_person_remove"))
    assert "Take Sam off the map?" in page.content.decode()
    sam.refresh_from_db()
    assert sam.removed_at is None
    http.post(_person_url(sam, "network_person_remove"))
    sam.refresh_from_db()
    assert sam.removed_at is not None and sam.updated_by == world.client_a_user
    assert http.get(_person_url(sam)).status_code == 404
    assert AuditEvent.objects.filter(action="network.person.remove").exists()


@pytest.mark.django_db
def test_it_creates_and_edits_groups(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    http = signed_in(world.client_a_user)
    groups_url = reverse("network_groups", kwargs={"client_id": world.client_a.pk})
    http.post(groups_url, {"new-name": "Choir", "new-kind": "club", "new-members": [str(sam.pk)]})
    group = Group.objects.get(client=world.client_a)
    assert group.name == "Choir" and list(group.members.all()) == [sam]
    assert "Choir" in http.get(groups_url).content.decode()
    group_url = reverse(
        "network_group", kwargs={"client_id": world.client_a.pk, "group_id": group.pk}
    )
    http.post(group_url, {"name": "Community choir", "kind": "club"})
    group.refresh_from_db()
    assert group.name == "Community choir" and not group.members.exists()
    http.post(group_url, {"delete": "1"})
    assert not Group.objects.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"network.group.create", "network.group.update", "network.group.delete"} <= actions
    assert not any(
        "choir" in json.dumps(d).lower()
        for d in AuditEvent.objects.values_list("detail", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who", STRANGERS)
def test_it_refuses_strangers_and_changes_nothing(world: World, who: str) -> None:
    sam = factories.person_of(world.client_a, "Sam Secret")
    group = Group.objects.create(client=world.client_a, name="Choir", kind="club")
    http = signed_in(getattr(world, who))
    urls = [
        _quick_add_url(world.client_a),
        _person_url(sam),
        _person_url(sam, "network_person_remove"),
        reverse("network_groups", kwargs={"client_id": world.client_a.pk}),
        reverse("network_group", kwargs={"client_id": world.client_a.pk, "group_id": group.pk}),
    ]
    for url in urls:
        assert http.get(url).status_code == 404
        response = http.post(
            url,
            {
                "names": "Intruder",
                "ring": 1,
                "category": "friend",
                "name": "Changed",
                "kind": "club",
                "delete": "1",
                "new-name": "X",
                "new-kind": "club",
            },
        )
        assert response.status_code == 404
        assert "Sam Secret" not in response.content.decode()
    sam.refresh_from_db()
    assert sam.name == "Sam Secret" and sam.removed_at is None
    assert Person.objects.count() == 1
    assert [g.name for g in Group.objects.all()] == ["Choir"]


@pytest.mark.django_db
def test_it_refuses_a_person_through_another_clients_url(world: World) -> None:
    # Client B's own login, asking for her own person under client A's URL.
    bea_person = factories.person_of(world.client_b, "Bea's friend")
    url = reverse(
        "network_person", kwargs={"client_id": world.client_a.pk, "person_id": bea_person.pk}
    )
    assert signed_in(world.client_b_user).get(url).status_code == 404
