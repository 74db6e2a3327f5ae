"""The page shell: landmarks, skip link, role-aware navigation, no inline code, error pages."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.models import User
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _page(user: User | None, url: str) -> str:
    http = signed_in(user) if user is not None else HttpClient()
    response = http.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _nav(body: str) -> str:
    match = re.search(r'<nav class="site-nav".*?</nav>', body, re.S)
    return match.group(0) if match else ""


def test_it_renders_shell_landmarks_and_skip_link(world: World) -> None:
    body = _page(world.clinician, reverse("home"))
    assert '<a class="skip-link" href="#main">' in body
    assert '<main id="main"' in body
    assert "<header" in body and "<footer" in body
    assert 'aria-label="Main"' in body
    assert body.count("<h1") == 1
    assert 'lang="en"' in body
    assert 'name="viewport"' in body


def test_it_renders_shell_without_inline_style_or_script(world: World) -> None:
    pages = [
        (None, reverse("login")),
        (None, reverse("password_reset")),
        (world.clinician, reverse("home")),
        (world.admin, reverse("home")),
        (world.client_a_user, reverse("home")),
        (world.member, reverse("home")),
        (world.member, reverse("settings")),
        (world.member, reverse("password_change")),
    ]
    for user, url in pages:
        body = _page(user, url)
        assert "<script" not in body, url
        assert "<style" not in body, url
        assert "style=" not in body, url
        assert re.search(r"\son[a-z]+=", body) is None, url


def test_it_renders_shell_nav_by_role(world: World) -> None:
    admin_nav = _nav(_page(world.admin, reverse("home")))
    assert reverse("practice") in admin_nav
    clinician_body = _page(world.clinician, reverse("home"))
    assert reverse("practice") not in _nav(clinician_body)
    assert "Caseload" in _nav(clinician_body)
    client_body = _page(world.client_a_user, reverse("home"))
    assert ">Home<" in _nav(client_body)
    assert "Caseload" not in _nav(client_body)
    assert reverse("practice") not in client_body
    # Everyone signed in sees their name, Settings and a sign-out button.
    for body in (clinician_body, client_body):
        assert reverse("settings") in body
        assert '<button type="submit" class="button--header">Sign out</button>' in body
    assert "Signed in as Alex Rivers" in client_body


def test_it_renders_shell_marks_the_current_page(world: World) -> None:
    body = _page(world.member, reverse("settings"))
    assert f'href="{reverse("settings")}" aria-current="page"' in body


def test_it_renders_shell_for_anonymous_visitors_without_account_links(world: World) -> None:
    body = _page(None, reverse("login"))
    assert reverse("settings") not in body
    assert "Sign out" not in body
    assert reverse("password_reset") in body


def test_it_renders_shell_error_page_without_a_request() -> None:
    body = render_to_string(
        "core/error.html", {"title": "That was too large", "message": "Try smaller."}, request=None
    )
    assert "<h1>That was too large</h1>" in body
    assert "kithkin.css" in body
    assert "Sign out" not in body


def test_it_renders_shell_for_an_oversized_request(world: World) -> None:
    response = HttpClient().post(
        reverse("login"),
        data=b"x",
        content_type="text/plain",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1),
    )
    assert response.status_code == 413
    assert "That was too large" in response.content.decode()


def test_it_renders_shell_not_found_page_for_a_stranger(world: World) -> None:
    response = signed_in(world.stranger).get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We could not find that page" in body
    assert '<main id="main"' in body
    assert "Sam Stranger" in body  # the shell still knows who is signed in


def test_it_renders_shell_stylesheet_with_focus_print_and_small_screens() -> None:
    from django.contrib.staticfiles import finders

    path = finders.find("kithkin/kithkin.css")
    assert path
    with open(str(path), encoding="utf-8") as handle:
        css = handle.read()
    assert ":focus-visible" in css
    assert "@media print" in css
    assert "--tap: 44px" in css
    assert "@import" not in css and "http" not in css  # nothing fetched from elsewhere


def test_it_words_the_footer_and_the_empty_inbox_for_each_reader(world: World) -> None:
    """A client's pages are private to her and her care team; staff keep what they see within
    the care team; a network member sees only what was shared with them."""
    expected = {
        world.client_a_user: ("private to you and your care team", "updates about your care"),
        world.clinician: ("keep it within the care team", "updates about your work"),
        world.member: ("only what was chosen to be shared with you", "Invitations, reminders"),
    }
    for user, (footer, empty_inbox) in expected.items():
        http = signed_in(user)
        assert footer in http.get("/").content.decode(), user
        assert empty_inbox in http.get(reverse("notifications")).content.decode(), user
    # The stranger sees her own staff wording, never the client's.
    stranger_home = signed_in(world.stranger).get("/").content.decode()
    assert "private to you and your care team" not in stranger_home
    anonymous = HttpClient().get(reverse("login")).content.decode()
    assert "care that grows through connection." in anonymous
    assert "private to you" not in anonymous
