"""Validate instrument definition files.

``jsonschema`` is not a dependency, so this module interprets the subset of JSON Schema that
``definitions/schema.json`` uses, then cross-checks what JSON Schema cannot say (item ids that
subscales name exist, bands cover the score range, the declared range matches the items...).

Every message names the file and the JSON path of the problem, e.g.
``phq9.json: items[8].options[2].value must be a number``, because a practice adding its own file
needs to find the mistake without reading Python.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).parent / "definitions" / "schema.json"

_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


class DefinitionError(ValueError):
    """A definition (or a practice's item-text file) failed validation."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


@cache
def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _is_number(value: object) -> bool:
    # bool is an int in Python, but never a number in JSON.
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


_TYPE_CHECKS: dict[str, Callable[[object], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": _is_number,
}


def _is_type(value: object, type_name: str) -> bool:
    return _TYPE_CHECKS[type_name](value)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        ref: str = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"schema reference {ref!r} is not local")
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def _check(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, errors: list[str]
) -> None:
    schema = _resolve(schema, root)
    where = path or "the file"
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, t) for t in types):
            wanted = " or ".join(_TYPE_NAMES[t] for t in types)
            errors.append(f"{where} must be {wanted}")
            return
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(c) for c in schema["enum"])
        errors.append(f"{where} must be one of {choices}")
        return
    if isinstance(value, str):
        _check_string(value, schema, where, errors)
    elif _is_number(value):
        _check_number(value, schema, where, errors)
    elif isinstance(value, list):
        _check_list(value, schema, root, path, errors)
    elif isinstance(value, dict):
        _check_object(value, schema, root, path, errors)


def _check_string(value: str, schema: Mapping[str, Any], where: str, errors: list[str]) -> None:
    if len(value) < schema.get("minLength", 0):
        errors.append(f"{where} must not be empty")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{where} is not in the expected form ({schema['pattern']})")


