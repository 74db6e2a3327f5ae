"""Test handlers for the job system: ``tests.record`` counts runs per payload ``n`` (thread-safe),
``tests.fail`` always raises. Each is registered only for the test that asks for it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from kithkin.jobs import registry

RECORD = "tests.record"
FAIL = "tests.fail"
# Stands in for client data a careless handler might put in an exception message.
SECRET = "Alex Rivers said something private"


class Runs:
    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self._lock = threading.Lock()
        self.after_each: Any = None

    def record(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.counts[int(payload["n"])] += 1
        if self.after_each is not None:
            self.after_each()


@pytest.fixture
def runs() -> Iterator[Runs]:
    runs = Runs()
    with registry.registered(RECORD, runs.record):
        yield runs


def fail(payload: dict[str, Any]) -> None:
    raise RuntimeError(f"mail server refused the message about {SECRET}")


@pytest.fixture
def failing() -> Iterator[None]:
    with registry.registered(FAIL, fail):
        yield
