"""Where an instrument's numbers come from, worded for the care team.

The definition files carry provenance notes written for developers: they name Kithkin's internal
research files ("instruments.md", "concepts.md section 4"), flag open questions with "⚠" and
"to be verified", and are not always finished sentences. The notes stay in the files, where they
belong; this module turns them into what a clinician reads: the published citation where there
is one, and otherwise a short plain statement. It never adds a figure that the definition does
not hold, and never changes anything scoring reads.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from .library import Instrument

# A reference to one of Kithkin's internal files: "instruments.md", "concepts.md section 4",
# "/work/shared/reference/instruments.md", "concepts.md, section 2".
_INTERNAL_FILE = r"[\w./-]*\w\.md\b(?:,?\s*section\s+\d+)?"
_INTERNAL = re.compile(_INTERNAL_FILE, re.IGNORECASE)
# "(… instruments.md …)": an aside that only says where a developer found something.
_INTERNAL_ASIDE = re.compile(r"\s*\([^()]*" + _INTERNAL_FILE + r"[^()]*\)", re.IGNORECASE)
# "instruments.md: <what it says>" at the start of a sentence: keep what it says.
_INTERNAL_PREFIX = re.compile(r"^" + _INTERNAL_FILE + r"\s*(?:\([^()]*\))?\s*:\s*", re.IGNORECASE)
# Remarks for whoever maintains the definitions, not for the care team.
_DEV_REMARK = re.compile(
    r"\bto be (?:verified|confirmed|checked)\b|\bunconfirmed\b|\bTODO\b|\bFIXME\b|\bXXX\b",
    re.IGNORECASE,
)
_WARNING_MARK = re.compile("\u26a0\ufe0f?\\s*")
# Split after a full stop or semicolon and a space, but not inside "et al. 2016".
_SEGMENT_BREAK = re.compile(r"(?<!\bal\.)(?<=[.;])\s+")
_TRAILING = re.compile(r"[\s;:,\u2014\u2013-]+$")
_REPEATED_STOPS = re.compile(r"\.{2,}")
# " ;" left where an aside was taken out (but not the space in "r = .87").
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.;:,)])(?=\s|$)")
# A lower-case first word ("item 9 …"), not a name such as "phqscreeners.com" or "score_range".
_LOWER_FIRST_WORD = re.compile(r"^[a-z]+(?=\s)")
_SPACES = re.compile(r"\s{2,}")


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:] if _LOWER_FIRST_WORD.match(text) else text


def _clean_segment(segment: str) -> str:
    marked = _WARNING_MARK.match(segment) is not None
    segment = _WARNING_MARK.sub("", segment).strip()
    segment = _INTERNAL_PREFIX.sub("", segment)
    if _INTERNAL.search(segment) or _DEV_REMARK.search(segment):
        return ""
    return _capitalised(segment) if marked else segment


def clean_clause(note: str | None) -> str:
    """A provenance note without internal file names, "⚠" marks or developers' remarks, and
    without a closing full stop (for use inside a sentence); "" when nothing is left to show."""
    if not note:
        return ""
    text = _INTERNAL_ASIDE.sub("", note)
    kept = [
        cleaned
        for segment in _SEGMENT_BREAK.split(text.strip())
        if (cleaned := _clean_segment(segment))
    ]
    text = " ".join(kept)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", text))
    text = _REPEATED_STOPS.sub(".", text)
    text = _TRAILING.sub("", text)
    text = text.removesuffix(".")
    return _capitalised(text.strip())


def clean_note(note: str | None) -> str:
    """A provenance note as a clinician reads it: one sentence or more, ending with a single full
    stop; "" when the note holds nothing but internal references and remarks."""
    clause = clean_clause(note)
    if not clause:
        return ""
    return clause if clause.endswith(("?", "!", ".)", "?)", "!)")) else clause + "."


def _labelled(label: str, note: str | None) -> str:
    """ "Bands: <source>." or, without a source worth showing, a plain statement."""
    cleaned = clean_note(note)
    if cleaned:
        return _("%(label)s: %(source)s") % {"label": label, "source": cleaned}
    return _("%(label)s: no published source is recorded in Kithkin yet.") % {"label": label}


def instrument_sources(instrument: Instrument) -> tuple[str, ...]:
    """The sentences that tell the care team where this instrument's bands, cut-off and reliable
    change come from, each ending with one full stop."""
    sentences: list[str] = []
    if instrument.bands:
        sentences.append(_labelled(_("Bands"), instrument.bands_source))
    if instrument.cutoff is not None:
        sentences.append(_labelled(_("Cut-off"), instrument.cutoff.source))
    params = instrument.reliable_change
    if params is None:
        sentences.append(
            _(
                "Reliable change is not shown for this questionnaire: no published test-retest "
                "reliability and reference SD are recorded in Kithkin yet."
            )
        )
    else:
        sentences.append(
            _(
                "Reliable change (Jacobson\u2013Truax) uses a test-retest reliability of %(r)s "
                "and a reference SD of %(sd)s."
            )
            % {"r": f"{params.r:g}", "sd": f"{params.sd:g}"}
        )
        sentences.append(_labelled(_("Reliability"), params.r_source))
        sentences.append(_labelled(_("Reference SD"), params.sd_source))
    return tuple(sentences)


__all__ = ["clean_clause", "clean_note", "instrument_sources"]
