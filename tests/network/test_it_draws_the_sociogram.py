"""The sociogram's geometry, as a pure function (the page tests check the rendered SVG)."""

from __future__ import annotations

import itertools
import math

import pytest
from django.urls import reverse

from kithkin.network import sociogram
from kithkin.network.sociogram import PersonIn, TieIn
from tests import factories
from tests.conftest import World, signed_in


def _person(key: str, ring: int = 2, category: str = "friend", **fields: object) -> PersonIn:
    values: dict[str, object] = {
        "key": key,
        "name": f"Person {key}",
        "category": category,
        "category_label": category.title(),
        "ring": ring,
        "not_safe": False,
        "five_s": (False, False, False, False, False),
        "href": f"/p/{key}",
        "title": key,
    }
    values.update(fields)
    return PersonIn(**values)  # type: ignore[arg-type]


def _distance(node: sociogram.Node) -> float:
    return math.hypot(node.x - sociogram.CENTRE, node.y - sociogram.CENTRE)


def test_it_places_each_ring_in_its_own_band() -> None:
    people = [
        _person(f"{ring}-{i}", ring=ring, category=["family", "friend", "work"][i % 3])
        for ring in (1, 2, 3)
        for i in range(7)
    ]
    drawing = sociogram.build(people, [])
    bands = (sociogram.RING_START, *sociogram.RING_RADII)
    for node in drawing.nodes:
        assert bands[node.ring - 1] < _distance(node) < bands[node.ring], node


def test_it_gives_each_category_a_labelled_sector_and_keeps_people_in_it() -> None:
    people = [_person(f"f{i}", category="family") for i in range(3)] + [
        _person(f"w{i}", category="work") for i in range(5)
    ]
    drawing = sociogram.build(people, [], category_order=["family", "work"])
    assert [s.category for s in drawing.sectors] == ["family", "work"]
    assert [s.label for s in drawing.sectors] == ["Family", "Work"]
    assert math.isclose(drawing.sectors[-1].end, 360.0)
    for node in drawing.nodes:
        sector = next(s for s in drawing.sectors if s.category == node.category)
        angle = math.degrees(math.atan2(node.x - 500, -(node.y - 500))) % 360
        assert sector.start <= angle <= sector.end


def test_it_spreads_a_crowded_sector_so_people_do_not_overlap() -> None:
    people = [_person(str(i), ring=ring) for ring in (1, 2, 3) for i in range(ring * 12)]
    people = [_person(f"{p.ring}-{p.key}", ring=p.ring) for p in people]
    drawing = sociogram.build(people, [])
    for a, b in itertools.combinations(drawing.nodes, 2):
        assert math.hypot(a.x - b.x, a.y - b.y) > 2 * sociogram.NODE_RADIUS, (a.key, b.key)


def test_it_is_deterministic_and_places_people_on_their_circle() -> None:
    people = [_person(str(i)) for i in range(6)] + [_person("imported", ring=1)]
    first = sociogram.build(people, [])
    second = sociogram.build(list(reversed(people)), [])
    assert first == second
    imported = next(n for n in first.nodes if n.key == "imported")
    distance = math.hypot(imported.x - sociogram.CENTRE, imported.y - sociogram.CENTRE)
    assert sociogram.RING_START < distance <= sociogram.RING_RADII[0]


def test_it_draws_ties_thicker_when_close_and_marks_the_five_s() -> None:
    people = [
        _person("a", five_s=(True, False, True, False, False)),
        _person("b"),
        _person("c", not_safe=True),
    ]
    drawing = sociogram.build(
        people, [TieIn("a", "b", 1), TieIn("a", "c", 2), TieIn("a", "gone", 1)]
    )
    assert [e.strength for e in drawing.edges] == [1, 2]
    assert drawing.edges[1].width > drawing.edges[0].width
    node_a = next(n for n in drawing.nodes if n.key == "a")
    assert [m.filled for m in node_a.markers] == [True, False, True, False, False]
    assert [m.key for m in node_a.markers] == ["seen", "safe", "soothed", "secure", "stable"]
    assert next(n for n in drawing.nodes if n.key == "c").not_safe


def test_it_draws_an_empty_map() -> None:
    drawing = sociogram.build([], [])
    assert drawing.nodes == [] and drawing.sectors == []


@pytest.mark.django_db
def test_it_refuses_strangers_the_drawing(world: World) -> None:
    factories.person_of(world.client_a, "Sam Secret")
    url = reverse("network_map", kwargs={"client_id": world.client_a.pk})
    response = signed_in(world.stranger).get(url)
    assert response.status_code == 404
    assert "Sam Secret" not in response.content.decode()


@pytest.mark.django_db
def test_it_draws_an_imported_layout_on_its_circle_not_at_its_canvas_position() -> None:
    from kithkin.network import services
    from tests import factories

    client = factories.client_of(factories.PracticeFactory.create())
    # A corner of Network Canvas's canvas would be far outside the outer circle.
    factories.person_of(client, "Corner", ring=1, layout_x=0.02, layout_y=0.98)
    stranger_client = factories.client_of(factories.PracticeFactory.create())
    factories.person_of(stranger_client, "Not hers")
    view = services.map_view(client, audience="client")
    (node,) = view.drawing.nodes
    distance = math.hypot(node.x - sociogram.CENTRE, node.y - sociogram.CENTRE)
    assert sociogram.RING_START < distance <= sociogram.RING_RADII[0]
