"""Forms for the map editor and the contact log. Choices of people and groups are always limited
to the one client's map, so a posted id from someone else's map is simply "not a valid choice"."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client
from kithkin.network import services
from kithkin.network.models import (
    FIVE_S,
    SUPPORT_KINDS,
    Category,
    Channel,
    Group,
    GroupKind,
    Person,
    Ring,
)

if TYPE_CHECKING:
    _PersonModelForm = forms.ModelForm[Person]
    _GroupModelForm = forms.ModelForm[Group]
else:  # ModelForm is generic only in the type stubs
    _PersonModelForm = forms.ModelForm
    _GroupModelForm = forms.ModelForm


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Person) -> str:
        return obj.name


class PeopleField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Person) -> str:
        return obj.name


class QuickAddForm(forms.Form):
    names = forms.CharField(
        label=_("Names"),
        help_text=_(
            "One name per line (or separated by commas). Initials are fine. "
            "You can describe each person next."
        ),
        widget=forms.Textarea(attrs={"rows": 6, "autofocus": True, "autocomplete": "off"}),
        max_length=services.MAX_QUICK_ADD * (services.MAX_NAME_LENGTH + 2),
        error_messages={"required": _("Write at least one name or initials.")},
    )
    ring = forms.TypedChoiceField(
        label=_("How close are they? (for everyone in the list)"),
        choices=Ring.choices,
        coerce=int,
        initial=Ring.MIDDLE,
    )
    category = forms.ChoiceField(
        label=_("Relationship (for everyone in the list)"),
        choices=Category.choices,
        initial=Category.OTHER,
        help_text=_("You can change this for each person afterwards."),
    )

    def clean_names(self) -> list[str]:
        return services.parse_names(self.cleaned_data["names"])


class PersonForm(_PersonModelForm):
    knows = PeopleField(
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Knows"),
    )
    knows_well = PeopleField(
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Is close to"),
        help_text=_("Tick here too if they are close to each other (a stronger line on the map)."),
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Groups"),
    )

    class Meta:
        model = Person
        fields = services.PERSON_FIELDS
        widgets = {
            "name": forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "ring": forms.RadioSelect,
            "strain": forms.RadioSelect,
        }

    def __init__(
        self,
        *args: Any,
        client: Client,
        ties: dict[Any, int] | None = None,
        audience: str = "client",
        **kwargs: Any,
    ) -> None:
        instance: Person | None = kwargs.get("instance")
        ties = ties or {}
        if instance is not None and instance.pk is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "knows": list(ties),
                "knows_well": [pk for pk, s in ties.items() if s >= 2],
                "groups": list(instance.groups.values_list("pk", flat=True)),
            }
        super().__init__(*args, **kwargs)
        others = Person.objects.on_map().filter(client=client).order_by("created_at", "id")
        if instance is not None and instance.pk is not None:
            others = others.exclude(pk=instance.pk)
        self.fields["knows"].queryset = others  # type: ignore[attr-defined]
        self.fields["knows_well"].queryset = others  # type: ignore[attr-defined]
        self.fields["groups"].queryset = Group.objects.filter(client=client).order_by(  # type: ignore[attr-defined]
            "created_at", "id"
        )
        name_field = self.fields["name"]
        assert isinstance(name_field, forms.CharField)
        name_field.max_length = services.MAX_NAME_LENGTH
        name_field.widget.attrs["maxlength"] = str(services.MAX_NAME_LENGTH)
        self.fields["preferred_channel"].choices = [  # type: ignore[attr-defined]
            ("", _("No preference")),
            *Channel.choices,
        ]
        self.fields["wished_rhythm_days"].widget.attrs.update({"min": 1, "max": 3650})
        # The fieldset's legend says "helps … feel"; each box then needs only the feeling.
        for key, label in FIVE_S:
            self.fields[f"helps_{key}"].label = label
        if audience != "client":
            self.fields["not_safe"].help_text = _(
                "Kithkin will never suggest, invite or send reminders about this person."
            )

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data["name"]).split())
        if not name:
            raise ValidationError(_("Write a name or initials."))
        return name

    def clean_wished_rhythm_days(self) -> int | None:
        days: int | None = self.cleaned_data.get("wished_rhythm_days")
        if days is not None and not 1 <= days <= 3650:
            raise ValidationError(_("Choose a number of days between 1 and 3650."))
        return days

    def five_s_fields(self) -> list[forms.BoundField]:
        return [self[f"helps_{key}"] for key, _label in FIVE_S]

    def support_fields(self) -> list[forms.BoundField]:
        return [self[f"gives_{key}"] for key, _label in SUPPORT_KINDS]


class ContactForm(forms.Form):
    person = PersonChoiceField(
        queryset=Person.objects.none(),
        label=_("Who"),
        empty_label=_("Choose a person"),
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    channel = forms.ChoiceField(label=_("How"), choices=Channel.choices)
    felt_seen = forms.BooleanField(label=_("seen"), required=False)
    felt_safe = forms.BooleanField(label=_("safe"), required=False)
    felt_soothed = forms.BooleanField(label=_("soothed"), required=False)
    felt_secure = forms.BooleanField(label=_("secure"), required=False)
    felt_stable = forms.BooleanField(label=_("stable"), required=False)
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, client: Client, person: Person | None = None, **kwargs: Any):
        initial = kwargs.setdefault("initial", {})
        now = timezone.localtime().replace(second=0, microsecond=0)
        initial.setdefault("occurred_at", now)
        initial.setdefault("channel", Channel.IN_PERSON)
        if person is not None:
            initial["person"] = person.pk
            if person.preferred_channel:
                initial["channel"] = person.preferred_channel
        super().__init__(*args, **kwargs)
        # Everyone on the map, "not safe" people included: this is the client's own record.
        self.fields["person"].queryset = (  # type: ignore[attr-defined]
            Person.objects.on_map().filter(client=client).order_by("ring", "created_at", "id")
        )

    def felt_fields(self) -> list[forms.BoundField]:
        return [self[f"felt_{key}"] for key, _label in FIVE_S]

    def clean_occurred_at(self) -> Any:
        when = self.cleaned_data["occurred_at"]
        if when > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError(_("That time is in the future; choose when it happened."))
        return when


class GroupForm(_GroupModelForm):
    members = PeopleField(
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Who from your map is in it"),
    )

    class Meta:
        model = Group
        fields = ("name", "kind", "members")

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"] = forms.CharField(label=_("Name"), max_length=120)
        self.fields["kind"].choices = GroupKind.choices  # type: ignore[attr-defined]
        self.fields["members"].queryset = (  # type: ignore[attr-defined]
            Person.objects.on_map().filter(client=client).order_by("created_at", "id")
        )
        if self.instance.pk is not None:
            self.initial.setdefault("name", self.instance.name)
