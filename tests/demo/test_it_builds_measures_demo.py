"""The demo's measures: twelve weeks of check-ins on improving, flat and deteriorating
trajectories; Maya's improving picture with a PHQ-9 due now; one acknowledged and one open risk
alert, and no other answer that fires a risk rule; the same seed gives the same data; the stored
scores are exactly what scoring gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from django.conf import settings
from django.urls import reverse

from kithkin.accounts import homes
from kithkin.accounts.models import Client, User
from kithkin.demo import generator
from kithkin.demo import measures as demo_measures
from kithkin.jobs.models import Job
from kithkin.measures import scoring, services
from kithkin.measures.models import (
    Assignment,
    DueState,
    Response,
    ResponsePerson,
    ResponseStatus,
    RiskAlert,
)
from tests.conftest import World, signed_in

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STORED = (
    "total",
    "band",
    "band_severity",
    "clinical",
    "no_score_reason",
    "score_detail",
    "scored_version",
)


def build(clients: int = 40, seed: int = generator.DEFAULT_SEED) -> dict[UUID, str]:
    """Build the demo and return each client's trajectory, as the measures step chose it."""
    found: dict[UUID, str] = {}

    def measures_step(demo: generator.DemoBuild) -> None:
        found.update(demo_measures.write_measures(demo))

    steps = [
        measures_step if step is demo_measures.add_measures else step for step in generator.STEPS
    ]
    generator.build_demo(clients=clients, seed=seed, now=NOW, steps=steps)
    return found


def demo_client(name: str) -> Client:
    return Client.objects.get(practice__name=generator.PRACTICE_NAME, display_name=name)


def twelve_week_change(client_id: UUID, instrument_id: str) -> tuple[float, int]:
    """The least-squares trend of a client's scores, as change over twelve weeks, and how many
    scores it rests on (a trend, not first against last, so one noisy answer cannot flip it)."""
    points = [
        ((when - NOW).total_seconds() / 86400, total)
        for when, total in Response.objects.submitted()
        .filter(client_id=client_id, instrument_id=instrument_id, total__isnull=False)
        .values_list("submitted_at", "total")
        if when is not None and total is not None
    ]
    if len(points) < 2:
        return 0.0, len(points)
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope * demo_measures.HISTORY_DAYS, len(points)


def direction(change: float, *, moved: float, still: float) -> int | None:
    """1 up, -1 down, 0 flat; None for a change too small to be a trend and too large to be
    flat (the demo never makes one)."""
    if abs(change) <= still:
        return 0
    if abs(change) >= moved:
        return 1 if change > 0 else -1
    return None


def totals(client: Client | UUID, instrument_id: str) -> list[float]:
    """The client's scores on an instrument, oldest first."""
    client_id = client.pk if isinstance(client, Client) else client
    rows = (
        Response.objects.submitted()
        .filter(client_id=client_id, instrument_id=instrument_id, total__isnull=False)
        .order_by("submitted_at")
        .values_list("total", flat=True)
    )
    return [total for total in rows if total is not None]


def demo_responses() -> Any:
    return Response.objects.filter(client__practice__name=generator.PRACTICE_NAME)


@pytest.mark.django_db
def test_it_follows_each_clients_trajectory() -> None:
    trajectories = build()
    assert set(trajectories.values()) == set(demo_measures.TRAJECTORIES)
    checked = dict.fromkeys(demo_measures.TRAJECTORIES, 0)
    for client_id, trajectory in trajectories.items():
        # Distress (PHQ-9, 0-27, lower is better) and the Five S's (0-20, higher is better).
        expected = {"improving": -1, "flat": 0, "deteriorating": 1}[trajectory]
        phq9, count = twelve_week_change(client_id, "phq9")
        if count < 5:
            continue  # a new client, with only a few weeks on record
        assert direction(phq9, moved=4.5, still=3.5) == expected, (client_id, phq9)
        five_s, count = twelve_week_change(client_id, "five_s")
        if count >= 8:
            assert direction(five_s, moved=4, still=3) == -expected, (client_id, five_s)
        checked[trajectory] += 1
    assert all(count >= 3 for count in checked.values()), checked

    # Twelve weeks of check-ins: the Five S's about weekly, PHQ-9 about fortnightly.
    maya = demo_client("Maya Ellis")
    submitted = Response.objects.submitted().filter(client=maya)
    first = min(r.submitted_at for r in submitted if r.submitted_at)
    assert NOW - timedelta(days=85) <= first <= NOW - timedelta(days=70)
    assert submitted.filter(instrument_id="five_s").count() >= 9
    assert submitted.filter(instrument_id="phq9").count() >= 5


