"""Template helpers for showing a client's check-ins outside the measures app (the home page)."""

from __future__ import annotations

from django import template

from kithkin.measures import services

register = template.Library()


@register.filter
def instrument_title(instrument_id: str) -> str:
    """The instrument's full title, or its id when this installation no longer has it."""
    chosen = services.instrument_or_none(str(instrument_id))
    return chosen.title if chosen is not None else str(instrument_id)
