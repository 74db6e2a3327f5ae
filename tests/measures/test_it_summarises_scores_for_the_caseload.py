"""The caseload's latest scores, change from baseline and open alerts, in constant queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from kithkin.measures import services
from kithkin.measures.models import RiskAlert
from kithkin.measures.scoring import ReliableChange
from tests import factories
from tests.conftest import World


def test_it_reports_the_latest_score_and_reliable_change_from_baseline(world: World) -> None:
    start = timezone.now() - timedelta(weeks=12)
    for week, value in enumerate([3, 2, 1]):
        factories.submitted_response(
            world.client_a,
            "gad7",
            factories.all_answers("gad7", value),
            when=start + timedelta(weeks=week),
        )
    found = services.caseload_measures([world.client_a.pk, world.client_b.pk])
    (latest,) = found[world.client_a.pk].latest
    assert latest.instrument.id == "gad7"
    assert latest.total == 7
    assert latest.change is not None
    assert latest.change.before == 21
    assert latest.change.classification is ReliableChange.IMPROVED
    assert found[world.client_b.pk].latest == []


def test_it_counts_open_alerts(world: World) -> None:
    response = factories.submitted_response(
        world.client_a, "phq9", factories.all_answers("phq9", 1)
    )
    RiskAlert.objects.create(
        client=world.client_a,
        response=response,
        instrument_id="phq9",
        rule_id="phq9_item9",
        item_id="9",
        value=1,
        severity="urgent",
    )
    found = services.caseload_measures([world.client_a.pk, world.client_b.pk])
    assert found[world.client_a.pk].open_alerts == 1
    assert found[world.client_b.pk].open_alerts == 0


def test_it_uses_the_same_queries_for_a_small_and_a_large_caseload(
    world: World, django_assert_num_queries: Callable[..., Any]
) -> None:
    clients = [factories.client_of(world.practice, world.clinician) for _ in range(12)]
    now = timezone.now()

    def add_history(chosen: list[Any], weeks: int) -> None:
        for client in chosen:
            for week in range(weeks):
                for instrument_id in ("phq9", "gad7"):
                    factories.submitted_response(
                        client,
                        instrument_id,
                        factories.all_answers(instrument_id, 1),
                        when=now - timedelta(weeks=week),
                    )

    add_history(clients[:2], 1)
    with django_assert_num_queries(2):
        small = services.caseload_measures([c.pk for c in clients[:2]])
    add_history(clients, 4)
    with django_assert_num_queries(2):
        large = services.caseload_measures([c.pk for c in clients])
    assert all(len(m.latest) == 2 for m in small.values())
    assert all(len(m.latest) == 2 for m in large.values())
