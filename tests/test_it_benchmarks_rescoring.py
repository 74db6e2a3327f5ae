"""The "rescore" benchmark scenario builds its responses, re-scores them all and reports the
figures that docs/benchmarks.md shows (never timed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kithkin import bench
from kithkin.bench import rescore_scenario
from kithkin.measures import scoring, services
from kithkin.measures.models import Response
from tests.conftest import World


@pytest.mark.django_db
def test_it_rescores_every_built_response_and_reports_it(world: World, tmp_path: Path) -> None:
    theirs = Response.objects.create(
        client=world.other_client,
        instrument_id="gad7",
        definition_version="1.0.0",
        status="submitted",
        answers={str(n): 1 for n in range(1, 8)},
        submitted_at=world.other_client.created_at,
    )
    result = rescore_scenario.run(responses=300)
    assert result["data"]["responses"] == "300"
    assert result["runs"] == rescore_scenario.RUNS
    measured = result["measurements"]["rescore"]
    assert measured["p50_ms"] > 0 and measured["responses_per_s"] > 0
    # A batch read and a batch write per 5,000 responses, plus a last empty read.
    assert 3 <= measured["queries"] <= 10
    assert isinstance(result["within_target"], bool)

    # Every response now holds the current definition's score, the stranger's practice's too:
    # re-scoring is installation-wide (an operator's command, with no web page).
    for response in Response.objects.all():
        chosen = services.instrument(response.instrument_id)
        fields = services.score_fields(scoring.score(chosen, services.answers_of(response)))
        assert {name: getattr(response, name) for name in fields} == fields
    theirs.refresh_from_db()
    assert theirs.total == 7 and theirs.scored_version == "1.0.0"
    built = Response.objects.exclude(pk=theirs.pk)
    assert built.count() == 300
    assert built.filter(no_score_reason="").count() < 300  # some have an unanswered question

    text = bench.markdown(
        {
            "generated_at": "2026-01-01T00:00:00+00:00",
            "quick": False,
            "environment": {"python": "3", "django": "5", "database": "sqlite"},
            "scenarios": {"rescore": result},
        }
    )["rescore"]
    assert "### Re-scoring 300 stored responses" in text
    assert "| Re-score 300 responses (services.rescore) |" in text
    assert "Data: 300 responses, 2,000 clients." in text
    assert "responses per second" in text
