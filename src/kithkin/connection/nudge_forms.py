"""The client's reminder settings form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from kithkin.connection.models import MAX_WEEKLY_CAP
from kithkin.connection.nudges import SNOOZE_CHOICES_DAYS
from kithkin.network.models import Person

KEEP = ""
RESUME = "resume"


def _per_week(count: int) -> str:
    text: str = ngettext_lazy("%(count)s reminder a week", "%(count)s reminders a week", count) % {
        "count": count
    }
    return text


def _pause_for(days: int) -> str:
    text: str = ngettext_lazy("Pause for %(count)s day", "Pause for %(count)s days", days) % {
        "count": days
    }
    return text


class PersonChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class NudgeSettingsForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Send me gentle reminders to get in touch"),
        required=False,
        help_text=_(
            "When it has been longer than usual since you were in touch with someone on your "
            "map, Kithkin can remind you. Never about anyone marked not safe."
        ),
    )
    quiet_start = forms.TimeField(
        label=_("Quiet from"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("No reminders between these times; they wait until the quiet time ends."),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    weekly_cap = forms.TypedChoiceField(
        label=_("At most"),
        coerce=int,
        choices=[(n, _per_week(n)) for n in range(1, MAX_WEEKLY_CAP + 1)],
    )
    pause = forms.ChoiceField(
        label=_("Take a break"),
        required=False,
        choices=[
            (KEEP, _("No change")),
            *((str(days), _pause_for(days)) for days in SNOOZE_CHOICES_DAYS),
            (RESUME, _("End the pause now")),
        ],
    )
    muted = PersonChoices(
        label=_("No reminders about"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, people: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["muted"]
        assert isinstance(field, PersonChoices)
        field.queryset = people

    @property
    def snooze_days(self) -> int | None:
        pause = self.cleaned_data.get("pause") or KEEP
        return int(pause) if pause not in (KEEP, RESUME) else None

    @property
    def resume(self) -> bool:
        return self.cleaned_data.get("pause") == RESUME
