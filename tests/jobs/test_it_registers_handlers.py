"""Handlers are registered by kind, once; each app's ``jobs`` module is found at start-up."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

from kithkin.jobs import registry
from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job
from kithkin.jobs.registry import UnknownJobKind, handler
from tests.jobs.conftest import RECORD, SECRET, Runs


def first(payload: dict[str, Any]) -> None:
    pass


def second(payload: dict[str, Any]) -> None:
    pass


def test_it_registers_a_handler_with_the_decorator() -> None:
    try:
        decorated = handler("tests.decorated")(first)
        assert decorated is first
        assert registry.get_handler("tests.decorated") is first
        assert "tests.decorated" in registry.kinds()
        handler("tests.decorated")(first)  # the same function again: a module imported twice
    finally:
        registry.unregister("tests.decorated")
    assert not registry.is_registered("tests.decorated")


def test_it_refuses_a_second_handler_for_one_kind() -> None:
    with registry.registered("tests.taken", first):
        with pytest.raises(ImproperlyConfigured, match="already handled by"):
            handler("tests.taken")(second)
        assert registry.get_handler("tests.taken") is first


def test_it_forgets_a_handler_registered_for_a_block() -> None:
    with registry.registered("tests.block", first):
        assert registry.get_handler("tests.block") is first
    with pytest.raises(
        UnknownJobKind, match=re.escape("no handler is registered for job kind 'tests.block'")
    ):
        registry.get_handler("tests.block")


@pytest.mark.parametrize("kind", ["", "alert", "Measures.alert", "measures.alert email", "a." * 60])
def test_it_refuses_a_kind_that_is_not_app_dot_what(kind: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape("must look like 'app.what'")):
        handler(kind)
    assert not registry.is_registered(kind)


def test_it_imports_the_jobs_module_of_every_installed_app() -> None:
    found = [
        config.name
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, "jobs") and config.name != "kithkin.jobs"
    ]
    assert found, "no app has a jobs module yet"
    for name in found:
        assert f"{name}.jobs" in sys.modules


@pytest.mark.django_db
def test_one_failing_keeper_does_not_stop_the_others(runs: Runs) -> None:
    kept: list[datetime] = []

    def broken(now: datetime) -> None:
        raise RuntimeError(f"could not read the schedule for {SECRET}")

    def working(now: datetime) -> None:
        kept.append(now)
        jobs.enqueue(RECORD, {"n": 1}, key="tests.record:kept")

    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    saved = registry.keepers()
    try:
        registry.recurring("tests.broken")(broken)
        registry.recurring("tests.working")(working)
        assert jobs.keep_recurring_scheduled(now) == ["tests.broken"]
    finally:
        registry._keepers.clear()
        registry._keepers.update(saved)
    assert kept == [now]
    assert Job.objects.filter(key="tests.record:kept").count() == 1
