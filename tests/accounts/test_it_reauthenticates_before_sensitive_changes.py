"""Changing the email address or two-step sign-in needs the password again (and a code when
enrolled), good for 5 minutes, limited to 5 tries in 15 minutes. The email change itself, which
takes effect only when the new address confirms it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts import mfa
from kithkin.accounts.models import EmailChange
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


def test_cancel_leads_only_to_a_page_on_this_site(world: World) -> None:
    http = signed_in(world.client_a_user)
    page = http.get(reverse("reauth") + "?next=/settings/email/").content.decode()
    assert f'href="{reverse("settings")}">Cancel' in page
    elsewhere = http.get(reverse("reauth") + "?cancel=https://evil.example/").content.decode()
    assert "evil.example" not in elsewhere
    assert f'href="{reverse("settings")}">Cancel' in elsewhere
    # A stranger is sent to sign in, whatever the link says.
    assert (
        HttpClient().get(reverse("reauth") + "?cancel=/")["Location"].startswith(reverse("login"))
    )


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


def confirm_link(message: Any) -> str:
    found = re.search(r"(/settings/email/confirm/\?t=\S+)", message.body)
    assert found, message.body
    return found.group(1)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["t"][0]


def test_it_changes_the_email_only_when_the_new_address_confirms(
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
    # Nothing changes yet: a link goes to the new address, and only there.
    user.refresh_from_db()
    assert user.email == old_email
    assert [m.to for m in mail.outbox] == [["alex.new@example.test"]]
    link = confirm_link(mail.outbox[0])
    assert "Alex" not in link and "alex.new" not in link
    requested = AuditEvent.objects.filter(action="account.email_change.requested").latest("id")
    assert "alex.new" not in str(requested.payload()) and old_email not in str(requested.payload())

    # A stranger (or the client's own other account) who has the link cannot use it.
    stranger = signed_in(world.stranger)
    refused = stranger.post(link.split("?")[0], {"t": token_of(link)})
    assert "not valid for your account" in refused.content.decode()
    assert stranger.get(link).status_code == 200
    world.stranger.refresh_from_db()
    assert world.stranger.email != "alex.new@example.test"

    # Opening the link changes nothing either (a mail scanner may follow it); the button does.
    page = http.get(link)
    assert "alex.new@example.test" in page.content.decode()
    user.refresh_from_db()
    assert user.email == old_email
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = http.post(reverse("email_change_confirm"), {"t": token_of(link)})
    assert done.status_code == 302 and done["Location"] == reverse("settings")
    user.refresh_from_db()
    assert user.email == "alex.new@example.test"
    assert [m.to for m in mail.outbox] == [[old_email]]
    assert "was changed" in mail.outbox[0].subject
    assert "alex.new" not in mail.outbox[0].body
    event = AuditEvent.objects.filter(action="account.email_change", outcome="success").latest("id")
    assert event.actor_id == user.pk and event.object_id == str(user.pk)
    payload = str(event.payload())
    assert old_email not in payload and "alex.new" not in payload
    # A link works once.
    again = http.post(reverse("email_change_confirm"), {"t": token_of(link)})
    assert "already been used" in again.content.decode()
    # The new address signs in; the old one no longer does.
    new = HttpClient()
    signed = new.post(reverse("login"), {"username": "alex.new@example.test", "password": PASSWORD})
    assert signed.status_code == 302
    old = HttpClient().post(reverse("login"), {"username": old_email, "password": PASSWORD})
    assert old.status_code == 200


def test_only_the_latest_unexpired_link_works_and_a_taken_address_is_refused(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    user = world.client_a_user
    http = signed_in(user)
    reauthenticate(http)
    links = []
    for address in ("first@example.test", "second@example.test"):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            http.post(reverse("email_change"), {"email": address})
        links.append(token_of(confirm_link(mail.outbox[0])))
    assert (
        "A link is waiting at second@example.test"
        in http.get(reverse("email_change")).content.decode()
    )
    replaced = http.post(reverse("email_change_confirm"), {"t": links[0]})
    assert "a newer one replaced it" in replaced.content.decode()
    # Someone else took the address meanwhile: refused, in words that name nobody.
    world.stranger.email = "second@example.test"
    world.stranger.save()
    taken = http.post(reverse("email_change_confirm"), {"t": links[1]})
    assert "You can&#x27;t use that address any more" in taken.content.decode()
    assert AuditEvent.objects.filter(action="account.email_change", outcome="denied").count() == 2
    # A tampered or expired link.
    assert "not valid" in http.get(reverse("email_change_confirm") + "?t=junk").content.decode()
    EmailChange.objects.filter(user=user).update(
        withdrawn_at=None, expires_at=timezone.now() - timedelta(minutes=1)
    )
    world.stranger.email = "someone.else@example.test"
    world.stranger.save()
    expired = http.post(reverse("email_change_confirm"), {"t": links[1]})
    assert "has expired" in expired.content.decode()
    user.refresh_from_db()
    assert user.email not in ("first@example.test", "second@example.test")


def test_an_address_in_use_gets_the_same_answer_and_its_owner_a_note_not_a_link(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    user = world.client_a_user
    http = signed_in(user)
    reauthenticate(http)
    mail.outbox.clear()
    # The stranger's address (another practice's clinician): the page must not tell Alex that
    # it has an account, so she sees exactly what a free address shows.
    with django_capture_on_commit_callbacks(execute=True):
        in_use = http.post(reverse("email_change"), {"email": world.stranger.email.upper()})
    with django_capture_on_commit_callbacks(execute=True):
        free = http.post(reverse("email_change"), {"email": "alex.free@example.test"})
    assert in_use.status_code == free.status_code == 302
    assert in_use["Location"] == free["Location"] == reverse("settings")
    # The owner is told nothing changed, without a link and without naming who asked.
    note, link_mail = mail.outbox
    assert note.to == [world.stranger.email.lower()] and link_mail.to == ["alex.free@example.test"]
    assert "already belongs to a Kithkin account" in note.body
    assert "http" in note.body and "?t=" not in note.body
    assert "Alex" not in note.body and user.email not in note.body
    requested = AuditEvent.objects.filter(action="account.email_change.requested").order_by("id")
    assert [e.detail for e in requested] == [{"address_in_use": True}, {}]
    # Nothing changed for either account, and no link to the taken address exists to confirm.
    user.refresh_from_db()
    world.stranger.refresh_from_db()
    assert user.email != world.stranger.email
    assert EmailChange.objects.filter(user=user, confirmed_at__isnull=False).count() == 0
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
