"""FHIR R4 QuestionnaireResponse: export matches the Questionnaire, import checks everything.

Pure functions with no access control of their own (the views that call them check access), so
there is no stranger to refuse here.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from kithkin.measures import fhir_response
from kithkin.measures.fhir import ITEM_WEIGHT_URL, answer_system, questionnaire_for
from kithkin.measures.fhir_response import (
    ResponseImportError,
    bundle_json,
    bundle_of,
    parse_questionnaire_responses,
    questionnaire_response_for,
    questionnaire_response_json,
)
from kithkin.measures.library import Instrument, Library, shipped
from kithkin.measures.scoring import AnswerError, check_answers, score

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
AUTHORED = datetime(2025, 5, 20, 9, 30, 15, tzinfo=UTC)
RESPONSE_ID = "0b6f4d1e-8f0a-4c55-9a3b-5f0d5d7a2c11"
SUBJECT = "Patient/6c1f2d0e-2a4b-4e1b-8d5c-0e9b7f3a1d22"
ALL_IDS = sorted(shipped())


def library() -> Library:
    return Library()


def varied_answers(instrument: Instrument) -> dict[str, float | None]:
    """Each item answered with a different option (cycling), so a mix-up of items shows."""
    return {
        item.id: item.options[index % len(item.options)].value
        for index, item in enumerate(instrument.items)
    }


def export(
    instrument: Instrument, answers: dict[str, float | None], **kwargs: Any
) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "response_id": RESPONSE_ID,
        "subject_reference": SUBJECT,
        "authored": AUTHORED,
    }
    arguments.update(kwargs)
    return questionnaire_response_for(instrument, answers, **arguments)


def phq9_response(**changes: Any) -> dict[str, Any]:
    resource = export(shipped()["phq9"], {str(n): 1 for n in range(1, 10)}, total=9)
    resource.update(changes)
    return resource


def parse(document: Any) -> list[fhir_response.ImportedResponse]:
    text = document if isinstance(document, str | bytes) else json.dumps(document)
    return parse_questionnaire_responses(text, library(), now=NOW)


def problems(document: Any) -> list[str]:
    with pytest.raises(ResponseImportError) as caught:
        parse(document)
    return caught.value.errors


def with_item(resource: dict[str, Any], link_id: str, **fields: Any) -> dict[str, Any]:
    """``resource`` with the item ``link_id`` replaced by one holding ``fields``."""
    changed = copy.deepcopy(resource)
    for item in changed["item"]:
        if item["linkId"] == link_id:
            item.clear()
            item.update({"linkId": link_id, **fields})
    return changed


# ------------------------------------------------------------------ export


@pytest.mark.parametrize("instrument_id", ALL_IDS)
def test_every_instrument_exports_a_valid_response_that_matches_its_questionnaire(
    instrument_id: str,
) -> None:
    instrument = shipped()[instrument_id]
    answers = varied_answers(instrument)
    text = questionnaire_response_json(
        instrument, answers, response_id=RESPONSE_ID, subject_reference=SUBJECT, authored=AUTHORED
    )
    parsed = QuestionnaireResponse.model_validate_json(text)
    assert parsed.status == "completed"
    questionnaire = questionnaire_for(instrument)
    assert parsed.questionnaire == f"{questionnaire['url']}|{questionnaire['version']}"
    options = {
        item["linkId"]: item["answerOption"]
        for item in questionnaire["item"]
        if item["type"] == "choice"
    }
    exported = json.loads(text)["item"]
    assert [item["linkId"] for item in exported] == [item.id for item in instrument.items]
    for item, exported_item in zip(instrument.items, exported, strict=True):
        (answer,) = exported_item["answer"]
        (option,) = [
            o for o in options[item.id] if o["valueCoding"]["code"] == answer["valueCoding"]["code"]
        ]
        # The same coding as the Questionnaire's answerOption, with its weight on the coding.
        assert answer["valueCoding"] == {**option["valueCoding"], "extension": option["extension"]}
        assert answer["valueCoding"]["extension"] == [
            {"url": ITEM_WEIGHT_URL, "valueDecimal": answers[item.id]}
        ]


@pytest.mark.parametrize("instrument_id", ALL_IDS)
def test_every_instrument_round_trips_and_the_answers_pass_the_scorer(instrument_id: str) -> None:
    instrument = shipped()[instrument_id]
    answers = varied_answers(instrument)
    answers[instrument.items[0].id] = None
    (imported,) = parse(export(instrument, answers))
    assert imported.instrument == instrument
    assert imported.answers == answers
    assert list(imported.answers) == [item.id for item in instrument.items]
    assert imported.authored == AUTHORED
    assert imported.source_id == RESPONSE_ID
    check_answers(imported.instrument, imported.answers)


def test_unanswered_items_are_left_out_and_the_total_is_the_questionnaire_total_item() -> None:
    phq9 = shipped()["phq9"]
    answers: dict[str, float | None] = {str(n): 2 for n in range(1, 10)}
    answers["4"] = None
    resource = export(phq9, answers, total=16)
    link_ids = [item["linkId"] for item in resource["item"]]
    assert link_ids == ["1", "2", "3", "5", "6", "7", "8", "9", "total"]
    assert resource["item"][-1] == {
        "linkId": "total",
        "text": "Total score",
        "answer": [{"valueDecimal": 16}],
    }
    assert resource["item"][0]["text"] == "Little interest or pleasure in doing things"
    prorated = export(phq9, answers, total=13.5)
    assert prorated["item"][-1]["answer"] == [{"valueDecimal": 13.5}]
    QuestionnaireResponse.model_validate(prorated)


def test_a_total_is_left_out_where_the_questionnaire_has_no_total_item() -> None:
    scs_sf = shipped()["scs_sf"]  # a mean: the Questionnaire has no total item
    resource = export(scs_sf, varied_answers(scs_sf), total=3.2)
    assert "total" not in [item["linkId"] for item in resource["item"]]


def test_no_item_text_where_the_licence_does_not_allow_it() -> None:
    ies_r = shipped()["ies_r"]
    loaded = ies_r.with_item_text(
        {item.id: f"PRACTICE-TEXT-{item.id}" for item in ies_r.items}, None
    )
    resource = export(loaded, varied_answers(loaded))
    assert "PRACTICE-TEXT" not in json.dumps(resource)
    assert all("text" not in item for item in resource["item"])


def test_references_and_dates_are_written_as_fhir_expects() -> None:
    phq9 = shipped()["phq9"]
    authored = datetime(2025, 5, 20, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    resource = export(
        phq9, varied_answers(phq9), authored=authored, author_reference="Practitioner/9"
    )
    assert resource["authored"] == "2025-05-20T09:30:00+00:00"
    assert resource["subject"] == {"reference": SUBJECT}
    assert resource["author"] == {"reference": "Practitioner/9"}
    anonymous = export(phq9, varied_answers(phq9), subject_reference=None)
    assert "subject" not in anonymous


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject_reference": "Jane Doe"}, "subject_reference must be a reference"),
        ({"author_reference": "Practitioner/Dr Smith"}, "author_reference must be a reference"),
        ({"authored": datetime(2025, 5, 20, 9, 30)}, "authored must be an aware datetime"),
        ({"status": "done"}, "status must be one of"),
        ({"total": float("nan")}, "total must be a finite number"),
    ],
)
def test_export_refuses_bad_arguments(changes: dict[str, Any], message: str) -> None:
    phq9 = shipped()["phq9"]
    with pytest.raises(ValueError, match=message) as caught:
        export(phq9, varied_answers(phq9), **changes)
    assert "Jane" not in str(caught.value)
    assert "Smith" not in str(caught.value)


def test_export_refuses_answers_the_instrument_cannot_hold() -> None:
    phq9 = shipped()["phq9"]
    with pytest.raises(AnswerError, match="item '9': 7 is not one of 0, 1, 2, 3"):
        export(phq9, {"9": 7})
    with pytest.raises(AnswerError, match="PHQ-9 has no item 'x'"):
        export(phq9, {"x": 1})


def test_a_bundle_round_trips_every_response_in_order() -> None:
    ids = ["phq9", "gad7", "ies_r", "scs_sf", "five_s"]
    exported = []
    for number, instrument_id in enumerate(ids):
        instrument = shipped()[instrument_id]
        exported.append(
            export(
                instrument,
                varied_answers(instrument),
                response_id=f"0b6f4d1e-8f0a-4c55-9a3b-5f0d5d7a2c1{number}",
                authored=AUTHORED + timedelta(days=number),
            )
        )
    text = bundle_json(exported)
    bundle = Bundle.model_validate_json(text)
    assert bundle.type == "collection"
    assert bundle.entry is not None
    assert [entry.fullUrl for entry in bundle.entry] == [
        f"urn:uuid:{resource['id']}" for resource in exported
    ]
    imported = parse(text)
    assert [response.instrument.id for response in imported] == ids
    assert [response.source_id for response in imported] == [r["id"] for r in exported]
    assert [response.authored for response in imported] == [
        AUTHORED + timedelta(days=n) for n in range(len(ids))
    ]
    for response in imported:
        assert response.answers == varied_answers(response.instrument)


def test_a_searchset_bundle_carries_its_total_and_other_ids_get_no_full_url() -> None:
    resource = phq9_response(id="kithkin-42")
    bundle = bundle_of([resource, phq9_response()], bundle_type="searchset")
    Bundle.model_validate(bundle)
    assert bundle["total"] == 2
    assert "fullUrl" not in bundle["entry"][0]
    assert bundle["entry"][1]["search"] == {"mode": "match"}
    with pytest.raises(ValueError, match="bundle_type must be one of"):
        bundle_of([resource], bundle_type="transaction")
    with pytest.raises(ValueError, match="holds only QuestionnaireResponse"):
        bundle_of([{"resourceType": "Patient"}])


# ------------------------------------------------------------------ import: what is accepted


def test_import_accepts_the_answers_in_the_forms_other_systems_write() -> None:
    resource = phq9_response(questionnaire="http://loinc.org/q/44249-1")  # no |version
    resource = with_item(resource, "1", answer=[{"valueCoding": {"code": "3"}}])  # no system
    resource = with_item(resource, "2", answer=[{"valueInteger": 2}])
    resource = with_item(resource, "3", answer=[{"valueDecimal": 0.0}])
    resource = with_item(resource, "4")  # an item without an answer
    resource = with_item(resource, "total", answer=[{"valueDecimal": 99}])  # ignored
    (imported,) = parse(resource)
    assert imported.answers == {
        "1": 3,
        "2": 2,
        "3": 0,
        "4": None,
        **{str(n): 1 for n in range(5, 10)},
    }
    assert score(imported.instrument, imported.answers).no_score_reason is not None


def test_import_accepts_another_version_bytes_with_a_bom_and_amended_responses() -> None:
    resource = phq9_response(
        questionnaire="http://loinc.org/q/44249-1|0.9.0",
        status="amended",
        authored="2025-05-20T11:30:15+02:00",
    )
    (imported,) = parse_questionnaire_responses(
        b"\xef\xbb\xbf" + json.dumps(resource).encode(), library(), now=NOW
    )
    assert imported.instrument.id == "phq9"
    assert imported.authored == AUTHORED
    assert imported.authored.tzinfo == UTC


def test_a_practice_instrument_is_found_by_its_kithkin_url() -> None:
    k10 = shipped()["k10"]
    only_k10 = Library({"k10": k10})
    text = questionnaire_response_json(
        k10, varied_answers(k10), response_id="r1", subject_reference=None, authored=AUTHORED
    )
    (imported,) = parse_questionnaire_responses(text, only_k10, now=NOW)
    assert imported.instrument is k10
    with pytest.raises(ResponseImportError) as caught:
        parse_questionnaire_responses(json.dumps(phq9_response()), only_k10, now=NOW)
    assert caught.value.errors == [
        "response 1: questionnaire 'http://loinc.org/q/44249-1|1.0.0' is not an instrument "
        "in this library"
    ]


def test_the_imported_response_does_not_show_answers_in_its_repr() -> None:
    (imported,) = parse(phq9_response())
    assert "answers" not in repr(imported)


# ------------------------------------------------------------------ import: what is refused


def test_a_file_that_is_not_utf8_is_refused() -> None:
    assert problems(b"\xff\xfe{\x00}\x00") == ["The file is not UTF-8 text."]


def test_a_file_that_is_not_json_is_refused() -> None:
    assert problems('{"resourceType": ') == ["The file is not valid JSON (line 1, column 18)."]
    assert problems('{"resourceType": NaN}') == ["The file is not valid JSON."]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"resourceType": "Patient", "id": "p1"},
            "The file holds a Patient, not a QuestionnaireResponse or a Bundle of them.",
        ),
        (
            [{"resourceType": "QuestionnaireResponse"}],
            "The file is not a FHIR resource: it must hold a QuestionnaireResponse or a Bundle "
            "of them.",
        ),
        (
            {"status": "completed"},
            "The file is not a FHIR resource: it must hold a QuestionnaireResponse or a Bundle "
            "of them.",
        ),
        (
            {"resourceType": "Bundle", "type": "collection"},
            "The Bundle has no entries, so there is nothing to import.",
        ),
        (
            {"resourceType": "Bundle", "type": "collection", "entry": []},
            "The Bundle has no entries, so there is nothing to import.",
        ),
    ],
)
def test_a_file_without_responses_is_refused(document: Any, message: str) -> None:
    assert problems(document) == [message]


def test_bundle_entries_that_are_not_questionnaire_responses_are_named() -> None:
    bundle = bundle_of([phq9_response()])
    bundle["entry"] += [
        {"resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": "urn:uuid:0b6f4d1e-8f0a-4c55-9a3b-5f0d5d7a2c19"},
        {"resource": ["not", "a", "resource"]},
    ]
    assert problems(bundle) == [
        "entry 2: is a Patient, not a QuestionnaireResponse",
        "entry 3: has no resource",
        "entry 4: is a something that is not a FHIR resource, not a QuestionnaireResponse",
    ]


def test_an_invalid_bundle_is_named() -> None:
    bundle = bundle_of([phq9_response()])
    del bundle["type"]
    assert problems(bundle) == [
        "the Bundle: not valid FHIR at type: Value for the field 'type' is required."
    ]


def test_more_than_the_limit_of_responses_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{}] * 5001}
    assert problems(bundle) == [
        "The Bundle holds 5,001 entries; Kithkin imports at most 5,000 at a time. "
        "Please split the file."
    ]
    monkeypatch.setattr(fhir_response, "MAX_RESPONSES", 2)
    assert len(parse(bundle_of([phq9_response(), phq9_response()]))) == 2


def test_invalid_fhir_is_named_by_fhir_resources() -> None:
    resource = phq9_response()
    del resource["item"][2]["linkId"]
    resource["authored"] = "20 May 2025"
    found = problems(resource)
    assert found == [
        "response 1: not valid FHIR at authored: DateTime value string does not match spec regex.",
        "response 1: not valid FHIR at item[2].linkId: Value for the field 'linkId' is required.",
    ]


def test_an_unknown_contained_resource_is_refused_without_a_crash() -> None:
    resource = phq9_response(contained=[{"resourceType": "NoSuchThing", "id": "x"}])
    assert problems(resource) == ["response 1: is not a valid FHIR QuestionnaireResponse"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"status": "in-progress"},
            "response 1: status must be 'completed' or 'amended' (got 'in-progress')",
        ),
        ({"authored": None}, "response 1: authored date is missing"),
        (
            {"authored": "2025-05-20"},
            "response 1: authored date must include a time and a time zone (got '2025-05-20')",
        ),
        (
            {"authored": (NOW + timedelta(hours=1)).isoformat()},
            "response 1: authored date is in the future",
        ),
        ({"questionnaire": None}, "response 1: questionnaire is missing"),
        (
            {"questionnaire": "http://x/y"},
            "response 1: questionnaire 'http://x/y' is not an instrument in this library",
        ),
        ({"item": None}, "response 1: has no answers"),
    ],
)
def test_response_level_problems_are_named(changes: dict[str, Any], message: str) -> None:
    resource = {key: value for key, value in phq9_response(**changes).items() if value is not None}
    assert problems(resource) == [message]


def test_a_few_minutes_of_clock_difference_is_not_the_future() -> None:
    resource = phq9_response(authored=(NOW + timedelta(minutes=4)).isoformat())
    assert len(parse(resource)) == 1


CODING_7 = {"valueCoding": {"system": answer_system(shipped()["phq9"]), "code": "7"}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"answer": [CODING_7]},
            "response 1, item '9': code '7' is not one of the answer codes 0, 1, 2, 3",
        ),
        (
            {"answer": [{"valueCoding": {"code": "2.0"}}]},
            "response 1, item '9': code '2.0' is not one of the answer codes 0, 1, 2, 3",
        ),
        (
            {"answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6568-5"}}]},
            "response 1, item '9': code system 'http://loinc.org' is not the answer system "
            "https://kithkin.example/fhir/CodeSystem/phq9-answers",
        ),
        (
            {"answer": [{"valueCoding": {"display": "Not at all"}}]},
            "response 1, item '9': the coding has no code",
        ),
        (
            {"answer": [{"valueInteger": 7}]},
            "response 1, item '9': 7 is not one of the answer values 0, 1, 2, 3",
        ),
        (
            {"answer": [{"valueDecimal": 1.5}]},
            "response 1, item '9': 1.5 is not one of the answer values 0, 1, 2, 3",
        ),
        (
            {"answer": [{"valueString": "1"}]},
            "response 1, item '9': the answer must be a coding or a number "
            "(valueCoding, valueInteger, valueDecimal)",
        ),
        (
            {"answer": [{"valueInteger": 1}, {"valueInteger": 2}]},
            "response 1, item '9': has more than one answer",
        ),
        (
            {"answer": [{"valueInteger": 1, "item": [{"linkId": "9a"}]}]},
            "response 1, item '9': has nested items, which this item cannot hold",
        ),
        (
            {"item": [{"linkId": "9a"}]},
            "response 1, item '9': has nested items, which this item cannot hold",
        ),
    ],
)
def test_answer_problems_name_the_response_and_item(fields: dict[str, Any], message: str) -> None:
    assert problems(with_item(phq9_response(), "9", **fields)) == [message]


def test_items_that_are_not_in_the_instrument_or_repeat_are_named() -> None:
    resource = phq9_response()
    resource["item"].insert(0, {"linkId": "x", "answer": [{"valueInteger": 1}]})
    resource["item"].append(copy.deepcopy(resource["item"][3]))
    assert problems(resource) == [
        "response 1: item 'x' is not in PHQ-9",
        "response 1: item '3' appears more than once",
    ]


def test_every_problem_in_every_response_is_listed_at_once() -> None:
    good = phq9_response()
    unknown = phq9_response(questionnaire="http://x/y", status="stopped")
    bad_code = with_item(phq9_response(), "9", answer=[CODING_7])
    bundle = bundle_of([good, unknown, bad_code])
    bundle["entry"].append({"resource": {"resourceType": "Patient", "id": "p1"}})
    assert problems(bundle) == [
        "response 2: status must be 'completed' or 'amended' (got 'stopped')",
        "response 2: questionnaire 'http://x/y' is not an instrument in this library",
        "response 3, item '9': code '7' is not one of the answer codes 0, 1, 2, 3",
        "entry 4: is a Patient, not a QuestionnaireResponse",
    ]