@pytest.mark.django_db
def test_it_shows_maya_improving_with_a_check_in_due_now(world: World) -> None:
    trajectories = build()
    maya = demo_client("Maya Ellis")
    assert trajectories[maya.pk] == demo_measures.IMPROVING
    for instrument_id in ("phq9", "gad7", "pcl5"):
        scores = totals(maya, instrument_id)
        assert len(scores) >= 3 and scores[-1] < scores[0], (instrument_id, scores)
    # GAD-7 and PCL-5 record a reliable change index: the improvement is reliable.
    for instrument_id in ("gad7", "pcl5"):
        scores = totals(maya, instrument_id)
        change = scoring.classify_change(services.instrument(instrument_id), scores[0], scores[-1])
        assert change.classification is scoring.ReliableChange.IMPROVED, instrument_id
    phq9 = totals(maya, "phq9")
    assert phq9[0] - phq9[-1] >= 5  # at least the minimal important change

    # One check-in is due now, the PHQ-9, and it is not started.
    due = services.due_for_client(maya, NOW)
    assert [a.instrument_id for a in due] == ["phq9"]
    assert due[0].due_state(NOW) is DueState.DUE
    assert not Response.objects.filter(client=maya, status=ResponseStatus.IN_PROGRESS).exists()
    others = Assignment.objects.active().filter(client=maya).exclude(pk=due[0].pk)
    assert others.count() >= 4
    assert all(a.due_state(NOW) is DueState.UPCOMING for a in others)

    # Her measures are hers and her care team's: a stranger is refused.
    url = reverse("measures_overview", kwargs={"client_id": maya.pk})
    assert signed_in(world.stranger).get(url).status_code == 404


@pytest.mark.django_db
def test_it_raises_one_acknowledged_and_one_open_alert() -> None:
    build()
    clinician = User.objects.get(email=generator.CLINICIAN_EMAIL)
    alerts = RiskAlert.objects.filter(client__practice__name=generator.PRACTICE_NAME)
    acknowledged = alerts.get(acknowledged_at__isnull=False)
    still_open = alerts.get(acknowledged_at__isnull=True)
    assert alerts.count() == 2

    maya = demo_client("Maya Ellis")
    assert acknowledged.client_id == maya.pk
    assert acknowledged.acknowledged_by == clinician
    assert acknowledged.acknowledgement_note
    assert acknowledged.acknowledged_at is not None
    assert abs(acknowledged.created_at - (NOW - timedelta(days=56))) <= timedelta(days=8)
    assert acknowledged.created_at < acknowledged.acknowledged_at < NOW

    # The open alert is on page 1 of clinician@'s caseload, from the client's latest PHQ-9,
    # told to the care team, not escalated, and its escalation is queued for later.
    page = homes.caseload_page(clinician, 1)
    assert still_open.client_id in {row.client_id for row in page.object_list}
    assert still_open.client_id != maya.pk
    latest = (
        Response.objects.submitted()
        .filter(client_id=still_open.client_id, instrument_id="phq9")
        .latest("submitted_at")
    )
    assert still_open.response_id == latest.pk
    assert still_open.notified_at is not None and still_open.escalated_at is None
    assert NOW - timedelta(hours=1) < still_open.created_at < NOW
    job = Job.objects.get(kind=services.ESCALATE_JOB, payload={"alert": str(still_open.pk)})
    assert job.run_after > NOW
    assert job.run_after == still_open.created_at + timedelta(
        minutes=settings.MEASURES_ALERT_ESCALATION_MINUTES
    )

    # Each alert is what its response's answers fire.
    for alert in (acknowledged, still_open):
        chosen = services.instrument(alert.instrument_id)
        fired = scoring.evaluate_risks(chosen, services.answers_of(alert.response))
        assert [(f.rule_id, f.item_id, f.value) for f in fired] == [
            (alert.rule_id, alert.item_id, alert.value)
        ]


