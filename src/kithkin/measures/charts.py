"""Progress charts: a pure function from an instrument and its dated scores to a drawing model.

The chart shades the instrument's severity bands, draws the clinical cut-off as a dashed line and
joins the scores in date order. A response that could not be scored is a gap in the line, shown as
a hollow marker on the axis. When the instrument has reliable-change data, each point after the
first scored one (the baseline) carries its Jacobson-Truax classification as a class and a text
glyph, so colour is never the only cue. Colours are the page stylesheet's job: the SVG has classes
only (the CSP forbids style attributes).

Nothing here touches the database. ``Chart.svg`` builds the markup with ``format_html``, so every
label (titles, band labels from a practice's own definitions) is escaped; ``Chart.summary`` is the
sentence for screen readers and ``Chart.rows`` the data table a page shows beside the picture.
Numbers in the SVG use Python's own float format, never a locale's decimal comma.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .library import Instrument
from .scoring import ReliableChange, classify_change

WIDTH = 640
HEIGHT = 300
LEFT = 48
RIGHT = 24
TOP = 16
BOTTOM = 40
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
POINT_RADIUS = 5
MAX_DATE_LABELS = 8

_MODIFIERS = {
    ReliableChange.IMPROVED: "improved",
    ReliableChange.DETERIORATED: "deteriorated",
    ReliableChange.NO_CHANGE: "no-change",
}
_GLYPHS = {
    ReliableChange.IMPROVED: "✓",
    ReliableChange.DETERIORATED: "!",
    ReliableChange.NO_CHANGE: "=",
}


class ChartPoint(NamedTuple):
    """One response: when it was given and its total (None when it could not be scored)."""

    when: datetime
    score: float | None


@dataclass(frozen=True)
class ChartRow:
    """One line of the data table shown beside the chart."""

    when: datetime
    date: str
    score: float | None
    score_label: str
    band: str
    change: str
    classification: ReliableChange | None


@dataclass(frozen=True)
class BandShade:
    y: float
    height: float
    severity: int
    label: str
    label_y: float


@dataclass(frozen=True)
class CutoffLine:
    y: float
    value: str
    label: str
    caption: str = ""


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class PointMark:
    x: float
    y: float
    date: str
    score: float | None
    modifier: str  # gap, baseline, improved, deteriorated, no-change, or "" (not judged)
    glyph: str
    title: str
    show_date: bool


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    summary: str
    bands: tuple[BandShade, ...]
    cutoff: CutoffLine | None
    ticks: tuple[Tick, ...]
    points: tuple[PointMark, ...]
    rows: tuple[ChartRow, ...]
    empty_text: str = ""

    @property
    def line_path(self) -> str:
        """The score line: one run per stretch of consecutive scored points (gaps break it)."""
        parts: list[str] = []
        run: list[PointMark] = []
        for point in (*self.points, None):
            if point is not None and point.score is not None:
                run.append(point)
                continue
            if len(run) > 1:
                parts.append("M" + " L".join(f"{_n(p.x)} {_n(p.y)}" for p in run))
            run = []
        return " ".join(parts)

    @property
    def svg(self) -> SafeString:
        title_id, desc_id = f"{self.id}-title", f"{self.id}-desc"
        bands = format_html_join(
            "",
            '<rect class="chart__band chart__band--severity-{}" x="{}" y="{}" width="{}" '
            'height="{}"/><text class="chart__band-label" x="{}" y="{}">{}</text>',
            (
                (
                    band.severity,
                    LEFT,
                    _n(band.y),
                    PLOT_WIDTH,
                    _n(band.height),
                    LEFT + 6,
                    _n(band.label_y),
                    band.label,
                )
                for band in self.bands
            ),
        )
        ticks = format_html_join(
            "",
            '<line class="chart__tick" x1="{}" y1="{}" x2="{}" y2="{}"/>'
            '<text class="chart__tick-label" x="{}" y="{}" text-anchor="end">{}</text>',
            (
                (LEFT - 4, _n(t.y), LEFT, _n(t.y), LEFT - 7, _n(t.y + 4), t.label)
                for t in self.ticks
            ),
        )
        cutoff = (
            format_html(
                '<g class="chart__cutoff"><title>{title}</title>'
                '<line class="chart__cutoff-line" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" '
                'stroke-dasharray="6 4"/>'
                '<text class="chart__cutoff-label" x="{x2}" y="{label_y}" text-anchor="end">'
                "{label}</text></g>",
                title=self.cutoff.label,
                x1=LEFT,
                x2=LEFT + PLOT_WIDTH,
                y=_n(self.cutoff.y),
                label_y=_n(self.cutoff.y - 4),
                label=self.cutoff.caption or _("cut-off %(value)s") % {"value": self.cutoff.value},
            )
            if self.cutoff is not None
            else ""
        )
        path = self.line_path
        line = format_html('<path class="chart__line" d="{}"/>', path) if path else ""
        points = format_html_join("", "{}", ((_point_svg(p),) for p in self.points))
        empty = (
            format_html(
                '<text class="chart__empty" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(LEFT + PLOT_WIDTH / 2),
                _n(TOP + PLOT_HEIGHT / 2),
                self.empty_text,
            )
            if self.empty_text
            else ""
        )
        bottom = TOP + PLOT_HEIGHT
        return format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
            'role="img" aria-labelledby="{title_id} {desc_id}">'
            '<title id="{title_id}">{title}</title><desc id="{desc_id}">{desc}</desc>'
            '<g class="chart__bands">{bands}</g>'
            '<g class="chart__axes"><line class="chart__axis" x1="{left}" y1="{top}" '
            'x2="{left}" y2="{bottom}"/><line class="chart__axis" x1="{left}" y1="{bottom}" '
            'x2="{right}" y2="{bottom}"/>{ticks}</g>'
            "{cutoff}{line}"
            '<g class="chart__points">{points}</g>{empty}</svg>',
            w=WIDTH,
            h=HEIGHT,
            title_id=title_id,
            desc_id=desc_id,
            title=self.title,
            desc=self.summary,
            bands=bands,
            left=LEFT,
            top=TOP,
            bottom=bottom,
            right=LEFT + PLOT_WIDTH,
            ticks=ticks,
            cutoff=cutoff,
            line=line,
            points=points,
            empty=empty,
        )


def _point_svg(point: PointMark) -> SafeString:
    classes = "chart__point" + (f" chart__point--{point.modifier}" if point.modifier else "")
    date_label = (
        format_html(
            '<text class="chart__date" x="{}" y="{}" text-anchor="middle">{}</text>',
            _n(point.x),
            TOP + PLOT_HEIGHT + 18,
            point.date,
        )
        if point.show_date
        else ""
    )
    if point.score is None:
        mark = format_html(
            '<circle class="chart__marker chart__marker--hollow" cx="{x}" cy="{y}" r="{r}"/>'
            '<text class="chart__glyph" x="{x}" y="{label_y}" text-anchor="middle">{text}</text>',
            x=_n(point.x),
            y=_n(point.y),
            r=POINT_RADIUS,
            label_y=_n(point.y - 10),
            text=_("no score"),
        )
    else:
        glyph = (
            format_html(
                '<text class="chart__glyph" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(point.x),
                _n(point.y - 10),
                point.glyph,
            )
            if point.glyph
            else ""
        )
        mark = format_html(
            '<circle class="chart__marker" cx="{}" cy="{}" r="{}"/>{}',
            _n(point.x),
            _n(point.y),
            POINT_RADIUS,
            glyph,
        )
    return format_html(
        '<g class="{}"><title>{}</title>{}</g>{}', classes, point.title, mark, date_label
    )


def _n(value: float) -> str:
    """An SVG number: one decimal at most, Python's format (never a locale's decimal comma)."""
    return f"{round(value, 1):g}"


def format_score(value: float) -> str:
    """A total as people read it: whole numbers plain, means and prorated totals to 2 places."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _y(instrument: Instrument, score: float) -> float:
    low, high = instrument.score_range
    span = (high - low) or 1.0
    clamped = min(max(score, low), high)
    return TOP + (high - clamped) / span * PLOT_HEIGHT


