"""Property tests over every shipped instrument."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kithkin.measures.library import Instrument, shipped
from kithkin.measures.scoring import keyed, score

INSTRUMENTS = sorted(shipped().values(), key=lambda i: i.id)
IDS = [i.id for i in INSTRUMENTS]


def complete_answers(instrument: Instrument) -> st.SearchStrategy[dict[str, float | None]]:
    return st.fixed_dictionaries(
        {item.id: st.sampled_from(sorted(item.values)) for item in instrument.items}
    )


def _subscale_bounds(instrument: Instrument, subscale_id: str) -> tuple[float, float]:
    subscale = next(s for s in instrument.subscales if s.id == subscale_id)
    items = [instrument.item(i) for i in subscale.items]
    low, high = sum(i.lowest for i in items), sum(i.highest for i in items)
    rule = subscale.rule or ("mean" if instrument.rule == "mean" else "sum")
    if rule == "mean":
        return low / len(items), high / len(items)
    return low, high


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=IDS)
def test_it_keeps_every_score_in_the_declared_range(instrument: Instrument) -> None:
    @given(complete_answers(instrument))
    def check(answers: dict[str, float | None]) -> None:
        result = score(instrument, answers)
        assert result.no_score_reason is None
        low, high = instrument.score_range
        if instrument.report_total:
            assert result.total is not None
            assert low - 1e-9 <= result.total <= high + 1e-9
            if instrument.bands:
                assert result.band is not None
        for sub in result.subscales:
            assert sub.score is not None
            sub_low, sub_high = _subscale_bounds(instrument, sub.id)
            assert sub_low - 1e-9 <= sub.score <= sub_high + 1e-9

    check()


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=IDS)
def test_it_gives_the_minimum_and_maximum_at_the_extremes(instrument: Instrument) -> None:
    # "Lowest" and "highest" are after reverse keying: a reversed item contributes its lowest
    # keyed value when answered at the top of its scale.
    lowest = {i.id: (i.highest if i.reverse else i.lowest) for i in instrument.items}
    highest = {i.id: (i.lowest if i.reverse else i.highest) for i in instrument.items}
    assert all(keyed(i, lowest[i.id]) == i.lowest for i in instrument.items)
    low_result, high_result = score(instrument, lowest), score(instrument, highest)
    if instrument.report_total:
        assert low_result.total == pytest.approx(instrument.score_range[0])
        assert high_result.total == pytest.approx(instrument.score_range[1])
    for sub_low, sub_high in zip(low_result.subscales, high_result.subscales, strict=True):
        bounds = _subscale_bounds(instrument, sub_low.id)
        assert (sub_low.score, sub_high.score) == pytest.approx(bounds)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=IDS)
def test_it_never_scores_a_response_with_a_missing_scored_item(instrument: Instrument) -> None:
    @given(complete_answers(instrument), st.data())
    def check(answers: dict[str, float | None], data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(instrument.scored_items))
        answers[item.id] = None
        result = score(instrument, answers)
        assert result.no_score_reason is not None  # no shipped instrument publishes proration
        assert result.total is None

    check()
