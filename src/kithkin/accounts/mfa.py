"""Two-step sign-in: a TOTP authenticator app (django-otp) with single-use recovery codes.

Staff (practice admins and clinicians) must use it: until their session is verified with a code,
:class:`kithkin.accounts.mfa_middleware.StaffMFARequiredMiddleware` lets them reach only the
two-step pages and sign-out. Clients and network members may opt in, and then it applies to them
the same way.

Recovery codes are stored hashed (SHA-256 of an 80-bit random code, in django-otp's static
tokens), so a copy of the database does not hand them out. Every code attempt, at sign-in or
when confirming a device, counts against one shared per-person limit (5 in 15 minutes).

Changing the email address or anything here needs a recent re-authentication
(:func:`require_recent_auth`): the password again, and a code when enrolled.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from kithkin.accounts.access import roles_of
from kithkin.accounts.models import AuthenticatorDevice, Role, User
from kithkin.audit import services as audit
from kithkin.security import throttle

DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
# Devices the demo loader makes; `kithkin demo-code` prints codes for these and no others.
DEMO_DEVICE_NAME = "demo"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_GROUPS = 4  # of 4 base32 characters each: 80 random bits
CODE_LIMIT = 5
CODE_WINDOW_SECONDS = 15 * 60
REAUTH_SECONDS = 5 * 60
REAUTH_SESSION_KEY = "kithkin_reauth_at"
STAFF_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN})

_SIX_DIGITS = re.compile(r"\d{6}")
_RECOVERY_SHAPE = re.compile(r"[a-z2-7]{16}")


class Outcome(enum.Enum):
    VERIFIED = "verified"
    WRONG = "wrong"
    REFUSED = "refused"  # too many tries


# ---------------------------------------------------------------- who needs it


def is_staff(user: Any) -> bool:
    return bool(roles_of(user) & STAFF_ROLES)


def is_enrolled(user: Any) -> bool:
    """Has a confirmed authenticator app."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists())


