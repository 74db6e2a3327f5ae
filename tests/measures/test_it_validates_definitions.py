"""The schema: every shipped file validates; broken definitions get a message naming the problem."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kithkin.measures.library import DEFINITIONS_DIR, build, load_directory, load_file
from kithkin.measures.schema import DefinitionError, definition_errors, validate_definition
from kithkin.measures.scoring import score

SHIPPED = sorted(p for p in DEFINITIONS_DIR.glob("*.json") if p.name != "schema.json")


def minimal() -> dict[str, Any]:
    """A small valid definition to break in one place at a time."""
    return {
        "id": "tiny",
        "version": "1.0",
        "title": "Tiny scale",
        "short_title": "Tiny",
        "text_status": "verbatim",
        "direction": "higher_is_worse",
        "option_range": {"min": 0, "max": 2},
        "response_options": [
            {"value": 0, "label": "No"},
            {"value": 1, "label": "Some"},
            {"value": 2, "label": "Yes"},
        ],
        "items": [{"id": "a", "text": "A?"}, {"id": "b", "text": "B?"}, {"id": "c", "text": "C?"}],
        "subscales": [{"id": "ab", "title": "A and B", "items": ["a", "b"]}],
        "scoring": {"rule": "sum", "report_total": True},
        "score_range": {"min": 0, "max": 6},
        "bands": {
            "source": "made up",
            "ranges": [{"min": 0, "max": 2, "label": "Low"}, {"min": 3, "max": 6, "label": "High"}],
        },
        "cutoff": {"value": 3, "clinical": "at_or_above", "label": "High", "source": "made up"},
        "risk_rules": [
            {
                "id": "c_high",
                "item": "c",
                "operator": ">=",
                "value": 2,
                "severity": "high",
                "label": "C is high",
                "source": "made up",
            }
        ],
        "missing_answers": {"rule": "none_allowed", "source": "made up"},
        "licence": {"name": "test", "allows_item_text": True, "notice": None, "citation": "none"},
    }


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_it_validates_every_shipped_file(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert definition_errors(data) == []
    assert load_file(path).id == path.stem


def test_it_ships_the_instruments_the_issue_names() -> None:
    assert {p.stem for p in SHIPPED} == {
        "pcl5",
        "phq9",
        "gad7",
        "phq4",
        "ucla3",
        "scs_sf",
        "k10",
        "five_s",
        "protective_factors",
        "ssps",
        "ceas",
        "fcs",
        "ptgi_sf",
        "ies_r",
    }


def test_it_accepts_the_minimal_definition() -> None:
    assert definition_errors(minimal()) == []


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.pop(key)


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing field", _drop("scoring"), "tiny.json: scoring is required"),
    (
        "missing item field",
        lambda d: d["items"][1].pop("text"),
        "tiny.json: items[1].text is required",
    ),
    (
        "string option value",
        lambda d: d["items"][2].update(
            options=[{"value": 0, "label": "x"}, {"value": "2", "label": "y"}]
        ),
        "tiny.json: items[2].options[1].value must be a number",
    ),
    (
        "boolean is not a number",
        lambda d: d["response_options"][0].update(value=True),
        "tiny.json: response_options[0].value must be a number",
    ),
    (
        "wrong type for items",
        lambda d: d.update(items={"a": "A?"}),
        "tiny.json: items must be a list",
    ),
    (
        "unknown rule",
        lambda d: d["scoring"].update(rule="median"),
        'tiny.json: scoring.rule must be one of "sum", "mean", "scaled"',
    ),
    ("unknown field", lambda d: d.update(colour="blue"), "tiny.json: colour is not a known field"),
    (
        "band gap",
        lambda d: d["bands"]["ranges"][1].update(min=4),
        "tiny.json: bands.ranges[1] leaves a gap: scores between 2 and 4 have no band",
    ),
    (
        "band overlap",
        lambda d: d["bands"]["ranges"][1].update(min=2),
        "tiny.json: bands.ranges[1] overlaps bands.ranges[0]",
    ),
    (
        "bands short of the range",
        lambda d: d["bands"]["ranges"][1].update(max=5),
        "tiny.json: bands.ranges[1].max is 5 but the score range ends at 6",
    ),
    (
        "unknown subscale item",
        lambda d: d["subscales"][0]["items"].append("z"),
        "tiny.json: subscales[0].items[2] names item 'z', which does not exist",
    ),
    (
        "unknown risk item",
        lambda d: d["risk_rules"][0].update(item="q"),
        "tiny.json: risk_rules[0].item names item 'q', which does not exist",
    ),
    (
        "option outside range",
        lambda d: d["items"][0].update(
            options=[{"value": 0, "label": "x"}, {"value": 3, "label": "y"}]
        ),
        "tiny.json: items[0].options[1].value 3 is outside option_range 0-2",
    ),
    (
        "declared range wrong",
        lambda d: d["score_range"].update(max=9),
        "tiny.json: score_range is 0-9 but the items give 0-6",
    ),
    (
        "cutoff against direction",
        lambda d: d["cutoff"].update(clinical="at_or_below"),
        "tiny.json: cutoff.clinical is 'at_or_below' but direction is 'higher_is_worse'",
    ),
    (
        "reverse item not scored",
        lambda d: d["items"][0].update(reverse=True, scored=False),
        "tiny.json: items[0] is reverse-keyed but not scored",
    ),
    (
        "scaled without factor",
        lambda d: d["scoring"].update(rule="scaled"),
        'tiny.json: scoring.factor is required when scoring.rule is "scaled"',
    ),
    (
        "prorate without max",
        lambda d: d["missing_answers"].update(rule="prorate"),
        'tiny.json: missing_answers.max_missing is required when the rule is "prorate"',
    ),
    (
        "text forbidden by licence",
        lambda d: d["licence"].update(allows_item_text=False),
        "tiny.json: items[0].text must be null: the licence does not allow item text",
    ),
    (
        "duplicate item id",
        lambda d: d["items"][1].update(id="a"),
        "tiny.json: items[1].id 'a' is used twice",
    ),
    (
        "unverified null text",
        lambda d: d["items"][0].update(text=None),
        "tiny.json: items[0].text is null although the licence allows text",
    ),
]


@pytest.mark.parametrize(("case", "breaker", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_it_names_the_problem_in_a_broken_definition(
    case: str, breaker: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = copy.deepcopy(minimal())
    breaker(data)
    with pytest.raises(DefinitionError) as caught:
        validate_definition(data, "tiny.json")
    assert any(error.startswith(message) for error in caught.value.errors), caught.value.errors


def test_it_names_the_file_and_json_path_in_a_shipped_definition() -> None:
    data = json.loads((DEFINITIONS_DIR / "phq9.json").read_text(encoding="utf-8"))
    data["items"][8]["options"] = [
        {"value": 0, "label": "Not at all"},
        {"value": 1, "label": "Several days"},
        {"value": "2", "label": "More than half the days"},
    ]
    with pytest.raises(DefinitionError) as caught:
        validate_definition(data, "phq9.json")
    assert caught.value.errors == ["phq9.json: items[8].options[2].value must be a number"]


def test_it_refuses_a_directory_with_a_broken_file_and_names_it(tmp_path: Path) -> None:
    good = minimal()
    bad = minimal() | {"id": "broken"}
    bad["bands"]["ranges"][1]["min"] = 5
    (tmp_path / "tiny.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "broken.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "garbled.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_directory(tmp_path)
    text = str(caught.value)
    assert "broken.json: bands.ranges[1] leaves a gap" in text
    assert "garbled.json: is not valid JSON (line 1, column 2)" in text


def test_it_refuses_a_file_whose_id_does_not_match_its_name(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(minimal()), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"other\.json: id 'tiny' must match the file name"):
        load_file(path)


def test_it_prorates_where_a_definition_says_so() -> None:
    data = minimal() | {"missing_answers": {"rule": "prorate", "max_missing": 1, "source": "x"}}
    validate_definition(data, "tiny.json")
    tiny = build(data)
    result = score(tiny, {"a": 2, "b": 1, "c": None})
    assert result.total == pytest.approx(4.5)  # (2 + 1) / 2 * 3
    assert result.prorated is True
    too_many = score(tiny, {"a": 2, "b": None, "c": None})
    assert too_many.total is None
    assert too_many.no_score_reason is not None
    assert "at most 1 unanswered" in too_many.no_score_reason


def test_it_applies_a_scaled_rule() -> None:
    data = minimal() | {
        "scoring": {"rule": "scaled", "factor": 2.5, "report_total": True},
        "score_range": {"min": 0, "max": 15},
        "bands": None,
        "cutoff": None,
    }
    validate_definition(data, "tiny.json")
    assert score(build(data), {"a": 2, "b": 1, "c": 1}).total == 10
