"""FHIR R4 QuestionnaireResponse export and import for Kithkin's instruments.

Pure functions (no database). A response points at the Questionnaire that ``fhir.py`` exports
(canonical URL with ``|version``) and uses the very same linkIds and answer codings, so another
system can read the answers against that Questionnaire. Import accepts one QuestionnaireResponse
or a Bundle of them, checks each with the ``fhir.resources`` R4B model, then against Kithkin's
library, and reports every problem at once, naming the response and item.

The total item is written on export for convenience and ignored on import: Kithkin's scorer
recomputes every score from the answers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
)
from pydantic import ValidationError

from .fhir import (
    ITEM_WEIGHT_URL,
    TOTAL_TEXT,
    _number,
    _shows_text,
    _total_link_id,
    answer_system,
    questionnaire_url,
)
from .library import Instrument, Item, Library
from .scoring import Answers, check_answers

# One client's history is at most a few hundred responses; this leaves room for a practice moving
# systems and still stops a hostile file early (each response takes about a millisecond to check).
MAX_RESPONSES = 5000
# Clocks of the system that wrote the file and of Kithkin may differ by a little.
FUTURE_TOLERANCE = timedelta(minutes=5)
# "amended" is a completed response that was corrected later: its answers are final too.
IMPORTABLE_STATUSES = ("completed", "amended")
RESPONSE_STATUSES = frozenset(
    {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
)
BUNDLE_TYPES = frozenset({"collection", "searchset"})
# "Type/id" only: an opaque id, never a name or a display text.
_REFERENCE = re.compile(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}")
_VALUE_FIELDS = ("valueCoding", "valueInteger", "valueDecimal")


class ResponseImportError(ValueError):
    """A file Kithkin cannot import. ``errors`` lists every problem, each naming where it is; the
    messages are shown to the clinician who uploaded the file, so they quote only what is wrong."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportedResponse:
    # Left out of repr: answers are client data and must not reach a log by accident.
    instrument: Instrument = field(repr=False)
    answers: dict[str, float | None] = field(repr=False)  # every item id; None when unanswered
    authored: datetime  # aware, UTC
    source_id: str | None  # the QuestionnaireResponse's own id in the file, if it had one


# ------------------------------------------------------------------ export


def _has_total_item(instrument: Instrument) -> bool:
    """Whether the exported Questionnaire has a total item (see ``fhir.questionnaire_for``)."""
    return instrument.rule == "sum" and instrument.report_total


def answer_coding(instrument: Instrument, item: Item, value: float) -> dict[str, Any]:
    """The Questionnaire's answerOption coding for ``value``, carrying its weight on the coding."""
    option = next(option for option in item.options if option.value == value)
    weight = _number(option.value)
    return {
        "extension": [{"url": ITEM_WEIGHT_URL, "valueDecimal": weight}],
        "system": answer_system(instrument),
        "code": str(weight),
        "display": option.label,
    }


def _reference(reference: str | None, name: str) -> dict[str, str] | None:
    if reference is None:
        return None
    if not _REFERENCE.fullmatch(reference):
        # The value is not echoed: a caller's mistake must not put a name into a log.
        raise ValueError(f"{name} must be a reference like 'Patient/<id>'")
    return {"reference": reference}