@pytest.mark.django_db
def test_it_fires_no_risk_rule_outside_the_two_alerts() -> None:
    build(clients=60)
    alerted = set(
        RiskAlert.objects.filter(client__practice__name=generator.PRACTICE_NAME).values_list(
            "response_id", flat=True
        )
    )
    assert len(alerted) == 2
    responses = list(demo_responses())
    phq9 = [r for r in responses if r.instrument_id == "phq9"]
    assert len(phq9) > 100
    assert all(r.answers["9"] == 0 for r in phq9 if r.pk not in alerted)
    assert all(r.answers["9"] == 1 for r in phq9 if r.pk in alerted)
    for response in responses:
        chosen = services.instrument(response.instrument_id)
        fired = scoring.evaluate_risks(chosen, services.answers_of(response))
        assert bool(fired) == (response.pk in alerted), response.pk


@pytest.mark.django_db
def test_it_names_only_safe_people_from_the_clients_own_map() -> None:
    build()
    links = ResponsePerson.objects.filter(
        response__client__practice__name=generator.PRACTICE_NAME
    ).select_related("response", "person")
    assert links.count() > 50
    for link in links:
        assert link.response.instrument_id == "five_s"
        assert link.person.client_id == link.response.client_id
        assert not link.person.not_safe and link.person.removed_at is None
        assert link.response.answers[link.item_id] >= 2
        assert link.response.submitted_at and link.person.created_at <= link.response.submitted_at
    rosa = demo_client("Rosa Castillo")
    assert not links.filter(person__client=rosa, person__not_safe=True).exists()


def snapshot() -> list[tuple[Any, ...]]:
    practice = generator.PRACTICE_NAME
    rows: list[tuple[Any, ...]] = list(
        Assignment.objects.filter(client__practice__name=practice)
        .order_by("pk")
        .values_list("pk", "client_id", "instrument_id", "cadence", "interval_days", "next_due_at")
    )
    rows += list(
        demo_responses()
        .order_by("pk")
        .values_list("pk", "assignment_id", "answers", "submitted_at", "mode", "total", "band")
    )
    rows += list(
        ResponsePerson.objects.filter(response__client__practice__name=practice)
        .order_by("response_id", "item_id", "person_id")
        .values_list("response_id", "item_id", "person_id")
    )
    rows += [
        (a.pk, a.response_id, a.created_at, a.acknowledged_at, a.acknowledgement_note)
        for a in RiskAlert.objects.filter(client__practice__name=practice).order_by("pk")
    ]
    return rows


@pytest.mark.django_db
def test_it_builds_the_same_measures_from_the_same_seed() -> None:
    build(clients=30, seed=5)
    first = snapshot()
    assert len(first) > 500
    assert generator.remove_demo()
    assert not RiskAlert.objects.exists() and not Response.objects.exists()
    build(clients=30, seed=5)
    assert snapshot() == first
    # A rebuild queues one escalation for the open alert, not a stale one from before.
    assert Job.objects.filter(kind=services.ESCALATE_JOB).count() == 1
    generator.remove_demo()
    build(clients=30, seed=6)
    assert snapshot() != first


@pytest.mark.django_db
def test_it_stores_exactly_the_scores_that_scoring_gives() -> None:
    build()
    before = {r.pk: tuple(getattr(r, name) for name in STORED) for r in demo_responses()}
    for response in demo_responses():
        chosen = services.instrument(response.instrument_id)
        fresh = services.score_fields(scoring.score(chosen, services.answers_of(response)))
        assert tuple(fresh[name] for name in STORED) == before[response.pk]
    assert services.rescore() == len(before)
    after = {r.pk: tuple(getattr(r, name) for name in STORED) for r in demo_responses()}
    assert after == before
