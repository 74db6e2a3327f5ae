"""The "sweep" benchmark scenario builds its clients and contacts with raw inserts that the
application reads back as its own, sweeps them twice and reports what docs/benchmarks.md shows
(never timed)."""

from __future__ import annotations

import pytest

from kithkin import bench
from kithkin.bench import sweep_scenario
from kithkin.connection.models import Nudge, NudgeSettings, WithdrawalSignal
from kithkin.network.models import Contact, Person
from tests.conftest import World


@pytest.mark.django_db
def test_it_builds_the_data_sweeps_it_and_reports(world: World) -> None:
    result = sweep_scenario.run(clients=200, contacts=4_000)
    assert result["data"]["clients"] == "200" and result["data"]["contacts"] == "4,000"
    built = Contact.objects.exclude(client__practice=world.practice).exclude(
        client__practice=world.other_practice
    )
    assert built.count() == 4_000
    # Rows written raw read back through the models: encrypted names decrypt, times are aware.
    person = Person.objects.exclude(client__practice=world.practice).first()
    assert person is not None and person.name == "Friend"
    contact = built.order_by("-occurred_at").first()
    assert contact is not None and contact.occurred_at.tzinfo is not None
    assert NudgeSettings.objects.filter(enabled=True).count() == int(
        result["data"]["clients with reminders on"]
    )
    first = result["measurements"]["first"]
    assert first["p50_ms"] > 0 and first["queries"] > 0
    assert result["nudges"] == Nudge.objects.count() > 0
    assert result["signals"] == WithdrawalSignal.objects.count() > 0
    assert result["peak_rss_mib"] > 0
    assert isinstance(result["within_target"], bool)
    # The world's own clients were swept too (the sweep covers every current client).
    assert not WithdrawalSignal.objects.filter(client=world.client_a).exists()

    text = bench.markdown(
        {
            "generated_at": "2026-01-01T00:00:00+00:00",
            "quick": False,
            "environment": {"python": "3", "django": "5", "database": "sqlite"},
            "scenarios": {"sweep": result},
        }
    )["sweep"]
    assert "### Keeping-in-touch sweep over 200 clients and 4,000 contacts" in text
    assert "| First sweep (raises signals, queues nudges and their jobs) |" in text
    assert "Memory: the process's peak resident size was" in text
