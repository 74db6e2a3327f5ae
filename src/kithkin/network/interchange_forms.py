"""The upload form and the mapping screen's form for Network Canvas / GraphML imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kithkin.network.interchange.mapping import (
    CATEGORICAL,
    Mapping,
    Variable,
    guess_targets,
    guess_value,
    targets,
    targets_for,
)

SINGLE_TARGETS_ALLOWING_MANY = {"ignore", "helps", "gives"}


class UploadForm(forms.Form):
    archive = forms.FileField(
        label=gettext_lazy("A Network Canvas ZIP, or a GraphML file"),
        required=False,
        help_text=gettext_lazy("The .zip Network Canvas exports, or a .graphml file."),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,.graphml,.xml"}),
    )
    attribute_list = forms.FileField(
        label=gettext_lazy("The attributeList CSV (the people)"),
        required=False,
        help_text=gettext_lazy("For example …_attributeList_Person.csv. Needed for a CSV import."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv"}),
    )
    edge_list = forms.FileField(
        label=gettext_lazy("The edgeList CSV (who knows whom), if you have one"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv"}),
    )
    ego = forms.FileField(
        label=gettext_lazy("The ego CSV, if you have one"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        archive = data.get("archive")
        csvs = [data.get(name) for name in ("attribute_list", "edge_list", "ego")]
        if archive and any(csvs):
            raise forms.ValidationError(
                _("Please choose either one ZIP or GraphML file, or the CSV files, not both.")
            )
        if not archive and not any(csvs):
            raise forms.ValidationError(_("Please choose a file to import."))
        if not archive and not data.get("attribute_list"):
            self.add_error(
                "attribute_list",
                _("The attributeList CSV lists the people; Kithkin needs it to import anything."),
            )
        return data


@dataclass
class VariableRow:
    variable: Variable
    index: int
    target: forms.BoundField
    shown: forms.BoundField
    values: list[tuple[str, forms.BoundField]] = field(default_factory=list)

    def describe(self) -> str:
        if self.variable.kind == CATEGORICAL:
            return _("options: %(options)s") % {"options": ", ".join(self.variable.options)}
        return {
            "text": _("text"),
            "number": _("numbers"),
            "boolean": _("yes or no"),
            "layout": _("a position (x and y)"),
        }.get(self.variable.kind, self.variable.kind)


def choose_targets(found: list[Variable], data: Any | None) -> tuple[dict[str, str], bool]:
    """The target each variable maps to now, and whether any changed since the page was shown
    (then the value choices below it must be shown again before importing)."""
    guesses = guess_targets(found)
    if data is None:
        return guesses, False
    chosen: dict[str, str] = {}
    changed = False
    for index, variable in enumerate(found):
        allowed = {target.key for target in targets_for(variable)}
        target = data.get(f"target_{index}", guesses[variable.key])
        chosen[variable.key] = target if target in allowed else guesses[variable.key]
        if data.get(f"shown_{index}") != chosen[variable.key]:
            changed = True
    return chosen, changed


class MappingForm(forms.Form):
    def __init__(
        self,
        found: list[Variable],
        chosen: dict[str, str],
        edge_types: list[str],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        previous: Any = kwargs.pop("previous", None)
        super().__init__(*args, **kwargs)
        self.found = found
        self.chosen = chosen
        all_targets = targets()
        default_edge = "knows" if "knows" in edge_types else (edge_types[0] if edge_types else "")
        self.fields["edge_type"] = forms.ChoiceField(
            label=_("Which links become ties between people"),
            choices=[("", _("None: import people only"))] + [(t, t) for t in edge_types],
            required=False,
            initial=previous.get("edge_type", default_edge)
            if previous is not None
            else default_edge,
        )
        self.rows: list[VariableRow] = []
        for index, variable in enumerate(found):
            target_key = chosen[variable.key]
            self.fields[f"target_{index}"] = forms.ChoiceField(
                label=_("Kithkin field for “%(name)s”") % {"name": variable.key},
                choices=[(t.key, t.label) for t in targets_for(variable)],
                initial=target_key,
            )
            self.fields[f"shown_{index}"] = forms.CharField(
                widget=forms.HiddenInput, initial=target_key, required=False
            )
            target = all_targets[target_key]
            value_names: list[tuple[str, str]] = []
            if target.mode in ("single", "multi"):
                empty = _("(leave as it is)") if target.mode == "single" else _("(none of these)")
                for number, option in enumerate(variable.options):
                    name = f"value_{index}_{number}"
                    initial = guess_value(target.key, option)
                    if previous is not None and previous.get(f"shown_{index}") == target_key:
                        initial = previous.get(name, initial)
                    self.fields[name] = forms.ChoiceField(
                        label=_("“%(option)s” means") % {"option": option},
                        choices=[("", empty), *target.choices],
                        required=False,
                        initial=initial,
                    )
                    value_names.append((option, name))
            self.rows.append(
                VariableRow(
                    variable,
                    index,
                    self[f"target_{index}"],
                    self[f"shown_{index}"],
                    [(option, self[name]) for option, name in value_names],
                )
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        by_target: dict[str, list[str]] = {}
        for index, variable in enumerate(self.found):
            target = data.get(f"target_{index}", "ignore")
            by_target.setdefault(target, []).append(variable.key)
        all_targets = targets()
        if "name" not in by_target:
            raise forms.ValidationError(
                _("Please choose which variable holds each person's name or initials.")
            )
        for target, keys in by_target.items():
            if target not in SINGLE_TARGETS_ALLOWING_MANY and len(keys) > 1:
                raise forms.ValidationError(
                    _("Only one variable can fill “%(field)s”, but %(names)s are all mapped to it.")
                    % {"field": all_targets[target].label, "names": ", ".join(keys)}
                )
        return data

    def mapping(self, node_type: str) -> Mapping:
        data = self.cleaned_data
        values: dict[str, dict[str, str]] = {}
        for row in self.rows:
            values[row.variable.key] = {
                option: data.get(bound.name, "") or "" for option, bound in row.values
            }
        return Mapping(
            node_type=node_type,
            edge_type=data.get("edge_type") or "",
            targets={
                variable.key: data[f"target_{index}"] for index, variable in enumerate(self.found)
            },
            values=values,
        )
