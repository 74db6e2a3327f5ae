"""Nobody who needs two-step sign-in reaches anything but the two-step pages before the second
step: a password alone opens no client data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse

from kithkin.accounts import mfa
from kithkin.audit import services as audit

# What a session waiting for its second step may open. Everything else redirects to that step.
ALLOWED_VIEWS = frozenset(
    {"mfa_verify", "mfa_recovery", "mfa_enrol", "logout", "healthz", "readyz"}
)


class StaffMFARequiredMiddleware:
    """After the login-required middleware: a signed-in person who needs two-step sign-in
    (staff always; clients and members who opted in) and whose session has not passed it is
    redirected to the code step, or to setting up an app if they have none yet. Refusals are
    audited (the view name only: a path may name an object)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        user = request.user
        if not user.is_authenticated or mfa.is_verified(request):
            return None
        match = request.resolver_match
        name = match.view_name if match else ""
        if name in ALLOWED_VIEWS or request.path_info.startswith(settings.STATIC_URL):
            # Pages rendered here (a code step, a "too many tries" pause) show no navigation
            # and nothing about clients until the second step is done (core/base.html).
            request.kithkin_second_step_pending = mfa.needs_mfa(user)  # type: ignore[attr-defined]
            return None
        if not mfa.needs_mfa(user):
            return None
        audit.record(
            request,
            action="mfa.required",
            object_type="view",
            object_id=name,
            outcome=audit.Outcome.DENIED,
        )
        step = "mfa_verify" if mfa.is_enrolled(user) else "mfa_enrol"
        url = reverse(step)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)
