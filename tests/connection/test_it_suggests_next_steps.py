"""Every suggestion rule has a test here, named after it: it fires when its condition holds, on
the element it belongs to, and not otherwise. The starting point is a client for whom everything
is going well, so no rule fires; each test changes one thing.

Suggestions never name anyone, and a person marked "not safe" never counts as someone to turn to."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from django.test import Client as HttpClient

from kithkin.connection import profile
from kithkin.connection.profile import ContactCounts, MapCounts, Scored
from kithkin.network.graph import FIVE_S_KEYS
from tests import factories
from tests.conftest import World, signed_in
from tests.connection.profile_data import (
    NOW,
    factors,
    fired,
    five_s,
    keyed,
    log,
    map_of,
    observe,
    profile_url,
    rule_ids,
    scored,
)


def _well(**responses: Sequence[Scored]) -> list[Scored]:
    """A client doing well on every source; pass e.g. ucla3=[...] to replace one."""
    found: dict[str, Sequence[Scored]] = {
        "protective_factors": [scored("protective_factors", factors(5))],
        "five_s": [scored("five_s", five_s(4))],
        "ucla3": [scored("ucla3", keyed("ucla3", 1))],
        "scs_sf": [scored("scs_sf", keyed("scs_sf", 4))],
        "ssps": [scored("ssps", keyed("ssps", 4))],
        "fcs": [scored("fcs", keyed("fcs", 0))],
    }
    found.update(responses)
    return [response for items in found.values() for response in items]


def _obs(
    *,
    map_now: MapCounts | None = None,
    map_before: MapCounts | None = None,
    contacts: ContactCounts | None = None,
    **responses: Sequence[Scored],
) -> dict[str, profile.Observation]:
    return observe(
        *_well(**responses),
        map_now=map_now or map_of(),
        map_before=map_before,
        contacts=contacts or log(),
    )


def test_nothing_is_suggested_when_all_is_well() -> None:
    assert fired(_obs()) == set()


def test_safe_nobody() -> None:
    assert fired(_obs(map_now=map_of(safe=0))) == {("safe_nobody", "five_s.safe")}
    assert "safe_nobody" not in rule_ids(_obs(map_now=map_of(safe=1)))
    # An empty or undescribed map says nothing about who helps.
    assert "safe_nobody" not in rule_ids(_obs(map_now=map_of(size=0, supportive=0, safe=0)))
    assert "safe_nobody" not in rule_ids(_obs(map_now=map_of(size=3, supportive=0, safe=0)))


def test_safe_only_one() -> None:
    assert fired(_obs(map_now=map_of(safe=1))) == {("safe_only_one", "five_s.safe")}
    assert "safe_only_one" not in rule_ids(_obs(map_now=map_of(safe=2)))
    assert "safe_only_one" not in rule_ids(_obs(map_now=map_of(safe=0)))


def test_loneliness_rising() -> None:
    rising = [
        scored("ucla3", keyed("ucla3", 1), days_ago=60),
        scored("ucla3", {"1": 2, "2": 2, "3": 1}, days_ago=1),  # 3 → 5: not yet at the cut-off
    ]
    assert fired(_obs(ucla3=rising)) == {("loneliness_rising", "disconnection.loneliness")}
    falling = [
        scored("ucla3", {"1": 2, "2": 2, "3": 1}, days_ago=60),
        scored("ucla3", keyed("ucla3", 1), days_ago=1),
    ]
    assert "loneliness_rising" not in rule_ids(_obs(ucla3=falling))
    assert "loneliness_rising" not in rule_ids(_obs(ucla3=rising[-1:]))  # one response: no trend


def test_loneliness_high() -> None:
    high = [scored("ucla3", keyed("ucla3", 2))]  # 6: at the cut-off
    assert fired(_obs(ucla3=high)) == {("loneliness_high", "disconnection.loneliness")}
    assert "loneliness_high" not in rule_ids(
        _obs(ucla3=[scored("ucla3", {"1": 2, "2": 2, "3": 1})])
    )
    # High and rising: the rising rule speaks instead, so the client reads one suggestion.
    rising = [scored("ucla3", keyed("ucla3", 1), days_ago=30), *high]
    assert rule_ids(_obs(ucla3=rising)) == {"loneliness_rising"}


def test_fears_of_compassion_high() -> None:
    high = [scored("fcs", keyed("fcs", 2))]
    expected = {("fears_of_compassion_high", "disconnection.fears_of_compassion")}
    assert fired(_obs(fcs=high)) == expected
    assert "fears_of_compassion_high" not in rule_ids(_obs(fcs=[scored("fcs", keyed("fcs", 1))]))
    assert "fears_of_compassion_high" not in rule_ids(_obs(fcs=[]))


def test_contact_falling() -> None:
    falling = log([1, 1, 1, 0, 2, 2, 2, 2])  # 3 contacts against 8, still in 3 of 4 weeks
    assert fired(_obs(contacts=falling)) == {("contact_falling", "factor.consistent_contact")}
    assert "contact_falling" not in rule_ids(_obs(contacts=log([2, 2, 2, 1, 2, 2, 2, 2])))
    too_new = log([1, 1, 1, 0, 2, 2], first_days_ago=40)
    assert "contact_falling" not in rule_ids(_obs(contacts=too_new))


def test_contact_irregular() -> None:
    rare = log([1, 0, 0, 0, 1, 0, 0, 0])
    assert fired(_obs(contacts=rare)) == {("contact_irregular", "factor.consistent_contact")}
    drifting = log(known=4, drifting=3)
    assert fired(_obs(contacts=drifting)) == {("contact_irregular", "factor.consistent_contact")}
    low_item = [scored("protective_factors", factors(5, consistent_contact=2))]
    assert rule_ids(_obs(protective_factors=low_item)) == {"contact_irregular"}
    middling = [scored("protective_factors", factors(5, consistent_contact=3))]
    assert "contact_irregular" not in rule_ids(_obs(protective_factors=middling))
    assert "contact_irregular" not in rule_ids(_obs(contacts=log(known=4, drifting=1)))


def test_no_group() -> None:
    assert fired(_obs(map_now=map_of(groups=0))) == {("no_group", "factor.inclusion")}
    low_item = [scored("protective_factors", factors(5, inclusion=1))]
    assert rule_ids(_obs(protective_factors=low_item)) == {"no_group"}
    assert "no_group" not in rule_ids(_obs(map_now=map_of(groups=1)))


def test_practical_help_few() -> None:
    expected = {("practical_help_few", "factor.multiple_connections")}
    assert fired(_obs(map_now=map_of(practical=1))) == expected
    low_item = [scored("protective_factors", factors(5, multiple_connections=2))]
    assert fired(_obs(protective_factors=low_item)) == expected
    assert "practical_help_few" not in rule_ids(_obs(map_now=map_of(practical=2)))


def test_social_safeness_low() -> None:
    expected = {("social_safeness_low", "connection.social_safeness")}
    assert fired(_obs(ssps=[scored("ssps", keyed("ssps", 2))])) == expected
    falling = [scored("ssps", keyed("ssps", 5), days_ago=60), scored("ssps", keyed("ssps", 4))]
    assert fired(_obs(ssps=falling)) == expected
    assert "social_safeness_low" not in rule_ids(_obs(ssps=[scored("ssps", keyed("ssps", 3))]))


def test_self_compassion_low() -> None:
    expected = {("self_compassion_low", "connection.self_compassion")}
    assert fired(_obs(scs_sf=[scored("scs_sf", keyed("scs_sf", 2))])) == expected
    falling = [
        scored("scs_sf", keyed("scs_sf", 5), days_ago=60),
        scored("scs_sf", keyed("scs_sf", 4)),
    ]
    assert fired(_obs(scs_sf=falling)) == expected
    assert "self_compassion_low" not in rule_ids(
        _obs(scs_sf=[scored("scs_sf", keyed("scs_sf", 3))])
    )


def test_feeling_missing_on_map() -> None:
    assert fired(_obs(map_now=map_of(soothed=0))) == {("feeling_missing_on_map", "five_s.soothed")}
    assert fired(_obs(map_now=map_of(seen=0, stable=0))) == {
        ("feeling_missing_on_map", "five_s.seen"),
        ("feeling_missing_on_map", "five_s.stable"),
    }
    # "Safe" has its own rule; one provider is not missing.
    assert "feeling_missing_on_map" not in rule_ids(_obs(map_now=map_of(safe=0)))
    assert "feeling_missing_on_map" not in rule_ids(_obs(map_now=map_of(soothed=1)))


def test_feeling_low_in_checkin() -> None:
    low = [scored("five_s", five_s(4, secure=1))]
    assert fired(_obs(five_s=low)) == {("feeling_low_in_checkin", "five_s.secure")}
    middling = [scored("five_s", five_s(4, secure=2))]
    assert "feeling_low_in_checkin" not in rule_ids(_obs(five_s=middling))


def _factor_rule(rule_id: str, factor: str) -> None:
    low = [scored("protective_factors", factors(5, **{factor: 2}))]
    assert fired(_obs(protective_factors=low)) == {(rule_id, f"factor.{factor}")}
    middling = [scored("protective_factors", factors(5, **{factor: 3}))]
    assert rule_id not in rule_ids(_obs(protective_factors=middling))


def test_boundaries_unclear() -> None:
    _factor_rule("boundaries_unclear", "clear_boundaries")


def test_competence_low() -> None:
    _factor_rule("competence_low", "competence")


def test_control_low() -> None:
    _factor_rule("control_low", "control")


def test_purpose_low() -> None:
    _factor_rule("purpose_low", "purpose")


def test_every_rule_has_its_own_test() -> None:
    tests = {
        name[len("test_") :] for name in vars(sys.modules[__name__]) if name.startswith("test_")
    }
    assert {rule.id for rule in profile.RULES} <= tests
    assert len({rule.id for rule in profile.RULES}) == len(profile.RULES)


def test_every_rule_has_both_wordings_and_names_nobody() -> None:
    for rule in profile.RULES:
        for text in (str(rule.client), str(rule.clinician)):
            rendered = text % {"feeling": "safe"}
            assert rendered.strip() and "%(" not in rendered, rule.id
            # Placeholders are only the feeling: there is no way to put a name in.
            assert set(re.findall(r"%\((\w+)\)s", text)) <= {"feeling"}, rule.id
        assert rule.elements and rule.practice


def test_the_client_reads_plain_words_and_the_care_team_reads_instruments() -> None:
    observations = _obs(
        ucla3=[scored("ucla3", keyed("ucla3", 3))],
        fcs=[scored("fcs", keyed("fcs", 3))],
        scs_sf=[scored("scs_sf", keyed("scs_sf", 1))],
        map_now=map_of(safe=1),
    )
    client = profile.describe(observations, audience="client", now=NOW)
    clinician = profile.describe(observations, audience="clinician", now=NOW)
    client_text = " ".join(
        s.text for section in client.sections for e in section.elements for s in e.suggestions
    )
    clinician_text = " ".join(
        s.text for section in clinician.sections for e in section.elements for s in e.suggestions
    )
    for jargon in ("UCLA-3", "FCS", "SCS-SF", "subscale", "cut-off", "score"):
        assert jargon not in client_text, jargon
    assert "UCLA-3" in clinician_text and "FCS" in clinician_text
    # The top of the page leads with the first few, in priority order, each rule once.
    assert [s.rule_id for s in client.next_steps] == [
        "safe_only_one",
        "loneliness_high",
        "fears_of_compassion_high",
    ]


def test_feelings_are_named_in_the_wording() -> None:
    observations = _obs(five_s=[scored("five_s", five_s(4, soothed=0))])
    described = profile.describe(observations, audience="client", now=NOW)
    soothed = next(
        e for section in described.sections for e in section.elements if e.key == "five_s.soothed"
    )
    assert [s.rule_id for s in soothed.suggestions] == ["feeling_low_in_checkin"]
    assert "You felt soothed only a little lately" in soothed.suggestions[0].text
    assert len(FIVE_S_KEYS) == 5


def test_a_not_safe_person_is_never_someone_to_turn_to(world: World) -> None:
    client = world.client_a
    factories.person_of(client, "Robin", helps_seen=True, gives_practical=True)
    factories.person_of(client, "Drew Harmful", not_safe=True, helps_safe=True)
    observations = profile.observe(profile.load_sources(client, now=NOW))
    # Drew helps "safe" on paper, but never counts: nobody on the map helps the client feel safe.
    assert "safe_nobody" in rule_ids(observations)
    assert "safe_only_one" not in rule_ids(observations)
    http: HttpClient = signed_in(world.client_a_user)
    for user_http in (http, signed_in(world.clinician)):
        page = user_http.get(profile_url(client)).content.decode()
        assert "Drew" not in page and "Harmful" not in page
        assert 'data-rule="safe_nobody"' in page
    # Strangers learn nothing of it.
    refused = signed_in(world.stranger).get(profile_url(client))
    assert refused.status_code == 404 and "Drew" not in refused.content.decode()
