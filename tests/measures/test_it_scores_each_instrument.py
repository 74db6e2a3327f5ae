"""Worked examples for every shipped instrument, from its published scoring rules."""

from __future__ import annotations

import pytest

from kithkin.measures.library import Instrument, shipped
from kithkin.measures.scoring import AnswerError, score


def get(instrument_id: str) -> Instrument:
    return shipped()[instrument_id]


def spread(instrument: Instrument, values: list[float]) -> dict[str, float | None]:
    assert len(values) == len(instrument.items)
    return {item.id: value for item, value in zip(instrument.items, values, strict=True)}


def total_for(instrument: Instrument, target: int) -> dict[str, float | None]:
    """Answers summing to ``target`` on an unreversed sum-scored instrument."""
    answers: dict[str, float | None] = {}
    remaining = target - sum(item.lowest for item in instrument.items)
    for item in instrument.items:
        step = min(remaining, item.highest - item.lowest)
        answers[item.id] = item.lowest + step
        remaining -= step
    assert remaining == 0
    return answers


# Every band boundary, on both sides: (instrument, score, band label).
BAND_EDGES = [
    ("phq9", 4, "Minimal"),
    ("phq9", 5, "Mild"),
    ("phq9", 9, "Mild"),
    ("phq9", 10, "Moderate"),
    ("phq9", 14, "Moderate"),
    ("phq9", 15, "Moderately severe"),
    ("phq9", 19, "Moderately severe"),
    ("phq9", 20, "Severe"),
    ("phq9", 0, "Minimal"),
    ("phq9", 27, "Severe"),
    ("gad7", 0, "Minimal"),
    ("gad7", 4, "Minimal"),
    ("gad7", 5, "Mild"),
    ("gad7", 9, "Mild"),
    ("gad7", 10, "Moderate"),
    ("gad7", 14, "Moderate"),
    ("gad7", 15, "Severe"),
    ("gad7", 21, "Severe"),
    ("phq4", 0, "Normal"),
    ("phq4", 2, "Normal"),
    ("phq4", 3, "Mild"),
    ("phq4", 5, "Mild"),
    ("phq4", 6, "Moderate"),
    ("phq4", 8, "Moderate"),
    ("phq4", 9, "Severe"),
    ("phq4", 12, "Severe"),
    ("k10", 10, "Likely to be well"),
    ("k10", 19, "Likely to be well"),
    ("k10", 20, "Mild distress"),
    ("k10", 24, "Mild distress"),
    ("k10", 25, "Moderate distress"),
    ("k10", 29, "Moderate distress"),
    ("k10", 30, "Severe distress"),
    ("k10", 50, "Severe distress"),
    ("pcl5", 32, "Below the probable-PTSD cut-off"),
    ("pcl5", 33, "Probable PTSD"),
]


@pytest.mark.parametrize(("instrument_id", "target", "label"), BAND_EDGES)
def test_it_puts_each_band_edge_in_the_right_band(
    instrument_id: str, target: int, label: str
) -> None:
    instrument = get(instrument_id)
    result = score(instrument, total_for(instrument, target))
    assert result.total == target
    assert result.band is not None
    assert result.band.label == label


@pytest.mark.parametrize(
    ("instrument_id", "below", "at"),
    [
        ("phq9", 9, 10),
        ("gad7", 9, 10),
        ("pcl5", 32, 33),
        ("ies_r", 32, 33),
        ("ucla3", 5, 6),
        ("k10", 19, 20),
    ],
)
def test_it_applies_the_cutoff_on_both_sides(instrument_id: str, below: int, at: int) -> None:
    instrument = get(instrument_id)
    assert score(instrument, total_for(instrument, below)).clinical is False
    assert score(instrument, total_for(instrument, at)).clinical is True


def test_it_scores_phq9_by_hand() -> None:
    phq9 = get("phq9")
    result = score(phq9, spread(phq9, [1, 2, 0, 3, 1, 0, 2, 1, 0]))
    assert result.total == 10
    assert result.band is not None and result.band.label == "Moderate"
    assert result.risks == ()


