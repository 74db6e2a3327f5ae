"""The gaps panel: plain sentences naming what is thin, safety first, never naming a person
marked "not safe for me"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kithkin.network.metrics import GroupData, MapData, PersonData, analyse, analyse_data
from tests.conftest import World
from tests.factories import person_of

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CLUB = (GroupData("g", "club"),)
ALL_S = frozenset({"seen", "safe", "soothed", "secure", "stable"})
ALL_K = frozenset({"emotional", "practical", "informational", "companionship", "crisis"})


def person(pid: str, name: str, category: str = "friend", **fields: object) -> PersonData:
    return PersonData(pid, name, category, **fields)  # type: ignore[arg-type]


def covered(*extra: PersonData) -> MapData:
    """Two people who between them cover everything, plus ``extra``, and a group."""
    return MapData(
        (
            person("x1", "Xan", five_s=ALL_S, support=ALL_K),
            person("x2", "Yara", "family", five_s=ALL_S, support=ALL_K),
            *extra,
        ),
        groups=CLUB,
    )


def test_it_says_nothing_is_thin_when_everything_has_two_people() -> None:
    assert analyse_data(covered(), now=NOW).gaps == []


def test_it_names_the_only_person_who_helps_with_something() -> None:
    data = MapData(
        (
            person("s", "Sam", five_s=frozenset({"safe"}) | (ALL_S - {"safe"})),
            person("t", "Tia", "family", five_s=ALL_S - {"safe"}, support=ALL_K),
            person("u", "Uma", "work", support=ALL_K),
        ),
        groups=CLUB,
    )
    assert analyse_data(data, now=NOW).gaps == ["Only Sam helps you feel safe."]
    assert analyse_data(data, audience="clinician", now=NOW).gaps == [
        "Only Sam helps the client feel safe."
    ]


def test_it_says_when_nobody_helps_with_something_yet() -> None:
    data = MapData(
        (
            person("a", "Ann", five_s=ALL_S - {"soothed", "stable"}, support=ALL_K),
            person("b", "Ben", "family", five_s=ALL_S - {"soothed", "stable"}, support=ALL_K),
        ),
        groups=CLUB,
    )
    assert analyse_data(data, now=NOW).gaps == [
        "Nobody on your map helps you feel soothed or stable yet."
    ]


def test_it_says_when_one_person_alone_carries_three_or_more() -> None:
    maria = person(
        "m", "Maria", "family", support=frozenset({"practical", "emotional", "companionship"})
    )
    others = (
        person("a", "Ann", five_s=ALL_S, support=frozenset({"informational", "crisis"})),
        person("b", "Ben", "work", five_s=ALL_S, support=frozenset({"informational", "crisis"})),
    )
    data = MapData((maria, *others), groups=CLUB)
    assert analyse_data(data, now=NOW).gaps == [
        "Maria is the only person who gives you emotional support, practical help and company "
        "— that's a lot resting on one person."
    ]
    clinician = analyse_data(data, audience="clinician", now=NOW).gaps
    assert clinician == [
        "Maria is the only person who gives the client emotional support, practical help and "
        "company — a lot rests on one person."
    ]


def test_it_never_leans_on_a_not_safe_person(world: World) -> None:
    a = world.client_a
    person_of(a, "Rex", not_safe=True, helps_safe=True, gives_crisis=True, wished_rhythm_days=7)
    person_of(a, "Sam", helps_seen=True)
    gaps = analyse(a, now=NOW).gaps
    assert not any("Rex" in g for g in gaps)
    assert gaps[0] == "Nobody on your map helps you feel safe, soothed, secure or stable yet."
    # Rex's rhythm is never nudged about.
    assert not any("in touch" in g for g in gaps)
    # Only Sam counts, so Sam is named for seen.
    assert "Only Sam helps you feel seen." in gaps


def test_it_puts_safety_first() -> None:
    data = MapData(
        (
            person(
                "a",
                "Ann",
                five_s=ALL_S - {"safe"},
                support=ALL_K,
                wished_rhythm_days=7,
                strain=2,
            ),
            person("b", "Ben", five_s=frozenset({"safe", "seen"}), support=ALL_K, strain=3),
        )
    )
    gaps = analyse_data(data, now=NOW).gaps
    assert gaps == [
        "Only Ben helps you feel safe.",
        "Ann is the only person who helps you feel soothed, secure and stable — that's a lot "
        "resting on one person.",
        "There is some strain with 2 of the 2 people on your map right now.",
        "Everyone you listed is a friend.",
        "Your map doesn't show any group you belong to yet, such as a team, club, "
        "congregation or online community.",
        "You haven't been in touch with 1 person as often as you'd like.",
    ]


def test_it_names_a_map_from_one_part_of_life_and_missed_rhythms() -> None:
    data = MapData(
        (
            person("a", "Ann", "work", five_s=ALL_S, support=ALL_K, wished_rhythm_days=7),
            person(
                "b",
                "Ben",
                "work",
                five_s=ALL_S,
                support=ALL_K,
                wished_rhythm_days=7,
                last_contact_at=NOW - timedelta(days=20),
            ),
            person(
                "c",
                "Cy",
                "work",
                five_s=ALL_S,
                wished_rhythm_days=14,
                last_contact_at=NOW - timedelta(days=2),
            ),
        ),
        groups=CLUB,
    )
    assert analyse_data(data, now=NOW).gaps == [
        "Everyone you listed is from work.",
        "You haven't been in touch with 2 people as often as you'd like.",
    ]
    assert analyse_data(data, audience="clinician", now=NOW).gaps == [
        "Everyone the client listed is from work.",
        "The client hasn't been in touch with 2 people as often as they'd like.",
    ]


def test_it_asks_gently_when_nobody_has_been_described_yet() -> None:
    data = MapData((person("a", "Ann"), person("b", "Ben", "family")), groups=CLUB)
    assert analyse_data(data, now=NOW).gaps == [
        "You haven't marked yet who helps you feel seen, safe, soothed, secure or stable, or "
        "what support each person gives you."
    ]


def test_it_gives_one_gentle_gap_for_an_empty_map(world: World) -> None:
    assert analyse(world.client_a, now=NOW).gaps == [
        "Your map is empty; add the people around you to see what is strong and what is thin."
    ]


def test_it_never_names_a_strangers_people(world: World) -> None:
    person_of(world.client_b, "Bea's Sister", helps_safe=True)
    person_of(world.other_client, "Oli's Friend", helps_safe=True)
    person_of(world.client_a, "Sam", helps_safe=True)
    gaps = analyse(world.client_a, now=NOW).gaps
    assert "Only Sam helps you feel safe." in gaps
    assert not any("Sister" in g or "Friend" in g for g in gaps)
