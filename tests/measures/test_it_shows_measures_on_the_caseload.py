"""The clinician's caseload shows each client's latest scores, their change and open alerts, and
the home page says what needs attention; the query count does not grow with the caseload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client, Role
from kithkin.measures.models import OVERDUE_AFTER, RiskAlert
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def _alert(client: Client, **fields: object) -> RiskAlert:
    answers = {**factories.all_answers("phq9", 0), "9": 1}
    response = factories.submitted_response(client, "phq9", answers)
    return RiskAlert.objects.create(
        client=client,
        response=response,
        instrument_id="phq9",
        rule_id="phq9_item9",
        item_id="9",
        value=1,
        severity="urgent",
        **fields,
    )


def _history(client: Client) -> None:
    """GAD-7 from severe to minimal (reliably improved) and PHQ-9 from 18 to 12."""
    now = timezone.now()
    factories.submitted_response(
        client, "gad7", factories.all_answers("gad7", 3), when=now - timedelta(days=28)
    )
    factories.submitted_response(
        client, "gad7", factories.all_answers("gad7", 0), when=now - timedelta(days=1)
    )
    factories.submitted_response(
        client,
        "phq9",
        {**factories.all_answers("phq9", 2), "9": 2},
        when=now - timedelta(days=20),
    )
    factories.submitted_response(
        client,
        "phq9",
        {**factories.all_answers("phq9", 1), "1": 2, "2": 2, "3": 2, "9": 0},
        when=now - timedelta(days=2),
    )


def test_it_shows_the_latest_scores_with_change_and_band(world: World) -> None:
    _history(world.client_a)
    body = signed_in(world.clinician).get(HOME).content.decode()
    assert "Latest scores" in body
    # Newest first: GAD-7 then PHQ-9. Compact for the eye, a full sentence for screen readers.
    assert (
        '<span class="score-list__name">GAD-7</span> 0 · Minimal · '
        '<span class="score-list__change">↓ improved</span>'
    ) in body
    assert "GAD-7: latest score 0 (Minimal). Reliably improved since the first score of 21." in body
    # PHQ-9 records no reliable-change parameters: the change is shown without a judgement.
    assert "PHQ-9</span> 11 · Moderate · " in body
    assert "↓ 7" in body
    assert (
        "PHQ-9: latest score 11 (Moderate). First score 18; reliable change cannot be judged."
        in body
    )
    assert body.index("GAD-7") < body.index("PHQ-9")


def test_it_says_when_a_client_has_no_scores_and_no_alerts(world: World) -> None:
    body = signed_in(world.clinician).get(HOME).content.decode()
    assert "No scores yet" in body
    assert "Nothing needs your attention right now" in body


def test_it_shows_open_alerts_and_what_needs_attention(world: World) -> None:
    _alert(world.client_a)
    _alert(world.client_a)
    done = _alert(world.client_a)
    RiskAlert.objects.filter(pk=done.pk).update(
        acknowledged_at=timezone.now(), acknowledgement_note="ok"
    )
    now = timezone.now()
    factories.assignment(world.client_a, "gad7", next_due_at=now - timedelta(hours=1))
    factories.assignment(world.client_a, "pcl5", next_due_at=now - OVERDUE_AFTER)
    body = signed_in(world.clinician).get(HOME).content.decode()
    assert f'<a class="badge badge--warn" href="{reverse("measures_alerts")}">2 open alerts' in body
    assert "Needs your attention" in body
    assert '2</span><a href="/measures/alerts/">open risk alerts on your care teams' in body
    assert '1</span><a href="/measures/due/">overdue check-in<' in body
    assert '1</span><a href="/measures/due/">check-in due now<' in body


def test_it_shows_an_admin_the_escalated_alerts_of_the_practice(world: World) -> None:
    _alert(world.client_a)
    _alert(world.client_b, escalated_at=timezone.now())
    body = signed_in(world.admin).get(HOME).content.decode()
    assert "1 escalated alert in your practice" not in body  # the count sits in its own span
    assert '1</span><a href="/measures/alerts/">escalated alert in your practice' in body
    assert "open risk alerts" not in body
    # The admin is on no care team: no caseload, no client names.
    assert "Alex Rivers" not in body and "Bea Stone" not in body


def test_it_keeps_client_as_scores_and_alerts_from_strangers(world: World) -> None:
    _history(world.client_a)
    _alert(world.client_a, escalated_at=timezone.now())
    for user in (
        world.colleague,
        world.stranger,
        factories.staff(world.other_practice, Role.ADMIN),
    ):
        body = signed_in(user).get(HOME).content.decode()
        assert "GAD-7" not in body
        assert "open alert" not in body
        assert "escalated alert" not in body


def test_it_shows_the_client_no_staff_attention_panel(world: World) -> None:
    _alert(world.client_a)
    body = signed_in(world.client_a_user).get(HOME).content.decode()
    assert "Needs your attention" not in body
    assert "open alert" not in body


def _queries(world: World, size: int) -> int:
    clinician = factories.staff(world.practice, Role.CLINICIAN, display_name=f"Size {size}")
    for index in range(size):
        client = factories.client_of(world.practice, clinician, display_name=f"Q{size} {index}")
        _history(client)
        _alert(client)
        factories.assignment(client, "pcl5", next_due_at=timezone.now() - timedelta(hours=1))
    http = signed_in(clinician)
    http.get(HOME)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = http.get(HOME)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<tr>") == size + 1
    assert body.count("score-list__name") == 2 * size  # GAD-7 and PHQ-9 for each client
    assert body.count("1 open alert<") == size
    return len(queries)


def test_it_shows_measures_on_the_caseload_in_a_constant_number_of_queries(world: World) -> None:
    assert _queries(world, 2) == _queries(world, 12)
