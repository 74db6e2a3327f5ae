"""Bulk re-scoring after a definition fix: every submitted response gets exactly the score that
scoring a single response stores, in batches, for all instruments or the ones named; the
``rescore`` command reports and audits it. It is an installation-wide operator command, with no
web page: the stranger's practice is re-scored like any other, and nobody can reach it by URL."""

from __future__ import annotations

from dataclasses import replace
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, reverse

from kithkin.audit.models import AuditEvent
from kithkin.measures import scoring, services
from kithkin.measures.library import Library, shipped
from kithkin.measures.models import Response
from tests import factories
from tests.conftest import World

STORED = (
    "total",
    "band",
    "band_severity",
    "clinical",
    "no_score_reason",
    "score_detail",
    "scored_version",
)


def stored(response: Response) -> dict[str, Any]:
    response.refresh_from_db()
    return {name: getattr(response, name) for name in STORED}


def fresh(response: Response) -> dict[str, Any]:
    chosen = services.instrument(response.instrument_id)
    fields = services.score_fields(scoring.score(chosen, services.answers_of(response)))
    return {name: fields[name] for name in STORED}


def fix_phq9(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install PHQ-9 "fixed": a new version whose top band is renamed."""
    phq9 = shipped()["phq9"]
    bands = tuple(
        replace(band, label="Severe (fixed)") if band.label == "Severe" else band
        for band in phq9.bands
    )
    library = Library({**shipped(), "phq9": replace(phq9, version="1.0.1", bands=bands)})
    monkeypatch.setattr(services, "installed_library", lambda: library)


def responses(world: World) -> list[Response]:
    """A mix: complete, reverse-keyed mean, subscales and the PCL-5 rule, a missing answer,
    an in-progress response, and one in another practice."""
    made = [
        factories.submitted_response(world.client_a, "phq9", factories.all_answers("phq9", 3)),
        factories.submitted_response(world.client_a, "phq9", factories.all_answers("phq9", 1)),
        factories.submitted_response(world.client_b, "gad7", factories.all_answers("gad7", 2)),
        factories.submitted_response(world.client_a, "pcl5", factories.all_answers("pcl5", 2)),
        factories.submitted_response(world.client_a, "scs_sf", factories.all_answers("scs_sf", 2)),
        factories.submitted_response(
            world.client_b, "k10", {**factories.all_answers("k10", 3), "4": None}
        ),
        factories.submitted_response(world.other_client, "phq9", factories.all_answers("phq9", 3)),
    ]
    return made


def test_it_stores_what_scoring_one_response_stores(world: World) -> None:
    made = responses(world)
    # Stale stored scores, as an older definition might have left them.
    Response.objects.update(total=None, band="", score_detail={}, scored_version="0.9.0")
    assert services.rescore(batch_size=2) == len(made)
    for response in made:
        assert stored(response) == fresh(response), response.instrument_id
    k10 = next(r for r in made if r.instrument_id == "k10")
    assert k10.total is None and k10.no_score_reason


def test_it_applies_a_fixed_definition_to_the_named_instruments_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = responses(world)
    fix_phq9(monkeypatch)
    started = factories.assignment(world.client_a, "phq9")
    in_progress = Response.objects.create(
        client=world.client_a,
        assignment=started,
        instrument_id="phq9",
        definition_version="1.0.0",
        answers=factories.all_answers("phq9", 3),
    )
    gad7 = next(r for r in made if r.instrument_id == "gad7")
    Response.objects.filter(pk=gad7.pk).update(band="stale")

    assert services.rescore(["phq9"]) == 3
    severe = [r for r in made if r.instrument_id == "phq9" and r.answers["1"] == 3]
    assert len(severe) == 2  # the stranger's practice is re-scored too: it is one installation
    for response in severe:
        assert stored(response)["band"] == "Severe (fixed)"
        assert stored(response)["scored_version"] == "1.0.1"
        assert stored(response) == fresh(response)
    assert stored(gad7)["band"] == "stale"  # not named, not touched
    in_progress.refresh_from_db()
    assert in_progress.total is None and in_progress.scored_version == ""

    with pytest.raises(KeyError, match="no instrument 'nope'"):
        services.rescore(["phq9", "nope"])
    assert services.rescore([]) == 0


def test_the_command_reports_and_audits_one_event(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses(world)
    fix_phq9(monkeypatch)
    before = AuditEvent.objects.count()
    out = StringIO()
    call_command("rescore", "--instrument", "phq9", stdout=out)
    assert "Re-scored 3 responses (phq9)" in out.getvalue()
    call_command("rescore", stdout=out)
    assert "Re-scored 7 responses (all instruments)" in out.getvalue()
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert [(e.action, e.actor_id, e.detail) for e in events] == [
        ("measures.rescore", None, {"responses": 3, "instruments": ["phq9"]}),
        ("measures.rescore", None, {"responses": 7, "instruments": "all"}),
    ]

    with pytest.raises(CommandError, match="No instrument 'nope' in the library"):
        call_command("rescore", "--instrument", "nope")
    assert AuditEvent.objects.count() == before + 2

    # An operator command only: no URL reaches it.
    with pytest.raises(NoReverseMatch):
        reverse("measures_rescore")
