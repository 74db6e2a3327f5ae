from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kithkin.privacy.models import ConsentDecision, ConsentTopic, NotesInExport


class PolicyForm(forms.Form):
    notes_in_export = forms.ChoiceField(
        label=_("Clinicians' private session notes in a client's data export"),
        choices=NotesInExport.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Private session notes (psychotherapy notes) are kept apart from the rest of the "
            "record. This decides whether a client's data export holds them."
        ),
    )
    retention_years = forms.IntegerField(
        label=_("Keep records for this many years after discharge"),
        min_value=1,
        max_value=100,
        help_text=_(
            "A record may be erased only after this many years from discharge, unless an "
            "admin records a legal basis for erasing it sooner."
        ),
    )


class ExportForm(forms.Form):
    notes_reason = forms.CharField(
        label=_("Reason for including the private session notes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Your practice includes private session notes only when an admin records why. "
            "Leave this empty to export without them."
        ),
    )


class ConsentForm(forms.Form):
    topic = forms.ChoiceField(choices=ConsentTopic.choices, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=ConsentDecision.choices, widget=forms.HiddenInput)


class ErasureRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the record to be erased?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept after erasure. Do not write the client's name."),
    )
    legal_basis = forms.CharField(
        label=_("Legal basis for erasing within the retention period"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Needed only while the record is within retention, for example a court order. "
            "Kept after erasure. Do not write the client's name."
        ),
    )

    def __init__(self, *args: Any, within_retention: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not within_retention:
            del self.fields["legal_basis"]


class ErasureConfirmForm(forms.Form):
    confirm_name = forms.CharField(
        label=_("Type the client's full name to confirm"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


NOTES_POLICY_LABELS = dict(NotesInExport.choices)