def questionnaire_response_for(
    instrument: Instrument,
    answers: Answers,
    *,
    response_id: str,
    subject_reference: str | None,
    authored: datetime,
    status: str = "completed",
    total: float | None = None,
    author_reference: str | None = None,
) -> dict[str, Any]:
    """An R4 QuestionnaireResponse (a JSON-ready dict) for ``answers``, validated before return.

    Answered items carry the Questionnaire's own coding (system, code, display and the
    ``itemWeight`` extension); unanswered items are left out, as FHIR expects. ``total`` becomes
    the answer of the Questionnaire's total item, and is left out for instruments whose
    Questionnaire has none (those not reporting a summed total). References are "Type/id" only.
    Raises ``scoring.AnswerError`` for answers the instrument cannot hold and ``ValueError`` for
    other bad arguments.
    """
    check_answers(instrument, answers)
    if authored.tzinfo is None or authored.utcoffset() is None:
        raise ValueError("authored must be an aware datetime")
    if status not in RESPONSE_STATUSES:
        raise ValueError(f"status must be one of {', '.join(sorted(RESPONSE_STATUSES))}")
    if total is not None and not math.isfinite(total):
        raise ValueError("total must be a finite number")
    subject = _reference(subject_reference, "subject_reference")
    author = _reference(author_reference, "author_reference")
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            continue
        entry: dict[str, Any] = {"linkId": item.id}
        if _shows_text(instrument) and item.text is not None:
            entry["text"] = item.text
        entry["answer"] = [{"valueCoding": answer_coding(instrument, item, value)}]
        items.append(entry)
    if total is not None and _has_total_item(instrument):
        items.append(
            {
                "linkId": _total_link_id(instrument),
                "text": TOTAL_TEXT,
                "answer": [{"valueDecimal": _number(total)}],
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{questionnaire_url(instrument)}|{instrument.version}",
        "status": status,
    }
    if subject is not None:
        resource["subject"] = subject
    resource["authored"] = authored.astimezone(UTC).isoformat()
    if author is not None:
        resource["author"] = author
    if items:  # FHIR JSON has no empty arrays
        resource["item"] = items
    QuestionnaireResponse.model_validate(resource)
    return resource


def questionnaire_response_json(
    instrument: Instrument,
    answers: Answers,
    *,
    response_id: str,
    subject_reference: str | None,
    authored: datetime,
    status: str = "completed",
    total: float | None = None,
    author_reference: str | None = None,
) -> str:
    """The QuestionnaireResponse from :func:`questionnaire_response_for` as FHIR JSON text."""
    resource = questionnaire_response_for(
        instrument,
        answers,
        response_id=response_id,
        subject_reference=subject_reference,
        authored=authored,
        status=status,
        total=total,
        author_reference=author_reference,
    )
    return json.dumps(resource, ensure_ascii=False, indent=2)


def _full_url(resource_id: object) -> str | None:
    """``urn:uuid:`` for a UUID id; other ids have no stable absolute URL outside Kithkin."""
    if not isinstance(resource_id, str):
        return None
    try:
        return f"urn:uuid:{UUID(resource_id)}"
    except ValueError:
        return None


def bundle_of(
    responses: Sequence[Mapping[str, Any]], *, bundle_type: str = "collection"
) -> dict[str, Any]:
    """A Bundle (``collection`` or ``searchset``) holding ``responses``, validated before return.

    Each entry gets a ``urn:uuid:`` fullUrl when the response's id is a UUID.
    """
    if bundle_type not in BUNDLE_TYPES:
        raise ValueError(f"bundle_type must be one of {', '.join(sorted(BUNDLE_TYPES))}")
    entries: list[dict[str, Any]] = []
    for response in responses:
        if response.get("resourceType") != "QuestionnaireResponse":
            raise ValueError("a Bundle of responses holds only QuestionnaireResponse resources")
        entry: dict[str, Any] = {}
        full_url = _full_url(response.get("id"))
        if full_url is not None:
            entry["fullUrl"] = full_url
        entry["resource"] = dict(response)
        if bundle_type == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": bundle_type}
    if bundle_type == "searchset":
        bundle["total"] = len(entries)  # bdl-1: a total only on search and history sets
    if entries:
        bundle["entry"] = entries
    Bundle.model_validate(bundle)
    return bundle


def bundle_json(responses: Sequence[Mapping[str, Any]], *, bundle_type: str = "collection") -> str:
    """The Bundle from :func:`bundle_of` as FHIR JSON text."""
    return json.dumps(bundle_of(responses, bundle_type=bundle_type), ensure_ascii=False, indent=2)


# ------------------------------------------------------------------ import


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _read_json(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")  # tolerate the byte order mark some editors write
        except UnicodeDecodeError:
            raise ResponseImportError([_("The file is not UTF-8 text.")]) from None
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ResponseImportError(
            [
                _("The file is not valid JSON (line %(line)s, column %(column)s).")
                % {"line": error.lineno, "column": error.colno}
            ]
        ) from None
    except (ValueError, RecursionError):  # NaN, huge integers, absurd nesting
        raise ResponseImportError([_("The file is not valid JSON.")]) from None


def _fhir_problems(where: str, error: ValidationError) -> list[str]:
    """fhir.resources' findings as "where: at item[0].linkId: problem" lines."""
    found = []
    for problem in error.errors():
        path = ""
        for part in problem["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
        message = str(problem["msg"]).removeprefix("Value error, ")
        if path:
            found.append(
                _("%(where)s: not valid FHIR at %(path)s: %(problem)s")
                % {"where": where, "path": path, "problem": message}
            )
        else:
            found.append(
                _("%(where)s: not valid FHIR: %(problem)s") % {"where": where, "problem": message}
            )
    return found


def _type_name(resource: Any) -> str | None:
    if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
        return str(resource["resourceType"])
    return None


_Entries = tuple[list[str], list[tuple[int, dict[str, Any] | str]]]


def _entries(document: Any) -> _Entries:
    """Problems with the file as a whole, then each entry numbered from 1: the raw
    QuestionnaireResponse, or what is wrong with the entry."""
    kind = _type_name(document)
    if kind == "QuestionnaireResponse":
        return [], [(1, document)]
    if kind == "Bundle":
        return _bundle_entries(document)
    if kind is None:
        message = _(
            "The file is not a FHIR resource: it must hold a QuestionnaireResponse or a "
            "Bundle of them."
        )
    else:
        message = _(
            "The file holds a %(type)s, not a QuestionnaireResponse or a Bundle of them."
        ) % {"type": kind}
    raise ResponseImportError([message])


def _bundle_entries(bundle: dict[str, Any]) -> _Entries:
    raw_entries = bundle.get("entry")
    if raw_entries is None or raw_entries == []:
        raise ResponseImportError([_("The Bundle has no entries, so there is nothing to import.")])
    if isinstance(raw_entries, list) and len(raw_entries) > MAX_RESPONSES:
        raise ResponseImportError(
            [
                _(
                    "The Bundle holds %(count)s entries; Kithkin imports at most %(limit)s at a "
                    "time. Please split the file."
                )
                % {"count": f"{len(raw_entries):,}", "limit": f"{MAX_RESPONSES:,}"}
            ]
        )
    errors: list[str] = []
    # The Bundle's own structure is checked without its resources, which are checked one by one
    # afterwards so that each problem names its response.
    shell = dict(bundle)
    if isinstance(raw_entries, list):
        shell["entry"] = [
            {key: value for key, value in entry.items() if key != "resource"}
            if isinstance(entry, dict)
            else entry
            for entry in raw_entries
        ]
    try:
        Bundle.model_validate(shell)
    except ValidationError as error:
        errors.extend(_fhir_problems(_("the Bundle"), error))
    if not isinstance(raw_entries, list):
        raise ResponseImportError(errors)
    found: list[tuple[int, dict[str, Any] | str]] = []
    for number, entry in enumerate(raw_entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = _type_name(resource)
        if resource is None:
            found.append((number, _("entry %(number)s: has no resource") % {"number": number}))
        elif kind != "QuestionnaireResponse":
            problem = _("entry %(number)s: is a %(type)s, not a QuestionnaireResponse") % {
                "number": number,
                "type": kind or _("something that is not a FHIR resource"),
            }
            found.append((number, problem))
        else:
            found.append((number, resource))
    return errors, found


class _Instruments:
    """The library's instruments by Questionnaire canonical URL."""

    def __init__(self, library: Library) -> None:
        self._by_url: dict[str, list[Instrument]] = {}
        for instrument in library:
            self._by_url.setdefault(questionnaire_url(instrument), []).append(instrument)

    def find(self, canonical: str) -> Instrument | None:
        url, _bar, version = canonical.partition("|")
        candidates = self._by_url.get(url, [])
        if len(candidates) > 1:
            # Two practice instruments may share a LOINC panel: the version tells them apart.
            candidates = [i for i in candidates if i.version == version]
        # A different version with the same URL is accepted: the item checks still refuse any
        # linkId or answer code that this library's definition does not have.
        return candidates[0] if len(candidates) == 1 else None


class _Problem(Exception):
    """One problem with one item; the message already names the response and item."""


def _coded_value(instrument: Instrument, item: Item, coding: Coding, where: str) -> float:
    system = answer_system(instrument)
    if coding.system is not None and coding.system != system:
        raise _Problem(
            _("%(where)s: code system '%(system)s' is not the answer system %(expected)s")
            % {"where": where, "system": coding.system, "expected": system}
        )
    codes = {str(_number(option.value)): option.value for option in item.options}
    if coding.code is None:
        raise _Problem(_("%(where)s: the coding has no code") % {"where": where})
    if coding.code not in codes:
        raise _Problem(
            _("%(where)s: code '%(code)s' is not one of the answer codes %(codes)s")
            % {"where": where, "code": coding.code, "codes": ", ".join(codes)}
        )
    return codes[coding.code]


def _numeric_value(item: Item, number: int | Decimal, where: str) -> float:
    for option in item.options:
        if option.value == float(number):
            return option.value
    raise _Problem(
        _("%(where)s: %(value)s is not one of the answer values %(values)s")
        % {
            "where": where,
            "value": number,
            "values": ", ".join(str(_number(option.value)) for option in item.options),
        }
    )


def _answer_value(
    instrument: Instrument, item: Item, node: QuestionnaireResponseItem, where: str
) -> float | None:
    """The answer value of one item, or None when it has no answer; raises :class:`_Problem`."""
    answers = node.answer or []
    if node.item or any(answer.item for answer in answers):
        raise _Problem(
            _("%(where)s: has nested items, which this item cannot hold") % {"where": where}
        )
    if not answers:
        return None
    if len(answers) > 1:
        raise _Problem(_("%(where)s: has more than one answer") % {"where": where})
    (answer,) = answers
    if answer.valueCoding is not None:
        return _coded_value(instrument, item, answer.valueCoding, where)
    if answer.valueInteger is not None:
        return _numeric_value(item, answer.valueInteger, where)
    if answer.valueDecimal is not None:
        return _numeric_value(item, answer.valueDecimal, where)
    raise _Problem(
        _("%(where)s: the answer must be a coding or a number (%(fields)s)")
        % {"where": where, "fields": ", ".join(_VALUE_FIELDS)}
    )


def _answers(
    instrument: Instrument, response: QuestionnaireResponse, number: int
) -> tuple[dict[str, float | None], list[str]]:
    """Every item's answer value (None when unanswered), and the problems found."""
    where = _("response %(number)s") % {"number": number}
    answers: dict[str, float | None] = {item.id: None for item in instrument.items}
    errors: list[str] = []
    seen: set[str] = set()
    total_link_id = _total_link_id(instrument)
    for node in response.item or []:
        link_id = node.linkId
        if link_id == total_link_id:
            continue  # Kithkin recomputes the total from the answers
        item = instrument.item_map.get(link_id) if link_id is not None else None
        if item is None:
            errors.append(
                _("%(where)s: item '%(item)s' is not in %(instrument)s")
                % {"where": where, "item": link_id, "instrument": instrument.short_title}
            )
        elif item.id in seen:
            errors.append(
                _("%(where)s: item '%(item)s' appears more than once")
                % {"where": where, "item": item.id}
            )
        else:
            seen.add(item.id)
            item_where = _("response %(number)s, item '%(item)s'") % {
                "number": number,
                "item": item.id,
            }
            try:
                answers[item.id] = _answer_value(instrument, item, node, item_where)
            except _Problem as problem:
                errors.append(str(problem))
    if not errors and all(value is None for value in answers.values()):
        errors.append(_("%(where)s: has no answers") % {"where": where})
    return answers, errors


def _authored(response: QuestionnaireResponse, where: str, now: datetime) -> datetime:
    """The authored moment in UTC; raises :class:`_Problem`."""
    authored: datetime | date | str | None = response.authored
    if authored is None:
        raise _Problem(_("%(where)s: authored date is missing") % {"where": where})
    # FHIR allows a bare year or date; Kithkin needs the moment, or a day could shift by zone.
    if not isinstance(authored, datetime) or authored.utcoffset() is None:
        raise _Problem(
            _("%(where)s: authored date must include a time and a time zone (got '%(value)s')")
            % {"where": where, "value": authored}
        )
    authored = authored.astimezone(UTC)
    if authored > now + FUTURE_TOLERANCE:
        raise _Problem(_("%(where)s: authored date is in the future") % {"where": where})
    return authored


def _instrument(
    response: QuestionnaireResponse, where: str, instruments: _Instruments
) -> Instrument:
    """The instrument the response answers; raises :class:`_Problem`."""
    if response.questionnaire is None:
        raise _Problem(_("%(where)s: questionnaire is missing") % {"where": where})
    instrument = instruments.find(response.questionnaire)
    if instrument is None:
        raise _Problem(
            _("%(where)s: questionnaire '%(questionnaire)s' is not an instrument in this library")
            % {"where": where, "questionnaire": response.questionnaire}
        )
    return instrument


def _check_response(
    number: int, raw: dict[str, Any], instruments: _Instruments, now: datetime
) -> tuple[ImportedResponse | None, list[str]]:
    where = _("response %(number)s") % {"number": number}
    try:
        response = QuestionnaireResponse.model_validate(raw)
    except ValidationError as error:
        return None, _fhir_problems(where, error)
    except (ValueError, TypeError, KeyError, RecursionError):
        # fhir.resources raises plain errors for some inputs (an unknown contained resource type).
        return None, [_("%(where)s: is not a valid FHIR QuestionnaireResponse") % {"where": where}]
    errors: list[str] = []
    if response.status not in IMPORTABLE_STATUSES:
        errors.append(
            _("%(where)s: status must be 'completed' or 'amended' (got '%(status)s')")
            % {"where": where, "status": response.status}
        )
    authored: datetime | None = None
    instrument: Instrument | None = None
    try:
        authored = _authored(response, where, now)
    except _Problem as problem:
        errors.append(str(problem))
    try:
        instrument = _instrument(response, where, instruments)
    except _Problem as problem:
        errors.append(str(problem))
    if instrument is None:
        return None, errors
    answers, problems = _answers(instrument, response, number)
    errors.extend(problems)
    if errors or authored is None:
        return None, errors
    imported = ImportedResponse(
        instrument=instrument, answers=answers, authored=authored, source_id=response.id
    )
    return imported, []


def parse_questionnaire_responses(
    data: bytes | str, library: Library, *, now: datetime | None = None
) -> list[ImportedResponse]:
    """The responses in a FHIR JSON file: one QuestionnaireResponse or a Bundle of them.

    Each response must be ``completed`` (or ``amended``), have an authored date and time that is
    not in the future, point at an instrument in ``library`` (canonical URL with or without
    ``|version``) and answer its items with the Questionnaire's codings (a coding without a system
    is matched by code) or with numbers among the item's values. The total item is ignored.
    Raises :class:`ResponseImportError` listing every problem; nothing is returned unless all
    responses are fine. ``now`` (aware) is for tests; it defaults to the current time.
    """
    document = _read_json(data)
    errors, entries = _entries(document)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    instruments = _Instruments(library)
    imported: list[ImportedResponse] = []
    for number, raw in entries:
        if isinstance(raw, str):  # an entry that is not a QuestionnaireResponse
            errors.append(raw)
            continue
        response, problems = _check_response(number, raw, instruments, moment)
        errors.extend(problems)
        if response is not None:
            imported.append(response)
    if errors:
        raise ResponseImportError(errors)
    return imported
