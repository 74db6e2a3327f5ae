"""KITHKIN_INSTRUMENTS_DIR: a practice's own definitions and licensed item texts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from kithkin.measures import services
from kithkin.measures.apps import check_instrument_library
from kithkin.measures.library import DEFINITIONS_DIR


@pytest.fixture(autouse=True)
def fresh_library() -> Iterator[None]:
    services.reset_library_cache()
    yield
    services.reset_library_cache()


def own_definition(directory: Path) -> None:
    data = json.loads((DEFINITIONS_DIR / "gad7.json").read_text())
    data["id"] = "practice_gad"
    data["title"] = "Our own worry check"
    data["short_title"] = "Worry check"
    data.pop("loinc", None)
    (directory / "practice_gad.json").write_text(json.dumps(data))


def test_it_adds_a_practice_instrument_from_a_file(tmp_path: Path) -> None:
    own_definition(tmp_path)
    with override_settings(MEASURES_INSTRUMENTS_DIR=str(tmp_path)):
        services.reset_library_cache()
        assert services.instrument("practice_gad").title == "Our own worry check"
        assert check_instrument_library() == []


def test_it_makes_an_unlicensed_instrument_assignable_with_the_practice_text(
    tmp_path: Path,
) -> None:
    ssps = services.instrument("ssps")
    assert ssps.unassignable_reason is not None
    texts = tmp_path / "item-text"
    texts.mkdir()
    (texts / "ssps.json").write_text(
        json.dumps(
            {
                "instrument": "ssps",
                "items": {item.id: f"Licensed wording {item.id}" for item in ssps.items},
            }
        )
    )
    with override_settings(MEASURES_INSTRUMENTS_DIR=str(tmp_path)):
        services.reset_library_cache()
        loaded = services.instrument("ssps")
        assert loaded.unassignable_reason is None
        assert loaded.items[0].text == f"Licensed wording {ssps.items[0].id}"


def test_it_reports_a_broken_practice_file_as_a_system_check_error(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    with override_settings(MEASURES_INSTRUMENTS_DIR=str(tmp_path)):
        errors = check_instrument_library()
    assert [e.id for e in errors] == ["measures.E001"]
    assert "broken.json" in errors[0].msg and "not valid JSON" in errors[0].msg
