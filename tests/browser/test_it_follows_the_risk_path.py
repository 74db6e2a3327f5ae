"""In a real browser, end to end: the clinician assigns PHQ-9; the client, on a phone, answers it
one question at a time, answers item 9 above 0 and is shown the support page at once; her care
team is emailed; both see the scores and the chart; the clinician acknowledges the alert with a
note; and a colleague who is not on the care team is shown the not-found page. Every page passes
an axe check."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from kithkin.measures.models import Assignment, Response, RiskAlert
from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.test_it_signs_in_each_role import describe, serious_violations, sign_in
from tests.conftest import World
from tests.factories import all_answers, submitted_response

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 390, "height": 844}
DESK: ViewportSize = {"width": 1280, "height": 900}


def assert_accessible(page: Page, what: str) -> None:
    violations = serious_violations(page)
    assert not violations, f"axe found serious problems on {what}:\n" + describe(violations)


def fits_the_phone(page: Page) -> bool:
    page.wait_for_load_state("load")  # styles applied: an unstyled page is wider
    widths: dict[str, int] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    return widths["scroll"] <= widths["view"]


def switch_user(page: Page) -> None:
    page.context.clear_cookies()


def test_it_follows_the_risk_path_from_answer_to_acknowledgement(page: Page, world: World) -> None:
    client = world.client_a
    # Four weeks ago she completed a PHQ-9, so today's answers show a change.
    submitted_response(
        client, "phq9", all_answers("phq9", 2) | {"9": 0}, when=timezone.now() - timedelta(weeks=4)
    )

    # 1. The clinician assigns PHQ-9, once, due today.
    sign_in(page, world.clinician)
    page.goto(f"/clients/{client.pk}/measures/")
    page.get_by_role("link", name="Assign a questionnaire").click()
    assert_accessible(page, "the assign page")
    page.get_by_label("Questionnaire").select_option("phq9")
    page.get_by_label("Once").check()
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_load_state("load")
    assert Assignment.objects.active().filter(client=client, instrument_id="phq9").exists()

    # 2. The client, on her phone, starts it from her home page.
    switch_user(page)
    page.set_viewport_size(PHONE)
    sign_in(page, world.client_a_user)
    page.get_by_role("button", name=re.compile(r"^Start")).first.click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("Question 1 of 9")).to_be_visible()
    assert_accessible(page, "a check-in question")
    assert fits_the_phone(page), "the check-in question scrolls sideways on a phone"
    for step in range(1, 9):
        expect(page.get_by_text(f"Question {step} of 9")).to_be_visible()
        page.get_by_label("Several days").check()
        page.get_by_role("button", name="Next", exact=True).click()
        page.wait_for_load_state("load")

    # 3. Item 9 above 0: the support page, at once, and the care team is told.
    expect(page.get_by_text("Question 9 of 9")).to_be_visible()
    page.get_by_label("Several days").check()
    page.get_by_role("button", name=re.compile("^Next")).click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Thank you for telling us")).to_be_visible()
    expect(page.get_by_text("Your care team has been told")).to_be_visible()
    assert_accessible(page, "the support page after a risk answer")
    assert fits_the_phone(page), "the support page scrolls sideways on a phone"
    alert = RiskAlert.objects.get(client=client)
    assert alert.is_open and alert.rule_id == "phq9_item9"
    assert [m.to for m in mail.outbox] == [[world.clinician.email]]

    # She carries on, checks her answers and sends them.
    page.get_by_role("link", name="Carry on with the check-in").click()
    page.wait_for_load_state("load")
    assert_accessible(page, "the review page")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state("load")
    latest = Response.objects.submitted().filter(client=client).latest("submitted_at")
    assert latest.total == 9

    # She sees her scores in calm words, with the chart.
    page.goto(f"/clients/{client.pk}/measures/")
    expect(page.locator("svg.chart").first).to_be_visible()
    assert "deteriorated" not in page.content().lower()
    assert_accessible(page, "the client's measures overview")
    assert fits_the_phone(page), "the client's measures overview scrolls sideways on a phone"

    # 4. The clinician sees the alert from her home page and acknowledges it with a note.
    switch_user(page)
    page.set_viewport_size(DESK)
    sign_in(page, world.clinician)
    expect(page.get_by_role("heading", name="Needs your attention")).to_be_visible()
    page.get_by_role("link", name=re.compile("open risk alert")).click()
    page.wait_for_load_state("load")
    assert_accessible(page, "the alerts list")
    page.get_by_role("link", name=re.compile("Alex Rivers")).first.click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Risk alert")).to_be_visible()
    assert_accessible(page, "the alert page")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state("load")
    expect(page.locator(".field-error, .error-summary").first).to_be_visible()
    page.get_by_label("What did you do?").fill("Called Alex the same hour; safety plan reviewed.")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state("load")
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.clinician
    assert alert.acknowledgement_note == "Called Alex the same hour; safety plan reviewed."

    # She sees the score, the change and the chart too.
    page.goto(f"/clients/{client.pk}/measures/")
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^PHQ-9"))).to_be_visible()
    assert_accessible(page, "the clinician's measures overview")

    # 5. A colleague who is not on the care team is shown the not-found page.
    switch_user(page)
    sign_in(page, world.colleague)
    response = page.goto(f"/clients/{client.pk}/measures/alerts/{alert.pk}/")
    assert response is not None and response.status == 404
    assert "Alex" not in page.content()
