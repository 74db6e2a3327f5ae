"""Forms for the case plan, key contacts and consent. Choices of problems and people are limited to
the one client, so an id from someone else's plan is simply "not a valid choice"; a person
marked not safe is never offered, and naming one anyway gets a clear refusal."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client
from kithkin.care import plan
from kithkin.care.models import SHAREABLE, GoalStatus, IndicatorKind, Problem
from kithkin.measures import services as measures
from kithkin.measures.charts import format_score
from kithkin.network.forms import PersonChoiceField
from kithkin.network.models import Person

MAX_TEXT = 2000


def _text(label: Any, *, required: bool = True, rows: int = 3, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kwargs,
    )


class ProblemChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Problem) -> str:
        text = " ".join(obj.text.split())
        return text if len(text) <= 80 else text[:79] + "…"


# --- problems and goals ----------------------------------------------------------------------


class ProblemForm(forms.Form):
    text = _text(
        _("The problem"),
        help_text=_("In the words the client and the network agreed on. Stored encrypted."),
        error_messages={"required": _("Write what the problem is.")},
    )


class ProblemEditForm(ProblemForm):
    resolved = forms.BooleanField(label=_("This problem is resolved"), required=False)


class GoalForm(forms.Form):
    title = forms.CharField(
        label=_("The goal"),
        max_length=300,
        help_text=_("A short outcome everyone agreed on openly."),
        error_messages={"required": _("Write what the goal is.")},
    )
    description = _text(_("What success looks like"), required=False, rows=4)
    problem = ProblemChoiceField(
        label=_("The problem it answers"),
        queryset=Problem.objects.none(),
        required=False,
        empty_label=_("None in particular"),
    )
    target_date = forms.DateField(
        label=_("Target date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional."),
    )

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["problem"].queryset = Problem.objects.filter(  # type: ignore[attr-defined]
            client=client
        ).order_by("created_at", "pk")

    def clean_target_date(self) -> datetime.date | None:
        value: datetime.date | None = self.cleaned_data.get("target_date")
        initial = self.initial.get("target_date")
        # A date already on the goal may have passed; a newly chosen one may not.
        if value is not None and value != initial and value < timezone.localdate():
            raise ValidationError(_("The target date is in the past. Choose today or later."))
        return value


class GoalEditForm(GoalForm):
    status = forms.ChoiceField(label=_("Status"), choices=GoalStatus.choices)


def _instrument_choices() -> list[tuple[str, str]]:
    instruments = sorted(measures.installed_library(), key=lambda i: i.short_title.casefold())
    return [
        (
            i.id,
            str(
                _("%(short)s: %(title)s (scores %(low)s to %(high)s)")
                % {
                    "short": i.short_title,
                    "title": i.title,
                    "low": format_score(i.score_range[0]),
                    "high": format_score(i.score_range[1]),
                }
            ),
        )
        for i in instruments
    ]


class IndicatorForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("How will you follow this goal?"),
        choices=IndicatorKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a questionnaire score or keeping in touch.")},
    )
    instrument_id = forms.ChoiceField(label=_("Questionnaire"), required=False, choices=[])
    target_score = forms.FloatField(
        label=_("Target score"),
        required=False,
        help_text=_("The score that would mean this goal is met."),
    )
    person = PersonChoiceField(
        label=_("Keep in touch with"),
        queryset=Person.objects.none(),
        required=False,
        help_text=_("People marked not safe are never offered."),
    )
    target_days = forms.IntegerField(
        label=_("At least every (days)"),
        required=False,
        min_value=1,
        max_value=plan.MAX_TARGET_DAYS,
        error_messages={
            "min_value": _("Choose how often in days, from 1 to 365."),
            "max_value": _("Choose how often in days, from 1 to 365."),
        },
    )

    def __init__(self, *args: Any, client: Client, audience: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audience = audience
        self.fields["instrument_id"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose a questionnaire")),
            *_instrument_choices(),
        ]
        person = self.fields["person"]
        # Any person on this client's map is accepted as input, so naming one marked not safe
        # gets a clear refusal below; only the safe ones are offered.
        person.queryset = Person.objects.on_map().filter(client=client)  # type: ignore[attr-defined]
        safe = sorted(
            Person.objects.safe_to_suggest().filter(client=client), key=lambda p: p.name.casefold()
        )
        person.widget.choices = [("", _("Choose someone")), *((str(p.pk), p.name) for p in safe)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind == IndicatorKind.SCORE:
            self._clean_score(cleaned)
        elif kind == IndicatorKind.RHYTHM:
            self._clean_rhythm(cleaned)
        return cleaned

    def _clean_score(self, cleaned: dict[str, Any]) -> None:
        instrument_id, target = cleaned.get("instrument_id"), cleaned.get("target_score")
        if not instrument_id:
            self.add_error("instrument_id", _("Choose the questionnaire whose score to follow."))
        if target is None:
            if "target_score" not in self.errors:
                self.add_error("target_score", _("Give the score that would mean success."))
            return
        chosen = measures.instrument_or_none(instrument_id or "")
        if chosen is not None:
            try:
                plan.check_target(chosen, target)
            except plan.PlanError as error:
                self.add_error("target_score", str(error))

    def _clean_rhythm(self, cleaned: dict[str, Any]) -> None:
        person: Person | None = cleaned.get("person")
        if person is None and "person" not in self.errors:
            self.add_error("person", _("Choose whom to keep in touch with."))
        elif person is not None and person.not_safe:
            self.add_error("person", plan.not_safe_message(person, audience=self.audience))
        if cleaned.get("target_days") is None and "target_days" not in self.errors:
            self.add_error("target_days", _("Choose how often in days, from 1 to 365."))


# --- key contacts ----------------------------------------------------------------------------


class ChooseContactForm(forms.Form):
    person = PersonChoiceField(
        queryset=Person.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That person is not on the map any more.")},
    )

    def __init__(self, *args: Any, client: Client, audience: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audience = audience
        # Everyone on the map is valid input, so a crafted request naming a person marked not
        # safe is refused by name below rather than as an unknown choice.
        self.fields["person"].queryset = Person.objects.on_map().filter(  # type: ignore[attr-defined]
            client=client
        )

    def clean_person(self) -> Person:
        person: Person = self.cleaned_data["person"]
        if person.not_safe:
            raise ValidationError(plan.not_safe_message(person, audience=self.audience))
        return person


class ContactWhyForm(forms.Form):
    why = _text(
        _("Why involve them"),
        required=False,
        rows=4,
        help_text=_("What they could bring. Seen by the client and the care team only."),
    )


class InviteForm(forms.Form):
    display_name = forms.CharField(
        label=_("Their name"),
        max_length=120,
        help_text=_("How the invitation greets them. They can change it when they accept."),
        error_messages={"required": _("Write their name.")},
    )
    email = forms.CharField(
        label=_("Their email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "The email says who invited them and from which practice, and nothing about "
            "anyone's care."
        ),
        error_messages={"required": _("Write their email address.")},
    )

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip()
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                _("“%(value)s” is not an email address. Check it and try again."),
                params={"value": email},
                code="invalid",
            ) from None
        return email


# --- consent ---------------------------------------------------------------------------------


class ConsentForm(forms.Form):
    """What one member may see: one box per shareable thing, explained in plain words."""

    def __init__(self, *args: Any, audience: str, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for choice in plan.consent_choices(audience):
            self.fields[choice.key] = forms.BooleanField(
                label=choice.label,
                required=False,
                help_text=choice.explanation,
                disabled=read_only,
            )

    def choices(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(key)) for key, _label in SHAREABLE}