def _check_number(value: float, schema: Mapping[str, Any], where: str, errors: list[str]) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{where} must be at least {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(f"{where} must be at most {schema['maximum']}")


def _check_list(
    value: list[Any],
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: str,
    errors: list[str],
) -> None:
    if len(value) < schema.get("minItems", 0):
        errors.append(f"{path or 'the file'} must have at least {schema['minItems']} entries")
    if "items" in schema:
        for index, element in enumerate(value):
            _check(element, schema["items"], root, _join(path, index), errors)


def _check_object(
    value: dict[str, Any],
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: str,
    errors: list[str],
) -> None:
    for key in schema.get("required", []):
        if key not in value:
            errors.append(f"{_join(path, key)} is required")
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, element in value.items():
        if key in properties:
            _check(element, properties[key], root, _join(path, key), errors)
        elif extra is False:
            errors.append(f"{_join(path, key)} is not a known field")
        elif isinstance(extra, dict):
            _check(element, extra, root, _join(path, key), errors)


def structure_errors(data: Any) -> list[str]:
    """Problems with the shape of ``data`` against schema.json (paths without file name)."""
    errors: list[str] = []
    root = load_schema()
    _check(data, root, root, "", errors)
    return errors


def _item_options(data: Mapping[str, Any], item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    options: list[Mapping[str, Any]] = item.get("options") or data["response_options"]
    return options


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _integral_scores(data: Mapping[str, Any]) -> bool:
    """True when every possible total is a whole number, so bands can be checked as integers."""
    rule = data["scoring"]["rule"]
    if rule == "mean":
        return False
    factor = data["scoring"].get("factor", 1) if rule == "scaled" else 1
    values = [o["value"] for item in data["items"] for o in _item_options(data, item)]
    return float(factor).is_integer() and all(float(v).is_integer() for v in values)


def expected_range(data: Mapping[str, Any]) -> tuple[float, float]:
    """The total's range implied by the scored items' options and the scoring rule."""
    scored = [item for item in data["items"] if item.get("scored", True)]
    lows = [min(o["value"] for o in _item_options(data, item)) for item in scored]
    highs = [max(o["value"] for o in _item_options(data, item)) for item in scored]
    rule = data["scoring"]["rule"]
    if rule == "mean":
        return (sum(lows) / len(lows), sum(highs) / len(highs))
    factor = data["scoring"].get("factor", 1) if rule == "scaled" else 1
    return (sum(lows) * factor, sum(highs) * factor)


def _check_item(
    data: Mapping[str, Any], index: int, item: Mapping[str, Any], errors: list[str]
) -> None:
    low, high = data["option_range"]["min"], data["option_range"]["max"]
    for o_index, option in enumerate(item.get("options", [])):
        if not low <= option["value"] <= high:
            errors.append(
                f"items[{index}].options[{o_index}].value {_fmt(option['value'])} is outside "
                f"option_range {_fmt(low)}-{_fmt(high)}"
            )
    values = [o["value"] for o in _item_options(data, item)]
    if len(set(values)) != len(values):
        errors.append(f"items[{index}] has two options with the same value")
    if item.get("reverse") and not item.get("scored", True):
        errors.append(f"items[{index}] is reverse-keyed but not scored")
    allows_text = data["licence"]["allows_item_text"]
    unverified = item.get("text_status", data["text_status"]) == "to be verified"
    if item["text"] is None and allows_text and not unverified:
        errors.append(
            f"items[{index}].text is null although the licence allows text; "
            'set text_status "to be verified"'
        )
    if item["text"] is not None and not allows_text:
        errors.append(f"items[{index}].text must be null: the licence does not allow item text")


def _cross_check_items(data: Mapping[str, Any], errors: list[str]) -> set[str]:
    low, high = data["option_range"]["min"], data["option_range"]["max"]
    if low >= high:
        errors.append("option_range.min must be below option_range.max")
    for index, option in enumerate(data["response_options"]):
        if not low <= option["value"] <= high:
            errors.append(
                f"response_options[{index}].value {_fmt(option['value'])} is outside "
                f"option_range {_fmt(low)}-{_fmt(high)}"
            )
    ids: set[str] = set()
    for index, item in enumerate(data["items"]):
        if item["id"] in ids:
            errors.append(f"items[{index}].id {item['id']!r} is used twice")
        ids.add(item["id"])
        _check_item(data, index, item, errors)
    if not any(item.get("scored", True) for item in data["items"]):
        errors.append("items: at least one item must be scored")
    return ids


def _cross_check_bands(data: Mapping[str, Any], errors: list[str]) -> None:
    bands = data.get("bands")
    if not bands:
        return
    ranges = bands["ranges"]
    low, high = data["score_range"]["min"], data["score_range"]["max"]
    integral = _integral_scores(data)
    for index, band in enumerate(ranges):
        if band["min"] > band["max"]:
            errors.append(f"bands.ranges[{index}].min is above its max")
    if ranges[0]["min"] != low:
        errors.append(
            f"bands.ranges[0].min is {_fmt(ranges[0]['min'])} but the score range starts at "
            f"{_fmt(low)}"
        )
    if ranges[-1]["max"] != high:
        errors.append(
            f"bands.ranges[{len(ranges) - 1}].max is {_fmt(ranges[-1]['max'])} but the score range "
            f"ends at {_fmt(high)}"
        )
    for index in range(1, len(ranges)):
        before, band = ranges[index - 1], ranges[index]
        # Whole-number scores: the next band starts one above the last one's max. Fractional
        # scores: the next band starts exactly at the last one's max, and owns that boundary.
        step = 1 if integral else 0
        wanted = before["max"] + step
        if band["min"] > wanted:
            errors.append(
                f"bands.ranges[{index}] leaves a gap: scores between {_fmt(before['max'])} and "
                f"{_fmt(band['min'])} have no band"
            )
        elif band["min"] < wanted:
            errors.append(
                f"bands.ranges[{index}] overlaps bands.ranges[{index - 1}] "
                f"({_fmt(band['min'])} ≤ {_fmt(before['max'])})"
            )


def _check_subscales(data: Mapping[str, Any], item_ids: set[str], errors: list[str]) -> set[str]:
    subscale_ids: set[str] = set()
    scored = {item["id"] for item in data["items"] if item.get("scored", True)}
    for index, subscale in enumerate(data.get("subscales", [])):
        if subscale["id"] in subscale_ids:
            errors.append(f"subscales[{index}].id {subscale['id']!r} is used twice")
        subscale_ids.add(subscale["id"])
        for i_index, item_id in enumerate(subscale["items"]):
            if item_id not in item_ids:
                errors.append(
                    f"subscales[{index}].items[{i_index}] names item {item_id!r}, which does not "
                    "exist"
                )
            elif item_id not in scored:
                errors.append(
                    f"subscales[{index}].items[{i_index}] names item {item_id!r}, which is not "
                    "scored"
                )
    return subscale_ids


def _cross_check_scoring(data: Mapping[str, Any], item_ids: set[str], errors: list[str]) -> None:
    scoring = data["scoring"]
    if scoring["rule"] == "scaled" and "factor" not in scoring:
        errors.append('scoring.factor is required when scoring.rule is "scaled"')
    if scoring["rule"] != "scaled" and "factor" in scoring:
        errors.append('scoring.factor is only used when scoring.rule is "scaled"')
    low, high = expected_range(data)
    declared = data["score_range"]
    if not (math.isclose(declared["min"], low) and math.isclose(declared["max"], high)):
        errors.append(
            f"score_range is {_fmt(declared['min'])}-{_fmt(declared['max'])} but the items give "
            f"{_fmt(low)}-{_fmt(high)}"
        )
    subscale_ids = _check_subscales(data, item_ids, errors)
    if not scoring["report_total"] and not data.get("subscales"):
        errors.append("scoring.report_total is false, so at least one subscale is needed")
    for index, rule in enumerate(data.get("diagnostic_rules", [])):
        for r_index, requirement in enumerate(rule["requirements"]):
            if requirement["subscale"] not in subscale_ids:
                errors.append(
                    f"diagnostic_rules[{index}].requirements[{r_index}].subscale names "
                    f"{requirement['subscale']!r}, which does not exist"
                )
    missing = data["missing_answers"]
    if missing["rule"] == "prorate" and "max_missing" not in missing:
        errors.append('missing_answers.max_missing is required when the rule is "prorate"')


def _cross_check_rest(data: Mapping[str, Any], item_ids: set[str], errors: list[str]) -> None:
    cutoff = data.get("cutoff")
    if cutoff:
        low, high = data["score_range"]["min"], data["score_range"]["max"]
        if not low <= cutoff["value"] <= high:
            errors.append(f"cutoff.value {_fmt(cutoff['value'])} is outside the score range")
        consistent = "at_or_above" if data["direction"] == "higher_is_worse" else "at_or_below"
        if cutoff["clinical"] != consistent:
            errors.append(
                f"cutoff.clinical is {cutoff['clinical']!r} but direction is {data['direction']!r}"
            )
        if not data["scoring"]["report_total"]:
            errors.append("cutoff needs a total: scoring.report_total is false")
    for index, rule in enumerate(data.get("risk_rules", [])):
        if rule["item"] not in item_ids:
            errors.append(
                f"risk_rules[{index}].item names item {rule['item']!r}, which does not exist"
            )
    loinc = data.get("loinc") or {}
    for item_id in loinc.get("items", {}):
        if item_id not in item_ids:
            errors.append(f"loinc.items names item {item_id!r}, which does not exist")
    if data["text_status"] == "kithkin" and data.get("author") != "Kithkin":
        errors.append('text_status "kithkin" needs author "Kithkin"')


def definition_errors(data: Any) -> list[str]:
    """Every problem with a definition; an empty list means it is valid."""
    errors = structure_errors(data)
    if errors:
        # The cross-checks assume the structure is sound.
        return errors
    item_ids = _cross_check_items(data, errors)
    _cross_check_scoring(data, item_ids, errors)
    _cross_check_bands(data, errors)
    _cross_check_rest(data, item_ids, errors)
    return errors


def validate_definition(data: Any, filename: str) -> None:
    """Raise DefinitionError whose messages start with ``filename``."""
    errors = definition_errors(data)
    if errors:
        raise DefinitionError([f"{filename}: {error}" for error in errors])


def item_text_errors(data: Any, instrument_id: str, item_ids: Sequence[str]) -> list[str]:
    """Problems with a practice's item-text file.

    The file is ``{"instrument": "<id>", "instructions": "...", "items": {"<item id>": "<text>"}}``;
    ``instructions`` is optional. Every item needs text and no extra ids are allowed, so a file for
    another version of the instrument is refused rather than half-applied.
    """
    if not isinstance(data, dict):
        return ["the file must be a JSON object"]
    errors: list[str] = []
    if data.get("instrument") != instrument_id:
        errors.append(f"instrument must be {instrument_id!r}")
    for key in data:
        if key not in {"instrument", "instructions", "items"}:
            errors.append(f"{key} is not a known field")
    if "instructions" in data and not isinstance(data["instructions"], str):
        errors.append("instructions must be a string")
    texts = data.get("items")
    if not isinstance(texts, dict):
        errors.append("items must be an object of item id → text")
        return errors
    for item_id in item_ids:
        if item_id not in texts:
            errors.append(f"items.{item_id} is missing: every item needs its text")
        elif not isinstance(texts[item_id], str) or not texts[item_id].strip():
            errors.append(f"items.{item_id} must be a non-empty string")
    known = set(item_ids)
    errors.extend(
        f"items.{key} is not an item of {instrument_id}" for key in texts if key not in known
    )
    return errors
