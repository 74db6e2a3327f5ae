"""The care team reads clean provenance (published citations, or a plain statement), never the
definitions' internal research notes; and a score change says in words whether it is worse or
better for that questionnaire, not with an arrow alone."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.measures import direction, provenance
from kithkin.measures.library import DEFINITIONS_DIR, Instrument, shipped
from tests import factories
from tests.conftest import World, signed_in
from tests.connection.profile_data import profile_url
from tests.measures.checkin_pages import overview_url

HOME = reverse("home")
# What the definitions' notes say for developers, never for the care team.
INTERNAL = ("instruments.md", "concepts.md", ".md ", "\u26a0", "to be verified", "..")


def _instrument_url(client: Client, instrument_id: str) -> str:
    return reverse(
        "measures_instrument", kwargs={"client_id": client.pk, "instrument_id": instrument_id}
    )


def _words(page: str) -> str:
    """The text a reader sees, without markup and with entities decoded."""
    text = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def _assert_clean(text: str) -> None:
    for internal in INTERNAL:
        assert internal.casefold() not in text.casefold(), (internal, text)


def _notes(instrument: Instrument) -> list[str]:
    """Every provenance note the definition carries, whether a page shows it or not."""
    notes = [
        instrument.bands_source or "",
        instrument.licence.source,
        instrument.missing.source,
        *(s.source for s in instrument.subscales),
        *(r.source for r in instrument.risk_rules),
        *(d.source for d in instrument.diagnostic_rules),
        *instrument.sources.values(),
        *instrument.notes,
    ]
    if instrument.cutoff is not None:
        notes.append(instrument.cutoff.source)
    if instrument.reliable_change is not None:
        notes += [instrument.reliable_change.r_source, instrument.reliable_change.sd_source]
    if instrument.minimal_important_change is not None:
        notes.append(instrument.minimal_important_change.source)
    return notes


# --- cleaning the notes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "shown"),
    [
        # A citation is kept whole, semicolons in its volume and pages included.
        (
            "Andrews G, Slade T. Interpreting scores on the Kessler Psychological Distress Scale "
            "(K10). Aust N Z J Public Health 2001;25:494-497 (as used in instruments.md: < 20 "
            "well, 20-24 mild).",
            "Andrews G, Slade T. Interpreting scores on the Kessler Psychological Distress Scale "
            "(K10). Aust N Z J Public Health 2001;25:494-497.",
        ),
        (
            "instruments.md; Löwe B, et al. Med Care 2004;42:1194-1201.",
            "Löwe B, et al. Med Care 2004;42:1194-1201.",
        ),
        # What an internal file says is kept; its name and the remark for developers are not.
        (
            "\u26a0 instruments.md: \u201c\u2265 6 often used as lonely\u201d \u2014 a convention "
            "in later studies, not from Hughes et al. 2004; to be verified.",
            "\u201c\u2265 6 often used as lonely\u201d \u2014 a convention in later studies, not "
            "from Hughes et al. 2004.",
        ),
        (
            "Cut-off 33 (Bovin et al. 2016). \u26a0 range 31-33: a practice may prefer 31.",
            "Cut-off 33 (Bovin et al. 2016). Range 31-33: a practice may prefer 31.",
        ),
        ("Weathers et al. 2013; DSM-5 cluster map in instruments.md", "Weathers et al. 2013."),
        ("test-retest r = .82.", "test-retest r = .82."),
        ("Spitzer et al. 2006.", "Spitzer et al. 2006."),
        # Nothing but internal notes: nothing to show.
        ("concepts.md section 4", ""),
        (
            "instruments.md (\u201cSD \u2248 12.4 in one sample\u201d); the sample is not named "
            "there \u2014 to be verified.",
            "",
        ),
        ("", ""),
        (None, ""),
    ],
)
def test_it_cleans_a_note_for_the_care_team(note: str | None, shown: str) -> None:
    assert provenance.clean_note(note) == shown


@pytest.mark.parametrize("instrument", list(shipped().values()), ids=lambda i: i.id)
def test_no_cleaned_note_of_a_shipped_instrument_shows_internal_remarks(
    instrument: Instrument,
) -> None:
    for note in _notes(instrument):
        cleaned = provenance.clean_note(note)
        _assert_clean(cleaned)
        assert cleaned == "" or cleaned.endswith((".", ".)"))
    raw = json.loads((DEFINITIONS_DIR / f"{instrument.id}.json").read_text(encoding="utf-8"))
    _assert_clean(provenance.clean_note(raw.get("reliable_change_note")))


@pytest.mark.parametrize("instrument", list(shipped().values()), ids=lambda i: i.id)
def test_the_sources_never_add_a_figure_the_definition_does_not_hold(
    instrument: Instrument,
) -> None:
    raw = (DEFINITIONS_DIR / f"{instrument.id}.json").read_text(encoding="utf-8")
    held = set(re.findall(r"\d+(?:\.\d+)?", raw))
    for sentence in provenance.instrument_sources(instrument):
        _assert_clean(sentence)
        assert sentence.endswith((".", ".)")) and not sentence.endswith("..")
        for figure in re.findall(r"\d+(?:\.\d+)?", sentence):
            assert figure in held, (figure, sentence)


def test_it_says_plainly_what_is_not_recorded(phq9: Instrument) -> None:
    sources = provenance.instrument_sources(phq9)
    assert (
        "Reliable change is not shown for this questionnaire: no published test-retest "
        "reliability and reference SD are recorded in Kithkin yet."
    ) in sources
    # PCL-5's reference SD has no published source in its definition: said so, the SD kept.
    pcl5 = provenance.instrument_sources(shipped()["pcl5"])
    assert "Reference SD: no published source is recorded in Kithkin yet." in pcl5
    assert any("reference SD of 12.4" in sentence for sentence in pcl5)


# --- the pages -----------------------------------------------------------------------------


ALL_HISTORIES = (
    ("phq9", 1, 2),
    ("pcl5", 3, 1),
    ("gad7", 1, 2),
    ("ucla3", 1, 2),
    ("k10", 2, 3),
    ("protective_factors", 2, 4),
)
# PHQ-9 rises from 9 to 18 (worse), protective factors from 14 to 28 (better); neither has
# reliable-change data, so the words give the direction only.
RISES = (("phq9", 1, 2), ("protective_factors", 2, 4))


def _histories(client: Client, histories: tuple[tuple[str, int, int], ...] = ALL_HISTORIES) -> None:
    now = timezone.now()
    for instrument_id, first, latest in histories:
        factories.submitted_response(
            client,
            instrument_id,
            factories.all_answers(instrument_id, first),
            when=now - timedelta(days=30),
        )
        factories.submitted_response(
            client,
            instrument_id,
            factories.all_answers(instrument_id, latest),
            when=now - timedelta(days=1),
        )


@pytest.mark.django_db
def test_the_instrument_pages_and_the_overview_show_clean_provenance(world: World) -> None:
    _histories(world.client_a)
    http = signed_in(world.clinician)
    overview = http.get(overview_url(world.client_a))
    assert overview.status_code == 200
    _assert_clean(_words(overview.content.decode()))
    for instrument in shipped().values():
        page = http.get(_instrument_url(world.client_a, instrument.id))
        assert page.status_code == 200, instrument.id
        words = _words(page.content.decode())
        _assert_clean(words)
        for sentence in provenance.instrument_sources(instrument):
            assert sentence in words, (instrument.id, sentence)
    pcl5 = _words(http.get(_instrument_url(world.client_a, "pcl5")).content.decode())
    assert "Bovin" in pcl5 and "Blevins CA" in pcl5
    # The questionnaire library, too.
    library = http.get(reverse("measures_library"))
    assert library.status_code == 200
    _assert_clean(_words(library.content.decode()))


@pytest.mark.django_db
def test_the_connection_profile_names_no_internal_file(world: World) -> None:
    _histories(world.client_a)
    page = signed_in(world.clinician).get(profile_url(world.client_a))
    assert page.status_code == 200
    words = _words(page.content.decode())
    assert "Resilience when apart, from the protective factors check-in" in words
    _assert_clean(words)


@pytest.mark.django_db
def test_the_caseload_says_whether_a_rise_is_worse_or_better(world: World) -> None:
    _histories(world.client_a, RISES)
    body = signed_in(world.clinician).get(HOME).content.decode()
    cells = re.findall(r'<span class="score-list__change">([^<]*)</span>', body)
    assert "↑ 9 worse" in cells
    assert "↑ 14 better" in cells
    # A screen reader hears the same meaning in a sentence.
    assert "Higher by 9, which is worse on this questionnaire." in body
    assert "Higher by 14, which is better on this questionnaire." in body


@pytest.mark.django_db
def test_the_overview_says_whether_a_change_is_worse_or_better(world: World) -> None:
    _histories(world.client_a)
    words = _words(signed_in(world.clinician).get(overview_url(world.client_a)).content.decode())
    assert "9 → 18 (+9, worse)" in words  # PHQ-9
    assert "14 → 28 (+14, better)" in words  # protective factors
    assert "60 → 20 (\u221240, better)" in words  # PCL-5, reliably improved


def test_the_words_follow_the_instruments_own_direction(phq9: Instrument) -> None:
    protective = shipped()["protective_factors"]
    assert direction.word(phq9, 3) == "worse" and direction.word(phq9, -3) == "better"
    assert direction.word(protective, 3) == "better" and direction.word(protective, -3) == "worse"
    assert direction.word(phq9, 0) == "" and direction.arrow(0) == ""
    assert (direction.arrow(2), direction.arrow(-2)) == ("↑", "↓")
    # A definition that does not say which way is worse gets neutral words.
    undirected = Instrument.__new__(Instrument)
    object.__setattr__(undirected, "direction", "unknown")
    assert direction.word(undirected, 3) == "higher" and direction.word(undirected, -3) == "lower"
    assert direction.sentence(undirected, -3, "3") == "Lower by 3."


@pytest.mark.django_db
def test_a_stranger_is_refused_the_measures_overview(world: World) -> None:
    _histories(world.client_a)
    http = signed_in(world.stranger)
    assert http.get(overview_url(world.client_a)).status_code == 404
    assert http.get(_instrument_url(world.client_a, "phq9")).status_code == 404
