"""The map's measures, on small graphs whose answers are worked out by hand."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta

import networkx as nx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.network.graph import EGO, burt_constraint, ego_graph
from kithkin.network.metrics import (
    Analysis,
    GroupData,
    MapData,
    PersonData,
    TieData,
    analyse,
    analyse_data,
    load_map_data,
    shannon_entropy,
)
from kithkin.network.models import Group
from tests.conftest import World
from tests.factories import contact, person_of, tie

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def people(*names: str, **fields: object) -> tuple[PersonData, ...]:
    return tuple(PersonData(id=n, name=n, category="friend", **fields) for n in names)  # type: ignore[arg-type]


def ties(*pairs: str) -> tuple[TieData, ...]:
    """ties("ab", "bc") ties a-b and b-c."""
    return tuple(TieData(p[0], p[1]) for p in pairs)


def raw(analysis: Analysis, key: str) -> float | int | None:
    return next(m.raw for m in analysis.metrics if m.key == key)


def test_it_measures_diversity_as_shannon_entropy_in_natural_log() -> None:
    assert shannon_entropy([]) == 0
    assert shannon_entropy([5]) == 0
    assert shannon_entropy([1, 1]) == pytest.approx(math.log(2))
    assert shannon_entropy([3, 3, 3]) == pytest.approx(math.log(3))
    # p = 1/2, 1/4, 1/4: 1/2 ln 2 + 2 * 1/4 ln 4 = 1.5 ln 2
    assert shannon_entropy([2, 1, 1]) == pytest.approx(1.5 * math.log(2))

    def category_map(*categories: str) -> MapData:
        return MapData(tuple(PersonData(str(i), "P", c) for i, c in enumerate(categories)))

    mixed = analyse_data(category_map("work", "family", "friend"), now=NOW)
    assert raw(mixed, "diversity") == pytest.approx(math.log(3))
    assert raw(mixed, "composition") == 3
    diversity = next(m for m in mixed.metrics if m.key == "diversity")
    assert "many parts of life" in diversity.explanation
    one = analyse_data(category_map("work", "work", "work", "work"), now=NOW)
    assert raw(one, "diversity") == 0
    assert "one part of life" in next(m for m in one.metrics if m.key == "diversity").explanation
    composition = next(m for m in one.metrics if m.key == "composition")
    assert composition.value == "Colleague or work group 4"


def test_it_measures_density_components_and_isolates_without_the_client() -> None:
    # A triangle a-b-c plus d who knows none of them: 3 ties of 6 possible pairs.
    data = MapData(people("a", "b", "c", "d"), ties("ab", "bc", "ac"))
    analysis = analyse_data(data, now=NOW)
    assert raw(analysis, "density") == pytest.approx(0.5)
    assert next(m.value for m in analysis.metrics if m.key == "density") == "50%"
    assert raw(analysis, "components") == 2
    assert raw(analysis, "isolates") == 1
    assert raw(analysis, "size") == 4


def test_it_computes_effective_size_and_constraint_of_a_star_by_hand() -> None:
    # Four people who don't know each other: every tie is non-redundant.
    # Effective size n - 2t/n = 4 - 0 = 4; constraint 4 * (1/4)^2 = 0.25.
    analysis = analyse_data(MapData(people("a", "b", "c", "d")), now=NOW)
    assert raw(analysis, "effective_size") == pytest.approx(4)
    assert raw(analysis, "constraint") == pytest.approx(0.25)
    assert raw(analysis, "density") == 0
    assert raw(analysis, "components") == 4
    assert raw(analysis, "isolates") == 4


def test_it_computes_effective_size_and_constraint_of_a_clique_by_hand() -> None:
    # Four people who all know each other (6 ties): effective size 4 - 12/4 = 1.
    # Constraint: p(client, j) = 1/4, each alter has degree 4 (client + 3), so the indirect part
    # is 3 * 1/4 * 1/4 = 3/16 and each term is (4/16 + 3/16)^2 = 49/256; four terms = 49/64.
    data = MapData(people("a", "b", "c", "d"), ties("ab", "ac", "ad", "bc", "bd", "cd"))
    analysis = analyse_data(data, now=NOW)
    assert raw(analysis, "effective_size") == pytest.approx(1)
    assert raw(analysis, "constraint") == pytest.approx(49 / 64)
    assert raw(analysis, "density") == 1
    assert raw(analysis, "components") == 1
    assert raw(analysis, "isolates") == 0


def test_it_computes_constraint_of_a_triangle_and_an_isolate_by_hand() -> None:
    # Triangle members: (1/4 + 2 * 1/4 * 1/3)^2 = (5/12)^2 = 25/144 each; the isolate
    # (1/4)^2 = 9/144. Total 84/144. Effective size 4 - 2*3/4 = 2.5.
    data = MapData(people("a", "b", "c", "d"), ties("ab", "bc", "ac"))
    analysis = analyse_data(data, now=NOW)
    assert raw(analysis, "constraint") == pytest.approx(84 / 144)
    assert raw(analysis, "effective_size") == pytest.approx(2.5)


def test_it_matches_networkx_effective_size_and_constraint_on_random_maps() -> None:
    rng = random.Random(7)
    for size in (1, 2, 5, 12, 25):
        ids = [f"p{i}" for i in range(size)]
        pairs = {tuple(sorted(rng.sample(ids, 2))) for _ in range(size * 2)} if size > 1 else set()
        data = MapData(
            tuple(PersonData(i, i, "friend") for i in ids),
            tuple(TieData(a, b) for a, b in pairs),
        )
        graph = ego_graph(data)
        assert burt_constraint(graph, EGO) == pytest.approx(nx.constraint(graph, [EGO])[EGO])
        effective = raw(analyse_data(data, now=NOW), "effective_size")
        assert effective == pytest.approx(nx.effective_size(graph, [EGO])[EGO])


def test_it_counts_who_provides_each_function_never_a_not_safe_person(world: World) -> None:
    a = world.client_a
    person_of(a, "Sam", helps_safe=True, helps_seen=True, gives_practical=True)
    person_of(a, "Jo", helps_safe=True, gives_crisis=True)
    # On the map and counted in size, but never a resource.
    person_of(a, "Rex", helps_safe=True, helps_soothed=True, gives_crisis=True, not_safe=True)
    person_of(a, "Gone", helps_safe=True, removed_at=timezone.now())
    analysis = analyse(a, now=NOW)
    assert raw(analysis, "size") == 3
    assert raw(analysis, "five_s.safe") == 2
    assert raw(analysis, "five_s.seen") == 1
    assert raw(analysis, "five_s.soothed") == 0
    assert raw(analysis, "five_s.secure") == 0
    assert raw(analysis, "support.crisis") == 1
    assert raw(analysis, "support.practical") == 1
    assert raw(analysis, "support.emotional") == 0
    assert next(m.label for m in analysis.metrics if m.key == "five_s.safe") == (
        "Help you feel safe"
    )
    clinician = analyse(a, audience="clinician", now=NOW)
    assert next(m.label for m in clinician.metrics if m.key == "five_s.safe") == (
        "Help the client feel safe"
    )


def test_it_counts_single_points_of_failure_of_both_kinds() -> None:
    data = MapData(
        (
            # Maria alone gives practical help, emotional support and company.
            PersonData(
                "m",
                "Maria",
                "family",
                support=frozenset({"practical", "emotional", "companionship"}),
            ),
            # Sam alone helps feel safe (one function); both help feel seen (not single).
            PersonData("s", "Sam", "friend", five_s=frozenset({"safe", "seen"})),
            PersonData("t", "Tom", "friend", five_s=frozenset({"seen"})),
        )
    )
    analysis = analyse_data(data, now=NOW)
    assert raw(analysis, "single_points.functions") == 4
    assert raw(analysis, "single_points.people") == 1


def test_it_measures_the_share_of_relationships_under_strain_and_the_groups() -> None:
    data = MapData(
        (
            PersonData("a", "A", "family", strain=3),
            PersonData("b", "B", "family", strain=2),
            PersonData("c", "C", "family", strain=1),
            PersonData("d", "D", "family", strain=0),
        ),
        groups=(GroupData("g1", "team", frozenset({"a"})), GroupData("g2", "club")),
    )
    analysis = analyse_data(data, now=NOW)
    assert raw(analysis, "strain") == pytest.approx(0.5)
    assert next(m.value for m in analysis.metrics if m.key == "strain") == "2 of 4"
    assert raw(analysis, "groups") == 2


def test_it_measures_contact_regularity_against_a_fixed_now() -> None:
    data = MapData(
        (
            # Within a weekly rhythm: last contact 6 days ago.
            PersonData(
                "a",
                "A",
                "friend",
                wished_rhythm_days=7,
                last_contact_at=NOW - timedelta(days=6),
                recent_contacts=(NOW - timedelta(days=40), NOW - timedelta(days=6)),
            ),
            # Outside it: 8 days.
            PersonData(
                "b",
                "B",
                "friend",
                wished_rhythm_days=7,
                last_contact_at=NOW - timedelta(days=8),
                recent_contacts=(NOW - timedelta(days=8),),
            ),
            # Never contacted: not within.
            PersonData("c", "C", "friend", wished_rhythm_days=30),
            # No rhythm wished: not counted either way.
            PersonData("d", "D", "friend", last_contact_at=NOW - timedelta(days=1)),
            # Not safe: never part of rhythms, though the contact is logged and counted.
            PersonData(
                "e",
                "E",
                "friend",
                not_safe=True,
                wished_rhythm_days=7,
                recent_contacts=(NOW - timedelta(days=2),),
            ),
        )
    )
    analysis = analyse_data(data, now=NOW)
    assert raw(analysis, "rhythm") == pytest.approx(1 / 3)
    assert next(m.value for m in analysis.metrics if m.key == "rhythm") == "1 of 3"
    # 6, 8 and 2 days ago are within 30 days; 40 days ago is not.
    assert raw(analysis, "contacts_30_days") == 3


def test_it_measures_an_empty_map_without_crashing() -> None:
    analysis = analyse_data(MapData(), now=NOW)
    assert raw(analysis, "size") == 0
    for key in ("density", "effective_size", "constraint", "strain", "rhythm", "diversity"):
        assert raw(analysis, key) is None, key
    assert raw(analysis, "components") == 0
    assert all(m.value for m in analysis.metrics)
    assert len(analysis.gaps) == 1
    clinician = analyse_data(MapData(), audience="clinician", now=NOW)
    assert clinician.gaps[0].startswith("The client's map is empty")
    with pytest.raises(ValueError):
        analyse_data(MapData(), audience="member")


def test_it_reads_a_live_map_and_round_trips_it_through_a_dict(world: World) -> None:
    a = world.client_a
    sam = person_of(a, "Sam", helps_safe=True, wished_rhythm_days=7)
    jo = person_of(a, "Jo", category="work")
    gone = person_of(a, "Gone", removed_at=timezone.now())
    tie(sam, jo)
    tie(sam, gone)  # to someone no longer on the map: ignored
    group = Group.objects.create(client=a, name="Choir", kind="club")
    group.members.add(sam, gone)
    contact(sam, occurred_at=NOW - timedelta(days=3))
    contact(sam, occurred_at=NOW - timedelta(days=200))
    data = load_map_data(a, now=NOW)
    assert {p.name for p in data.people} == {"Sam", "Jo"}
    assert len(data.ties) == 1
    assert data.groups == (GroupData(str(group.pk), "club", frozenset({str(sam.pk)})),)
    loaded_sam = next(p for p in data.people if p.name == "Sam")
    assert loaded_sam.last_contact_at == NOW - timedelta(days=3)
    assert loaded_sam.recent_contacts == (NOW - timedelta(days=3),)
    assert loaded_sam.five_s == frozenset({"safe"})
    assert MapData.from_dict(data.to_dict()) == data
    assert analyse_data(MapData.from_dict(data.to_dict()), now=NOW) == analyse(a, now=NOW)


def _map_of(client: Client, size: int) -> None:
    everyone = [
        person_of(client, f"P{i}", helps_safe=i % 2 == 0, wished_rhythm_days=7) for i in range(size)
    ]
    for first, second in itertools.pairwise(everyone):
        tie(first, second)
    for person in everyone:
        contact(person, occurred_at=NOW - timedelta(days=1))
    group = Group.objects.create(client=client, name="Club", kind="club")
    group.members.add(*everyone)


def test_it_analyses_in_a_constant_number_of_queries(world: World) -> None:
    counts = []
    for client, size in ((world.client_a, 3), (world.client_b, 30)):
        _map_of(client, size)
        with CaptureQueriesContext(connection) as queries:
            analysis = analyse(client, now=NOW)
        assert raw(analysis, "size") == size
        counts.append(len(queries))
    assert counts[0] == counts[1] == 5


def test_it_never_includes_a_strangers_people(world: World) -> None:
    a, b = world.client_a, world.client_b
    sam = person_of(a, "Sam", helps_safe=True)
    stranger = person_of(b, "Stranger Bea", helps_safe=True, helps_seen=True, strain=3)
    other = person_of(world.other_client, "Other Oli", helps_seen=True)
    tie(stranger, person_of(b, "Bea's friend"))
    contact(stranger, occurred_at=NOW - timedelta(days=1))
    Group.objects.create(client=b, name="B's club", kind="club").members.add(stranger)
    analysis = analyse(a, now=NOW)
    assert raw(analysis, "size") == 1
    assert raw(analysis, "five_s.seen") == 0
    assert raw(analysis, "groups") == 0
    assert raw(analysis, "contacts_30_days") == 0
    assert raw(analysis, "strain") == 0
    text = " ".join([*analysis.gaps, *(m.value + m.explanation for m in analysis.metrics)])
    assert "Stranger" not in text and "Oli" not in text
    assert "Only Sam helps you feel safe." in analysis.gaps
    data = load_map_data(a, now=NOW)
    assert {p.id for p in data.people} == {str(sam.pk)}
    assert str(other.pk) not in {p.id for p in data.people}
