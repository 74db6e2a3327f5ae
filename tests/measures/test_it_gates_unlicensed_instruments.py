"""Licence: instruments shipped without their questions cannot be assigned until text is added."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kithkin.measures.library import Library, shipped
from kithkin.measures.schema import DefinitionError

WITHOUT_TEXT = ["ceas", "fcs", "ies_r", "ptgi_sf", "ssps"]
WITH_TEXT = [
    "five_s",
    "gad7",
    "k10",
    "pcl5",
    "phq4",
    "phq9",
    "protective_factors",
    "scs_sf",
    "ucla3",
]


@pytest.mark.parametrize("instrument_id", WITHOUT_TEXT)
def test_it_will_not_assign_an_instrument_without_its_text(instrument_id: str) -> None:
    instrument = shipped()[instrument_id]
    assert instrument.licence.allows_item_text is False
    assert all(item.text is None for item in instrument.items)
    assert instrument.assignable is False
    assert instrument.unassignable_reason is not None
    assert "cannot be assigned" in instrument.unassignable_reason
    assert instrument.short_title in instrument.unassignable_reason


@pytest.mark.parametrize("instrument_id", WITH_TEXT)
def test_it_assigns_instruments_that_ship_with_text(instrument_id: str) -> None:
    instrument = shipped()[instrument_id]
    assert instrument.assignable is True
    assert all(item.text for item in instrument.items)


def _text_file(
    tmp_path: Path, instrument_id: str, drop: str | None = None, extra: bool = False
) -> Path:
    instrument = shipped()[instrument_id]
    texts = {item.id: f"Question {item.id}" for item in instrument.items if item.id != drop}
    if extra:
        texts["99"] = "Not an item"
    path = tmp_path / f"{instrument_id}-text.json"
    path.write_text(json.dumps({"instrument": instrument_id, "items": texts}), encoding="utf-8")
    return path


def test_it_makes_an_instrument_assignable_once_its_text_is_loaded(tmp_path: Path) -> None:
    lib = Library()
    loaded = lib.load_item_text("ies_r", _text_file(tmp_path, "ies_r"))
    assert loaded.assignable is True
    assert loaded.item("5").text == "Question 5"
    assert lib.get("ies_r").assignable is True
    # The shipped definition itself is untouched: another practice still lacks the text.
    assert shipped()["ies_r"].assignable is False
    assert Library().get("ies_r").assignable is False


def test_it_refuses_a_text_file_with_a_missing_item(tmp_path: Path) -> None:
    lib = Library()
    with pytest.raises(DefinitionError) as caught:
        lib.load_item_text("ssps", _text_file(tmp_path, "ssps", drop="7"))
    assert "ssps-text.json: items.7 is missing: every item needs its text" in caught.value.errors
    assert lib.get("ssps").assignable is False


def test_it_refuses_a_text_file_with_an_extra_item(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"items\.99 is not an item of ptgi_sf"):
        Library().load_item_text("ptgi_sf", _text_file(tmp_path, "ptgi_sf", extra=True))


def test_it_refuses_a_text_file_for_another_instrument(tmp_path: Path) -> None:
    path = _text_file(tmp_path, "fcs")
    with pytest.raises(DefinitionError, match="instrument must be 'ceas'"):
        Library().load_item_text("ceas", path)


def test_it_adds_a_practice_directory_and_refuses_clashing_ids(tmp_path: Path) -> None:
    shipped_phq9 = json.loads(Path(shipped()["phq9"].origin).read_text(encoding="utf-8"))
    own = shipped_phq9 | {"id": "practice_mood", "short_title": "Mood"}
    (tmp_path / "practice_mood.json").write_text(json.dumps(own), encoding="utf-8")
    lib = Library()
    added = lib.add_directory(tmp_path)
    assert [i.id for i in added] == ["practice_mood"]
    assert "practice_mood" in lib
    assert len(lib) == len(shipped()) + 1
    (tmp_path / "practice_mood.json").rename(tmp_path / "phq9.json")
    (tmp_path / "phq9.json").write_text(json.dumps(shipped_phq9), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"phq9\.json: id 'phq9' is already in the library"):
        Library().add_directory(tmp_path)