def needs_mfa(user: Any) -> bool:
    """Staff always; clients and members once they have opted in (enrolled)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return is_staff(user) or is_enrolled(user)


def is_verified(request: HttpRequest) -> bool:
    """This session has passed the second step (django-otp's OTPMiddleware sets the device)."""
    return getattr(request.user, "otp_device", None) is not None


def may_turn_off(user: Any) -> bool:
    """Staff cannot turn two-step sign-in off, only replace their device."""
    return not is_staff(user)


@dataclass(frozen=True)
class Status:
    enrolled: bool
    required: bool
    recovery_codes_left: int
    may_turn_off: bool


def status(user: User) -> Status:
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return Status(is_enrolled(user), is_staff(user), left, may_turn_off(user))


# ---------------------------------------------------------------- codes


def _digits(code: str) -> str:
    return "".join(code.split())


def normalise_recovery_code(code: str) -> str:
    """Recovery codes may be typed in any case, with or without the dashes and spaces."""
    return re.sub(r"[\s\-]", "", code).lower()


def _recovery_hash(normalised: str) -> str:
    # Fits django-otp's 16-character token column: 80 bits of SHA-256, base32.
    digest = hashlib.sha256(normalised.encode()).digest()
    return base64.b32encode(digest).decode()[:16].lower()


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 16 characters
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def check_code(user: User, code: str) -> Device | None:
    """The device that accepts ``code`` (a 6-digit app code, or an unused recovery code, which
    is then used up), or None. Neither counted nor audited: callers do both."""
    typed = _digits(code)
    if _SIX_DIGITS.fullmatch(typed):
        with transaction.atomic():
            # Locked, so one code cannot be accepted twice by simultaneous requests.
            for device in AuthenticatorDevice.objects.select_for_update().filter(
                user=user, confirmed=True
            ):
                if device.verify_token(typed):
                    return device
        return None
    normalised = normalise_recovery_code(code)
    if not _RECOVERY_SHAPE.fullmatch(normalised):
        return None
    with transaction.atomic():
        static = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if static is not None and static.verify_token(_recovery_hash(normalised)):
            return static
    return None


def _count_attempt(user: User) -> bool:
    return throttle.hit("otp", str(user.pk), limit=CODE_LIMIT, window_seconds=CODE_WINDOW_SECONDS)


def _forget_attempts(user: User) -> None:
    """A right code clears the count: the limit is for guessing, and a clinician who signs in
    on a desk, a phone and a session-room laptop within 15 minutes is not guessing."""
    throttle.reset("otp", str(user.pk))


def _mark_verified(request: HttpRequest, device: Device) -> None:
    # A new session id when the session gains the second factor, as at sign-in.
    request.session.cycle_key()
    otp_login(request, device)


def verify(request: HttpRequest, code: str) -> Outcome:
    """The second step of signing in: a code from the app, or a recovery code (used up)."""
    user = request.user
    assert isinstance(user, User)
    if not _count_attempt(user):
        audit.record(
            request,
            action="mfa.verify",
            object_type="user",
            object_id=user.pk,
            outcome=audit.Outcome.DENIED,
        )
        return Outcome.REFUSED
    device = check_code(user, code)
    if device is None:
        audit.record(
            request,
            action="mfa.verify",
            object_type="user",
            object_id=user.pk,
            outcome=audit.Outcome.FAILED,
        )
        return Outcome.WRONG
    _mark_verified(request, device)
    _forget_attempts(user)
    method = "recovery_code" if isinstance(device, StaticDevice) else "app"
    detail: dict[str, Any] = {"method": method}
    if isinstance(device, StaticDevice):
        detail["recovery_codes_left"] = device.token_set.count()
    audit.record(request, action="mfa.verify", object_type="user", object_id=user.pk, detail=detail)
    return Outcome.VERIFIED


# ---------------------------------------------------------------- enrolment


def start_enrolment(user: User) -> AuthenticatorDevice:
    """An unconfirmed device with a fresh secret; the same one again until it is confirmed, so
    reloading the page does not change the QR code being scanned."""
    device = AuthenticatorDevice.objects.filter(
        user=user, confirmed=False, name=DEVICE_NAME
    ).first()
    if device is None:
        device = AuthenticatorDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def pending_device(user: User) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=False, name=DEVICE_NAME).first()


def secret_for_typing(device: AuthenticatorDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: AuthenticatorDevice) -> str:
    """The otpauth:// address as an SVG QR code in a data: URI (allowed by the CSP's img-src)."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2))


def _replace_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        [
            StaticToken(device=device, token=_recovery_hash(normalise_recovery_code(c)))
            for c in codes
        ]
    )
    return codes


def confirm_enrolment(
    request: HttpRequest, device: AuthenticatorDevice, code: str
) -> list[str] | None:
    """Confirm ``device`` with a code from the app. On success it replaces any earlier device,
    the session counts as verified with it, and ten new recovery codes are returned (to be shown
    once). None when the code is wrong; raises :class:`TooManyTries` when over the limit."""
    user = request.user
    assert isinstance(user, User)
    if device.user_id != user.pk or device.confirmed:
        raise ValueError("not this person's pending device")
    if not _count_attempt(user):
        audit.record(
            request,
            action="mfa.enrol",
            object_type="user",
            object_id=user.pk,
            outcome=audit.Outcome.DENIED,
        )
        raise TooManyTries
    typed = _digits(code)
    with transaction.atomic():
        locked = AuthenticatorDevice.objects.select_for_update().get(pk=device.pk)
        if not (_SIX_DIGITS.fullmatch(typed) and locked.verify_token(typed)):
            ok = False
        else:
            ok = True
            replaced = AuthenticatorDevice.objects.filter(user=user).exclude(pk=locked.pk)
            had_device = replaced.filter(confirmed=True).exists()
            replaced.delete()
            locked.confirmed = True
            locked.save(update_fields=["confirmed"])
            codes = _replace_recovery_codes(user)
            audit.record(
                request,
                action="mfa.enrol",
                object_type="user",
                object_id=user.pk,
                detail={"replaced": had_device},
            )
    if not ok:
        audit.record(
            request,
            action="mfa.enrol",
            object_type="user",
            object_id=user.pk,
            outcome=audit.Outcome.FAILED,
        )
        return None
    _mark_verified(request, locked)
    _forget_attempts(user)
    return codes


class TooManyTries(Exception):
    """The shared limit on code attempts is used up for now."""


def regenerate_recovery_codes(request: HttpRequest) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    user = request.user
    assert isinstance(user, User)
    if not is_enrolled(user):
        raise ValueError("two-step sign-in is not set up")
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
        audit.record(request, action="mfa.recovery_codes", object_type="user", object_id=user.pk)
    if isinstance(request.user.otp_device, StaticDevice):  # type: ignore[union-attr]
        # The session was verified with a recovery code from the set just removed: keep it
        # verified with the app device instead of signing the person out under their feet.
        app = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
        if app is not None:
            otp_login(request, app)
    return codes


def remove_devices(user: User) -> None:
    """Delete the person's authenticator app and recovery codes (callers audit)."""
    AuthenticatorDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def remove_mfa(request: HttpRequest) -> bool:
    """Turn two-step sign-in off (clients and members only). False, audited, for staff."""
    user = request.user
    assert isinstance(user, User)
    if not may_turn_off(user):
        audit.record(
            request,
            action="mfa.remove",
            object_type="user",
            object_id=user.pk,
            outcome=audit.Outcome.DENIED,
        )
        return False
    with transaction.atomic():
        remove_devices(user)
        audit.record(request, action="mfa.remove", object_type="user", object_id=user.pk)
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.user.otp_device = None  # type: ignore[union-attr]
    return True


