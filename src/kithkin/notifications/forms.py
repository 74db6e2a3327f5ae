"""A person's email choices, one checkbox per category."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kithkin.notifications.kinds import Category, CategoryInfo

CRITICAL_HELP = _(
    "Always on. These emails cannot be turned off, because someone's safety may depend on them "
    "being seen quickly."
)


class PreferencesForm(forms.Form):
    """One "email me" checkbox per category shown. A critical category's box is ticked and
    disabled: Django then ignores whatever is posted for it and keeps it on."""

    def __init__(
        self,
        *args: Any,
        categories: list[CategoryInfo],
        current: dict[Category, bool],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.categories = categories
        for info in categories:
            help_text = str(info.description)
            if info.critical:
                help_text = f"{help_text} {CRITICAL_HELP}"
            self.fields[info.category.value] = forms.BooleanField(
                label=info.category.label,
                required=False,
                initial=True if info.critical else current[info.category],
                disabled=info.critical,
                help_text=help_text,
            )

    def choices(self) -> dict[Category, bool]:
        """The email choice per category shown; critical ones are always True."""
        return {
            info.category: True if info.critical else bool(self.cleaned_data[info.category.value])
            for info in self.categories
        }
