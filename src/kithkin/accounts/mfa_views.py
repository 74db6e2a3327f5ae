"""Two-step sign-in pages (the code step, setting up an app, recovery codes, turning it off),
re-authentication, and changing the email address. Services live in :mod:`kithkin.accounts.mfa`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from kithkin.accounts import email_change, mfa
from kithkin.accounts.mfa_forms import (
    WRONG_CODE,
    WRONG_REAUTH,
    WRONG_RECOVERY_CODE,
    CodeForm,
    EmailChangeForm,
    ReauthForm,
    RecoveryCodeForm,
)
from kithkin.accounts.models import EmailChange, User
from kithkin.security import throttle


def _user(request: HttpRequest) -> User:
    # Login is required everywhere by middleware; this narrows the type for the checker.
    assert isinstance(request.user, User)
    return request.user


def _next(request: HttpRequest) -> str:
    return mfa.safe_next(request, reverse("home"))


# ---------------------------------------------------------------- the second step


def _code_step(
    request: HttpRequest, form_class: type[CodeForm] | type[RecoveryCodeForm], template: str
) -> HttpResponse:
    user = _user(request)
    if mfa.is_verified(request) or not mfa.needs_mfa(user):
        return redirect(_next(request))
    if not mfa.is_enrolled(user):
        return redirect(f"{reverse('mfa_enrol')}?{request.GET.urlencode()}")
    form = form_class(request.POST or None, label_suffix="")
    if request.method == "POST" and form.is_valid():
        outcome = mfa.verify(request, form.cleaned_data["code"])
        if outcome is mfa.Outcome.REFUSED:
            return throttle.refuse(request, "otp")
        if outcome is mfa.Outcome.VERIFIED:
            left = mfa.status(user).recovery_codes_left
            if form_class is RecoveryCodeForm:
                messages.warning(
                    request,
                    ngettext(
                        "You have %(count)d recovery code left. You can make new ones in Settings.",
                        "You have %(count)d recovery codes left. You can make new ones in "
                        "Settings.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(_next(request))
        wrong = WRONG_RECOVERY_CODE if form_class is RecoveryCodeForm else WRONG_CODE
        form.add_error("code", str(wrong))
    return render(request, template, {"form": form, "next": _next(request)})


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """After the password: the 6-digit code from the authenticator app."""
    return _code_step(request, CodeForm, "accounts/mfa/verify.html")


@require_http_methods(["GET", "POST"])
def verify_recovery(request: HttpRequest) -> HttpResponse:
    """After the password, without the phone: one of the saved recovery codes."""
    return _code_step(request, RecoveryCodeForm, "accounts/mfa/verify_recovery.html")


# ---------------------------------------------------------------- setting up an app


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app, or replace the one in use. Staff without one come here
    straight from the password step; everyone else (and replacing) re-authenticates first."""
    user = _user(request)
    enrolled = mfa.is_enrolled(user)
    if enrolled and not mfa.is_verified(request):
        return redirect(f"{reverse('mfa_verify')}?{request.GET.urlencode()}")
    first_staff_sign_in = mfa.is_staff(user) and not enrolled
    if not first_staff_sign_in and (refusal := mfa.require_recent_auth(request)):
        return refusal
    form = CodeForm(request.POST or None, label_suffix="")
    device = mfa.start_enrolment(user)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.confirm_enrolment(request, device, form.cleaned_data["code"])
        except mfa.TooManyTries:
            return throttle.refuse(request, "otp")
        if codes is not None:
            return _show_codes(request, codes, _next(request), replaced=enrolled)
        form.add_error("code", str(WRONG_CODE))
    context = {
        "form": form,
        "qr": mfa.qr_data_uri(device),
        "secret": mfa.secret_for_typing(device),
        "replacing": enrolled,
        "required": mfa.is_staff(user),
        "next": _next(request),
    }
    return render(request, "accounts/mfa/enrol.html", context)


def _show_codes(
    request: HttpRequest, codes: list[str], next_url: str, replaced: bool
) -> HttpResponse:
    # Shown once, in this response only: they are stored hashed and cannot be shown again.
    return render(
        request,
        "accounts/mfa/recovery_codes.html",
        {"codes": codes, "next": next_url, "replaced": replaced},
    )


