"""Sign-in lockout: failed attempts are counted per account (by the email typed, known or not)
and per IP address, in the shared throttle store. Past the limit, sign-in is paused for the rest
of the window, even with the right password."""

from __future__ import annotations

from django.http import HttpRequest

from kithkin.audit import services as audit
from kithkin.security import throttle

WINDOW_SECONDS = 15 * 60
ACCOUNT_LIMIT = 10
IP_LIMIT = 50
ACCOUNT_SCOPE = "login.account"
IP_SCOPE = "login.ip"

RESET_WINDOW_SECONDS = 60 * 60
RESET_EMAIL_LIMIT = 3
RESET_IP_LIMIT = 20
RESET_EMAIL_SCOPE = "reset.email"
RESET_IP_SCOPE = "reset.ip"


def _email_key(email: str) -> str:
    return email.strip().lower()


def is_paused(email: str, request: HttpRequest | None) -> bool:
    """True while sign-in for this email, or from this request's address, is paused."""
    if throttle.is_limited(
        ACCOUNT_SCOPE, _email_key(email), limit=ACCOUNT_LIMIT, window_seconds=WINDOW_SECONDS
    ):
        return True
    return request is not None and throttle.is_limited(
        IP_SCOPE, throttle.client_ip(request), limit=IP_LIMIT, window_seconds=WINDOW_SECONDS
    )


def record_failure(email: str, request: HttpRequest | None) -> None:
    """Count one failed sign-in. The failure that uses up a limit is audited as
    ``login.locked`` (the email only as a pseudonym); attempts refused during the pause are
    audited as failed sign-ins already, so an attack does not flood the trail twice."""
    paused_by: list[str] = []
    key = _email_key(email)
    if throttle.add(ACCOUNT_SCOPE, key, window_seconds=WINDOW_SECONDS) == ACCOUNT_LIMIT:
        paused_by.append("account")
    if request is not None:
        address = throttle.client_ip(request)
        if throttle.add(IP_SCOPE, address, window_seconds=WINDOW_SECONDS) == IP_LIMIT:
            paused_by.append("address")
    for by in paused_by:
        audit.record(
            request,
            action="login.locked",
            object_type="user",
            outcome=audit.Outcome.DENIED,
            detail={"attempted": audit.pseudonym(email), "by": by},
        )


def record_success(email: str) -> None:
    """A right password clears the account's count; the address's count stays, so one good
    login cannot hide a spray of guesses from the same place."""
    throttle.reset(ACCOUNT_SCOPE, _email_key(email))


def minutes_left() -> int:
    return max(1, -(-throttle.retry_after_seconds(window_seconds=WINDOW_SECONDS) // 60))


def may_send_reset(email: str, request: HttpRequest) -> bool:
    """Count one password-reset request; False once this email or address has asked too often
    (the page still says the same thing; only the email is not sent)."""
    by_email = throttle.hit(
        RESET_EMAIL_SCOPE,
        _email_key(email),
        limit=RESET_EMAIL_LIMIT,
        window_seconds=RESET_WINDOW_SECONDS,
    )
    by_ip = throttle.hit(
        RESET_IP_SCOPE,
        throttle.client_ip(request),
        limit=RESET_IP_LIMIT,
        window_seconds=RESET_WINDOW_SECONDS,
    )
    return by_email and by_ip
