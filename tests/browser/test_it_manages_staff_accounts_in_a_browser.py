"""In headless Chromium: a practice admin resets two-step sign-in for a clinician who lost her
phone, from the practice page, confirming who she is on the way; the pages pass axe. A
clinician is refused the staff page."""

from __future__ import annotations

from pathlib import Path

import pytest

from kithkin.accounts.models import AuthenticatorDevice
from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Page, expect

from tests.browser.test_it_confirms_who_you_are_before_big_changes import (
    confirm_who_i_am,
    follow,
    path_of,
)
from tests.browser.test_it_follows_the_risk_path import assert_accessible
from tests.browser.test_it_signs_in_each_role import sign_in
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_resets_two_step_sign_in_for_a_clinician(page: Page, world: World) -> None:
    AuthenticatorDevice.objects.create(user=world.clinician, name="authenticator", confirmed=True)
    sign_in(page, world.admin)
    page.goto("/practice/")
    follow(page, lambda: page.get_by_role("link", name="Manage staff accounts").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff accounts")
    assert_accessible(page, "the staff accounts page")
    reset = page.get_by_role("button", name="Reset two-step sign-in for Cleo Clinician")
    follow(page, reset.click)
    # First, who she is; then back to the list, where she asks again.
    confirm_who_i_am(page, world.admin, with_code=True)
    assert path_of(page) == "/practice/staff/"
    follow(page, reset.click)
    expect(page.get_by_text("Two-step sign-in was reset for Cleo Clinician")).to_be_visible()
    assert_accessible(page, "the staff accounts page after a change")
    assert not AuthenticatorDevice.objects.filter(user=world.clinician).exists()


def test_a_clinician_is_refused_the_staff_page(page: Page, world: World) -> None:
    sign_in(page, world.clinician)
    response = page.goto("/practice/staff/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("button", name="Reset two-step sign-in")).to_have_count(0)