def _ticks(instrument: Instrument) -> tuple[Tick, ...]:
    low, high = instrument.score_range
    span = high - low
    if span <= 0:
        return (Tick(_y(instrument, low), format_score(low)),)
    raw = span / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    value = math.ceil(low / step) * step
    ticks: list[Tick] = []
    while value <= high + 1e-9:
        ticks.append(Tick(_y(instrument, value), format_score(round(value, 6))))
        value += step
    return tuple(ticks)


def _bands(instrument: Instrument) -> tuple[BandShade, ...]:
    low, high = instrument.score_range
    shades: list[BandShade] = []
    bands = instrument.bands
    for index, band in enumerate(bands):
        # Bands are whole-number ranges (0-4, 5-9): shade up to where the next one starts.
        bottom = low if index == 0 else band.min
        top = bands[index + 1].min if index + 1 < len(bands) else high
        y_top, y_bottom = _y(instrument, top), _y(instrument, bottom)
        shades.append(
            BandShade(
                y=y_top,
                height=max(y_bottom - y_top, 0.0),
                severity=band.severity if band.severity is not None else index,
                label=band.label,
                label_y=y_top + 12,
            )
        )
    return tuple(shades)


def _local(when: datetime) -> datetime:
    return timezone.localtime(when) if timezone.is_aware(when) else when


