"""The profile combines the protective factors check-in, the Five S's check-in, the support map,
the contact log and the connection / disconnection questionnaires. Each element says where it
comes from and its trend (improving, steady, declining or not enough data); nobody marked "not
safe" ever counts, and nobody is ever named."""

from __future__ import annotations

import dataclasses

import pytest

from kithkin.connection import profile
from kithkin.connection.profile import CONTACT_LOG, MAP, Level, Trend
from kithkin.measures import services as measures
from kithkin.measures.library import ReliableChangeParams
from kithkin.network import metrics
from tests import factories
from tests.conftest import World
from tests.connection.profile_data import (
    DAY,
    NOW,
    checkin,
    contacts_in_weeks,
    factors,
    five_s,
    keyed,
    log,
    map_of,
    observe,
    scored,
    snapshot,
)

# --- the protective factors ----------------------------------------------------------------


def test_it_reads_each_factor_from_its_own_check_in_item() -> None:
    found = observe(
        scored("protective_factors", factors(3, purpose=1, control=5), days_ago=30),
        scored("protective_factors", factors(3, purpose=4, control=3), days_ago=1),
    )
    purpose = found["factor.purpose"].reading("protective_factors")
    assert purpose is not None
    assert (purpose.value, purpose.before, purpose.count) == (4, 1, 2)
    assert purpose.level is Level.STRONG and purpose.trend is Trend.IMPROVING
    control = found["factor.control"].reading("protective_factors")
    assert control is not None and control.level is Level.SOME
    assert control.trend is Trend.DECLINING
    competence = found["factor.competence"]
    assert competence.level is Level.SOME and competence.trend is Trend.STEADY
    # Every one of the seven is there, in concepts.md's order.
    keys = [key for key in found if key.startswith("factor.")]
    assert keys == [f"factor.{factor}" for factor in profile.FACTORS]


def test_it_says_not_enough_data_with_one_check_in_or_none() -> None:
    found = observe(scored("protective_factors", factors(2)))
    reading = found["factor.competence"].reading("protective_factors")
    assert reading is not None and reading.level is Level.LOW
    assert reading.trend is Trend.UNKNOWN
    nothing = observe()
    assert nothing["factor.competence"].readings == ()
    assert nothing["factor.competence"].level is None
    assert nothing["factor.competence"].trend is Trend.UNKNOWN


def test_it_combines_the_check_in_with_the_map_and_contact_log() -> None:
    found = observe(
        scored("protective_factors", factors(5)),
        map_now=map_of(size=4, supportive=1, groups=0),
        contacts=log([1, 0, 0, 0, 1, 1, 1, 1]),
    )
    for factor, source in (
        ("multiple_connections", MAP),
        ("inclusion", MAP),
        ("consistent_contact", CONTACT_LOG),
    ):
        element = found[f"factor.{factor}"]
        assert [r.source for r in element.readings] == ["protective_factors", source]
        assert element.reading("protective_factors").level is Level.STRONG  # type: ignore[union-attr]
        # The weakest source leads: a weak point shows even when the check-in looks fine.
        assert element.level is Level.LOW, factor
    # Factors the map cannot speak to have the check-in only.
    assert [r.source for r in found["factor.purpose"].readings] == ["protective_factors"]


def test_it_reads_regular_contact_from_the_log_and_the_rhythms() -> None:
    steady = observe(contacts=log([1, 1, 1, 0, 1, 1, 1, 1], known=4, drifting=0))
    reading = steady["factor.consistent_contact"].reading(CONTACT_LOG)
    assert reading is not None
    assert reading.detail["weeks_in_touch"] == 3 and reading.level is Level.STRONG
    assert reading.trend is Trend.STEADY  # 3 contacts against 4: within the margin
    drifting = observe(contacts=log([1, 1, 1, 1], known=4, drifting=3))
    assert drifting["factor.consistent_contact"].level is Level.LOW


def test_it_sees_contact_falling_by_half_and_rising_again() -> None:
    falling = observe(contacts=log([1, 1, 0, 0, 2, 2, 2, 2]))
    assert falling["factor.consistent_contact"].trend is Trend.DECLINING
    rising = observe(contacts=log([3, 3, 2, 2, 1, 1, 0, 0]))
    assert rising["factor.consistent_contact"].trend is Trend.IMPROVING
    # Not logging is not the same as not being in touch: no log, no reading.
    assert observe()["factor.consistent_contact"].readings == ()


def test_it_waits_for_eight_weeks_of_log_before_judging_its_trend() -> None:
    young = observe(contacts=log([2, 2, 0, 0], first_days_ago=20))
    reading = young["factor.consistent_contact"].reading(CONTACT_LOG)
    assert reading is not None and reading.trend is Trend.UNKNOWN
    # Weeks before logging began do not count against regular contact.
    assert reading.detail["weeks_covered"] == 3
    assert reading.detail["weeks_in_touch"] == 2