def test_it_gives_no_phq9_score_when_an_item_is_missing() -> None:
    phq9 = get("phq9")
    answers = spread(phq9, [1, 2, 0, 3, 1, 0, 2, 1, 0])
    answers["4"] = None
    result = score(phq9, answers)
    assert result.total is None
    assert result.band is None
    assert result.missing_items == ("4",)
    assert result.no_score_reason is not None
    assert "1 question was left unanswered" in result.no_score_reason


def test_it_scores_gad7_by_hand() -> None:
    gad7 = get("gad7")
    result = score(gad7, spread(gad7, [3, 3, 2, 2, 1, 1, 0]))
    assert result.total == 12
    assert result.band is not None and result.band.label == "Moderate"
    missing = score(gad7, {**spread(gad7, [3, 3, 2, 2, 1, 1, 0]), "7": None})
    assert missing.total is None and missing.no_score_reason


def test_it_scores_phq4_and_its_two_parts() -> None:
    phq4 = get("phq4")
    result = score(phq4, spread(phq4, [2, 1, 1, 1]))
    assert result.total == 5
    assert result.band is not None and result.band.label == "Mild"
    gad2, phq2 = result.subscale("gad2"), result.subscale("phq2")
    assert (gad2.score, gad2.positive) == (3, True)
    assert (phq2.score, phq2.positive) == (2, False)
    missing = score(phq4, spread(phq4, [2, 1, None, 1]))  # type: ignore[list-item]
    assert missing.total is None
    assert missing.subscale("gad2").positive is True
    assert missing.subscale("phq2").score is None


def test_it_scores_pcl5_with_clusters_and_the_dsm5_rule() -> None:
    pcl5 = get("pcl5")
    # B: item 1 = 2; C: item 6 = 3; D: items 8, 9 = 2; E: items 15, 16 = 2. Everything else 1.
    values = [1.0] * 20
    for index, value in ((1, 2), (6, 3), (8, 2), (9, 2), (15, 2), (16, 2)):
        values[index - 1] = value
    result = score(pcl5, spread(pcl5, values))
    assert result.total == 14 + 13
    assert [s.score for s in result.subscales] == [6, 4, 9, 8]
    (diagnosis,) = result.diagnoses
    assert diagnosis.met is True
    assert diagnosis.counts == {"B": 1, "C": 1, "D": 2, "E": 2}
    # One D item short of the rule: not met, even though the total is high.
    values[9 - 1] = 1
    values[10 - 1] = 1
    diagnosis = score(pcl5, spread(pcl5, values)).diagnoses[0]
    assert diagnosis.met is False
    assert diagnosis.counts["D"] == 1


def test_it_leaves_the_pcl5_rule_open_when_answers_are_missing() -> None:
    pcl5 = get("pcl5")
    answers: dict[str, float | None] = {item.id: 0 for item in pcl5.items}
    answers["1"] = None
    result = score(pcl5, answers)
    assert result.total is None
    assert result.diagnoses[0].met is None
    # A rule already met stays met, whatever the missing item would have been.
    answers = {item.id: 4 for item in pcl5.items}
    answers["20"] = None
    assert score(pcl5, answers).diagnoses[0].met is True


def test_it_scores_ucla3() -> None:
    ucla3 = get("ucla3")
    result = score(ucla3, spread(ucla3, [1, 2, 3]))
    assert result.total == 6
    assert result.clinical is True
    assert score(ucla3, spread(ucla3, [1, None, 3])).total is None  # type: ignore[list-item]


def test_it_reverse_keys_scs_sf_and_takes_the_mean() -> None:
    scs = get("scs_sf")
    reversed_ids = [item.id for item in scs.items if item.reverse]
    assert reversed_ids == ["1", "4", "8", "9", "11", "12"]
    # Answer 5 everywhere: the six reversed items count 1, the six others 5 → mean 3.
    assert score(scs, {item.id: 5 for item in scs.items}).total == 3
    # Self-compassionate pattern: 1 on reversed items, 5 on the others → mean 5.
    kind = {item.id: (1 if item.reverse else 5) for item in scs.items}
    assert score(scs, kind).total == 5
    # Worked by hand: reversed items answered 2 → 4 each (24); others 3 each (18); 42 / 12 = 3.5.
    mixed = {item.id: (2 if item.reverse else 3) for item in scs.items}
    assert score(scs, mixed).total == pytest.approx(3.5)
    assert score(scs, {**mixed, "12": None}).total is None


