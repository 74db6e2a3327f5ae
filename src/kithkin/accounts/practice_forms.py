"""Forms for practice administration, client pages and accepting invitations."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client, Role, User

MIN_BIRTH_YEAR = 1900


def _birth_year_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Year of birth"),
        required=False,
        min_value=MIN_BIRTH_YEAR,
        max_value=date.today().year,
        help_text=_("Optional. We keep the year only, never the full date."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class StaffChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class StaffInviteForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=120)
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (Role.CLINICIAN.value, Role.CLINICIAN.label),
            (Role.ADMIN.value, Role.ADMIN.label),
        ],
        widget=forms.RadioSelect,
        initial=Role.CLINICIAN.value,
        help_text=_("Practice admins manage staff and clients. Clinicians care for clients."),
    )


class ClientAdminForm(forms.Form):
    """The administrative record: what a practice admin may see and change."""

    display_name = forms.CharField(label=_("Full name"), max_length=120)
    preferred_name = forms.CharField(
        label=_("Preferred name"),
        max_length=60,
        required=False,
        help_text=_("Optional. What they like to be called."),
    )
    birth_year = _birth_year_field()

    @classmethod
    def for_client(cls, client: Client, data: Any = None) -> ClientAdminForm:
        return cls(
            data,
            initial={
                "display_name": client.display_name,
                "preferred_name": client.preferred_name,
                "birth_year": client.birth_year,
            },
        )


class ClientConcernsForm(forms.Form):
    """The clinical summary the care team keeps; stored encrypted."""

    presenting_concerns = forms.CharField(
        label=_("Presenting concerns"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Only the care team can read this; it is stored encrypted."),
    )


class ClientCreateForm(ClientAdminForm):
    presenting_concerns = forms.CharField(
        label=_("Presenting concerns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional. Only the care team can read this; it is stored encrypted."),
    )
    care_team = StaffMultipleChoiceField(
        label=_("Care team"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose at least one clinician."),
        error_messages={"required": _("Choose at least one clinician for the care team.")},
    )
    lead = StaffChoiceField(
        label=_("Lead clinician"),
        queryset=User.objects.none(),
        empty_label=None,
        help_text=_("The lead must be one of the care team."),
    )

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["care_team"].queryset = staff  # type: ignore[attr-defined]
        self.fields["lead"].queryset = staff  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        team, lead = cleaned.get("care_team"), cleaned.get("lead")
        if team is not None and lead is not None and lead not in team:
            self.add_error("lead", _("The lead clinician must also be ticked in the care team."))
        return cleaned


class CareTeamAddForm(forms.Form):
    user = StaffChoiceField(
        label=_("Add to the care team"), queryset=User.objects.none(), empty_label=None
    )
    lead = forms.BooleanField(label=_("Make them the lead clinician"), required=False)

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates  # type: ignore[attr-defined]


class CareTeamChangeForm(forms.Form):
    """Remove someone, or make them lead: one button per person on the team."""

    user = StaffChoiceField(queryset=User.objects.none(), widget=forms.HiddenInput)
    change = forms.ChoiceField(
        choices=[("remove", "remove"), ("lead", "lead")], widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = team  # type: ignore[attr-defined]


class PortalInviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Client's email address"),
        help_text=_(
            "We send a link to set up their own login. The email says nothing about their care."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class AcceptInvitationForm(forms.Form):
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=120,
        help_text=_("How your name appears to others in Kithkin."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. A few unrelated words make a good one."),
    )
    password2 = forms.CharField(
        label=_("Type the password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error(
                "password2", _("The two passwords are not the same. Please type them again.")
            )
            return cleaned
        if first:
            # Checked against a user that is not saved, so "too similar to your name" works.
            candidate = User(email=self.email, display_name=cleaned.get("display_name", ""))
            try:
                password_validation.validate_password(first, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned
