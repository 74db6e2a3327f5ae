from __future__ import annotations

import pytest

from kithkin.measures.library import Instrument, shipped


def answers_all(instrument: Instrument, value: float) -> dict[str, float | None]:
    return {item.id: value for item in instrument.items}


@pytest.fixture
def phq9() -> Instrument:
    return shipped()["phq9"]
