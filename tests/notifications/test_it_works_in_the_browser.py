"""In a real browser: the inbox, the email choices and the public unsubscribe page pass an axe
check and fit a phone; opening a notification and pressing "Stop these emails" work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Page, expect

from kithkin.notifications import kinds, services
from kithkin.notifications.kinds import Category
from kithkin.notifications.models import Notification
from tests.browser.conftest import browser, page  # noqa: F401  (the browser fixtures)
from tests.browser.test_it_signs_in_each_role import describe, serious_violations, sign_in
from tests.conftest import World
from tests.notifications.notification_data import many, note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _accessible_and_narrow(page: Page, what: str) -> None:  # noqa: F811
    violations = serious_violations(page)
    assert not violations, f"axe found serious problems on {what}:\n" + describe(violations)
    page.set_viewport_size({"width": 390, "height": 844})
    widths: dict[str, Any] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["view"], f"{what} scrolls sideways on a phone"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_inbox_and_email_choices(page: Page, world: World) -> None:  # noqa: F811
    user = world.client_a_user
    many(user, 25)
    first = note(user, "Your session is tomorrow", url=f"/clients/{world.client_a.pk}/care/")
    sign_in(page, user)
    page.goto("/notifications/")
    expect(page.get_by_role("link", name="Inbox (26 unread)")).to_be_visible()
    _accessible_and_narrow(page, "the inbox")

    page.get_by_role("button", name="Open Your session is tomorrow").click()
    page.wait_for_url(f"**/clients/{world.client_a.pk}/care/")
    assert Notification.objects.get(pk=first.pk).read_at is not None
    expect(page.get_by_role("link", name="Inbox (25 unread)")).to_be_visible()

    page.goto("/notifications/preferences/")
    _accessible_and_narrow(page, "the email choices")
    page.get_by_label("Keeping in touch").uncheck()
    page.get_by_role("button", name="Save email choices").click()
    expect(page.get_by_text("Your email choices are saved.")).to_be_visible()
    assert services.email_preferences(user)[Category.NUDGES] is False


def test_the_unsubscribe_page_without_signing_in(page: Page, world: World) -> None:  # noqa: F811
    notification = services.notify(
        world.client_a_user, kind=kinds.NUDGE, title="Time to call Sam?", body=""
    )
    link = services.unsubscribe_url(world.client_a_user, Category.NUDGES)
    assert notification.pk
    page.goto(link.replace("http://127.0.0.1:8000", ""))
    expect(page.get_by_role("heading", name="Stop these emails?")).to_be_visible()
    _accessible_and_narrow(page, "the unsubscribe page")
    assert services.email_preferences(world.client_a_user)[Category.NUDGES] is True

    page.get_by_role("button", name="Stop these emails").click()
    expect(
        page.get_by_role("heading", name="You will not get these emails any more")
    ).to_be_visible()
    assert services.email_preferences(world.client_a_user)[Category.NUDGES] is False
