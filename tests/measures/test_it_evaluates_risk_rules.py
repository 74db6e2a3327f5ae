"""Risk rules: PHQ-9 item 9 above 0 fires, whatever else happens to the response."""

from __future__ import annotations

import pytest

from kithkin.measures.library import Instrument
from kithkin.measures.scoring import evaluate_risks, score


@pytest.mark.parametrize("value", [1, 2, 3])
def test_it_fires_when_phq9_item_9_is_above_0(phq9: Instrument, value: int) -> None:
    answers: dict[str, float | None] = {item.id: 0 for item in phq9.items}
    answers["9"] = value
    (fired,) = score(phq9, answers).risks
    assert fired.rule_id == "phq9_item9"
    assert fired.item_id == "9"
    assert fired.value == value
    assert fired.severity == "urgent"


def test_it_does_not_fire_when_item_9_is_0(phq9: Instrument) -> None:
    answers: dict[str, float | None] = {item.id: 3 for item in phq9.items}
    answers["9"] = 0
    assert score(phq9, answers).risks == ()


def test_it_does_not_fire_when_item_9_is_unanswered(phq9: Instrument) -> None:
    assert evaluate_risks(phq9, {"1": 3, "9": None}) == ()


def test_it_fires_even_when_the_response_cannot_be_scored(phq9: Instrument) -> None:
    # Two items missing: no total, but the risk answer is never dropped.
    result = score(phq9, {"1": None, "2": None, "9": 1})
    assert result.total is None
    assert result.no_score_reason is not None
    assert [r.rule_id for r in result.risks] == ["phq9_item9"]


def test_it_has_no_risk_rules_where_none_are_published() -> None:
    from kithkin.measures.library import shipped

    with_rules = sorted(i.id for i in shipped().values() if i.risk_rules)
    assert with_rules == ["phq9"]