def _change_labels(client: bool) -> dict[ReliableChange, str]:
    if client:
        return {
            ReliableChange.IMPROVED: _("Clearly better"),
            ReliableChange.DETERIORATED: _("Harder than at first"),
            ReliableChange.NO_CHANGE: _("About the same"),
        }
    return {
        ReliableChange.IMPROVED: _("Reliably improved"),
        ReliableChange.DETERIORATED: _("Reliably deteriorated"),
        ReliableChange.NO_CHANGE: _("No reliable change"),
    }


def progress_chart(
    instrument: Instrument,
    points: Sequence[ChartPoint],
    *,
    audience: str = "clinician",
    chart_id: str | None = None,
) -> Chart:
    """The progress chart for one instrument's scores, oldest first whatever the input order."""
    client = audience == "client"
    ordered = sorted(points, key=lambda p: p.when)
    has_rci = instrument.reliable_change is not None
    labels = _change_labels(client)
    baseline: float | None = next((p.score for p in ordered if p.score is not None), None)
    count = len(ordered)
    label_every = max(1, math.ceil(count / MAX_DATE_LABELS))
    marks: list[PointMark] = []
    rows: list[ChartRow] = []
    seen_baseline = False
    for index, point in enumerate(ordered):
        local = _local(point.when)
        short_date = dateformat.format(local, "j M")
        long_date = dateformat.format(local, "j M Y")
        x = LEFT + (PLOT_WIDTH / 2 if count == 1 else PLOT_WIDTH * index / (count - 1))
        show_date = index % label_every == 0 or index == count - 1
        if point.score is None:
            marks.append(
                PointMark(
                    x=x,
                    y=TOP + PLOT_HEIGHT,
                    date=short_date,
                    score=None,
                    modifier="gap",
                    glyph="",
                    title=_("%(date)s: no score") % {"date": long_date},
                    show_date=show_date,
                )
            )
            rows.append(ChartRow(point.when, long_date, None, _("No score"), "—", "—", None))
            continue
        band = instrument.band_for(point.score)
        band_label = band.label if band is not None else "—"
        score_label = format_score(point.score)
        classification: ReliableChange | None = None
        if not seen_baseline:
            seen_baseline = True
            modifier, glyph = "baseline", ""
            change = _("Your starting point") if client else _("Baseline")
        elif has_rci and baseline is not None:
            classification = classify_change(instrument, baseline, point.score).classification
            assert classification is not None  # the instrument has reliable-change data
            modifier, glyph = _MODIFIERS[classification], _GLYPHS[classification]
            change = labels[classification]
        else:
            modifier, glyph, change = "", "", "—"
        title = _("%(date)s: %(score)s, %(band)s") % {
            "date": long_date,
            "score": score_label,
            "band": band_label,
        }
        if classification is not None or modifier == "baseline":
            title = f"{title} ({change})"
        marks.append(
            PointMark(
                x=x,
                y=_y(instrument, point.score),
                date=short_date,
                score=point.score,
                modifier=modifier,
                glyph=glyph,
                title=title,
                show_date=show_date,
            )
        )
        rows.append(
            ChartRow(
                point.when,
                long_date,
                point.score,
                score_label,
                band_label,
                change,
                classification,
            )
        )
    cutoff = (
        CutoffLine(
            y=_y(instrument, instrument.cutoff.value),
            value=format_score(instrument.cutoff.value),
            label=instrument.cutoff.label,
            # Toward a client the line is a threshold, not a "clinical cut-off".
            caption=_("usual threshold %(value)s")
            % {"value": format_score(instrument.cutoff.value)}
            if client
            else "",
        )
        if instrument.cutoff is not None
        else None
    )
    if not ordered:
        empty_text = (
            _("Your scores will appear here once you have answered this questionnaire.")
            if client
            else _("No scores yet.")
        )
    else:
        empty_text = ""
    return Chart(
        id=chart_id or f"chart-{instrument.id}",
        title=_("%(instrument)s progress") % {"instrument": instrument.title},
        summary=_summary(instrument, rows, client),
        bands=_bands(instrument),
        cutoff=cutoff,
        ticks=_ticks(instrument),
        points=tuple(marks),
        rows=tuple(rows),
        empty_text=empty_text,
    )


