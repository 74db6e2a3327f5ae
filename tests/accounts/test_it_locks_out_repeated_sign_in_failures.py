"""Repeated failed sign-ins pause sign-in for the account (known or not) and for the address,
with words that reveal no account; password-reset requests are limited the same way."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from kithkin.security import lockout, throttle
from kithkin.security.models import ThrottleCounter
from tests.conftest import World, signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAUSED = "Too many attempts. Sign-in is paused for"
WRONG = "That email and password do not match an account."


def _sign_in(email: str, password: str, address: str = "198.51.100.1") -> str:
    response = HttpClient(REMOTE_ADDR=address).post(
        reverse("login"), {"username": email, "password": password}
    )
    if response.status_code == 302:
        return "signed in"
    return response.content.decode()


def _without_token(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def _fail(email: str, times: int, address: str = "198.51.100.1") -> list[str]:
    return [_sign_in(email, "not the password", address) for _ in range(times)]


def test_ten_failures_pause_the_account_even_for_the_right_password(world: World) -> None:
    email = world.client_a_user.email
    pages = _fail(email, 10)
    assert all(WRONG in page for page in pages[:9])
    assert PAUSED in pages[9]
    assert "for this address." in pages[9]
    assert PAUSED in _sign_in(email, PASSWORD)
    # The pause is per account: someone else signs in from the same place.
    assert _sign_in(world.client_b_user.email, PASSWORD) == "signed in"


def test_an_unknown_email_pauses_the_same_way_so_nothing_is_revealed(world: World) -> None:
    known = _fail(world.client_a_user.email, 10, address="198.51.100.2")[-1]
    unknown = _fail("nobody@example.test", 10, address="198.51.100.3")[-1]
    assert PAUSED in known and PAUSED in unknown
    assert _without_token(known.replace(world.client_a_user.email, "")) == _without_token(
        unknown.replace("nobody@example.test", "")
    )


def test_the_pause_is_audited_once_with_a_pseudonym(world: World) -> None:
    email = world.client_a_user.email
    _fail(email, 12)
    locked = AuditEvent.objects.filter(action="login.locked")
    assert locked.count() == 1
    event = locked.get()
    assert event.outcome == "denied"
    assert event.detail["by"] == "account"
    assert email not in str(event.detail)
    assert event.actor_id is None
    # Every attempt, refused ones included, is still audited as a failed sign-in.
    assert AuditEvent.objects.filter(action="login", outcome="failed").count() == 12


def test_the_pause_ends_with_the_window(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    email = world.client_a_user.email
    _fail(email, 10)
    assert PAUSED in _sign_in(email, PASSWORD)
    later = timezone.now() + timedelta(minutes=16)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert _sign_in(email, PASSWORD) == "signed in"


def test_a_right_password_clears_the_account_count(world: World) -> None:
    email = world.client_a_user.email
    _fail(email, 9)
    assert _sign_in(email, PASSWORD) == "signed in"
    assert WRONG in _fail(email, 9)[-1]


def test_fifty_failures_from_one_address_pause_it_and_success_does_not_clear_it(
    world: World,
) -> None:
    address = "203.0.113.50"
    # 48 failures already counted against this address (for many emails), then two more here.
    for _ in range(48):
        throttle.add(lockout.IP_SCOPE, address, window_seconds=lockout.WINDOW_SECONDS)
    assert _sign_in(world.client_a_user.email, PASSWORD, address) == "signed in"
    pages = _fail("someone@example.test", 2, address)
    assert WRONG in pages[0] and PAUSED in pages[1]
    assert PAUSED in _sign_in(world.client_b_user.email, PASSWORD, address)
    assert AuditEvent.objects.get(action="login.locked").detail["by"] == "address"
    # Another address is not affected.
    assert _sign_in(world.client_b_user.email, PASSWORD, "203.0.113.51") == "signed in"


def test_the_counters_hold_no_email_or_address(world: World) -> None:
    _fail(world.client_a_user.email, 2, address="203.0.113.77")
    stored = " ".join(ThrottleCounter.objects.values_list("key", flat=True))
    assert world.client_a_user.email.split("@")[0] not in stored
    assert "203.0.113.77" not in stored


def test_password_reset_requests_are_limited_per_email_without_saying_so(world: World) -> None:
    http = HttpClient(REMOTE_ADDR="198.51.100.9")
    email = world.client_a_user.email
    pages = [http.post(reverse("password_reset"), {"email": email}) for _ in range(5)]
    assert {page.status_code for page in pages} == {302}
    assert {page["Location"] for page in pages} == {reverse("password_reset_done")}
    assert len(mail.outbox) == lockout.RESET_EMAIL_LIMIT
    throttled = AuditEvent.objects.filter(action="password.reset.request", outcome="denied")
    assert throttled.count() == 2
    assert email not in str(throttled.first().detail)  # type: ignore[union-attr]


def test_password_reset_requests_are_limited_per_address(world: World) -> None:
    address = "198.51.100.10"
    for _ in range(lockout.RESET_IP_LIMIT):
        throttle.add(lockout.RESET_IP_SCOPE, address, window_seconds=lockout.RESET_WINDOW_SECONDS)
    response = HttpClient(REMOTE_ADDR=address).post(
        reverse("password_reset"), {"email": world.client_b_user.email}
    )
    assert response.status_code == 302
    assert mail.outbox == []


def test_a_stranger_cannot_sign_in_as_someone_else_or_lift_their_pause(world: World) -> None:
    email = world.client_a_user.email
    _fail(email, 10)
    # Signed in as himself, the stranger still cannot reach the client, nor clear her pause.
    stranger = signed_in(world.stranger)
    assert stranger.get(reverse("client_overview", args=[world.client_a.pk])).status_code in {
        403,
        404,
    }
    assert PAUSED in _sign_in(email, PASSWORD)
