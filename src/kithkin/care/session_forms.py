"""Forms for network sessions and actions. They parse and check what the person typed; the
rules that need the database (who may take part, who may own an action) are the services' and
come back as form errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kithkin.care import session_templates, sessions
from kithkin.care.models import (
    ActionStatus,
    AgendaStep,
    Contribution,
    Goal,
    NetworkSession,
    Participant,
)
from kithkin.care.sessions import Candidate, SessionError

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class WhenWhereForm(forms.Form):
    """Time (in the signed-in person's time zone; stored in UTC), length, place or video link."""

    starts_at = forms.DateTimeField(
        label=gettext_lazy("Date and time"),
        input_formats=DATETIME_FORMATS,
        help_text=gettext_lazy("In your own time zone. Everyone invited sees it in theirs."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": gettext_lazy("Choose the date and time of the session."),
            "invalid": gettext_lazy("Enter the date and time, for example 2026-03-14 18:30."),
        },
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Length in minutes"),
        initial=60,
        min_value=sessions.MIN_MINUTES,
        max_value=sessions.MAX_MINUTES,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": gettext_lazy("Say how long the session lasts, in minutes."),
            "invalid": gettext_lazy("Enter the length as a whole number of minutes."),
            "min_value": gettext_lazy("A session lasts at least 15 minutes."),
            "max_value": gettext_lazy("A session lasts at most 480 minutes (8 hours)."),
        },
    )
    place = forms.CharField(
        label=gettext_lazy("Place"),
        required=False,
        max_length=sessions.MAX_PLACE_LENGTH,
        help_text=gettext_lazy("Where to meet in person. Everyone invited will see it."),
        error_messages={"max_length": gettext_lazy("Keep the place to 300 characters.")},
    )
    video_link = forms.CharField(
        label=gettext_lazy("Video link"),
        required=False,
        max_length=sessions.MAX_LINK_LENGTH,
        help_text=gettext_lazy("For a video call: the full link, starting with https://."),
        widget=forms.URLInput(),
        error_messages={"max_length": gettext_lazy("That video link is too long.")},
    )

    def clean_video_link(self) -> str:
        link = str(self.cleaned_data.get("video_link") or "").strip()
        try:
            sessions.check_video_link(link)
        except SessionError as error:
            raise forms.ValidationError(str(error)) from None
        return link

    def clean_starts_at(self) -> datetime:
        starts_at: datetime = self.cleaned_data["starts_at"]
        if starts_at < timezone.now():
            raise forms.ValidationError(
                _("That time has already passed. Choose a time from now on.")
            )
        return starts_at

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        place = str(data.get("place") or "").strip()
        link = str(data.get("video_link") or "").strip()
        if not place and not link and "video_link" not in self.errors:
            self.add_error(None, _("Give a place to meet, a video link, or both."))
        return data


class ScheduleForm(WhenWhereForm):
    template = forms.ChoiceField(
        label=gettext_lazy("Kind of session"),
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose what kind of session this is."),
            "invalid_choice": gettext_lazy("Choose one of the kinds of session listed."),
        },
    )
    participants = forms.MultipleChoiceField(
        label=gettext_lazy("Who takes part"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Each person gets an email invitation with a calendar file."),
        error_messages={
            "required": gettext_lazy(
                "Choose who takes part: a session needs at least one participant."
            ),
            "invalid_choice": gettext_lazy(
                "Someone you chose can no longer take part. Check the list and choose again."
            ),
        },
    )

    field_order = ("template", "starts_at", "duration_minutes", "place", "video_link")

    def __init__(self, *args: Any, candidates: Sequence[Candidate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ChoiceField)
        template_field.choices = session_templates.choices()
        kinds = {"client": _("client"), "member": _("network member"), "clinician": _("clinician")}
        people = self.fields["participants"]
        assert isinstance(people, forms.MultipleChoiceField)
        people.choices = [(c.key, f"{c.name} ({kinds[c.kind]})") for c in candidates]
        people.initial = [c.key for c in candidates]


class RescheduleForm(WhenWhereForm):
    def __init__(self, *args: Any, session: NetworkSession, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "starts_at": timezone.localtime(session.starts_at),
                "duration_minutes": session.duration_minutes,
                "place": session.place,
                "video_link": session.video_link,
            },
        )
        super().__init__(*args, **kwargs)


class CancelForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("Yes, cancel this session and tell everyone invited"),
        error_messages={"required": gettext_lazy("Tick the box to confirm the cancellation.")},
    )


