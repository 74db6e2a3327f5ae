"""Password reset: the same answer for every address, an email with only a link, one use."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from kithkin.accounts.models import User
from kithkin.audit.models import AuditEvent
from tests.conftest import World
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new calm passphrase"


def _request_reset(email: str) -> HttpClient:
    http = HttpClient()
    response = http.post(reverse("password_reset"), {"email": email})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    return http


def _link(body: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/accounts/password/reset/\S+/\S+/)", body)
    assert match, body
    return match.group(1)


def test_it_resets_password_email_holds_the_link_and_no_client_data(world: World) -> None:
    _request_reset(world.client_a_user.email)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.client_a_user.email]
    text = f"{message.subject}\n{message.body}"
    assert _link(text)
    for private in ("Alex", "Rivers", "Sleep, low mood", "Harbour Practice", "Cleo"):
        assert private not in text
    assert world.client_a_user.email not in message.body
    assert isinstance(message, EmailMultiAlternatives)
    assert not message.alternatives  # plain text only


def test_it_resets_password_uses_the_site_address_not_the_host_header(world: World) -> None:
    HttpClient().post(
        reverse("password_reset"), {"email": world.clinician.email}, HTTP_HOST="localhost"
    )
    assert "http://127.0.0.1:8000/accounts/password/reset/" in mail.outbox[0].body
    assert "localhost" not in mail.outbox[0].body


def test_it_resets_password_says_the_same_for_unknown_addresses(world: World) -> None:
    http = _request_reset("nobody@example.test")
    assert mail.outbox == []
    page = http.get(reverse("password_reset_done")).content.decode()
    assert "If that address belongs to an account" in page
    assert AuditEvent.objects.filter(action="password.reset.request").exists()


def test_it_resets_password_with_the_link_once(world: World) -> None:
    _request_reset(world.clinician.email)
    link = _link(str(mail.outbox[0].body))
    http = HttpClient()
    form_page = http.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = http.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    world.clinician.refresh_from_db()
    assert world.clinician.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(
        action="password.reset", actor_id=world.clinician.pk, outcome="success"
    ).exists()
    # The same link does not work twice.
    again = HttpClient().get(link, follow=True).content.decode()
    assert "This link no longer works" in again


def test_it_resets_password_refuses_a_tampered_link(world: World) -> None:
    _request_reset(world.clinician.email)
    link = _link(str(mail.outbox[0].body))
    uid = link.split("/")[-3]
    # The clinician's token on the stranger's account id. (Changing the id's last character
    # is not enough: for some ids that character only holds padding bits, and the id decodes
    # to the same user.)
    stranger_uid = urlsafe_base64_encode(force_bytes(world.stranger.pk))
    assert stranger_uid != uid
    tampered = link.replace(f"/{uid}/", f"/{stranger_uid}/")
    body = HttpClient().get(tampered, follow=True).content.decode()
    assert "This link no longer works" in body
    assert User.objects.get(pk=world.clinician.pk).check_password(PASSWORD)


def test_it_resets_password_explains_weak_passwords(world: World) -> None:
    _request_reset(world.stranger.email)
    http = HttpClient()
    page = http.get(_link(str(mail.outbox[0].body)), follow=True)
    response = http.post(
        page.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "short"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in body
    assert "too short" in body
    assert 'id="id_new_password2_error"' in body
    assert 'href="#id_new_password2"' in body
    assert User.objects.get(pk=world.stranger.pk).check_password(PASSWORD)