def test_it_counts_contacts_per_week_leaving_out_not_safe_people(world: World) -> None:
    client = world.client_a
    friend = factories.person_of(client, "Robin", helps_safe=True)
    harmful = factories.person_of(client, "Drew", not_safe=True)
    contacts_in_weeks(friend, [2, 0, 1, 0, 0, 0, 0, 3])
    contacts_in_weeks(harmful, [5, 5, 5, 5, 5, 5, 5, 5])
    found = profile.load_sources(client, now=NOW)
    assert found.contacts.weekly == (2, 0, 1, 0, 0, 0, 0, 3)
    assert found.contacts.first_at is not None
    assert found.map_now.providers["five_s.safe"] == 1


# --- the map -------------------------------------------------------------------------------


def test_it_counts_the_map_as_the_map_page_does(world: World) -> None:
    client = world.client_a
    sam = factories.person_of(client, "Sam", helps_safe=True, helps_seen=True)
    factories.person_of(client, "Kim", helps_safe=True, gives_practical=True)
    factories.person_of(client, "Lee", gives_crisis=True)
    factories.person_of(client, "Drew", not_safe=True, helps_safe=True, gives_practical=True)
    factories.person_of(client, "Jo")
    group = factories.person_of(client, "Ana").client.groups.create(name="Choir", kind="club")
    group.members.add(sam)
    counts = profile.load_sources(client, now=NOW).map_now
    analysis = {
        m.key: m.raw for m in metrics.analyse(client, audience="clinician", now=NOW).metrics
    }
    for function, count in counts.providers.items():
        assert analysis[function] == count, function
    assert counts.groups == analysis["groups"] == 1
    assert counts.size == analysis["size"] == 6
    assert counts.supportive == 3  # Sam, Kim, Lee: never Drew, who is not safe
    assert counts.providers["five_s.safe"] == 2


def test_it_compares_the_map_with_a_snapshot_at_least_two_weeks_old(world: World) -> None:
    client = world.client_a
    factories.person_of(client, "Sam", helps_safe=True)
    snapshot(client, days_ago=40)
    factories.person_of(client, "Kim", helps_safe=True)
    snapshot(client, days_ago=20)
    factories.person_of(client, "Lee", helps_safe=True)
    snapshot(client, days_ago=3)  # too recent to say anything about change
    found = profile.observe(profile.load_sources(client, now=NOW))
    safe = found["five_s.safe"].reading(MAP)
    assert safe is not None
    assert (safe.before, safe.value, safe.trend) == (2, 3, Trend.IMPROVING)
    assert safe.since == NOW - 20 * DAY


def test_it_has_no_map_trend_without_an_old_enough_snapshot() -> None:
    found = observe(map_now=map_of(safe=1))
    safe = found["five_s.safe"].reading(MAP)
    assert safe is not None and safe.trend is Trend.UNKNOWN and safe.level is Level.SOME
    losing = observe(map_now=map_of(safe=1), map_before=map_of(safe=2))
    assert losing["five_s.safe"].reading(MAP).trend is Trend.DECLINING  # type: ignore[union-attr]


def test_it_reads_five_s_from_the_map_and_the_check_in() -> None:
    found = observe(
        scored("five_s", five_s(3, soothed=0), days_ago=10),
        scored("five_s", five_s(3, soothed=1), days_ago=1),
        map_now=map_of(seen=0, soothed=3),
    )
    soothed = found["five_s.soothed"]
    assert [r.source for r in soothed.readings] == [MAP, "five_s"]
    assert soothed.reading(MAP).level is Level.STRONG  # type: ignore[union-attr]
    assert soothed.reading("five_s").level is Level.LOW  # type: ignore[union-attr]
    assert soothed.level is Level.LOW
    assert soothed.reading("five_s").trend is Trend.IMPROVING  # type: ignore[union-attr]
    assert found["five_s.seen"].reading(MAP).level is Level.LOW  # type: ignore[union-attr]


def test_it_leaves_an_undescribed_map_without_a_level() -> None:
    found = observe(map_now=map_of(size=3, supportive=0, safe=0))
    safe = found["five_s.safe"].reading(MAP)
    assert safe is not None and safe.level is None
    assert observe()["five_s.safe"].readings == ()


# --- the two sides -------------------------------------------------------------------------


def test_it_shows_only_the_questionnaires_the_client_has_completed() -> None:
    found = observe(scored("ucla3", keyed("ucla3", 1)))
    assert found["disconnection.loneliness"].readings
    for key in (
        "connection.self_compassion",
        "connection.social_safeness",
        "disconnection.fears_of_compassion",
    ):
        assert found[key].readings == ()


