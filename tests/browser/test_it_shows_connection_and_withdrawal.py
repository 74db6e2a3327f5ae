"""In a real browser, end to end: a client on her phone goes from her home page to her connection
profile and on to keeping in touch, where a weekly relationship that has gone quiet shows by
name; her clinician sees the withdrawal signal on the caseload in calm words and follows it to
the rhythm page; a colleague who is not on the care team, and a stranger from another practice,
are shown the not-found page. Every page passes an axe check."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from kithkin.connection import sweep
from kithkin.connection.models import WithdrawalReason, WithdrawalSignal
from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Page, expect

from tests.browser.test_it_follows_the_risk_path import (
    DESK,
    PHONE,
    assert_accessible,
    fits_the_phone,
    switch_user,
)
from tests.browser.test_it_signs_in_each_role import sign_in
from tests.conftest import World
from tests.factories import all_answers, contact, person_of, submitted_response

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def keeping_in_touch_data(world: World) -> None:
    """Alex: Jordan, every week for months until 25 days ago (drifting), and Robin, every 4
    days, then twice in the last 4 weeks: 3 contacts lately against about 11 in a usual 4
    weeks. A protective-factors check-in, so the profile has something to show."""
    client = world.client_a
    now = timezone.now()
    jordan = person_of(client, "Jordan Blake", wished_rhythm_days=7, helps_safe=True)
    robin = person_of(client, "Robin Hart", ring=2)
    for weeks in range(13):
        contact(jordan, occurred_at=now - timedelta(days=25 + 7 * weeks))
    for day in [*range(30, 111, 4), 3, 10]:
        contact(robin, occurred_at=now - timedelta(days=day, hours=2))
    submitted_response(
        client,
        "protective_factors",
        all_answers("protective_factors", 4),
        when=now - timedelta(days=5),
    )
    sweep.run(now=now)
    signal = WithdrawalSignal.objects.get(client=client)
    assert signal.reasons == [WithdrawalReason.CONTACT_DROPPED]


def test_it_shows_the_profile_a_drifting_relationship_and_the_withdrawal_signal(
    page: Page, world: World
) -> None:
    keeping_in_touch_data(world)
    client = world.client_a

    # 1. The client, on her phone, goes from her home page to her profile.
    page.set_viewport_size(PHONE)
    sign_in(page, world.client_a_user)
    page.get_by_role("link", name="Your connections").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Your connections", level=1)).to_be_visible()
    for section in (
        "What helps you stay well when apart",
        "Feeling seen, safe, soothed, secure and stable",
    ):
        expect(page.get_by_role("heading", name=section, level=2)).to_be_visible()
    assert_accessible(page, "the client's connection profile")
    assert fits_the_phone(page), "the connection profile scrolls sideways on a phone"

    # 2. On to keeping in touch: Jordan has gone quiet, said gently.
    page.get_by_role("link", name="Keeping in touch").first.click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Keeping in touch", level=1)).to_be_visible()
    jordan = page.get_by_role("row").filter(has_text="Jordan Blake")
    expect(jordan).to_contain_text("It's been a while")
    expect(jordan).to_contain_text("ago")
    expect(page.get_by_role("row").filter(has_text="Robin Hart")).to_contain_text("Steady")
    # The withdrawal signal is for the care team, not the client.
    expect(page.get_by_text("Worth a conversation")).to_have_count(0)
    assert_accessible(page, "the client's keeping in touch page")
    assert fits_the_phone(page), "the keeping in touch page scrolls sideways on a phone"

    # 3. The clinician sees the signal on her caseload and follows it.
    switch_user(page)
    page.set_viewport_size(DESK)
    sign_in(page, world.clinician)
    row = page.get_by_role("row").filter(has_text="Alex Rivers")
    expect(row).to_contain_text("Contact has dropped")
    assert_accessible(page, "the caseload with a withdrawal signal")
    row.get_by_role("link", name=re.compile("Contact has dropped")).click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Contact rhythms", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Worth a conversation")).to_be_visible()
    expect(page.get_by_text(re.compile(r"3 contacts logged in the last 4 weeks"))).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Jordan Blake")).to_contain_text("Drifting")
    assert_accessible(page, "the clinician's rhythm page with the signal")

    # 4. A colleague not on the care team, and a stranger, get the not-found page.
    for outsider in (world.colleague, world.stranger):
        switch_user(page)
        sign_in(page, outsider)
        for path in (
            f"/clients/{client.pk}/connection/",
            f"/clients/{client.pk}/connection/rhythm/",
        ):
            response = page.goto(path)
            assert response is not None and response.status == 404
            assert "Alex" not in page.content() and "Jordan" not in page.content()
