"""Forms for two-step sign-in, re-authentication and changing the email address."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import User

WRONG_CODE = _("That code did not work. Check the newest code in your app and try again.")
WRONG_RECOVERY_CODE = _(
    "That recovery code did not work. Each code works once; check it and try again."
)
WRONG_REAUTH = _("That did not match. Check your password (and code) and try again.")


def _code_widget(**extra: str) -> forms.TextInput:
    attrs = {
        "autocomplete": "one-time-code",
        "inputmode": "numeric",
        "autocapitalize": "none",
        "spellcheck": "false",
        **extra,
    }
    return forms.TextInput(attrs=attrs)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        help_text=_("Open your authenticator app and type the code it shows for Kithkin."),
        widget=_code_widget(autofocus="autofocus", pattern=r"[0-9 ]*"),
        error_messages={"required": _("Enter the 6-digit code from your authenticator app.")},
    )

    def clean_code(self) -> str:
        code = "".join(str(self.cleaned_data["code"]).split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(
                _("The code is 6 digits, for example 123456."), code="format"
            )
        return code


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Recovery code"),
        max_length=40,
        help_text=_("One of the codes you saved when you set up two-step sign-in."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter one of your recovery codes.")},
    )


class ReauthForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": _("Enter your password.")},
    )
    code = forms.CharField(
        label=_("6-digit code or a recovery code"),
        max_length=40,
        required=False,
        widget=_code_widget(),
    )

    def __init__(self, *args: Any, needs_code: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_code = needs_code
        if needs_code:
            self.fields["code"].required = True
            self.fields["code"].error_messages["required"] = _(
                "Enter the 6-digit code from your authenticator app."
            )
        else:
            del self.fields["code"]


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label=_("New email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
        error_messages={
            "required": _("Enter the new email address."),
            "invalid": _("Enter an email address like name@example.org."),
        },
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if email == self.user.email.lower():
            raise forms.ValidationError(_("That is already your email address."), code="unchanged")
        # An address another account uses is not refused here: the page would then tell anyone
        # signed in which addresses have accounts. email_change.request_change tells the
        # address's owner instead, and no link is sent.
        return email