@pytest.mark.parametrize(
    ("instrument_id", "value", "key", "level"),
    [
        ("ucla3", 1, "disconnection.loneliness", Level.STRONG),  # 3
        ("ucla3", 2, "disconnection.loneliness", Level.LOW),  # 6: the cut-off
        ("scs_sf", 4, "connection.self_compassion", Level.STRONG),
        ("scs_sf", 3, "connection.self_compassion", Level.SOME),
        ("scs_sf", 2, "connection.self_compassion", Level.LOW),
        ("ssps", 4, "connection.social_safeness", Level.STRONG),
        ("ssps", 1, "connection.social_safeness", Level.LOW),
        ("fcs", 0, "disconnection.fears_of_compassion", Level.STRONG),
        ("fcs", 1, "disconnection.fears_of_compassion", Level.SOME),
        ("fcs", 3, "disconnection.fears_of_compassion", Level.LOW),
    ],
)
def test_it_reads_each_questionnaire_into_a_level(
    instrument_id: str, value: float, key: str, level: Level
) -> None:
    assert observe(scored(instrument_id, keyed(instrument_id, value)))[key].level is level


def test_it_reads_ucla3_five_as_some_loneliness() -> None:
    answers = {"1": 2, "2": 2, "3": 1}
    assert observe(scored("ucla3", answers))["disconnection.loneliness"].level is Level.SOME


def test_it_gives_a_direction_when_there_is_no_reliable_change_data() -> None:
    found = observe(
        scored("ucla3", keyed("ucla3", 1), days_ago=60),
        scored("ucla3", keyed("ucla3", 2), days_ago=1),
    )
    loneliness = found["disconnection.loneliness"].readings[0]
    assert (loneliness.before, loneliness.value) == (3, 6)
    assert loneliness.trend is Trend.DECLINING and not loneliness.reliable
    steady = observe(
        scored("ssps", {**keyed("ssps", 3), "1": 4}, days_ago=60),
        scored("ssps", keyed("ssps", 3), days_ago=1),
    )
    # One point on a 44-point range is not a direction.
    assert steady["connection.social_safeness"].trend is Trend.STEADY


def test_it_uses_reliable_change_when_the_instrument_has_it() -> None:
    ucla3 = measures.instrument("ucla3")
    with_rci = dataclasses.replace(
        ucla3, reliable_change=ReliableChangeParams(r=0.8, r_source="t", sd=2.0, sd_source="t")
    )
    # Threshold 1.96 * 2 * sqrt(2) * sqrt(0.2) = 2.48: a rise of 2 is no reliable change.
    trend, reliable = profile._series_trend(with_rci, 3, 5, 6, total=True)
    assert (trend, reliable) == (Trend.STEADY, True)
    trend, reliable = profile._series_trend(with_rci, 3, 6, 6, total=True)
    assert (trend, reliable) == (Trend.DECLINING, True)
    # Without the data, the same rise of 2 is a direction.
    assert profile._series_trend(ucla3, 3, 5, 6, total=True) == (Trend.DECLINING, False)


def test_it_reads_fears_of_compassion_by_subscale() -> None:
    low = keyed("fcs", 0)
    from_others = measures.instrument("fcs").subscales[1]
    assert from_others.id == "from_others"
    rising = {**low, **dict.fromkeys(from_others.items, 3)}
    found = observe(scored("fcs", low, days_ago=30), scored("fcs", rising, days_ago=1))
    fears = found["disconnection.fears_of_compassion"]
    parts = {part["id"]: part for part in fears.readings[0].detail["parts"]}
    assert parts["from_others"]["value"] == 39 and parts["from_others"]["before"] == 0
    assert parts["for_self"]["level"] is Level.STRONG
    # The weakest part leads, and one part rising is enough to call it declining.
    assert fears.level is Level.LOW and fears.trend is Trend.DECLINING


def test_it_loads_every_source_from_the_database(world: World) -> None:
    client = world.client_a
    checkin(client, "protective_factors", factors(2), days_ago=40)
    checkin(client, "protective_factors", factors(4), days_ago=2)
    checkin(client, "ucla3", keyed("ucla3", 3), days_ago=2)
    checkin(client, "fcs", keyed("fcs", 1), days_ago=2)
    checkin(client, "ucla3", keyed("ucla3", 1), days_ago=-5)  # after "now": not yet
    checkin(world.client_b, "ssps", keyed("ssps", 1))  # another client's: never read
    found = profile.load_sources(client, now=NOW)
    assert [len(found.responses[key]) for key in ("protective_factors", "ucla3", "fcs")] == [
        2,
        1,
        1,
    ]
    assert "ssps" not in found.responses
    assert found.responses["fcs"][0].subscales["for_self"] == 15
    observed = profile.observe(found)
    assert observed["factor.control"].trend is Trend.IMPROVING
    assert observed["disconnection.loneliness"].level is Level.LOW