def test_it_scores_k10() -> None:
    k10 = get("k10")
    result = score(k10, spread(k10, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]))
    assert result.total == 30
    assert result.band is not None and result.band.label == "Severe distress"
    assert k10.licence.notice == "© WHO 2003"
    assert score(k10, {**spread(k10, [1] * 10), "3": None}).total is None


def test_it_scores_ssps() -> None:
    ssps = get("ssps")
    assert score(ssps, spread(ssps, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 3])).total == 33
    assert score(ssps, {**spread(ssps, [3] * 11), "11": None}).no_score_reason


def test_it_scores_ceas_sections_without_the_unscored_items() -> None:
    ceas = get("ceas")
    answers: dict[str, float | None] = {item.id: 10 for item in ceas.items}
    # Unscored items (engagement 3 and 7, action 3) must not move any section score.
    for unscored in ("self_e3", "self_e7", "self_a3", "to_e3", "from_a3"):
        answers[unscored] = 1
    result = score(ceas, answers)
    assert result.total is None  # CEAS reports sections, not a total
    assert result.no_score_reason is None
    assert result.subscale("self_engagement").score == 60
    assert result.subscale("self_action").score == 40
    assert result.subscale("from_action").score == 40
    # Leaving an unscored item blank is not a missing answer.
    answers["self_e3"] = None
    assert score(ceas, answers).subscale("self_engagement").score == 60
    answers["self_e1"] = None
    result = score(ceas, answers)
    assert result.subscale("self_engagement").score is None
    assert result.subscale("to_engagement").score == 60
    assert result.no_score_reason is not None


def test_it_scores_fcs_subscales() -> None:
    fcs = get("fcs")
    answers: dict[str, float | None] = {item.id: 2 for item in fcs.items}
    result = score(fcs, answers)
    assert result.total is None
    assert [s.score for s in result.subscales] == [20, 26, 30]
    assert [len(s.items) for s in fcs.subscales] == [10, 13, 15]


def test_it_scores_ptgi_sf_total_and_factors() -> None:
    ptgi = get("ptgi_sf")
    result = score(ptgi, spread(ptgi, [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]))
    assert result.total == 25
    assert result.subscale("appreciation_of_life").score == 9
    assert result.subscale("relating_to_others").score == 1 + 4


def test_it_scores_ies_r_total_and_subscale_means() -> None:
    ies = get("ies_r")
    answers: dict[str, float | None] = {item.id: 0 for item in ies.items}
    for item_id in ("1", "2", "3", "6"):  # four intrusion items at 4
        answers[item_id] = 4
    answers["4"] = 3  # one hyperarousal item
    result = score(ies, answers)
    assert result.total == 19
    assert result.subscale("intrusion").score == pytest.approx(2.0)
    assert result.subscale("avoidance").score == 0
    assert result.subscale("hyperarousal").score == pytest.approx(0.5)
    assert result.clinical is False


def test_it_scores_the_five_s_check_in() -> None:
    five = get("five_s")
    assert [item.id for item in five.items] == ["seen", "safe", "soothed", "secure", "stable"]
    assert all(item.links_people for item in five.items)
    assert five.author == "Kithkin"
    assert score(five, spread(five, [0, 1, 2, 3, 4])).total == 10


def test_it_scores_the_protective_factors_check_in() -> None:
    factors = get("protective_factors")
    assert len(factors.items) == 7
    assert factors.author == "Kithkin"
    assert score(factors, spread(factors, [1, 2, 3, 4, 5, 5, 5])).total == 25


def test_it_refuses_answers_that_do_not_fit() -> None:
    phq9 = get("phq9")
    with pytest.raises(AnswerError, match="'9': 4 is not one of 0, 1, 2, 3"):
        score(phq9, {**{item.id: 0 for item in phq9.items}, "9": 4})
    with pytest.raises(AnswerError, match="no item '10'"):
        score(phq9, {"10": 1})
