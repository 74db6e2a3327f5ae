"""The scoring engine: pure functions on an Instrument and a dict of item id → answer value.

``None`` means the item was not answered. Nothing here touches the database, so bulk re-scoring is a
loop over stored answers.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .library import Band, Instrument, Item, RiskRule, Subscale

Answers = Mapping[str, float | None]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
}


class AnswerError(ValueError):
    """Answers that do not fit the instrument (unknown item, value not among its options)."""


class ReliableChange(enum.StrEnum):
    IMPROVED = "reliably_improved"
    NO_CHANGE = "no_reliable_change"
    DETERIORATED = "reliably_deteriorated"


@dataclass(frozen=True)
class SubscaleScore:
    id: str
    title: str
    score: float | None
    positive: bool | None
    no_score_reason: str | None


@dataclass(frozen=True)
class FiredRisk:
    rule_id: str
    item_id: str
    value: float
    severity: str
    label: str


@dataclass(frozen=True)
class DiagnosisResult:
    rule_id: str
    label: str
    met: bool | None
    counts: Mapping[str, int]
    no_result_reason: str | None


@dataclass(frozen=True)
class Score:
    instrument_id: str
    version: str
    total: float | None
    band: Band | None
    clinical: bool | None
    subscales: tuple[SubscaleScore, ...]
    missing_items: tuple[str, ...]
    prorated: bool
    no_score_reason: str | None
    risks: tuple[FiredRisk, ...]
    diagnoses: tuple[DiagnosisResult, ...]

    @property
    def scored(self) -> bool:
        return self.no_score_reason is None

    def subscale(self, subscale_id: str) -> SubscaleScore:
        for subscale in self.subscales:
            if subscale.id == subscale_id:
                return subscale
        raise KeyError(subscale_id)


@dataclass(frozen=True)
class Change:
    before: float
    after: float
    difference: float
    threshold: float | None
    classification: ReliableChange | None
    recovered: bool | None
    reason: str | None


@dataclass(frozen=True)
class Progress:
    from_baseline: Change | None
    from_last: Change | None


def check_answers(instrument: Instrument, answers: Answers) -> None:
    """Refuse answers that the instrument cannot hold, naming the item."""
    known = instrument.item_map
    problems: list[str] = []
    for item_id, value in answers.items():
        item = known.get(item_id)
        if item is None:
            problems.append(f"{instrument.short_title} has no item {item_id!r}")
        elif value is not None and value not in item.values:
            allowed = ", ".join(f"{v:g}" for v in sorted(item.values))
            problems.append(f"item {item_id!r}: {value!r} is not one of {allowed}")
    if problems:
        raise AnswerError("; ".join(problems))


def keyed(item: Item, value: float) -> float:
    """The value after reverse keying: the scale is flipped around its midpoint."""
    if item.reverse:
        return item.lowest + item.highest - value
    return value


def _aggregate(values: Sequence[float], n_items: int, rule: str, factor: float) -> float:
    if rule == "mean":
        return sum(values) / len(values)
    total = sum(values)
    if len(values) < n_items:
        # Proration: the mean of the answered items, scaled up to the full item count.
        total = total / len(values) * n_items
    return total * factor if rule == "scaled" else total


def _missing_reason(instrument: Instrument, missing: Sequence[str], n_items: int) -> str | None:
    if not missing:
        return None
    if len(missing) == n_items:
        return "No questions were answered."
    rule = instrument.missing
    if rule.rule == "prorate" and len(missing) <= rule.max_missing:
        return None
    count = "1 question was" if len(missing) == 1 else f"{len(missing)} questions were"
    if rule.rule == "prorate":
        return (
            f"{count} left unanswered; {instrument.short_title} can be scored with at most "
            f"{rule.max_missing} unanswered."
        )
    return (
        f"{count} left unanswered, and {instrument.short_title} is only scored when all are "
        "answered."
    )


@dataclass(frozen=True)
class _Part:
    """Items scored together (the total, or one subscale), prepared once per instrument."""

    item_ids: tuple[str, ...]
    # Per item, lowest + highest for a reverse-keyed item (keyed value = flip - value), or None.
    flips: tuple[float | None, ...]
    rule: str
    factor: float


@dataclass(frozen=True)
class _Plan:
    """What scoring needs from an instrument, in the shape the hot loop wants: built once per
    instrument (bulk re-scoring scores 100,000 responses in a few seconds)."""

    allowed: Mapping[str, frozenset[float]]
    total: _Part
    subscales: tuple[tuple[Subscale, _Part], ...]
    subscale_items: Mapping[str, tuple[str, ...]]


_PLAN_ATTRIBUTE = "_kithkin_scoring_plan"


def _part(items: Sequence[Item], rule: str, factor: float) -> _Part:
    return _Part(
        item_ids=tuple(item.id for item in items),
        flips=tuple(item.lowest + item.highest if item.reverse else None for item in items),
        rule=rule,
        factor=factor,
    )


def _plan(instrument: Instrument) -> _Plan:
    # Kept on the instance, as cached_property does (it works on a frozen dataclass): a changed
    # definition is a new Instrument object, so it never meets a stale plan.
    found: _Plan | None = instrument.__dict__.get(_PLAN_ATTRIBUTE)
    if found is not None:
        return found
    subscales = tuple(
        (
            subscale,
            _part(
                [instrument.item(item_id) for item_id in subscale.items],
                subscale.rule or ("mean" if instrument.rule == "mean" else "sum"),
                1,
            ),
        )
        for subscale in instrument.subscales
    )
    plan = _Plan(
        allowed={item.id: item.values for item in instrument.items},
        total=_part(instrument.scored_items, instrument.rule, instrument.factor),
        subscales=subscales,
        subscale_items={subscale.id: subscale.items for subscale in instrument.subscales},
    )
    instrument.__dict__[_PLAN_ATTRIBUTE] = plan
    return plan


def _score_part(
    instrument: Instrument, part: _Part, answers: Answers
) -> tuple[float | None, tuple[str, ...], str | None]:
    values: list[float] = []
    missing: list[str] = []
    get = answers.get
    for item_id, flip in zip(part.item_ids, part.flips):  # noqa: B905 (same length by build)
        value = get(item_id)
        if value is None:
            missing.append(item_id)
        elif flip is None:
            values.append(value)
        else:
            values.append(flip - value)
    if missing:
        reason = _missing_reason(instrument, missing, len(part.item_ids))
        if reason is not None:
            return None, tuple(missing), reason
    return _aggregate(values, len(part.item_ids), part.rule, part.factor), tuple(missing), None


def evaluate_risks(instrument: Instrument, answers: Answers) -> tuple[FiredRisk, ...]:
    """The risk rules that fire. Evaluated on the raw answers, even when no score is possible."""
    fired: list[FiredRisk] = []
    for rule in instrument.risk_rules:
        value = answers.get(rule.item)
        if value is not None and _fires(rule, value):
            fired.append(
                FiredRisk(
                    rule_id=rule.id,
                    item_id=rule.item,
                    value=value,
                    severity=rule.severity,
                    label=rule.label,
                )
            )
    return tuple(fired)


def _fires(rule: RiskRule, value: float) -> bool:
    return _OPERATORS[rule.operator](value, rule.value)


def _diagnoses(
    instrument: Instrument, answers: Answers, subscale_items: Mapping[str, tuple[str, ...]]
) -> tuple[DiagnosisResult, ...]:
    results: list[DiagnosisResult] = []
    for rule in instrument.diagnostic_rules:
        counts: dict[str, int] = {}
        missing = False
        for requirement in rule.requirements:
            item_ids = subscale_items[requirement.subscale]
            values = [answers.get(item_id) for item_id in item_ids]
            missing = missing or any(v is None for v in values)
            counts[requirement.subscale] = sum(
                1 for v in values if v is not None and v >= rule.item_threshold
            )
        met = all(counts[q.subscale] >= q.min_items for q in rule.requirements)
        if missing and not met:
            # With answers missing, a "not met" could flip; a "met" cannot.
            results.append(
                DiagnosisResult(
                    rule.id,
                    rule.label,
                    None,
                    counts,
                    "Some questions were left unanswered, so the rule cannot be ruled out.",
                )
            )
        else:
            results.append(DiagnosisResult(rule.id, rule.label, met, counts, None))
    return tuple(results)


def score(instrument: Instrument, answers: Answers) -> Score:
    """Score one response. Raises AnswerError when an answer does not fit the instrument."""
    plan = _plan(instrument)
    allowed = plan.allowed
    for item_id, value in answers.items():
        values = allowed.get(item_id)
        if values is None or (value is not None and value not in values):
            check_answers(instrument, answers)  # names every problem
    total: float | None = None
    reason: str | None = None
    if instrument.report_total:
        total, missing, reason = _score_part(instrument, plan.total, answers)
    else:
        missing = tuple(i for i in plan.total.item_ids if answers.get(i) is None)
    subscales: list[SubscaleScore] = []
    for subscale, part in plan.subscales:
        value, _, sub_reason = _score_part(instrument, part, answers)
        positive = None
        if value is not None and subscale.positive_at is not None:
            positive = value >= subscale.positive_at
        subscales.append(SubscaleScore(subscale.id, subscale.title, value, positive, sub_reason))
    if not instrument.report_total and any(s.no_score_reason for s in subscales):
        reason = next(s.no_score_reason for s in subscales if s.no_score_reason)
    return Score(
        instrument_id=instrument.id,
        version=instrument.version,
        total=total,
        band=instrument.band_for(total) if total is not None else None,
        clinical=instrument.cutoff.is_clinical(total)
        if total is not None and instrument.cutoff
        else None,
        subscales=tuple(subscales),
        missing_items=missing,
        prorated=bool(missing) and reason is None,
        no_score_reason=reason,
        risks=evaluate_risks(instrument, answers) if instrument.risk_rules else (),
        diagnoses=_diagnoses(instrument, answers, plan.subscale_items)
        if instrument.diagnostic_rules
        else (),
    )


def rci_threshold(instrument: Instrument) -> float | None:
    """Jacobson-Truax: 1.96 * SD * √2 * √(1 - r); a change this large is unlikely to be noise."""
    params = instrument.reliable_change
    if params is None:
        return None
    return 1.96 * params.sd * math.sqrt(2) * math.sqrt(1 - params.r)


def classify_change(instrument: Instrument, before: float, after: float) -> Change:
    """Reliable change between two totals (direction-aware), and "recovered" given a cut-off."""
    difference = after - before
    threshold = rci_threshold(instrument)
    if threshold is None:
        return Change(
            before,
            after,
            difference,
            None,
            None,
            None,
            f"{instrument.short_title} has no published reliability and reference SD recorded, "
            "so reliable change cannot be judged.",
        )
    # A lower score is better unless the instrument says otherwise.
    improvement = -difference if instrument.direction == "higher_is_worse" else difference
    if improvement > threshold:
        classification = ReliableChange.IMPROVED
    elif improvement < -threshold:
        classification = ReliableChange.DETERIORATED
    else:
        classification = ReliableChange.NO_CHANGE
    recovered: bool | None = None
    if instrument.cutoff is not None:
        recovered = (
            classification is ReliableChange.IMPROVED
            and instrument.cutoff.is_clinical(before)
            and not instrument.cutoff.is_clinical(after)
        )
    return Change(before, after, difference, threshold, classification, recovered, None)


def progress(instrument: Instrument, history: Sequence[float | None], current: float) -> Progress:
    """Change from the first scored response (baseline) and from the last scored one.

    ``history`` is the earlier totals, oldest first; unscored responses (None) are skipped.
    """
    earlier = [value for value in history if value is not None]
    if not earlier:
        return Progress(None, None)
    return Progress(
        from_baseline=classify_change(instrument, earlier[0], current),
        from_last=classify_change(instrument, earlier[-1], current),
    )