class ContributionForm(forms.Form):
    # Prefixed: the session page holds several forms, and ids must stay unique.
    prefix = "said"

    step = forms.ChoiceField(
        label=gettext_lazy("Step"),
        choices=AgendaStep.choices,
        error_messages={
            "required": gettext_lazy("Choose the step of the agenda this belongs to."),
            "invalid_choice": gettext_lazy("Choose the step of the agenda this belongs to."),
        },
    )
    said_by = forms.ChoiceField(
        label=gettext_lazy("Said by"),
        error_messages={
            "required": gettext_lazy("Choose who said it from the people taking part."),
            "invalid_choice": gettext_lazy("Choose who said it from the people taking part."),
        },
    )
    text = forms.CharField(
        label=gettext_lazy("What was said"),
        max_length=sessions.MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("Write down what was said."),
            "max_length": gettext_lazy("Keep it to 4000 characters."),
        },
    )
    problem = forms.ChoiceField(
        label=gettext_lazy("Answers the problem"),
        required=False,
        help_text=gettext_lazy("For a solution: the problem it answers, if any."),
        error_messages={
            "invalid_choice": gettext_lazy("That problem was not raised in this session.")
        },
    )

    def __init__(
        self,
        *args: Any,
        participants: Sequence[Participant],
        problems: Sequence[Contribution],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        said_by = self.fields["said_by"]
        assert isinstance(said_by, forms.ChoiceField)
        said_by.choices = [("", _("Choose a person"))] + [
            (str(p.user_id), p.user.display_name) for p in participants
        ]
        problem = self.fields["problem"]
        assert isinstance(problem, forms.ChoiceField)
        problem.choices = [("", _("None"))] + [(str(p.pk), _short(p.text)) for p in problems]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("problem") and data.get("step") != AgendaStep.SOLUTION:
            self.add_error("problem", _("Only a solution can answer a problem."))
        return data


def _short(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


class AttendanceForm(forms.Form):
    """One yes / no / not recorded choice per participant."""

    prefix = "attendance"
    CHOICES = (
        ("yes", gettext_lazy("Came")),
        ("no", gettext_lazy("Did not come")),
        ("", gettext_lazy("Not recorded")),
    )

    def __init__(self, *args: Any, participants: Sequence[Participant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.participants = list(participants)
        for participant in self.participants:
            initial = {True: "yes", False: "no", None: ""}[participant.attended]
            self.fields[f"p{participant.pk}"] = forms.ChoiceField(
                label=participant.user.display_name,
                choices=self.CHOICES,
                required=False,
                initial=initial,
                widget=forms.RadioSelect,
            )

    def attended(self) -> dict[int, bool | None]:
        values = {"yes": True, "no": False, "": None}
        return {
            p.pk: values[str(self.cleaned_data.get(f"p{p.pk}") or "")] for p in self.participants
        }


class ActionForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("What will be done"),
        max_length=sessions.MAX_TITLE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": gettext_lazy("Say what will be done."),
            "max_length": gettext_lazy("Keep the action to 300 characters."),
        },
    )
    owner = forms.ChoiceField(
        label=gettext_lazy("Who will do it"),
        error_messages={
            "required": gettext_lazy("Choose who will do this: every action needs an owner."),
            "invalid_choice": gettext_lazy("Choose who will do this from the list."),
        },
    )
    due_on = forms.DateField(
        label=gettext_lazy("Due on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": gettext_lazy("Choose the date it is due."),
            "invalid": gettext_lazy("Enter the due date as a date, for example 2026-03-14."),
        },
    )
    goal = forms.ChoiceField(
        label=gettext_lazy("Goal it supports"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("Choose one of the client's current goals, or none.")
        },
    )

    def __init__(
        self,
        *args: Any,
        owners: Sequence[Candidate],
        goals: Sequence[Goal],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        kinds = {"client": _("client"), "member": _("network member"), "clinician": _("clinician")}
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ChoiceField)
        owner.choices = [("", _("Choose a person"))] + [
            (c.key, f"{c.name} ({kinds[c.kind]})") for c in owners
        ]
        goal = self.fields["goal"]
        assert isinstance(goal, forms.ChoiceField)
        goal.choices = [("", _("No particular goal"))] + [(str(g.pk), g.title) for g in goals]

    def clean_due_on(self) -> date:
        due_on: date = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError(
                _("The due date is in the past. Choose today or a later day.")
            )
        return due_on


class WrapUpForm(forms.Form):
    shared_summary = forms.CharField(
        label=gettext_lazy("Summary for everyone"),
        required=False,
        max_length=sessions.MAX_TEXT_LENGTH,
        help_text=gettext_lazy(
            "Shared with the client, and with the members the client lets see session "
            "summaries. Keep private observations for the clinician's notes."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"max_length": gettext_lazy("Keep the summary to 4000 characters.")},
    )
    next_plan = forms.CharField(
        label=gettext_lazy("Plan for the next session"),
        required=False,
        max_length=sessions.MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": gettext_lazy("Keep the plan to 4000 characters.")},
    )
    mark_held = forms.BooleanField(
        label=gettext_lazy("The session took place: mark it as held"), required=False
    )


class NoteForm(forms.Form):
    prefix = "note"

    text = forms.CharField(
        label=gettext_lazy("Private note"),
        max_length=sessions.MAX_TEXT_LENGTH,
        help_text=gettext_lazy(
            "Only the care team sees this. It is never shared, printed or exported."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": gettext_lazy("Write the note first."),
            "max_length": gettext_lazy("Keep the note to 4000 characters."),
        },
    )


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("How did it go?"),
        choices=[
            (ActionStatus.DONE.value, gettext_lazy("Done")),
            (ActionStatus.NOT_POSSIBLE.value, gettext_lazy("Not possible")),
            (ActionStatus.OPEN.value, gettext_lazy("Still to do")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose done, not possible, or still to do."),
            "invalid_choice": gettext_lazy("Choose done, not possible, or still to do."),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=sessions.MAX_TEXT_LENGTH,
        help_text=gettext_lazy("Needed if it was not possible: say briefly why."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": gettext_lazy("Keep the note to 4000 characters.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("status") == ActionStatus.NOT_POSSIBLE
            and not str(data.get("note") or "").strip()
        ):
            self.add_error("note", _("Add a short note saying why it was not possible."))
        return data
