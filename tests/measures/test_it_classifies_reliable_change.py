"""Jacobson-Truax reliable change and clinically significant change, worked by hand."""

from __future__ import annotations

import math

import pytest

from kithkin.measures.library import shipped
from kithkin.measures.scoring import ReliableChange, classify_change, progress, rci_threshold


def test_it_computes_the_pcl5_threshold_by_hand() -> None:
    # 1.96 * 12.4 * √2 * √(1 - .82) = 1.96 * 12.4 * √0.36 = 1.96 * 12.4 * 0.6 = 14.5824
    threshold = rci_threshold(shipped()["pcl5"])
    assert threshold == pytest.approx(14.5824, abs=1e-4)
    assert threshold == pytest.approx(14.6, abs=0.05)


def test_it_computes_the_gad7_threshold_by_hand() -> None:
    # 1.96 * 5.59 * √2 * √0.13 = 5.587; Bischoff et al. 2020 publish 5.59, rounded to 6 in practice.
    threshold = rci_threshold(shipped()["gad7"])
    assert threshold is not None
    assert threshold == pytest.approx(1.96 * 5.59 * math.sqrt(2) * math.sqrt(0.13))
    assert threshold == pytest.approx(5.59, abs=0.01)
    assert round(threshold) == 6


@pytest.mark.parametrize(
    ("before", "after", "expected", "recovered"),
    [
        (50, 35, ReliableChange.IMPROVED, False),  # 15 > 14.58 but still ≥ 33
        (50, 30, ReliableChange.IMPROVED, True),  # reliable and now below the cut-off
        (50, 36, ReliableChange.NO_CHANGE, False),  # 14 < 14.58
        (40, 30, ReliableChange.NO_CHANGE, False),  # crossed the cut-off but not reliable
        (20, 35, ReliableChange.DETERIORATED, False),
        (20, 34, ReliableChange.NO_CHANGE, False),
        (30, 10, ReliableChange.IMPROVED, False),  # never in the clinical range: not "recovered"
    ],
)
def test_it_classifies_pcl5_changes(
    before: float, after: float, expected: ReliableChange, recovered: bool
) -> None:
    change = classify_change(shipped()["pcl5"], before, after)
    assert change.classification is expected
    assert change.recovered is recovered
    assert change.difference == after - before


def test_it_reads_the_direction_for_higher_is_better_instruments() -> None:
    gad7 = shipped()["gad7"]
    assert classify_change(gad7, 15, 9).classification is ReliableChange.IMPROVED  # 6 > 5.59
    assert classify_change(gad7, 15, 10).classification is ReliableChange.NO_CHANGE  # 5 < 5.59
    assert classify_change(gad7, 15, 9).recovered is True
    # Flip the direction on a copy: the same drop is now a deterioration.
    from dataclasses import replace

    better = replace(gad7, direction="higher_is_better", cutoff=None)
    assert classify_change(better, 15, 9).classification is ReliableChange.DETERIORATED
    assert classify_change(better, 9, 15).classification is ReliableChange.IMPROVED
    assert classify_change(better, 9, 15).recovered is None


def test_it_explains_when_reliable_change_cannot_be_judged() -> None:
    change = classify_change(shipped()["phq9"], 20, 5)
    assert change.classification is None
    assert change.threshold is None
    assert change.reason is not None
    assert "PHQ-9" in change.reason
    assert change.difference == -15


def test_it_reports_change_from_baseline_and_from_last() -> None:
    pcl5 = shipped()["pcl5"]
    result = progress(pcl5, [55, None, 45, 38], 30)
    assert result.from_baseline is not None and result.from_last is not None
    assert result.from_baseline.before == 55
    assert result.from_baseline.classification is ReliableChange.IMPROVED
    assert result.from_baseline.recovered is True
    assert result.from_last.before == 38
    assert result.from_last.classification is ReliableChange.NO_CHANGE
    assert progress(pcl5, [None], 30) == type(result)(None, None)
