"""Helpers for the two-step sign-in tests: codes from a device, and signing in through the forms."""

from __future__ import annotations

import re
import time

from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.oath import TOTP

from kithkin.accounts.models import AuthenticatorDevice, User
from tests.factories import PASSWORD


def code_for(device: AuthenticatorDevice, steps_ahead: int = 0) -> str:
    """The code the person's app shows now (or ``steps_ahead`` 30-second steps later, which the
    server accepts one step either way: a second sign-in within one step needs a fresh code)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def unused_code(device: AuthenticatorDevice) -> str:
    """A code the device accepts now: this step's, or the next step's if this one was used
    (each code works once, and a test may sign the same person in twice within 30 seconds)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return code_for(device, 1 if totp.t() <= device.last_t else 0)


def wrong_code(device: AuthenticatorDevice) -> str:
    """A 6-digit code the device rejects now."""
    accepted = {code_for(device, step) for step in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def device_of(user: User) -> AuthenticatorDevice:
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    assert device is not None, f"{user} has no authenticator device"
    return device


def confirmed_device(user: User) -> AuthenticatorDevice:
    return AuthenticatorDevice.objects.create(user=user, name="authenticator", confirmed=True)


def password_only(user: User, http: HttpClient | None = None) -> HttpClient:
    """A session after the password step only, through the sign-in form."""
    http = http or HttpClient()
    response = http.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return http


def recovery_codes_in(body: str) -> list[str]:
    return re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", body)


def enrol_through_the_pages(http: HttpClient, user: User) -> tuple[AuthenticatorDevice, list[str]]:
    """Open the set-up page, confirm with the app's code, and return the device and codes."""
    page = http.get(reverse("mfa_enrol"))
    assert page.status_code == 200, page.status_code
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    response = http.post(reverse("mfa_enrol"), {"code": code_for(device)})
    assert response.status_code == 200, response.status_code
    codes = recovery_codes_in(response.content.decode())
    assert len(codes) == 10
    return device_of(user), codes


def reauthenticate(http: HttpClient, code: str = "") -> None:
    data = {"password": PASSWORD}
    if code:
        data["code"] = code
    response = http.post(reverse("reauth"), data)
    assert response.status_code == 302, response.content.decode()[:500]
