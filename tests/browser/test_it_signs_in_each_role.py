"""In a real browser: each role signs in through the form and lands on its own home page, which
passes an axe check, works from the keyboard and fits a phone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from kithkin.accounts import mfa
from kithkin.accounts.models import AuthenticatorDevice, User
from tests.accounts.mfa_helpers import device_of, unused_code
from tests.browser.conftest import NO_CHROMIUM
from tests.factories import PASSWORD

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES: dict[str, Callable[[World], User]] = {
    "admin": lambda w: w.admin,
    "clinician": lambda w: w.clinician,
    "client": lambda w: w.client_a_user,
    "member": lambda w: w.member,
}
# A heading only that role's home page has: proof of landing on the right one.
LANDMARK = {
    "admin": "Your practice at a glance",
    "clinician": "Your caseload",
    "client": "Your care team",
    "member": "support circle",
}
SERIOUS = {"serious", "critical"}


def sign_in(page: Page, user: User, password: str = PASSWORD) -> None:
    """Through the sign-in form; staff (and anyone enrolled) then type their app's code, from a
    device made for them here if they have none (tests/browser/test_it_enrols_staff_in_mfa.py
    walks the setting-up pages themselves)."""
    if mfa.is_staff(user) and not mfa.is_enrolled(user):
        AuthenticatorDevice.objects.create(user=user, name="test", confirmed=True)
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    if urlsplit(page.url).path == reverse("mfa_verify"):
        enter_code(page, user)


def enter_code(page: Page, user: User) -> None:
    page.get_by_label("6-digit code").fill(unused_code(device_of(user)))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")


def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in SERIOUS]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = node.get("failureSummary", "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


@pytest.mark.parametrize("role", ROLES)
def test_it_lands_each_role_on_its_own_home_page(page: Page, world: World, role: str) -> None:
    user = ROLES[role](world)
    sign_in(page, user)
    assert urlsplit(page.url).path == "/", f"{role} landed on {page.url}"
    heading = page.get_by_role("heading", name=LANDMARK[role])
    expect(heading.first).to_be_visible()
    for other, text in LANDMARK.items():
        if text != LANDMARK[role] and not (role == "admin" and other == "clinician"):
            expect(page.get_by_role("heading", name=text)).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.locator("main")).to_be_visible()


def test_it_refuses_a_wrong_password_with_a_clear_message(page: Page, world: World) -> None:
    sign_in(page, world.clinician, password="not the password")
    assert "/accounts/login/" in page.url
    expect(page.get_by_text("do not match an account")).to_be_visible()
    expect(page.get_by_role("heading", name=LANDMARK["clinician"])).to_have_count(0)


def test_it_passes_axe_on_the_sign_in_page(page: Page, world: World) -> None:
    page.goto("/accounts/login/")
    violations = serious_violations(page)
    assert not violations, "axe found serious problems on the sign-in page:\n" + describe(
        violations
    )


@pytest.mark.parametrize("role", ROLES)
def test_it_passes_axe_on_each_home_page(page: Page, world: World, role: str) -> None:
    sign_in(page, ROLES[role](world))
    expect(page.get_by_role("heading", name=LANDMARK[role]).first).to_be_visible()
    violations = serious_violations(page)
    assert not violations, f"axe found serious problems on the {role} home page:\n" + describe(
        violations
    )


def test_it_can_tell_an_inaccessible_page(page: Page, world: World) -> None:
    """The axe check is worth something only if it says no to a page that is plainly broken."""
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
            for (const label of document.querySelectorAll('label')) label.remove();
            const img = document.createElement('img');
            img.src = '/static/none.png';
            document.querySelector('main').append(img);
        }"""
    )
    ids = {v["id"] for v in serious_violations(page)}
    assert "label" in ids or "image-alt" in ids, ids


@pytest.mark.parametrize("where", ["sign-in page", "clinician home"])
def test_it_offers_a_skip_link_first_that_moves_focus_to_main(
    page: Page, world: World, where: str
) -> None:
    if where == "sign-in page":
        page.goto("/accounts/login/")
    else:
        sign_in(page, world.clinician)
    # Start from the top of the document, as a keyboard user arriving on the page does (the
    # sign-in page autofocuses its email field, so put the focus start point back at the top):
    # a non-tabbable marker as body's first child holds the focus, and Tab leaves it forwards.
    page.evaluate(
        """() => {
            const start = document.createElement('span');
            start.tabIndex = -1;
            document.body.prepend(start);
            start.focus();
        }"""
    )
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({text: document.activeElement.textContent.trim(),"
        " href: document.activeElement.getAttribute('href')})"
    )
    assert focused["href"] == "#main", f"the first Tab stop is {json.dumps(focused)}"
    skip = page.locator("a[href='#main']")
    expect(skip).to_be_visible()  # visible when focused, not only to screen readers
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


@pytest.mark.parametrize("role", ROLES)
def test_it_fits_a_phone_without_sideways_scrolling(page: Page, world: World, role: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, ROLES[role](world))
    expect(page.get_by_role("heading", name=LANDMARK[role]).first).to_be_visible()
    page.wait_for_load_state("load")  # styles applied: an unstyled page is wider
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["view"], (
        f"the {role} home page is {widths['scroll']}px wide on a {widths['view']}px phone"
    )


def test_it_can_tell_a_page_that_scrolls_sideways(page: Page, world: World) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
            const wide = document.createElement('div');
            wide.className = 'too-wide';
            wide.textContent = 'x'.repeat(400);
            wide.setAttribute('aria-hidden', 'true');
            document.querySelector('main').append(wide);
            wide.style.width = '1000px';
        }"""
    )
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert widths["scroll"] > widths["view"]
