"""Changing the email address or two-step sign-in needs the password again (and a code when
enrolled), good for 5 minutes, limited to 5 tries in 15 minutes. The email change itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts import mfa
from kithkin.audit.models import AuditEvent
from tests.accounts.mfa_helpers import (
    code_for,
    confirmed_device,
    reauthenticate,
    wrong_code,
)
from tests.conftest import World, signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_asks_for_the_password_before_the_email_page_and_comes_back(world: World) -> None:
    http = signed_in(world.client_a_user)
    response = http.get(reverse("email_change"))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("reauth")
    assert parse_qs(location.query)["next"] == [reverse("email_change")]
    page = http.get(response["Location"]).content.decode()
    assert "Confirm it&#x27;s you" in page or "Confirm it's you" in page
    assert 'autocomplete="current-password"' in page
    back = http.post(reverse("reauth"), {"password": PASSWORD, "next": reverse("email_change")})
    assert back.status_code == 302 and back["Location"] == reverse("email_change")
    assert http.get(reverse("email_change")).status_code == 200
    event = AuditEvent.objects.filter(action="account.reauth").latest("id")
    assert (event.outcome, event.actor_id) == ("success", world.client_a_user.pk)


def test_it_refuses_a_wrong_password_calmly_and_audits_it(world: World) -> None:
    http = signed_in(world.client_a_user)
    response = http.post(reverse("reauth"), {"password": "not it at all"})
    assert response.status_code == 200
    assert "That did not match. Check your password" in response.content.decode()
    assert mfa.REAUTH_SESSION_KEY not in http.session
    assert AuditEvent.objects.filter(action="account.reauth", outcome="failed").exists()
    assert http.get(reverse("email_change")).status_code == 302


def test_it_asks_enrolled_people_for_a_code_as_well(world: World) -> None:
    device = confirmed_device(world.clinician)
    http = signed_in(world.clinician)
    page = http.get(reverse("reauth")).content.decode()
    assert "6-digit code or a recovery code" in page
    assert http.post(reverse("reauth"), {"password": PASSWORD}).status_code == 200
    wrong = http.post(reverse("reauth"), {"password": PASSWORD, "code": wrong_code(device)})
    assert wrong.status_code == 200
    assert mfa.REAUTH_SESSION_KEY not in http.session
    reauthenticate(http, code=code_for(device))
    assert http.get(reverse("email_change")).status_code == 200


def test_it_forgets_the_confirmation_after_five_minutes(world: World) -> None:
    http = signed_in(world.client_a_user)
    reauthenticate(http)
    assert http.get(reverse("email_change")).status_code == 200
    session = http.session
    session[mfa.REAUTH_SESSION_KEY] -= mfa.REAUTH_SECONDS + 1
    session.save()
    assert http.get(reverse("email_change"))["Location"].startswith(reverse("reauth"))


def test_it_limits_confirmation_tries(world: World) -> None:
    http = signed_in(world.client_a_user)
    for _ in range(mfa.CODE_LIMIT):
        assert http.post(reverse("reauth"), {"password": "wrong wrong wrong"}).status_code == 200
    refused = http.post(reverse("reauth"), {"password": PASSWORD})
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert mfa.REAUTH_SESSION_KEY not in http.session
    assert AuditEvent.objects.filter(action="account.reauth", outcome="denied").exists()


def test_it_changes_the_email_and_tells_the_old_address(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    user = world.client_a_user
    old_email = user.email
    http = signed_in(user)
    reauthenticate(http)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(reverse("email_change"), {"email": "  Alex.New@Example.TEST "})
    assert response.status_code == 302 and response["Location"] == reverse("settings")
    user.refresh_from_db()
    assert user.email == "alex.new@example.test"
    assert [m.to for m in mail.outbox] == [[old_email]]
    assert "was changed" in mail.outbox[0].subject
    assert "alex.new" not in mail.outbox[0].body
    event = AuditEvent.objects.filter(action="account.email_change").latest("id")
    assert event.actor_id == user.pk and event.object_id == str(user.pk)
    payload = str(event.payload())
    assert old_email not in payload and "alex.new" not in payload
    # The new address signs in; the old one no longer does.
    new = HttpClient()
    signed = new.post(reverse("login"), {"username": "alex.new@example.test", "password": PASSWORD})
    assert signed.status_code == 302
    old = HttpClient().post(reverse("login"), {"username": old_email, "password": PASSWORD})
    assert old.status_code == 200


def test_it_refuses_an_address_in_use_without_saying_whose(world: World) -> None:
    user = world.client_a_user
    http = signed_in(user)
    reauthenticate(http)
    taken = http.post(reverse("email_change"), {"email": world.clinician.email.upper()})
    body = taken.content.decode()
    assert taken.status_code == 200
    assert "You can&#x27;t use that address" in body or "You can't use that address" in body
    assert "Cleo" not in body
    user.refresh_from_db()
    assert user.email != world.clinician.email
    same = http.post(reverse("email_change"), {"email": user.email})
    assert "That is already your email address." in same.content.decode()
    bad = http.post(reverse("email_change"), {"email": "not an address"})
    assert "Enter an email address like name@example.org." in bad.content.decode()
    assert not AuditEvent.objects.filter(action="account.email_change").exists()


def test_it_sends_strangers_away(world: World) -> None:
    """Anonymous visitors go to sign in; a stranger's password does not confirm another
    person's session."""
    for name in ("reauth", "email_change"):
        response = HttpClient().get(reverse(name))
        assert response["Location"].startswith(reverse("login"))
    world.stranger.set_password("the stranger's own passphrase")
    world.stranger.save()
    http = signed_in(world.client_a_user)
    response = http.post(reverse("reauth"), {"password": "the stranger's own passphrase"})
    assert response.status_code == 200
    assert mfa.REAUTH_SESSION_KEY not in http.session
