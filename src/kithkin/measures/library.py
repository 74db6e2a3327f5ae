"""The instrument library: definitions loaded from JSON files, validated, and cached.

Shipped definitions live in ``definitions/``. A practice can add instruments from its own directory
(``load_directory``) and, when it holds permission, the item text of an instrument that ships
without it (``load_item_text``). Nothing here touches the database, so it imports without the app
being installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from django.utils.translation import gettext as _

from .schema import DefinitionError, item_text_errors, validate_definition

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
SCHEMA_FILENAME = "schema.json"

Direction = Literal["higher_is_worse", "higher_is_better"]
ScoringRule = Literal["sum", "mean", "scaled"]


@dataclass(frozen=True)
class Option:
    value: float
    label: str


@dataclass(frozen=True)
class Item:
    id: str
    text: str | None
    options: tuple[Option, ...]
    reverse: bool = False
    scored: bool = True
    links_people: bool = False
    text_status: str = "verbatim"

    @property
    def lowest(self) -> float:
        return min(option.value for option in self.options)

    @property
    def highest(self) -> float:
        return max(option.value for option in self.options)

    @cached_property
    def values(self) -> frozenset[float]:
        return frozenset(option.value for option in self.options)


@dataclass(frozen=True)
class Subscale:
    id: str
    title: str
    items: tuple[str, ...]
    rule: Literal["sum", "mean"] | None = None
    positive_at: float | None = None
    source: str = ""


@dataclass(frozen=True)
class Band:
    min: float
    max: float
    label: str
    severity: int | None = None


@dataclass(frozen=True)
class Cutoff:
    value: float
    clinical: Literal["at_or_above", "at_or_below"]
    label: str
    source: str

    def is_clinical(self, score: float) -> bool:
        if self.clinical == "at_or_above":
            return score >= self.value
        return score <= self.value


@dataclass(frozen=True)
class ReliableChangeParams:
    r: float
    r_source: str
    sd: float
    sd_source: str


@dataclass(frozen=True)
class InternalConsistency:
    alpha: float
    source: str


@dataclass(frozen=True)
class MinimalImportantChange:
    value: float
    source: str


@dataclass(frozen=True)
class RiskRule:
    id: str
    item: str
    operator: Literal[">", ">=", "==", "<", "<="]
    value: float
    severity: Literal["urgent", "high", "moderate"]
    label: str
    source: str


@dataclass(frozen=True)
class Requirement:
    subscale: str
    min_items: int


@dataclass(frozen=True)
class DiagnosticRule:
    id: str
    label: str
    item_threshold: float
    requirements: tuple[Requirement, ...]
    source: str


@dataclass(frozen=True)
class MissingRule:
    rule: Literal["none_allowed", "prorate"]
    max_missing: int
    source: str


@dataclass(frozen=True)
class Licence:
    name: str
    allows_item_text: bool
    notice: str | None
    citation: str
    source: str = ""


@dataclass(frozen=True)
class Loinc:
    panel: str | None = None
    total: str | None = None
    items: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title: str
    short_title: str
    author: str | None
    instructions: str | None
    text_status: str
    direction: Direction
    option_range: tuple[float, float]
    items: tuple[Item, ...]
    subscales: tuple[Subscale, ...]
    rule: ScoringRule
    factor: float
    report_total: bool
    score_range: tuple[float, float]
    bands: tuple[Band, ...]
    bands_source: str | None
    cutoff: Cutoff | None
    reliable_change: ReliableChangeParams | None
    minimal_important_change: MinimalImportantChange | None
    risk_rules: tuple[RiskRule, ...]
    diagnostic_rules: tuple[DiagnosticRule, ...]
    missing: MissingRule
    licence: Licence
    loinc: Loinc | None
    sources: Mapping[str, str]
    notes: tuple[str, ...]
    text_loaded: bool = False
    origin: str = ""
    internal_consistency: InternalConsistency | None = None

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    # Cached because bulk re-scoring asks for these on every response (cached_property writes to
    # the instance __dict__ directly, so it works on a frozen dataclass).
    @cached_property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)

    @cached_property
    def item_map(self) -> Mapping[str, Item]:
        return {item.id: item for item in self.items}

    @property
    def has_item_text(self) -> bool:
        return all(item.text is not None for item in self.items)

    @property
    def assignable(self) -> bool:
        return self.unassignable_reason is None

    @property
    def unassignable_reason(self) -> str | None:
        """Why this instrument cannot be assigned to a client yet, in plain words."""
        if not self.licence.allows_item_text and not self.text_loaded:
            return _(
                "%(instrument)s ships without its questions because its licence does not let "
                "Kithkin include them. A practice that holds permission can add the questions "
                "from its own file; until then it cannot be assigned."
            ) % {"instrument": self.short_title}
        if not self.has_item_text:
            return _(
                "Some questions of %(instrument)s are still waiting for their exact published "
                "wording to be checked."
            ) % {"instrument": self.short_title}
        return None

    def item(self, item_id: str) -> Item:
        return self.item_map[item_id]

    def band_for(self, score: float) -> Band | None:
        """The band holding ``score``; a boundary value belongs to the band that starts there."""
        found: Band | None = None
        for band in self.bands:
            if band.min <= score:
                found = band
        if found is not None and score > self.bands[-1].max:
            return None
        return found

    def with_item_text(self, texts: Mapping[str, str], instructions: str | None) -> Instrument:
        items = tuple(
            replace(item, text=texts[item.id], text_status="practice") for item in self.items
        )
        return replace(
            self,
            items=items,
            instructions=instructions if instructions is not None else self.instructions,
            text_loaded=True,
        )


def _options(raw: Iterable[Mapping[str, Any]]) -> tuple[Option, ...]:
    return tuple(Option(value=o["value"], label=o["label"]) for o in raw)


def build(data: Mapping[str, Any], origin: str = "") -> Instrument:
    """Turn a validated definition into an Instrument (call validate_definition first)."""
    default_options = _options(data["response_options"])
    items = tuple(
        Item(
            id=raw["id"],
            text=raw["text"],
            options=_options(raw["options"]) if "options" in raw else default_options,
            reverse=raw.get("reverse", False),
            scored=raw.get("scored", True),
            links_people=raw.get("links_people", False),
            text_status=raw.get("text_status", data["text_status"]),
        )
        for raw in data["items"]
    )
    bands = data.get("bands")
    cutoff = data.get("cutoff")
    rc = data.get("reliable_change")
    mic = data.get("minimal_important_change")
    loinc = data.get("loinc")
    missing = data["missing_answers"]
    licence = data["licence"]
    return Instrument(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        short_title=data["short_title"],
        author=data.get("author"),
        instructions=data.get("instructions"),
        text_status=data["text_status"],
        direction=data["direction"],
        option_range=(data["option_range"]["min"], data["option_range"]["max"]),
        items=items,
        subscales=tuple(
            Subscale(
                id=s["id"],
                title=s["title"],
                items=tuple(s["items"]),
                rule=s.get("rule"),
                positive_at=s.get("positive_at"),
                source=s.get("source", ""),
            )
            for s in data.get("subscales", [])
        ),
        rule=data["scoring"]["rule"],
        factor=data["scoring"].get("factor", 1),
        report_total=data["scoring"]["report_total"],
        score_range=(data["score_range"]["min"], data["score_range"]["max"]),
        bands=tuple(
            Band(min=b["min"], max=b["max"], label=b["label"], severity=b.get("severity"))
            for b in (bands["ranges"] if bands else [])
        ),
        bands_source=bands["source"] if bands else None,
        cutoff=Cutoff(**cutoff) if cutoff else None,
        reliable_change=ReliableChangeParams(**rc) if rc else None,
        internal_consistency=(
            InternalConsistency(**data["internal_consistency"])
            if data.get("internal_consistency")
            else None
        ),
        minimal_important_change=MinimalImportantChange(**mic) if mic else None,
        risk_rules=tuple(RiskRule(**r) for r in data.get("risk_rules", [])),
        diagnostic_rules=tuple(
            DiagnosticRule(
                id=d["id"],
                label=d["label"],
                item_threshold=d["item_threshold"],
                requirements=tuple(Requirement(**q) for q in d["requirements"]),
                source=d["source"],
            )
            for d in data.get("diagnostic_rules", [])
        ),
        missing=MissingRule(
            rule=missing["rule"],
            max_missing=missing.get("max_missing", 0),
            source=missing["source"],
        ),
        licence=Licence(
            name=licence["name"],
            allows_item_text=licence["allows_item_text"],
            notice=licence["notice"],
            citation=licence["citation"],
            source=licence.get("source", ""),
        ),
        loinc=Loinc(
            panel=loinc.get("panel"), total=loinc.get("total"), items=loinc.get("items", {})
        )
        if loinc
        else None,
        sources=dict(data.get("sources", {})),
        notes=tuple(data.get("notes", [])),
        origin=origin,
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DefinitionError(
            [f"{path.name}: is not valid JSON (line {error.lineno}, column {error.colno})"]
        ) from error
    except UnicodeDecodeError as error:
        raise DefinitionError([f"{path.name}: is not UTF-8 text"]) from error


def load_file(path: Path) -> Instrument:
    """Load and validate one definition file; DefinitionError names the file and the problem."""
    data = _read_json(path)
    validate_definition(data, path.name)
    if data["id"] + ".json" != path.name:
        raise DefinitionError([f"{path.name}: id {data['id']!r} must match the file name"])
    return build(data, origin=str(path))


def load_directory(directory: Path) -> dict[str, Instrument]:
    """Every ``*.json`` definition in ``directory`` (schema.json excepted), by id.

    All files are checked before any is accepted, and every problem is reported at once, so a
    practice fixing its files sees the whole list.
    """
    if not directory.is_dir():
        raise DefinitionError([f"{directory}: is not a directory"])
    found: dict[str, Instrument] = {}
    errors: list[str] = []
    for path in sorted(directory.glob("*.json")):
        if path.name == SCHEMA_FILENAME:
            continue
        try:
            instrument = load_file(path)
        except DefinitionError as error:
            errors.extend(error.errors)
            continue
        found[instrument.id] = instrument
    if errors:
        raise DefinitionError(errors)
    return found


@cache
def shipped() -> Mapping[str, Instrument]:
    """The definitions that ship with Kithkin, loaded and validated once per process."""
    return load_directory(DEFINITIONS_DIR)


class Library:
    """Shipped instruments plus a practice's own files and item texts."""

    def __init__(self, instruments: Mapping[str, Instrument] | None = None) -> None:
        self._instruments: dict[str, Instrument] = dict(
            shipped() if instruments is None else instruments
        )

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._instruments

    def __iter__(self) -> Iterator[Instrument]:
        return iter(sorted(self._instruments.values(), key=lambda i: i.id))

    def __len__(self) -> int:
        return len(self._instruments)

    def get(self, instrument_id: str) -> Instrument:
        try:
            return self._instruments[instrument_id]
        except KeyError:
            raise KeyError(f"no instrument {instrument_id!r} in the library") from None

    def add_directory(self, directory: Path) -> list[Instrument]:
        """Add a practice's own definitions; an id already in the library is refused."""
        added = load_directory(directory)
        clashes = [
            f"{Path(i.origin).name}: id {i.id!r} is already in the library"
            for i in added.values()
            if i.id in self._instruments
        ]
        if clashes:
            raise DefinitionError(clashes)
        self._instruments.update(added)
        return list(added.values())

    def load_item_text(self, instrument_id: str, path: Path) -> Instrument:
        """Add the item text a practice holds permission for, from its own file."""
        instrument = self.get(instrument_id)
        data = _read_json(path)
        errors = item_text_errors(data, instrument.id, [item.id for item in instrument.items])
        if errors:
            raise DefinitionError([f"{path.name}: {error}" for error in errors])
        loaded = instrument.with_item_text(data["items"], data.get("instructions"))
        self._instruments[instrument_id] = loaded
        return loaded


def library() -> Library:
    """A fresh library holding the shipped definitions (cheap: the files are cached)."""
    return Library()
