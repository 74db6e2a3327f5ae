"""Signing in and out, password reset and change, a person's settings, and the home page
that each role lands on."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kithkin.accounts import homes, mfa
from kithkin.accounts.access import roles_of
from kithkin.accounts.forms import SettingsForm, SignInForm
from kithkin.accounts.models import Role, User
from kithkin.audit import services as audit
from kithkin.measures import services as measures
from kithkin.measures.models import DueState
from kithkin.security import lockout

# ---------------------------------------------------------------- home


def _user(request: HttpRequest) -> User:
    # Login is required everywhere by middleware; this narrows the type for the checker.
    assert isinstance(request.user, User)
    return request.user


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """One address for everyone: what it shows depends on the roles the person holds."""
    roles = roles_of(request.user)
    if roles & {Role.ADMIN, Role.CLINICIAN}:
        return _staff_home(request)
    if Role.CLIENT in roles:
        return _client_home(request)
    if Role.MEMBER in roles:
        return _member_home(request)
    return render(request, "accounts/home_no_access.html")


def _staff_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    summary = homes.practice_summary(user)
    page = homes.caseload_page(user, request.GET.get("page"))
    total = page.paginator.count
    # One event for reading the list, not one per client: the list shows names only, and the
    # client's own record is audited when opened.
    audit.record(
        request,
        action="caseload.view",
        object_type="caseload",
        object_id=user.pk,
        detail={"count": total},
    )
    return render(
        request, "accounts/home_staff.html", {"summary": summary, "page": page, "total": total}
    )


def _client_home(request: HttpRequest) -> HttpResponse:
    view = homes.client_home(_user(request))
    if view is None:  # the role check and the lookup agree, unless the record changed between
        return render(request, "accounts/home_no_access.html")
    audit.record(
        request,
        action="client.home.view",
        object_type="client",
        object_id=view.client.pk,
        client=view.client,
    )
    # Due check-ins first: only the overview's rows know about a check-in left half-done.
    checkins = [
        row
        for row in measures.overview(view.client, audience="client").assignments
        if row.state in (DueState.DUE, DueState.OVERDUE) or row.in_progress is not None
    ]
    return render(request, "accounts/home_client.html", {"home": view, "checkins": checkins})


def _member_home(request: HttpRequest) -> HttpResponse:
    circles = homes.member_circles(_user(request))
    for circle in circles:
        audit.record(
            request,
            action="member.home.view",
            object_type="client",
            object_id=circle.client.pk,
            client=circle.client,
        )
    return render(request, "accounts/home_member.html", {"circles": circles})


# ---------------------------------------------------------------- settings


@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SettingsForm(request.POST or None, instance=user, label_suffix="")
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit.record(
                request,
                action="account.update",
                object_type="user",
                object_id=user.pk,
                detail={"fields": sorted(form.changed_data)},
            )
        messages.success(request, _("Your settings are saved."))
        return redirect("settings")
    return render(request, "accounts/settings.html", {"form": form, "mfa_status": mfa.status(user)})


# ---------------------------------------------------------------- signing in and out


class _PlainLabels:
    """Labels without Django's trailing colon, to match the rest of Kithkin's forms."""

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()  # type: ignore[misc]
        kwargs["label_suffix"] = ""
        return kwargs


class SignInView(_PlainLabels, auth_views.LoginView):
    """Public (Django marks LoginView ``login_not_required``). Signed-in visitors go home."""

    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        # A correct password is only the first step for staff and anyone who opted in: the
        # session stays unverified (mfa_middleware) until the code step, which then goes on.
        url = super().get_success_url()
        user = self.request.user
        if mfa.needs_mfa(user):
            step = "mfa_verify" if mfa.is_enrolled(user) else "mfa_enrol"
            return f"{reverse(step)}?{urlencode({'next': url})}"
        return url


class SignOutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET), so a link or image cannot sign anyone out."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have signed out."))
        return response


class ResetRequestView(_PlainLabels, auth_views.PasswordResetView):
    """Asks for an email and always says the same thing, so it reveals no accounts."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    @property
    def extra_email_context(self) -> dict[str, Any]:  # type: ignore[override]
        # Links use the configured site address, never the request's Host header.
        return {"site_url": settings.SITE_URL}

    def form_valid(self, form: Any) -> HttpResponse:
        email = form.cleaned_data["email"]
        attempted = {"attempted": audit.pseudonym(email)}
        if not lockout.may_send_reset(email, self.request):
            # Same page as ever, so the limit reveals nothing; only the email is not sent.
            audit.record(
                self.request,
                action="password.reset.request",
                object_type="user",
                outcome=audit.Outcome.DENIED,
                detail={**attempted, "throttled": True},
            )
            return HttpResponseRedirect(self.get_success_url())
        response = super().form_valid(form)
        audit.record(
            self.request, action="password.reset.request", object_type="user", detail=attempted
        )
        return response


class ResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class ResetConfirmView(_PlainLabels, auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(
            self.request,
            action="password.reset",
            object_type="user",
            object_id=form.user.pk,
            actor=form.user,
        )
        return response


class ResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class ChangePasswordView(_PlainLabels, auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("settings")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(
            self.request,
            action="account.password_change",
            object_type="user",
            object_id=self.request.user.pk,
        )
        messages.success(self.request, _("Your password is changed."))
        return response