# ---------------------------------------------------------------- re-authentication


def has_recent_auth(request: HttpRequest, max_age_seconds: int = REAUTH_SECONDS) -> bool:
    at = request.session.get(REAUTH_SESSION_KEY)
    if not isinstance(at, int | float):
        return False
    age = timezone.now().timestamp() - at
    return 0 <= age <= max_age_seconds


def require_recent_auth(
    request: HttpRequest,
    max_age_seconds: int = REAUTH_SECONDS,
    *,
    back: str = "",
    cancel: str = "",
) -> HttpResponse | None:
    """None when the person proved who they are in the last ``max_age_seconds``; otherwise a
    redirect to the re-authentication page, which comes back afterwards to ``back``, or to this
    page when it was a GET (a form post cannot be replayed: Settings, unless told where). Its
    Cancel leads to ``cancel`` (default Settings)."""
    if has_recent_auth(request, max_age_seconds):
        return None
    if not back:
        back = request.get_full_path() if request.method == "GET" else reverse("settings")
    query = {"next": back, **({"cancel": cancel} if cancel else {})}
    return HttpResponseRedirect(f"{reverse('reauth')}?{urlencode(query)}")


def reauthenticate(request: HttpRequest, password: str, code: str) -> Outcome:
    """Check the password (and a code, when enrolled) again; counted and audited."""
    user = request.user
    assert isinstance(user, User)
    if not throttle.hit(
        "reauth", str(user.pk), limit=CODE_LIMIT, window_seconds=CODE_WINDOW_SECONDS
    ):
        outcome, result = audit.Outcome.DENIED, Outcome.REFUSED
    else:
        ok = user.check_password(password)
        # The code is checked only after a right password, so it cannot be guessed on its own.
        if ok and is_enrolled(user):
            ok = check_code(user, code) is not None
        outcome, result = (
            (audit.Outcome.SUCCESS, Outcome.VERIFIED)
            if ok
            else (audit.Outcome.FAILED, Outcome.WRONG)
        )
    audit.record(
        request, action="account.reauth", object_type="user", object_id=user.pk, outcome=outcome
    )
    if result is Outcome.VERIFIED:
        request.session[REAUTH_SESSION_KEY] = timezone.now().timestamp()
        throttle.reset("reauth", str(user.pk))  # as with codes: the limit is for guessing
    return result


def safe_next(request: HttpRequest, default: str, *, name: str = "next") -> str:
    """The ``next`` address (or another parameter's) if it stays on this site, else
    ``default``."""
    candidate = request.POST.get(name) or request.GET.get(name) or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
