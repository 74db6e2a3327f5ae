"""Finding a client on one's own caseload by name. The search is sent by POST, so names never
appear in a URL, a browser's history or an access log; it is rate-limited and audited (with the
number of matches only)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kithkin.accounts import homes
from kithkin.accounts.access import STAFF_ROLES, roles_of
from kithkin.accounts.models import User
from kithkin.audit import services as audit
from kithkin.security.limits import SEARCH_LIMIT, SEARCH_WINDOW_SECONDS
from kithkin.security.throttle import rate_limited

MIN_LENGTH = 2
MAX_LENGTH = 60


class CaseloadSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find a client on your caseload"),
        help_text=_("Type part of their name or preferred name."),
        max_length=MAX_LENGTH,
        error_messages={
            "required": _("Type at least two letters of a name."),
            "max_length": _("Names are shorter than that: type at most 60 letters."),
        },
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_q(self) -> str:
        text = " ".join(str(self.cleaned_data["q"]).split())
        if len(text) < MIN_LENGTH:
            raise forms.ValidationError(_("Type at least two letters of a name."), code="short")
        return text


@require_http_methods(["GET", "POST"])
@rate_limited(
    "caseload.search", limit=SEARCH_LIMIT, window_seconds=SEARCH_WINDOW_SECONDS, methods=("POST",)
)
def caseload_search(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or not roles_of(user) & STAFF_ROLES:
        audit.record(
            request,
            action="caseload.search",
            object_type="caseload",
            outcome=audit.Outcome.DENIED,
        )
        raise PermissionDenied
    form = CaseloadSearchForm(request.POST or None, label_suffix="")
    result = None
    if request.method == "POST" and form.is_valid():
        result = homes.search_caseload(user, form.cleaned_data["q"])
        audit.record(
            request,
            action="caseload.search",
            object_type="caseload",
            object_id=user.pk,
            detail={"count": len(result.matches)},
        )
    return render(request, "accounts/caseload_search.html", {"form": form, "result": result})
