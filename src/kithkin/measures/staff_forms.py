"""Forms for the care team's and the practice admin's measures pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kithkin.measures.library import Instrument, Item
from kithkin.measures.models import Cadence

MAX_INTERVAL_DAYS = 365
# A first check-in further ahead than this is almost certainly a typo in the year.
MAX_DAYS_AHEAD = 365
MIN_ESCALATION_MINUTES = 5
MAX_ESCALATION_MINUTES = 7 * 24 * 60
MAX_NOTE_LENGTH = 4000
MAX_CRISIS_TEXT_LENGTH = 4000
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _number(value: float) -> str:
    return f"{value:g}"


class InstrumentChoiceField(forms.ChoiceField):
    """The assignable instruments; one that cannot be assigned is refused with its reason."""

    unavailable: dict[str, str]

    def validate(self, value: Any) -> None:
        reason = self.unavailable.get(str(value))
        if reason:
            raise forms.ValidationError(reason)
        super().validate(value)


class AssignForm(forms.Form):
    instrument = InstrumentChoiceField(
        label=gettext_lazy("Questionnaire"),
        error_messages={
            "required": gettext_lazy("Choose a questionnaire."),
            "invalid_choice": gettext_lazy("Choose a questionnaire from the list."),
        },
    )
    cadence = forms.ChoiceField(
        label=gettext_lazy("How often"),
        choices=[
            (Cadence.ONCE.value, gettext_lazy("Once")),
            (Cadence.REPEAT.value, gettext_lazy("Every few days (choose how many below)")),
            (Cadence.BEFORE_SESSION.value, gettext_lazy("Before each network session")),
        ],
        initial=Cadence.ONCE.value,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose how often.")},
    )
    interval_days = forms.IntegerField(
        label=gettext_lazy("Days apart"),
        required=False,
        min_value=1,
        max_value=MAX_INTERVAL_DAYS,
        help_text=gettext_lazy(
            "Only for “every few days”: for example 7 for weekly, 14 for every two weeks."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": gettext_lazy("Enter the number of days apart as a whole number."),
            "min_value": gettext_lazy("Days apart must be from 1 to 365."),
            "max_value": gettext_lazy("Days apart must be from 1 to 365."),
        },
    )
    first_due = forms.DateField(
        label=gettext_lazy("First due"),
        required=False,
        help_text=gettext_lazy(
            "Leave as today to ask at once. Check-ins before each network session fall due "
            "two days before the session instead."
        ),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("Enter the first due date as a date.")},
    )

    def __init__(self, *args: Any, instruments: list[Instrument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()
        field = self.fields["instrument"]
        assert isinstance(field, InstrumentChoiceField)
        field.choices = [("", _("Choose a questionnaire"))] + [
            (i.id, f"{i.short_title} — {i.title}" if i.title != i.short_title else i.title)
            for i in instruments
            if i.assignable
        ]
        field.unavailable = {
            i.id: i.unassignable_reason for i in instruments if i.unassignable_reason
        }
        self.fields["first_due"].initial = self.today

    def clean_first_due(self) -> date:
        chosen: date | None = self.cleaned_data.get("first_due")
        if chosen is None:
            return self.today
        if chosen < self.today:
            raise forms.ValidationError(_("The first due date cannot be in the past."))
        if chosen > self.today + timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError(_("The first due date must be within a year from today."))
        return chosen

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("cadence") == Cadence.REPEAT:
            if data.get("interval_days") is None and "interval_days" not in self.errors:
                self.add_error(
                    "interval_days",
                    _("Enter how many days apart, from 1 to 365, for a check-in every few days."),
                )
        else:
            data["interval_days"] = None
        return data

    def first_due_at(self) -> datetime:
        """Now for today; otherwise the start of the chosen day in the user's time zone."""
        chosen: date = self.cleaned_data["first_due"]
        if chosen <= self.today:
            return timezone.now()
        return timezone.make_aware(datetime.combine(chosen, time.min))


