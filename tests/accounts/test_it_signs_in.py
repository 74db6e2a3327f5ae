"""Signing in and out: clear words for wrong credentials, audited, and logout by POST only."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.audit.models import AuditEvent
from tests.conftest import World, signed_in
from tests.factories import PASSWORD

WRONG = "That email and password do not match an account. Check both and try again."

pytestmark = pytest.mark.django_db


def test_it_shows_the_sign_in_page_to_anyone(world: World) -> None:
    response = HttpClient().get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'type="email"' in body
    assert 'type="password"' in body
    assert 'autocomplete="current-password"' in body


def test_it_signs_in_with_the_right_password_and_lands_home(world: World) -> None:
    http = HttpClient()
    # A client without two-step sign-in; staff go on to the code step
    # (tests/accounts/test_it_requires_mfa_for_staff.py).
    client_user = world.client_a_user
    response = http.post(
        reverse("login"), {"username": client_user.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert AuditEvent.objects.filter(
        action="login", outcome="success", actor_id=client_user.pk
    ).exists()
    assert http.get(reverse("home")).status_code == 200


def test_it_signs_in_wrong_password_shows_message_and_audits_failure(world: World) -> None:
    before = AuditEvent.objects.filter(action="login", outcome="failed").count()
    response = HttpClient().post(
        reverse("login"), {"username": world.clinician.email, "password": "not the password"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert WRONG in body
    assert 'role="alert"' in body
    assert AuditEvent.objects.filter(action="login", outcome="failed").count() == before + 1
    failed = AuditEvent.objects.filter(action="login", outcome="failed").latest("id")
    # The attempted address is kept only as a keyed pseudonym.
    assert world.clinician.email not in str(failed.detail)
    assert failed.actor_id is None


def test_it_signs_in_unknown_email_gets_the_same_words(world: World) -> None:
    unknown = HttpClient().post(
        reverse("login"), {"username": "nobody@example.test", "password": PASSWORD}
    )
    assert WRONG in unknown.content.decode()
    assert AuditEvent.objects.filter(action="login", outcome="failed").exists()


def test_it_signs_in_refuses_a_deactivated_account_with_the_same_words(world: World) -> None:
    world.stranger.is_active = False
    world.stranger.save(update_fields=["is_active"])
    http = HttpClient()
    response = http.post(reverse("login"), {"username": world.stranger.email, "password": PASSWORD})
    assert WRONG in response.content.decode()
    assert http.get(reverse("home")).status_code == 302


def test_it_signs_in_sends_a_signed_in_visitor_home(world: World) -> None:
    response = signed_in(world.client_a_user).get(reverse("login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_it_signs_in_refuses_anonymous_visitors_to_home(world: World) -> None:
    response = HttpClient().get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_signs_in_never_follows_next_to_another_site(world: World) -> None:
    response = HttpClient().post(
        reverse("login") + "?next=https://evil.example/",
        {
            "username": world.client_a_user.email,
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_it_signs_in_logout_requires_post(world: World) -> None:
    http = signed_in(world.clinician)
    assert http.get(reverse("logout")).status_code == 405
    assert http.get(reverse("home")).status_code == 200  # still signed in

    response = http.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert AuditEvent.objects.filter(action="logout", actor_id=world.clinician.pk).exists()
    assert http.get(reverse("home")).status_code == 302
    assert "You have signed out." in http.get(reverse("login")).content.decode()


def test_it_signs_in_logout_form_carries_csrf(world: World) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(world.client_a_user)
    assert http.post(reverse("logout")).status_code == 403
    body = http.get(reverse("home")).content.decode()
    assert f'action="{reverse("logout")}"' in body
    assert "csrfmiddlewaretoken" in body


def test_it_says_why_sign_in_is_asked_for_when_a_link_led_here(world: World) -> None:
    """Opening a link while signed out (the email-change confirmation, say) explains the sign-in
    page, and comes back to the link afterwards."""
    link = reverse("email_change_confirm") + "?t=abc"
    page = HttpClient().get(link, follow=True).content.decode()
    assert "To finish changing your email address, sign in with your current address" in page
    other = HttpClient().get(reverse("settings"), follow=True).content.decode()
    assert "Please sign in to open that page" in other
    plain = HttpClient().get(reverse("login")).content.decode()
    assert "Please sign in to open that page" not in plain
    # A stranger's wrong password shows the usual words, not the explanation.
    wrong = HttpClient().post(
        reverse("login") + "?next=" + reverse("settings"),
        {"username": world.stranger.email, "password": "not it at all", "next": "/settings/"},
    )
    assert WRONG in wrong.content.decode()
    assert "Please sign in to open that page" not in wrong.content.decode()
