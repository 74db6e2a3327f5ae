"""In a real browser: a new clinician signs in with her password, is taken to set up an
authenticator app (QR code and typed key), confirms with a code, saves her recovery codes, signs
out, and signs in again with a code, then once with a recovery code. Each page passes an axe
check and fits a phone; a stranger's password-only session reaches no client page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from kithkin.accounts.models import AuthenticatorDevice
from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Page, expect

from tests.accounts.mfa_helpers import code_for, device_of, unused_code
from tests.browser.test_it_follows_the_risk_path import (
    DESK,
    PHONE,
    assert_accessible,
    fits_the_phone,
    switch_user,
)
from tests.conftest import World
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/accounts/login/"


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desk", "phone"])
def test_it_enrols_a_clinician_and_signs_her_in_with_a_code(
    page: Page, world: World, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    clinician = world.clinician

    # 1. The password, then straight to setting up an app: nothing else opens yet.
    password_step(page, clinician.email)
    assert urlsplit(page.url).path == reverse("mfa_enrol")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    expect(page.locator(".mfa-secret code")).to_have_text(
        re.compile(r"^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$")
    )
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    assert_accessible(page, "the set-up page")
    assert fits_the_phone(page), "the set-up page scrolls sideways"

    # 2. A wrong code: a clear message by the field.
    page.get_by_label("6-digit code").fill("12345")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(
        page.get_by_text("The code is 6 digits, for example 123456.", exact=True)
    ).to_be_visible()

    # 3. The app's code: recovery codes, shown once.
    pending = AuthenticatorDevice.objects.get(user=clinician, confirmed=False)
    page.get_by_label("6-digit code").fill(code_for(pending))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page, "the recovery codes page")
    assert fits_the_phone(page), "the recovery codes page scrolls sideways"
    page.get_by_role("link", name="I have saved these").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/"
    expect(page.get_by_role("heading", name="Your caseload")).to_be_visible()

    # 4. Out and in again: the password, then the code step.
    sign_out(page)
    password_step(page, clinician.email)
    assert urlsplit(page.url).path == reverse("mfa_verify")
    expect(page.get_by_text("Enter the 6-digit code from your authenticator app")).to_be_visible()
    assert_accessible(page, "the code step")
    assert fits_the_phone(page), "the code step scrolls sideways"
    page.get_by_label("6-digit code").fill(unused_code(device_of(clinician)))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Your caseload")).to_be_visible()

    # 5. Without the phone: a recovery code, from the keyboard alone.
    sign_out(page)
    password_step(page, clinician.email)
    page.get_by_role("link", name="Use a recovery code instead").click()
    page.wait_for_load_state("load")
    assert_accessible(page, "the recovery code step")
    page.get_by_label("Recovery code").fill(codes[0])
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    expect(page.get_by_text("You have 9 recovery codes left")).to_be_visible()
    expect(page.get_by_role("heading", name="Your caseload")).to_be_visible()


def test_it_keeps_a_strangers_password_only_session_out_of_client_pages(
    page: Page, world: World
) -> None:
    """A clinician of another practice who has only typed a password is held at the code step,
    whatever page she asks for."""
    AuthenticatorDevice.objects.create(user=world.stranger, name="authenticator", confirmed=True)
    password_step(page, world.stranger.email)
    assert urlsplit(page.url).path == reverse("mfa_verify")
    page.goto(f"/clients/{world.other_client.pk}/")
    assert urlsplit(page.url).path == reverse("mfa_verify")
    expect(page.get_by_text(world.other_client.display_name)).to_have_count(0)
    switch_user(page)
    page.goto(f"/clients/{world.client_a.pk}/")
    assert urlsplit(page.url).path == "/accounts/login/"
