"""The inbox every signed-in person has, their email choices, and the unsubscribe link.

The inbox shows only the signed-in person's own notifications: another person's id is a 404,
audited as denied. The unsubscribe page is public (the link must work from an email without
signing in); the signed token in its URL is the only thing that grants anything there."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kithkin.accounts.access import roles_of
from kithkin.accounts.models import User
from kithkin.audit import services as audit
from kithkin.notifications import kinds, services
from kithkin.notifications.forms import PreferencesForm
from kithkin.notifications.services import UnsubscribeProblem, UnsubscribeRefused

PER_PAGE = 20
# RFC 8058: the body a mail program POSTs when its own unsubscribe button is pressed.
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
PROBLEM_STATUS = {
    # A link we cannot read looks like one that never existed.
    UnsubscribeProblem.TAMPERED: 404,
    UnsubscribeProblem.EXPIRED: 410,
}


def _user(request: HttpRequest) -> User:
    # Login is required by middleware; this narrows the type for the checker.
    assert isinstance(request.user, User)
    return request.user


def _inbox_url(page: str | None = None) -> str:
    url = reverse("notifications")
    if page and page.isdigit() and page != "1":
        url += f"?page={page}"
    return url


# --- the inbox -----------------------------------------------------------------------------


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(services.inbox(_user(request)), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@require_POST
def open_notification(request: HttpRequest, notification_id: UUID) -> HttpResponse:
    """Mark one of the person's notifications read and go where it points (or back)."""
    notification = services.mark_read(_user(request), notification_id)
    if notification is None:
        audit.record(
            request,
            action="notifications.open",
            object_type="notification",
            object_id=notification_id,
            outcome=audit.Outcome.DENIED,
        )
        raise Http404
    target = notification.url
    # The url was checked when stored; checked again so this can never redirect off-site.
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(_inbox_url(request.POST.get("page")))
    return redirect(target)


@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    marked = services.mark_all_read(_user(request))
    if marked:
        messages.success(request, _("All your notifications are marked as read."))
    return redirect("notifications")


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    current = services.email_preferences(user)
    roles = roles_of(user)
    # Everything the person's roles may receive, and anything they turned off (perhaps by an
    # unsubscribe link) so they can always turn it back on.
    shown = [
        info
        for info in kinds.CATEGORIES.values()
        if info.roles & roles or not current[info.category]
    ]
    # Not ``request.POST or None``: unticking every box posts nothing, and must still save.
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, categories=shown, current=current)
    if request.method == "POST" and form.is_valid():
        services.save_preferences(request, user, form.choices())
        messages.success(request, _("Your email choices are saved."))
        return redirect("notification_preferences")
    return render(request, "notifications/preferences.html", {"form": form})


# --- unsubscribing (public) ----------------------------------------------------------------


def _problem_page(request: HttpRequest, refused: UnsubscribeRefused) -> HttpResponse:
    audit.record(
        request,
        action="notifications.unsubscribe",
        object_type="token",
        outcome=audit.Outcome.DENIED,
        detail={"problem": refused.problem.value},
    )
    return render(
        request,
        "notifications/unsubscribe_problem.html",
        {"problem": refused.problem.value},
        status=PROBLEM_STATUS[refused.problem],
    )


def _done_page(request: HttpRequest, found: services.Unsubscribe) -> HttpResponse:
    return render(
        request,
        "notifications/unsubscribe_done.html",
        {"category": kinds.CATEGORIES[found.category]},
    )


@csrf_protect
def _unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation page and its form (CSRF-protected like every other form)."""
    try:
        if request.method == "POST":
            return _done_page(request, services.unsubscribe(request, token, via="page"))
        found = services.read_unsubscribe_token(token)
    except UnsubscribeRefused as refused:
        return _problem_page(request, refused)
    return render(
        request,
        "notifications/unsubscribe.html",
        {"category": kinds.CATEGORIES[found.category], "token": token},
    )


@login_not_required
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Public. Opening the link only shows a page with a button: mail scanners follow links, and
    must not unsubscribe anyone. The one exception to CSRF is RFC 8058's one-click POST, sent by
    the person's mail program with the body ``List-Unsubscribe=One-Click``; the signed token is
    what authorises it. Every other POST goes through the CSRF-protected page."""
    if request.method == "POST" and request.POST.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE:
        try:
            found = services.unsubscribe(request, token, via="one_click")
        except UnsubscribeRefused as refused:
            return _problem_page(request, refused)
        return _done_page(request, found)
    return _unsubscribe_page(request, token)
