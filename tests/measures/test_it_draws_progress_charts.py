"""Progress charts: band shading, the cut-off line, reliable-change markers, gaps and escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from kithkin.measures.charts import (
    HEIGHT,
    PLOT_HEIGHT,
    TOP,
    ChartPoint,
    format_score,
    progress_chart,
)
from kithkin.measures.library import Band, Instrument, shipped
from kithkin.measures.scoring import ReliableChange

NS = {"svg": "http://www.w3.org/2000/svg"}


def day(month: int, date: int) -> datetime:
    return datetime(2026, month, date, 12, tzinfo=UTC)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output)


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def points(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{{{NS['svg']}}}g") if "chart__point" in classes(g)]


def y_for(instrument: Instrument, score: float) -> float:
    low, high = instrument.score_range
    return round(TOP + (high - score) / (high - low) * PLOT_HEIGHT, 1)


@pytest.fixture
def pcl5() -> Instrument:
    return shipped()["pcl5"]


def test_it_shades_one_rect_per_band_and_draws_the_cutoff(phq9: Instrument) -> None:
    chart = progress_chart(phq9, [ChartPoint(day(1, 5), 12), ChartPoint(day(2, 2), 8)])
    root = parse(chart.svg)
    assert root.get("viewBox") == f"0 0 640 {HEIGHT}"
    assert root.get("role") == "img"
    bands = root.findall(".//svg:rect", NS)
    assert len(bands) == len(phq9.bands) == 5
    assert [sorted(classes(rect)) for rect in bands] == [
        ["chart__band", f"chart__band--severity-{n}"] for n in range(5)
    ]
    line = root.find(".//svg:line[@class='chart__cutoff-line']", NS)
    assert line is not None
    assert float(line.get("y1", "")) == y_for(phq9, 10) == float(line.get("y2", ""))
    assert line.get("stroke-dasharray")
    labels = [t.text for t in root.iter(f"{{{NS['svg']}}}text")]
    assert "cut-off 10" in labels
    # The PHQ-9 has no reliable-change data: no classification markers, only the baseline.
    marks = points(root)
    assert "chart__point--baseline" in classes(marks[0])
    assert classes(marks[1]) == {"chart__point"}
    assert [row.change for row in chart.rows] == ["Baseline", "—"]


def test_it_labels_and_titles_the_picture_for_screen_readers(phq9: Instrument) -> None:
    root = parse(progress_chart(phq9, [ChartPoint(day(1, 5), 12)]).svg)
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title = root.find(f"svg:title[@id='{title_id}']", NS)
    desc = root.find(f"svg:desc[@id='{desc_id}']", NS)
    assert title is not None and "Patient Health Questionnaire-9" in (title.text or "")
    assert desc is not None and "12" in (desc.text or "")
    assert "style=" not in progress_chart(phq9, [ChartPoint(day(1, 5), 12)]).svg


@pytest.mark.parametrize(
    ("after", "expected", "modifier", "glyph"),
    [
        (30, ReliableChange.IMPROVED, "improved", "✓"),  # 20 > 14.58
        (36, ReliableChange.NO_CHANGE, "no-change", "="),  # 14 < 14.58
        (65, ReliableChange.DETERIORATED, "deteriorated", "!"),  # 15 > 14.58
    ],
)
def test_it_marks_reliable_change_against_the_baseline(
    pcl5: Instrument, after: float, expected: ReliableChange, modifier: str, glyph: str
) -> None:
    chart = progress_chart(pcl5, [ChartPoint(day(1, 5), 50), ChartPoint(day(2, 2), after)])
    marks = points(parse(chart.svg))
    assert "chart__point--baseline" in classes(marks[0])
    assert f"chart__point--{modifier}" in classes(marks[1])
    glyphs = [t.text for t in marks[1].iter(f"{{{NS['svg']}}}text")]
    assert glyph in glyphs  # not colour alone
    assert chart.rows[1].classification is expected


def test_it_compares_every_point_with_the_first_scored_one(pcl5: Instrument) -> None:
    chart = progress_chart(
        pcl5,
        [
            ChartPoint(day(1, 1), None),  # before any score: a gap, not the baseline
            ChartPoint(day(1, 5), 50),
            ChartPoint(day(2, 2), 40),  # 10 from baseline: no reliable change
            ChartPoint(day(3, 2), 30),  # 20 from baseline (10 from the last): improved
        ],
    )
    assert [row.classification for row in chart.rows] == [
        None,
        None,
        ReliableChange.NO_CHANGE,
        ReliableChange.IMPROVED,
    ]
    assert "Reliably improved since baseline." in chart.summary


def test_it_shows_missing_scores_as_gaps(pcl5: Instrument) -> None:
    chart = progress_chart(
        pcl5,
        [
            ChartPoint(day(1, 5), 50),
            ChartPoint(day(1, 19), 48),
            ChartPoint(day(2, 2), None),
            ChartPoint(day(2, 16), 40),
        ],
    )
    root = parse(chart.svg)
    marks = points(root)
    gap = marks[2]
    assert "chart__point--gap" in classes(gap)
    hollow = gap.find("svg:circle", NS)
    assert hollow is not None and "chart__marker--hollow" in classes(hollow)
    assert "no score" in [t.text for t in gap.iter(f"{{{NS['svg']}}}text")]
    # The line breaks at the gap: one run for the first two points, none for the lone last one.
    path = root.find(".//svg:path[@class='chart__line']", NS)
    assert path is not None
    assert path.get("d", "").count("M") == 1
    assert chart.rows[2].score_label == "No score"
    assert "1 response could not be scored." in chart.summary


def test_it_sorts_points_by_date(phq9: Instrument) -> None:
    chart = progress_chart(
        phq9,
        [ChartPoint(day(3, 1), 5), ChartPoint(day(1, 1), 20), ChartPoint(day(2, 1), 12)],
    )
    assert [row.score for row in chart.rows] == [20, 12, 5]
    xs = [float(c.get("cx", "")) for c in parse(chart.svg).iterfind(".//svg:circle", NS)]
    assert xs == sorted(xs)
    ys = [float(c.get("cy", "")) for c in parse(chart.svg).iterfind(".//svg:circle", NS)]
    assert ys == [y_for(phq9, 20), y_for(phq9, 12), y_for(phq9, 5)]
    assert chart.rows[0].change == "Baseline"


def test_it_summarises_the_latest_score_and_band(phq9: Instrument) -> None:
    chart = progress_chart(phq9, [ChartPoint(day(1, 5), 16), ChartPoint(day(2, 2), 11)])
    assert "Latest score 11 (Moderate) on 2 Feb 2026." in chart.summary
    assert "In the clinical range (cut-off 10)." in chart.summary
    assert [row.band for row in chart.rows] == ["Moderately severe", "Moderate"]
    client = progress_chart(
        phq9, [ChartPoint(day(1, 5), 16), ChartPoint(day(2, 2), 11)], audience="client"
    )
    assert client.summary.startswith("Your PHQ-9 scores over time")
    assert "11 (Moderate)" in client.summary
    assert "clinical" not in client.summary


def test_it_uses_calm_words_for_clients(pcl5: Instrument) -> None:
    chart = progress_chart(
        pcl5, [ChartPoint(day(1, 5), 20), ChartPoint(day(2, 2), 60)], audience="client"
    )
    assert "deteriorat" not in chart.summary.lower()
    assert "clinician can talk this through" in chart.summary


def test_it_formats_dates_in_the_active_time_zone(phq9: Instrument) -> None:
    late = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    with timezone.override("Pacific/Auckland"):  # already 6 January there
        chart = progress_chart(phq9, [ChartPoint(late, 7)])
    assert chart.rows[0].date == "6 Jan 2026"
    assert "6 Jan" in [t.text for t in parse(chart.svg).iter(f"{{{NS['svg']}}}text")]


def test_it_escapes_labels_from_a_copied_definition(phq9: Instrument) -> None:
    bands = (Band(0, 13, "<b>low</b> & calm", 0), Band(14, 27, 'high "quoted"', 1))
    copy = replace(
        phq9,
        title="<script>alert(1)</script>",
        short_title="<i>PHQ</i>",
        bands=bands,
        cutoff=replace(phq9.cutoff, label="</title><script>x</script>") if phq9.cutoff else None,
    )
    chart = progress_chart(copy, [ChartPoint(day(1, 5), 16), ChartPoint(day(2, 2), 3)])
    svg = str(chart.svg)
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "<b>" not in svg and "<i>" not in svg
    root = parse(svg)
    title = root.find("svg:title", NS)
    assert title is not None and title.text == "<script>alert(1)</script> progress"
    assert "<b>low</b> & calm" in [t.text for t in root.iter(f"{{{NS['svg']}}}text")]


def test_it_draws_an_empty_chart(phq9: Instrument) -> None:
    chart = progress_chart(phq9, [])
    root = parse(chart.svg)
    assert chart.rows == ()
    assert points(root) == []
    assert root.find(".//svg:path", NS) is None
    assert len(root.findall(".//svg:rect", NS)) == 5
    empty = root.find(".//svg:text[@class='chart__empty']", NS)
    assert empty is not None and empty.text
    assert chart.summary == "No PHQ-9 responses yet."
    client = progress_chart(phq9, [], audience="client")
    assert client.summary.startswith("Your PHQ-9 scores")


def test_it_draws_a_single_point(pcl5: Instrument) -> None:
    chart = progress_chart(pcl5, [ChartPoint(day(1, 5), 40)])
    root = parse(chart.svg)
    (mark,) = points(root)
    circle = mark.find("svg:circle", NS)
    assert circle is not None and float(circle.get("cx", "")) == 332  # centred
    assert root.find(".//svg:path", NS) is None  # no line from one point
    assert chart.summary.startswith("PCL-5: 1 response on 5 Jan 2026.")
    assert "Latest score 40 (Probable PTSD)" in chart.summary


def test_it_copes_with_only_unscored_responses(pcl5: Instrument) -> None:
    chart = progress_chart(pcl5, [ChartPoint(day(1, 5), None), ChartPoint(day(2, 5), None)])
    parse(chart.svg)
    assert chart.summary == "PCL-5: none of the 2 responses could be scored."


@pytest.mark.parametrize("instrument_id", sorted(i for i in shipped()))
def test_it_draws_every_shipped_instrument(instrument_id: str) -> None:
    instrument = shipped()[instrument_id]
    low, high = instrument.score_range
    chart = progress_chart(
        instrument,
        [ChartPoint(day(1, 5), high), ChartPoint(day(2, 5), None), ChartPoint(day(3, 5), low)],
    )
    root = parse(chart.svg)
    assert len(root.findall(".//svg:rect", NS)) == len(instrument.bands)
    assert (root.find(".//svg:g[@class='chart__cutoff']", NS) is None) is (
        instrument.cutoff is None
    )
    ticks = root.findall(".//svg:text[@class='chart__tick-label']", NS)
    assert 2 <= len(ticks) <= 7


def test_it_shows_decimals_for_mean_scored_instruments() -> None:
    scs = shipped()["scs_sf"]
    assert scs.rule == "mean"
    chart = progress_chart(scs, [ChartPoint(day(1, 5), 2.5), ChartPoint(day(2, 5), 3.25)])
    assert [row.score_label for row in chart.rows] == ["2.5", "3.25"]
    assert "Latest score 3.25 on" in chart.summary  # no bands: no band in brackets
    assert format_score(12.0) == "12"
    assert format_score(10.125) == "10.12"
    parse(chart.svg)