def _summary(instrument: Instrument, rows: Sequence[ChartRow], client: bool) -> str:
    name = instrument.short_title
    scored = [row for row in rows if row.score is not None]
    if not rows:
        if client:
            return _("Your %(instrument)s scores over time will appear here.") % {
                "instrument": name
            }
        return _("No %(instrument)s responses yet.") % {"instrument": name}
    if not scored:
        if client:
            return _("Your %(instrument)s answers so far could not be scored.") % {
                "instrument": name
            }
        return ngettext(
            "%(instrument)s: the one response could not be scored.",
            "%(instrument)s: none of the %(count)s responses could be scored.",
            len(rows),
        ) % {"instrument": name, "count": len(rows)}
    latest = scored[-1]
    values: dict[str, object] = {
        "instrument": name,
        "count": len(rows),
        "first": rows[0].date,
        "last": rows[-1].date,
        "score": latest.score_label,
        "band": latest.band,
        "date": latest.date,
    }
    if client:
        return _client_summary(values, latest, len(rows))
    return _clinician_summary(instrument, values, latest, len(rows), len(rows) - len(scored))


def _client_summary(values: dict[str, object], latest: ChartRow, count: int) -> str:
    sentences: list[str] = []
    if count == 1:
        sentences.append(_("Your %(instrument)s score on %(date)s.") % values)
    else:
        sentences.append(
            _("Your %(instrument)s scores over time, from %(first)s to %(last)s.") % values
        )
    if latest.band != "—":
        sentences.append(_("Your latest score was %(score)s (%(band)s).") % values)
    else:
        sentences.append(_("Your latest score was %(score)s.") % values)
    if latest.classification is not None:
        sentences.append(
            {
                ReliableChange.IMPROVED: _("That is a clear improvement on your first score."),
                ReliableChange.DETERIORATED: _(
                    "Things look harder than at your first score; your clinician can talk "
                    "this through with you."
                ),
                ReliableChange.NO_CHANGE: _("That is about the same as your first score."),
            }[latest.classification]
        )
    return " ".join(sentences)


def _clinician_summary(
    instrument: Instrument, values: dict[str, object], latest: ChartRow, count: int, gaps: int
) -> str:
    assert latest.score is not None
    sentences: list[str] = []
    sentences.append(
        ngettext(
            "%(instrument)s: %(count)s response on %(first)s.",
            "%(instrument)s: %(count)s responses from %(first)s to %(last)s.",
            count,
        )
        % values
    )
    if latest.band != "—":
        sentences.append(_("Latest score %(score)s (%(band)s) on %(date)s.") % values)
    else:
        sentences.append(_("Latest score %(score)s on %(date)s.") % values)
    if instrument.cutoff is not None:
        cutoff = {"cutoff": format_score(instrument.cutoff.value)}
        if instrument.cutoff.is_clinical(latest.score):
            sentences.append(_("In the clinical range (cut-off %(cutoff)s).") % cutoff)
        else:
            sentences.append(_("Outside the clinical range (cut-off %(cutoff)s).") % cutoff)
    if latest.classification is not None:
        sentences.append(
            {
                ReliableChange.IMPROVED: _("Reliably improved since baseline."),
                ReliableChange.DETERIORATED: _("Reliably deteriorated since baseline."),
                ReliableChange.NO_CHANGE: _("No reliable change since baseline."),
            }[latest.classification]
        )
    if gaps:
        sentences.append(
            ngettext(
                "%(gaps)s response could not be scored.",
                "%(gaps)s responses could not be scored.",
                gaps,
            )
            % {"gaps": gaps}
        )
    return " ".join(sentences)


__all__ = ["Chart", "ChartPoint", "ChartRow", "format_score", "progress_chart"]
