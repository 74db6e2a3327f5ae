"""`kithkin bench --quick` runs the map scenario and writes well-formed JSON (never timed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kithkin import bench, cli
from kithkin.accounts.models import User


@pytest.mark.django_db
def test_it_runs_the_map_benchmark_and_writes_json(tmp_path: Path) -> None:
    stranger = User.objects.create_user("stranger@example.test", "pw-not-used-123")
    output = tmp_path / "bench.json"
    assert cli.main(["bench", "--quick", "--only", "map", "--output", str(output)]) == 0
    results = json.loads(output.read_text())
    assert {"kithkin_bench", "generated_at", "quick", "environment", "scenarios"} <= set(results)
    assert results["quick"] is True
    scenario = results["scenarios"]["map"]
    assert scenario["network"]["people"] == 150
    assert 300 <= scenario["network"]["ties"] <= 500
    assert scenario["network"]["contacts"] == 3000
    assert scenario["runs"] == 10
    for key in ("map_page", "analyse"):
        measured = scenario["measurements"][key]
        assert {"p50_ms", "p95_ms", "queries"} <= set(measured)
        assert measured["p50_ms"] > 0 and measured["queries"] > 0
    assert isinstance(scenario["within_target"], bool)

    # --output with a directory writes the Markdown tables, keeping text outside the markers.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "benchmarks.md").write_text("# Benchmarks\n\nHand-written intro.\n")
    bench.write_docs(results, docs)
    bench.write_docs(results, docs)
    text = (docs / "benchmarks.md").read_text()
    assert "Hand-written intro." in text
    assert text.count("<!-- bench:map:start -->") == 1
    assert "| Map page (GET, care-team clinician) |" in text

    # The benchmark's own clinician reaches only the benchmark client, not a stranger's data.
    from kithkin.accounts.access import Purpose, clients_for

    assert not clients_for(stranger, Purpose.CARE).exists()
