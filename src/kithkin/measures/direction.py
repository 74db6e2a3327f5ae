"""Which way a score moved, in words as well as an arrow.

An arrow alone does not say whether a change is good news: a rising PHQ-9 is worse, a rising
protective-factors score is better. Each definition says which way is worse (``direction``:
``higher_is_worse`` or ``higher_is_better``), so the words come from the instrument itself. An
instrument that does not say gets the neutral "higher" or "lower". These words describe the
direction only: whether a change is large enough to trust is scoring.classify_change's business.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .library import Instrument

# True where a higher score means more difficulty, False where it means less.
_HIGHER_IS_WORSE = {"higher_is_worse": True, "higher_is_better": False}


def arrow(difference: float) -> str:
    """↑ for a rise, ↓ for a fall, "" for no change (decorative: always pair it with words)."""
    if difference > 0:
        return "↑"
    if difference < 0:
        return "↓"
    return ""


def _worse(instrument: Instrument, difference: float) -> bool | None:
    """Whether this change is in the worse direction; None when the instrument does not say."""
    higher_is_worse = _HIGHER_IS_WORSE.get(instrument.direction)
    if higher_is_worse is None:
        return None
    return (difference > 0) == higher_is_worse


def word(instrument: Instrument, difference: float) -> str:
    """ "worse" or "better" for this instrument; "higher" or "lower" when it has no direction; ""
    for no change."""
    if difference == 0:
        return ""
    worse = _worse(instrument, difference)
    if worse is None:
        return _("higher") if difference > 0 else _("lower")
    return _("worse") if worse else _("better")


def sentence(instrument: Instrument, difference: float, amount: str) -> str:
    """The same meaning for a screen reader, in a full sentence: "Lower by 7, which is better on
    this questionnaire." ``amount`` is the size of the change, formatted."""
    if difference == 0:
        return _("The score has not changed.")
    values = {"amount": amount}
    rise = difference > 0
    worse = _worse(instrument, difference)
    if worse is None:
        return (_("Higher by %(amount)s.") if rise else _("Lower by %(amount)s.")) % values
    wordings = {
        (True, True): _("Higher by %(amount)s, which is worse on this questionnaire."),
        (True, False): _("Higher by %(amount)s, which is better on this questionnaire."),
        (False, True): _("Lower by %(amount)s, which is worse on this questionnaire."),
        (False, False): _("Lower by %(amount)s, which is better on this questionnaire."),
    }
    return wordings[rise, worse] % values


__all__ = ["arrow", "sentence", "word"]