class EntryForm(forms.Form):
    """Every item of an instrument on one page, for a clinician entering answers in session.

    An item left blank must be confirmed, so that one missed by accident is not scored as
    missing for ever."""

    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Anything the care team should know about this entry."),
    )
    allow_missing = forms.BooleanField(
        label=gettext_lazy("Some questions were left unanswered on purpose"),
        required=False,
        help_text=gettext_lazy(
            "For example, the client preferred not to answer. The questionnaire's own rule "
            "for missing answers then decides whether it can be scored."
        ),
    )

    def __init__(
        self,
        *args: Any,
        instrument: Instrument,
        people: Sequence[tuple[UUID, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.offers_people = bool(people)
        for item in instrument.items:
            if item.links_people and people:
                self.fields[self.people_name(item)] = forms.TypedMultipleChoiceField(
                    label=_("With whom (optional)"),
                    choices=[(str(pk), name) for pk, name in people],
                    coerce=UUID,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages={
                        "invalid_choice": _(
                            "One of the people chosen is not on the list. Choose from the "
                            "people shown."
                        )
                    },
                )
        for number, item in enumerate(instrument.items, start=1):
            item_id = {"id": item.id}
            self.fields[self.field_name(item)] = forms.TypedChoiceField(
                label=f"{number}. {item.text}" if item.text else _("Question %(id)s") % item_id,
                choices=[(_number(o.value), o.label) for o in item.options],
                coerce=float,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                error_messages={
                    "invalid_choice": _("Question %(number)s: choose one of the answers.")
                    % {"number": number}
                },
            )

    @staticmethod
    def field_name(item: Item) -> str:
        return f"item_{item.id}"

    @staticmethod
    def people_name(item: Item) -> str:
        return f"people_{item.id}"

    def item_fields(self) -> list[tuple[Item, forms.BoundField, forms.BoundField | None]]:
        """Each item's answer field, and its "with whom" field where it links people."""
        return [
            (
                item,
                self[self.field_name(item)],
                self[self.people_name(item)] if self.people_name(item) in self.fields else None,
            )
            for item in self.instrument.items
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        names = [self.field_name(item) for item in self.instrument.items]
        if any(name in self.errors for name in names):
            return data
        blank = [
            (number, name) for number, name in enumerate(names, start=1) if data.get(name) is None
        ]
        if len(blank) == len(names):
            raise forms.ValidationError(_("Answer at least one question."))
        if blank and not data.get("allow_missing"):
            for number, name in blank:
                self.add_error(
                    name,
                    _(
                        "Question %(number)s has no answer. Choose one, or tick “Some questions "
                        "were left unanswered on purpose”."
                    )
                    % {"number": number},
                )
        return data

    def answers(self) -> dict[str, float | None]:
        """Every item, None where unanswered: the entry replaces any answers saved before."""
        return {
            item.id: self.cleaned_data.get(self.field_name(item)) for item in self.instrument.items
        }

    def people(self) -> dict[str, list[UUID]]:
        """The people named for each item that links people (none for an unanswered item)."""
        return {
            item.id: list(self.cleaned_data.get(self.people_name(item)) or [])
            if self.cleaned_data.get(self.field_name(item)) is not None
            else []
            for item in self.instrument.items
            if self.people_name(item) in self.fields
        }


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What did you do?"),
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "For example: called the client, agreed a safety plan, arranged an appointment. "
            "Only the care team can read this note."
        ),
        error_messages={
            "required": gettext_lazy("Write what you did before acknowledging the alert.")
        },
    )

    def clean_note(self) -> str:
        note = str(self.cleaned_data.get("note", "")).strip()
        if not note:
            raise forms.ValidationError(_("Write what you did before acknowledging the alert."))
        return note


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("FHIR JSON file"),
        help_text=gettext_lazy("One QuestionnaireResponse, or a Bundle of them, up to 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
        error_messages={
            "required": gettext_lazy("Choose a file to import."),
            "empty": gettext_lazy("The file is empty."),
        },
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        limit_mb = MAX_IMPORT_BYTES // (1024 * 1024)
        too_big = _("The file is larger than %(limit)s MB. Please split it into smaller files.") % {
            "limit": limit_mb
        }
        if upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(too_big)
        content: bytes = upload.read(MAX_IMPORT_BYTES + 1)
        if len(content) > MAX_IMPORT_BYTES:
            raise forms.ValidationError(too_big)
        return content


class SettingsForm(forms.Form):
    crisis_resources = forms.CharField(
        label=gettext_lazy("Crisis resources shown to clients"),
        required=False,
        max_length=MAX_CRISIS_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy(
            "Shown to a client whose answers raise a risk alert. Leave blank to use Kithkin's "
            "default, shown below."
        ),
    )
    escalate_after_minutes = forms.IntegerField(
        label=gettext_lazy("Tell the practice admins after (minutes)"),
        required=False,
        min_value=MIN_ESCALATION_MINUTES,
        max_value=MAX_ESCALATION_MINUTES,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": gettext_lazy("Enter the minutes as a whole number."),
            "min_value": gettext_lazy("The minutes must be from 5 to 10080 (one week)."),
            "max_value": gettext_lazy("The minutes must be from 5 to 10080 (one week)."),
        },
    )

    def __init__(self, *args: Any, default_text: str, default_minutes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["crisis_resources"].widget.attrs["placeholder"] = default_text
        self.fields["escalate_after_minutes"].help_text = _(
            "How long a risk alert may wait for the care team before the practice admins are "
            "emailed: 5 to 10080 minutes. Leave blank for this installation's default "
            "(%(minutes)s minutes)."
        ) % {"minutes": default_minutes}
        self.fields["escalate_after_minutes"].widget.attrs["placeholder"] = str(default_minutes)
