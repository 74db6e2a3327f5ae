from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect

from kithkin.audit import services as audit


class AuditedLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Deny by default: every view needs a signed-in user unless marked ``login_not_required``.
    Each refusal is written to the audit trail (the path is not: it may name an object)."""

    def handle_no_permission(
        self, request: HttpRequest, view_func: Callable[..., HttpResponseBase]
    ) -> HttpResponseRedirect:
        audit.record(
            request,
            action="login.required",
            object_type="view",
            object_id=request.resolver_match.view_name if request.resolver_match else "",
            outcome=audit.Outcome.DENIED,
        )
        return super().handle_no_permission(request, view_func)
