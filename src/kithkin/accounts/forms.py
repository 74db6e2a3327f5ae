"""Forms for signing in and for a person's own settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kithkin.accounts.models import User
from kithkin.security import lockout

# The same words whether the email is unknown, the password wrong or the account closed,
# so the page never reveals who has an account.
WRONG_CREDENTIALS = _("That email and password do not match an account. Check both and try again.")


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(
            attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_messages = {
            **self.error_messages,
            "invalid_login": WRONG_CREDENTIALS,
            "inactive": WRONG_CREDENTIALS,
        }
        self.fields["password"].label = _("Password")

    def get_invalid_login_error(self) -> ValidationError:
        # Unknown and known emails pause alike, so this message reveals no account either.
        email = str(self.cleaned_data.get("username") or "")
        if lockout.is_paused(email, self.request):
            minutes = lockout.minutes_left()
            return ValidationError(
                ngettext(
                    "Too many attempts. Sign-in is paused for %(minutes)d minute for this address.",
                    "Too many attempts. Sign-in is paused for %(minutes)d minutes for this "
                    "address.",
                    minutes,
                )
                % {"minutes": minutes},
                code="paused",
            )
        return super().get_invalid_login_error()


if TYPE_CHECKING:
    _UserModelForm = forms.ModelForm[User]
else:  # ModelForm is generic only in the type stubs
    _UserModelForm = forms.ModelForm


class SettingsForm(_UserModelForm):
    class Meta:
        model = User
        fields = ("display_name", "time_zone")
        labels: ClassVar[dict[str, Any]] = {
            "display_name": _("Your name"),
            "time_zone": _("Time zone"),
        }
        help_texts: ClassVar[dict[str, Any]] = {
            "display_name": _("How Kithkin shows your name to the people you work with."),
            "time_zone": _("Dates and times across Kithkin are shown in this time zone."),
        }
        widgets: ClassVar[dict[str, Any]] = {
            "display_name": forms.TextInput(attrs={"autocomplete": "name"}),
        }

    def clean_display_name(self) -> str:
        name = " ".join(str(self.cleaned_data["display_name"]).split())
        if not name:
            raise forms.ValidationError(_("Please enter your name."), code="required")
        return name
