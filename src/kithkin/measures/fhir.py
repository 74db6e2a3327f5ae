"""FHIR R4 export of instrument definitions as Questionnaire resources.

A pure translation of an ``Instrument`` (no database): FHIR carries the items, the answer options
with their scores (the ``itemWeight`` extension, formerly ``ordinalValue``) and, for summed
instruments, an informative ``calculatedExpression`` for the total. Reverse keying, subscales,
bands, cut-offs and risk rules have no standard FHIR element, so they stay in Kithkin's own
definition and are applied by Kithkin's scorer (see ``/work/shared/reference/instruments.md``,
"FHIR conventions").

Every Questionnaire is validated with the ``fhir.resources`` R4B model before it is returned, so
invalid output raises ``pydantic.ValidationError`` instead of leaving Kithkin.
"""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire

from .library import Instrument, Item

KITHKIN_FHIR_BASE = "https://kithkin.example/fhir"
LOINC_SYSTEM = "http://loinc.org"
LOINC_QUESTIONNAIRE_BASE = "http://loinc.org/q/"
ITEM_WEIGHT_URL = "http://hl7.org/fhir/StructureDefinition/itemWeight"
CALCULATED_EXPRESSION_URL = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
)
TOTAL_LINK_ID = "total"
TOTAL_TEXT = "Total score"


def questionnaire_url(instrument: Instrument) -> str:
    """LOINC's canonical Questionnaire URL when there is a LOINC panel, else a Kithkin URL."""
    if instrument.loinc is not None and instrument.loinc.panel:
        return LOINC_QUESTIONNAIRE_BASE + instrument.loinc.panel
    return f"{KITHKIN_FHIR_BASE}/Questionnaire/{instrument.id}"


def answer_system(instrument: Instrument) -> str:
    """Kithkin's code system for an instrument's answers (codes are the option values)."""
    return f"{KITHKIN_FHIR_BASE}/CodeSystem/{instrument.id}-answers"


def _number(value: float) -> int | float:
    """JSON-friendly number: 2.0 becomes 2, so codes read "2" and weights stay exact."""
    return int(value) if float(value).is_integer() else value


def _shows_text(instrument: Instrument) -> bool:
    return instrument.licence.allows_item_text


def _copyright(instrument: Instrument) -> str:
    licence = instrument.licence
    return "\n\n".join(part for part in (licence.notice or licence.name, licence.citation) if part)


def _item(instrument: Instrument, item: Item) -> dict[str, Any]:
    """One choice item; each answer's weight is the raw answer value, never reverse-keyed.

    Reverse keying is not expressible in FHIR: Kithkin's scorer applies it to the raw values.
    """
    result: dict[str, Any] = {"linkId": item.id}
    loinc_code = instrument.loinc.items.get(item.id) if instrument.loinc is not None else None
    if loinc_code:
        result["code"] = [{"system": LOINC_SYSTEM, "code": loinc_code}]
    if _shows_text(instrument) and item.text is not None:
        result["text"] = item.text
    else:
        result["prefix"] = item.id
    result["type"] = "choice"
    system = answer_system(instrument)
    result["answerOption"] = [
        {
            "extension": [{"url": ITEM_WEIGHT_URL, "valueDecimal": _number(option.value)}],
            "valueCoding": {
                "system": system,
                "code": str(_number(option.value)),
                "display": option.label,
            },
        }
        for option in item.options
    ]
    return result


def _total_link_id(instrument: Instrument) -> str:
    link_id = TOTAL_LINK_ID
    while link_id in instrument.item_map:
        link_id += "_score"
    return link_id


def total_expression(instrument: Instrument, link_id: str) -> str:
    """Informative FHIRPath summing the answers' weights (Kithkin's scorer is authoritative)."""
    if all(item.scored for item in instrument.items):
        where = f"linkId != '{link_id}'"
    else:
        scored = " | ".join(f"'{item.id}'" for item in instrument.scored_items)
        where = f"linkId in ({scored})"
    return f"%resource.item.where({where}).answer.value.weight().sum()"


def _total_item(instrument: Instrument) -> dict[str, Any]:
    link_id = _total_link_id(instrument)
    result: dict[str, Any] = {
        "extension": [
            {
                "url": CALCULATED_EXPRESSION_URL,
                "valueExpression": {
                    "description": "Informative: Kithkin's scorer computes the score.",
                    "language": "text/fhirpath",
                    "expression": total_expression(instrument, link_id),
                },
            }
        ],
        "linkId": link_id,
    }
    if instrument.loinc is not None and instrument.loinc.total:
        result["code"] = [{"system": LOINC_SYSTEM, "code": instrument.loinc.total}]
    result.update({"text": TOTAL_TEXT, "type": "decimal", "readOnly": True})
    return result


def questionnaire_for(instrument: Instrument) -> dict[str, Any]:
    """An R4 Questionnaire (as a JSON-ready dict) for ``instrument``, validated before return.

    Item text (and the instructions) appear only when the licence allows Kithkin to include item
    text; otherwise an item carries its id as ``prefix`` and no ``text``. Answer weights are the
    raw answer values, also for reverse-keyed items: reverse keying, subscales, bands and risk
    rules are applied by Kithkin's scorer from its own definition. A total item with an
    informative SDC ``calculatedExpression`` is added when the scoring rule is a reported sum.
    """
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.id.replace("_", "-"),
        "url": questionnaire_url(instrument),
        "version": instrument.version,
        "title": instrument.title,
        "status": "active",
    }
    if _shows_text(instrument) and instrument.instructions:
        resource["description"] = instrument.instructions
    resource["copyright"] = _copyright(instrument)
    if instrument.loinc is not None and instrument.loinc.panel:
        resource["code"] = [
            {"system": LOINC_SYSTEM, "code": instrument.loinc.panel, "display": instrument.title}
        ]
    items = [_item(instrument, item) for item in instrument.items]
    if instrument.rule == "sum" and instrument.report_total:
        items.append(_total_item(instrument))
    resource["item"] = items
    Questionnaire.model_validate(resource)
    return resource


def questionnaire_json(instrument: Instrument) -> str:
    """The Questionnaire for ``instrument`` as FHIR JSON text."""
    return json.dumps(questionnaire_for(instrument), ensure_ascii=False, indent=2)
