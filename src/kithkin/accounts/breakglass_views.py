"""Pages for break-glass emergency access (the rules are in accounts.breakglass).

Staff search their practice's clients by name with a POST (a name never goes into a URL), pick
one, give a reason and a duration, and land on the client's record. Ending and reviewing are
POSTs that name a grant by id in the body. Each view decides access first, so a stranger is
refused the same way whatever method they use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kithkin.accounts import access, breakglass
from kithkin.accounts.models import BreakGlassAccess, Client, Role, User
from kithkin.audit import services as audit
from kithkin.audit.views import humanise_action
from kithkin.security import throttle

USES_PER_PAGE = 20
# Name searches per person in a window, in the shared throttle store: enough for a real
# emergency, too few to page through the practice's client list.
SEARCH_LIMIT_PER_WINDOW = 30
SEARCH_WINDOW_SECONDS = 15 * 60
# The durations offered, in minutes; the setting caps them (and is always offered itself).
DURATIONS = (15, 30, 60, 120, 240, 480)


class SearchForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Client's name"),
        min_length=2,
        max_length=120,
        help_text=gettext_lazy("Part of their name is enough. Only your practice's clients."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def duration_choices() -> list[tuple[int, str]]:
    longest = breakglass.max_minutes()
    minutes = sorted({m for m in DURATIONS if m < longest} | {longest})
    return [(m, _describe_minutes(m)) for m in minutes]


def _describe_minutes(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class OpenForm(forms.Form):
    client = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("Why do you need this client's record now?"),
        max_length=breakglass.REASON_MAX_LENGTH,
        help_text=gettext_lazy(
            "At least 20 characters: what is happening, and why it cannot wait for the care team. "
            "A practice admin reads this when they review the access."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    minutes = forms.TypedChoiceField(
        label=gettext_lazy("For how long"),
        coerce=int,
        help_text=gettext_lazy("Access ends by itself then. You can end it sooner."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = duration_choices()
        field = self.fields["minutes"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = choices
        values = [value for value, _label in choices]
        field.initial = 30 if 30 in values else values[-1]


class GrantForm(forms.Form):
    grant = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("Review note (optional)"),
        required=False,
        max_length=breakglass.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@dataclass(frozen=True)
class Row:
    use: breakglass.Use
    opened: list[tuple[str, breakglass.Opened]]


def _staff(request: HttpRequest) -> User:
    access.require_role(request, Role.ADMIN, Role.CLINICIAN)
    user = request.user
    assert isinstance(user, User)
    return user


def _page(request: HttpRequest, **context: Any) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context.setdefault("search_form", SearchForm())
    context.setdefault("results", None)
    context["grants"] = list(breakglass.live_grants(user))
    context["max_minutes"] = breakglass.max_minutes()
    context["search_limit"] = breakglass.SEARCH_LIMIT
    return render(request, "accounts/breakglass/search.html", context)


def search(request: HttpRequest) -> HttpResponse:
    """Find a client by name (POST only, so names stay out of URLs and logs)."""
    user = _staff(request)
    if request.method != "POST":
        return _page(request)
    if not throttle.hit(
        "breakglass_search",
        f"user:{user.pk}",
        limit=SEARCH_LIMIT_PER_WINDOW,
        window_seconds=SEARCH_WINDOW_SECONDS,
    ):
        wait = throttle.retry_after_seconds(window_seconds=SEARCH_WINDOW_SECONDS)
        return throttle.refuse(request, "breakglass_search", retry_after=wait)
    form = SearchForm(request.POST)
    if not form.is_valid():
        return _page(request, search_form=form)
    results = breakglass.search_clients(user, form.cleaned_data["name"])
    audit.record(
        request,
        action="breakglass.search",
        object_type="practice",
        object_id=access.membership_of(user).practice_id,  # type: ignore[union-attr]
        detail={"results": len(results)},
    )
    return _page(request, search_form=form, results=results)


def open_access(request: HttpRequest) -> HttpResponse:
    """Step two: the reason and duration for one client, then open the access."""
    _staff(request)
    if request.method != "POST":
        return redirect("breakglass")
    chosen = request.POST.get("client", "")
    client = access.get_emergency_candidate(request, chosen, action="breakglass.choose")
    if access.has_care_access(request.user, client):
        messages.info(request, _("You can already open this client's record."))
        return redirect("client_overview", client_id=client.pk)
    if "reason" not in request.POST:
        audit.record(
            request,
            action="breakglass.choose",
            object_type="client",
            object_id=client.pk,
            client=client,
        )
        form = OpenForm(initial={"client": client.pk})
        return _render_open(request, client, form)
    form = OpenForm(request.POST)
    if form.is_valid():
        try:
            grant = breakglass.open_access(
                request, client, form.cleaned_data["reason"], form.cleaned_data["minutes"]
            )
        except breakglass.BreakGlassError as error:
            form.add_error(None, str(error))
        else:
            messages.warning(
                request,
                _(
                    "Emergency access is open. Everything you open is recorded and will be "
                    "reviewed. It ends by itself at the time shown at the top of each page."
                ),
            )
            return redirect("client_overview", client_id=grant.client_id)
    return _render_open(request, client, form)


def _render_open(request: HttpRequest, client: Client, form: OpenForm) -> HttpResponse:
    return render(
        request,
        "accounts/breakglass/open.html",
        {"client": client, "form": form, "max_minutes": breakglass.max_minutes()},
    )


def end(request: HttpRequest) -> HttpResponse:
    """End a grant now: the holder ends their own; a practice admin may end any in the
    practice (from the review page)."""
    user = _staff(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = GrantForm(request.POST)
    grant_id = form.cleaned_data["grant"] if form.is_valid() else None
    grant = _grant_for_ending(user, grant_id)
    if grant is None:
        audit.record(
            request,
            action="breakglass.end",
            object_type="break_glass",
            object_id=str(request.POST.get("grant", ""))[:64],
            outcome=audit.Outcome.DENIED,
        )
        messages.info(request, _("That emergency access had already ended."))
    elif breakglass.end_access(request, grant):
        messages.success(request, _("Emergency access has ended."))
    else:
        messages.info(request, _("That emergency access had already ended."))
    if request.POST.get("from") == "review" and grant is not None and grant.user_id != user.pk:
        return redirect("breakglass_review")
    return redirect("home")


def _grant_for_ending(user: User, grant_id: int | None) -> BreakGlassAccess | None:
    if grant_id is None:
        return None
    own = breakglass.live_grants(user).filter(pk=grant_id).first()
    if own is not None:
        return own
    return breakglass.grants_to_review(user).filter(pk=grant_id).first()


def review_list(request: HttpRequest) -> HttpResponse:
    """For practice admins: every use of emergency access, with what it opened, to review."""
    membership = access.practice_admin_membership(request)
    user = request.user
    assert isinstance(user, User)
    grants = breakglass.grants_to_review(user)
    if request.method == "POST":
        form = GrantForm(request.POST)
        grant = grants.filter(pk=form.cleaned_data["grant"]).first() if form.is_valid() else None
        if grant is None:
            audit.record(
                request,
                action="breakglass.review",
                object_type="break_glass",
                object_id=str(request.POST.get("grant", ""))[:64],
                outcome=audit.Outcome.DENIED,
            )
            messages.error(request, _("That emergency access could not be found."))
        else:
            try:
                breakglass.review(request, grant, form.cleaned_data["note"])
            except breakglass.BreakGlassError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Marked as reviewed."))
        return redirect("breakglass_review")
    page = Paginator(grants, USES_PER_PAGE).get_page(request.GET.get("page"))
    uses = breakglass.uses_for_review(list(page.object_list))
    audit.record(
        request,
        action="breakglass.review_list",
        object_type="practice",
        object_id=membership.practice_id,
        detail={"shown": [use.grant.pk for use in uses]},
    )
    return render(
        request,
        "accounts/breakglass/review.html",
        {
            "page": page,
            "rows": [
                Row(use, [(humanise_action(o.action), o) for o in use.opened]) for use in uses
            ],
            "review_form": GrantForm(),
        },
    )
