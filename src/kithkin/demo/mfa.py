"""Two-step sign-in for the demo's staff: each gets an authenticator device at load time, and
``kithkin demo-code EMAIL`` prints its current code (only for devices this module made)."""

from __future__ import annotations

import time

from django.db.models import Q
from django_otp.oath import TOTP

from kithkin.accounts.mfa import DEMO_DEVICE_NAME
from kithkin.accounts.models import AuthenticatorDevice, Membership, User


def _demo_domain() -> str:
    from kithkin.demo.generator import EMAIL_DOMAIN

    return f"@{EMAIL_DOMAIN}"


def _give_devices(users: list[User]) -> int:
    AuthenticatorDevice.objects.bulk_create(
        [AuthenticatorDevice(user=user, name=DEMO_DEVICE_NAME, confirmed=True) for user in users]
    )
    return len(users)


def add_staff_mfa(build: object) -> None:
    """A demo step (after add_staff): every demo admin and clinician has an app already set up,
    so the demo's staff logins work with `kithkin demo-code`."""
    admin: User | None = getattr(build, "admin", None)
    clinicians: list[User] = list(getattr(build, "clinicians", []))
    _give_devices([user for user in [admin, *clinicians] if user is not None])


def ensure_staff_mfa() -> int:
    """For a demo loaded before two-step sign-in existed: give each demo staff member without a
    device one. Returns how many were given."""
    staff = (
        User.objects.filter(
            email__endswith=_demo_domain(), pk__in=Membership.objects.values("user")
        )
        .exclude(pk__in=AuthenticatorDevice.objects.filter(confirmed=True).values("user"))
        .order_by("pk")
    )
    return _give_devices(list(staff))


def current_code(email: str) -> str | None:
    """The code a demo staff member's app would show now, or None for any account the demo
    loader did not set up (real accounts never get a code from here)."""
    device = (
        AuthenticatorDevice.objects.filter(
            Q(user__email__iexact=email.strip()),
            user__email__endswith=_demo_domain(),
            name=DEMO_DEVICE_NAME,
            confirmed=True,
        )
        .order_by("pk")
        .first()
    )
    if device is None:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        # This step's code was used already (each works once): the next one is accepted too.
        totp.time += device.step
    return f"{totp.token():0{device.digits}d}"
