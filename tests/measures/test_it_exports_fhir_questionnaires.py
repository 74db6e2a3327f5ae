"""FHIR R4: every instrument exports as a Questionnaire that validates with fhir.resources."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from pydantic import ValidationError

from kithkin.measures import fhir
from kithkin.measures.fhir import (
    CALCULATED_EXPRESSION_URL,
    ITEM_WEIGHT_URL,
    KITHKIN_FHIR_BASE,
    questionnaire_for,
    questionnaire_json,
)
from kithkin.measures.library import Instrument, shipped

WITHOUT_TEXT = ["ceas", "fcs", "ies_r", "ptgi_sf", "ssps"]


def weights(item: dict[str, Any]) -> list[float]:
    found = []
    for option in item["answerOption"]:
        (extension,) = option["extension"]
        assert extension["url"] == ITEM_WEIGHT_URL
        found.append(extension["valueDecimal"])
    return found


@pytest.mark.parametrize("instrument_id", sorted(shipped()))
def test_it_exports_every_shipped_instrument_as_a_valid_questionnaire(instrument_id: str) -> None:
    instrument = shipped()[instrument_id]
    exported = questionnaire_for(instrument)
    parsed = Questionnaire.model_validate(json.loads(questionnaire_json(instrument)))
    assert parsed.status == "active"
    assert exported["version"] == instrument.version
    assert exported["title"] == instrument.title
    assert instrument.licence.citation in exported["copyright"]
    definition_items = [i for i in exported["item"] if i["type"] == "choice"]
    assert [i["linkId"] for i in definition_items] == [item.id for item in instrument.items]
    for item, exported_item in zip(instrument.items, definition_items, strict=True):
        assert weights(exported_item) == [option.value for option in item.options]
        assert [o["valueCoding"]["display"] for o in exported_item["answerOption"]] == [
            option.label for option in item.options
        ]


def test_phq9_uses_the_loinc_canonical_url_and_scores_item_9() -> None:
    exported = questionnaire_for(shipped()["phq9"])
    assert exported["url"] == "http://loinc.org/q/44249-1"
    assert exported["code"][0] == {
        "system": "http://loinc.org",
        "code": "44249-1",
        "display": "Patient Health Questionnaire-9",
    }
    items = exported["item"]
    assert len(items) == 10
    assert [i["linkId"] for i in items] == [*map(str, range(1, 10)), "total"]
    item9 = items[8]
    assert item9["text"].startswith("Thoughts that you would be better off dead")
    assert item9["code"] == [{"system": "http://loinc.org", "code": "44260-8"}]
    assert weights(item9) == [0, 1, 2, 3]
    assert [o["valueCoding"]["code"] for o in item9["answerOption"]] == ["0", "1", "2", "3"]
    total = items[9]
    assert total["type"] == "decimal"
    assert total["readOnly"] is True
    assert total["code"] == [{"system": "http://loinc.org", "code": "44261-6"}]
    (expression,) = total["extension"]
    assert expression["url"] == CALCULATED_EXPRESSION_URL
    assert expression["valueExpression"]["language"] == "text/fhirpath"
    assert "weight().sum()" in expression["valueExpression"]["expression"]


def test_an_instrument_without_loinc_gets_a_kithkin_url() -> None:
    exported = questionnaire_for(shipped()["k10"])
    assert exported["url"] == f"{KITHKIN_FHIR_BASE}/Questionnaire/k10"
    assert "code" not in exported
    assert exported["item"][0]["answerOption"][0]["valueCoding"]["system"].startswith(
        KITHKIN_FHIR_BASE
    )


@pytest.mark.parametrize("instrument_id", WITHOUT_TEXT)
def test_unlicensed_instruments_export_without_item_text(instrument_id: str) -> None:
    instrument = shipped()[instrument_id]
    exported = questionnaire_for(instrument)
    assert "description" not in exported
    for item in exported["item"]:
        if item["type"] == "choice":
            assert "text" not in item
            assert item["prefix"] == item["linkId"]
        else:  # the total carries only Kithkin's own label
            assert item["text"] == fhir.TOTAL_TEXT


def test_licensed_text_a_practice_loads_is_not_exported() -> None:
    ies_r = shipped()["ies_r"]
    loaded = ies_r.with_item_text(
        {item.id: f"PRACTICE-TEXT-{item.id}" for item in ies_r.items}, None
    )
    assert "PRACTICE-TEXT" not in questionnaire_json(loaded)


def test_reverse_keyed_items_carry_their_raw_weights() -> None:
    scs_sf = shipped()["scs_sf"]
    reversed_items = [item for item in scs_sf.items if item.reverse]
    assert reversed_items
    exported = {i["linkId"]: i for i in questionnaire_for(scs_sf)["item"]}
    for item in reversed_items:
        assert weights(exported[item.id]) == [1, 2, 3, 4, 5]
    assert "total" not in exported  # a mean: no summed total to calculate


def test_unscored_items_stay_out_of_the_total_expression() -> None:
    ceas = shipped()["ceas"]
    with_total: Instrument = replace(ceas, report_total=True)
    total = questionnaire_for(with_total)["item"][-1]
    expression = total["extension"][0]["valueExpression"]["expression"]
    assert "'self_e1'" in expression
    assert "'self_e3'" not in expression


def test_invalid_output_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fhir, "_copyright", lambda instrument: 42)
    with pytest.raises(ValidationError):
        questionnaire_for(shipped()["phq9"])