@require_http_methods(["GET", "POST"])
def regenerate(request: HttpRequest) -> HttpResponse:
    """New recovery codes; the old ones stop working."""
    user = _user(request)
    if not mfa.is_enrolled(user):
        return redirect("settings")
    if refusal := mfa.require_recent_auth(request):
        return refusal
    if request.method == "POST":
        codes = mfa.regenerate_recovery_codes(request)
        return _show_codes(request, codes, reverse("settings"), replaced=False)
    return render(request, "accounts/mfa/regenerate.html")


@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest) -> HttpResponse:
    """Turn two-step sign-in off: for clients and members only (staff must keep it)."""
    user = _user(request)
    if not mfa.is_enrolled(user):
        return redirect("settings")
    if not mfa.may_turn_off(user):
        messages.info(
            request,
            _("Staff accounts always use two-step sign-in. You can replace your app instead."),
        )
        return redirect("settings")
    if refusal := mfa.require_recent_auth(request):
        return refusal
    if request.method == "POST":
        mfa.remove_mfa(request)
        messages.success(request, _("Two-step sign-in is off. You sign in with your password."))
        return redirect("settings")
    return render(request, "accounts/mfa/remove.html")


# ---------------------------------------------------------------- re-authentication


@require_http_methods(["GET", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    """ "Confirm it's you": the password again (and a code when enrolled), good for 5 minutes."""
    user = _user(request)
    needs_code = mfa.is_enrolled(user)
    form = ReauthForm(request.POST or None, needs_code=needs_code, label_suffix="")
    if request.method == "POST" and form.is_valid():
        outcome = mfa.reauthenticate(
            request, form.cleaned_data["password"], form.cleaned_data.get("code", "")
        )
        if outcome is mfa.Outcome.REFUSED:
            return throttle.refuse(request, "reauth")
        if outcome is mfa.Outcome.VERIFIED:
            return redirect(mfa.safe_next(request, reverse("settings")))
        form.add_error(None, str(WRONG_REAUTH))
    next_url = mfa.safe_next(request, reverse("settings"))
    cancel_url = mfa.safe_next(request, reverse("settings"), name="cancel")
    return render(
        request,
        "accounts/mfa/reauth.html",
        {"form": form, "next": next_url, "cancel": cancel_url, "needs_code": needs_code},
    )


# ---------------------------------------------------------------- email address


@require_http_methods(["GET", "POST"])
def change_email(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if refusal := mfa.require_recent_auth(request):
        return refusal
    form = EmailChangeForm(request.POST or None, user=user, label_suffix="")
    if request.method == "POST" and form.is_valid():
        email_change.request_change(request, form.cleaned_data["email"])
        messages.success(
            request,
            _(
                "We sent a link to the new address. Open it within %(hours)s hours to finish. "
                "Until then, keep signing in with your current address."
            )
            % {"hours": EmailChange.VALID_HOURS},
        )
        return redirect("settings")
    return render(
        request,
        "accounts/mfa/email_change.html",
        {"form": form, "pending": email_change.pending_for(user)},
    )


REFUSALS = {
    email_change.Refusal.INVALID: _lazy(
        "This link is not valid for your account. Check that you are signed in as the person "
        "who asked, or ask for a new link."
    ),
    email_change.Refusal.EXPIRED: _lazy("This link has expired. Please ask for a new one."),
    email_change.Refusal.USED: _lazy(
        "This link has already been used, or a newer one replaced it. Nothing changed."
    ),
    email_change.Refusal.TAKEN: _lazy(
        "You can't use that address any more. Please choose another."
    ),
}


@require_http_methods(["GET", "POST"])
def confirm_email_change(request: HttpRequest) -> HttpResponse:
    """The page the link sent to the new address opens: confirm with one button (a GET changes
    nothing, so a mail scanner following the link cannot make the change)."""
    token = str(request.POST.get("t") or request.GET.get("t") or "")[:1000]
    if request.method == "POST":
        refusal = email_change.confirm(request, token)
        if refusal is None:
            messages.success(
                request,
                _("Your email address is changed. Use the new one next time you sign in."),
            )
            return redirect("settings")
        change = None
    else:
        change, refusal = email_change.read(request, token)
    return render(
        request,
        "accounts/mfa/email_change_confirm.html",
        {
            "change": change,
            "token": token,
            "refusal": REFUSALS[refusal] if refusal is not None else None,
        },
    )
