"""A risk answer in a check-in raises one alert the moment it is saved (not at submission), emails
the care team, and shows the client the practice's crisis resources with a way back into her
check-in. If the alert cannot be written, the answer is not saved and the client is told so
plainly, with the resources on the same page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from kithkin.measures import services
from kithkin.measures.models import PracticeMeasuresSettings, Response, RiskAlert
from tests import factories
from tests.conftest import World, signed_in
from tests.measures.checkin_pages import answer, response_url, start, step_url, support_url


def _answer_item_9(http: Any, response: Response, value: str = "1") -> Any:
    for step in range(1, 9):
        answer(http, response, step, "0")
    return answer(http, response, 9, value)


def test_it_alerts_at_once_and_shows_the_support_page(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "phq9"))
    for step in range(1, 9):
        answer(http, response, step, "0")
    with django_capture_on_commit_callbacks(execute=True):
        saved = answer(http, response, 9, "1")

    assert saved.status_code == 302
    assert saved["Location"] == f"{support_url(world.client_a)}?response={response.pk}&then=10"
    # One alert, before anything was submitted, and the care team emailed at once.
    alert = RiskAlert.objects.get()
    assert alert.response_id == response.pk and alert.item_id == "9"
    response.refresh_from_db()
    assert not response.is_submitted and response.answers["9"] == 1
    assert [m.to for m in mail.outbox] == [[world.clinician.email]]
    assert "Alex" not in mail.outbox[0].body

    page = http.get(saved["Location"]).content.decode()
    assert "Thank you for telling us" in page
    assert "Your care team has been told and will be in touch." in page
    assert "Samaritans" in page  # the default resources
    assert 'href="https://findahelpline.com"' in page
    review = response_url(response, "measures_response_review")
    assert f'href="{review}"' in page and "Carry on with the check-in" in page
    # Nothing the client reads names the rule or its severity.
    assert "urgent" not in page.lower() and "phq9_item9" not in page

    # Saving the same answer again raises no second alert; submitting raises none either.
    answer(http, response, 9, "2")
    http.post(review, {"note": ""})
    assert RiskAlert.objects.count() == 1
    done = http.get(response_url(response, "measures_response_done")).content.decode()
    assert "Your care team has been told" in done and "Samaritans" in done


def test_it_shows_the_practices_own_crisis_resources(world: World) -> None:
    PracticeMeasuresSettings.objects.create(
        practice=world.practice,
        crisis_resources="Harbour duty line: 0800 000 111\nOnline: https://harbour.example/help",
    )
    http = signed_in(world.client_a_user)
    page = http.get(support_url(world.client_a)).content.decode()
    assert "Support, right now" in page
    assert "Harbour duty line: 0800 000 111<br>" in page
    assert 'href="https://harbour.example/help"' in page
    assert "Samaritans" not in page
    # The other practice's client still sees the default.
    other = signed_in(world.stranger).get(support_url(world.other_client)).content.decode()
    assert "Samaritans" in other and "Harbour duty line" not in other


def test_it_only_says_the_team_was_told_when_the_response_raised_an_alert(world: World) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "phq9"))
    answer(http, response, 1, "3")
    page = http.get(f"{support_url(world.client_a)}?response={response.pk}&then=2")
    assert "Your care team has been told" not in page.content.decode()
    # Another client's response, or nonsense, in the query string is ignored, never an error.
    other, _ = start(signed_in(world.client_b_user), factories.assignment(world.client_b, "phq9"))
    _answer_item_9(signed_in(world.client_b_user), other)
    for query in (f"?response={other.pk}&then=10", "?response=nope&then=x"):
        shown = http.get(support_url(world.client_a) + query)
        assert shown.status_code == 200
        assert "Your care team has been told" not in shown.content.decode()


def test_it_tells_the_clinician_in_session_which_alert_was_raised(world: World) -> None:
    http = signed_in(world.clinician)
    response, _ = start(http, factories.assignment(world.client_a, "phq9"))
    saved = _answer_item_9(http, response)
    page = http.get(saved["Location"]).content.decode()
    alert = RiskAlert.objects.get()
    assert "A risk alert was raised" in page
    assert f"/alerts/{alert.pk}/" in page


@pytest.mark.parametrize("broken", ["create", "raise_alerts"])
def test_it_saves_nothing_and_says_so_when_the_alert_cannot_be_written(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    broken: str,
) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "phq9"))
    answer(http, response, 1, "2")

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database unavailable for Alex Rivers")

    if broken == "create":
        monkeypatch.setattr(RiskAlert.objects, "create", fail)
    else:
        monkeypatch.setattr(services, "raise_alerts", fail)
    with caplog.at_level(logging.ERROR, logger="kithkin"):
        page = answer(http, response, 9, "3")

    assert page.status_code == 503
    text = page.content.decode()
    assert "Your answer was not saved" in text and "Please try again" in text
    assert "Samaritans" in text
    assert f'href="{step_url(response, 9)}"' in text
    response.refresh_from_db()
    assert response.answers == {"1": 2}
    assert not RiskAlert.objects.exists()
    # The log names the response and the error's type, not the error's text or the client.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert str(response.pk) in logged and "RuntimeError" in logged
    assert "Alex" not in logged and "Rivers" not in logged
    assert all(r.exc_info is None for r in caplog.records)


def test_it_fails_loudly_when_submission_cannot_write_its_alert(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "phq9"))
    for step in range(1, 10):
        answer(http, response, step, "0")

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no")

    monkeypatch.setattr(services, "raise_alerts", fail)
    page = http.post(response_url(response, "measures_response_review"), {"note": ""})
    assert page.status_code == 503
    assert "Samaritans" in page.content.decode()
    response.refresh_from_db()
    assert not response.is_submitted
