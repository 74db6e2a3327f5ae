"""Playwright driving Debian's Chromium against pytest-django's live server.

The tests skip with a clear message where /usr/bin/chromium is missing; `.ci/run` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = (
    f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium); "
    ".ci/run installs it"
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: while Playwright's loop is alive, Django
    needs DJANGO_ALLOW_ASYNC_UNSAFE, and that must not leak into other tests (subprocesses such as
    ``manage.py check --deploy`` inherit it and rightly complain)."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django refuses database work on a
    # thread with a running loop unless told this is deliberate. Tests here touch the database
    # only between browser calls, never concurrently with them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    # Nothing leaves the machine: any request to another origin fails the test below.
    foreign: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{safe}.png"), full_page=True)
    finally:
        context.close()
    assert not foreign, f"the page asked another origin for {foreign}"
