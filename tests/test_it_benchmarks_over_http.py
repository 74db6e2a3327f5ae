"""`kithkin bench --quick --only http`: a smoke run of the HTTP benchmark (never timed). It builds a
small synthetic practice, serves it with `kithkin serve` in production mode, drives every page
and action with Locust, and writes the figures as JSON and a Markdown table. Every request must
get the answer the page expects, including the stranger's refusal (a clinician asking for a
client not on their care team gets a 404)."""

# ruff: noqa: S603 (runs this interpreter's kithkin command, with list arguments)
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kithkin.bench import http_driver, http_scenario
from tests.ops.test_it_backs_up_and_restores import ON_POSTGRES, clean_env

ROOT = Path(__file__).resolve().parent.parent

PAGES = {
    "floor", "caseload", "client_measures", "progress_chart", "staff_map", "contacts",
    "staff_profile", "care_plan", "sessions", "session", "alerts", "due", "inbox",
    "client_home", "client_map", "client_profile", "client_rhythm", "client_checkins", "refused",
    "log_contact", "answer", "submit",
}  # fmt: skip


def test_it_drives_every_page_over_http_and_writes_the_figures(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "benchmarks.md").write_text("# Benchmarks\n\nHand-written intro.\n")
    command = [sys.executable, "-m", "kithkin.cli", "bench", "--quick", "--only", "http",
               "--output", str(docs)]  # fmt: skip
    if ON_POSTGRES:
        # The benchmark makes (and drops) scratch databases of its own on this server.
        command += ["--postgres", os.environ["DATABASE_URL"]]
    done = subprocess.run(
        command, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    figures = json.loads((docs / "benchmarks.json").read_text())["scenarios"]["http"]
    assert figures["quick"] is True
    databases = {"sqlite", "postgresql"} if ON_POSTGRES else {"sqlite"}
    assert set(figures["databases"]) == databases
    for vendor in databases:
        result = figures["databases"][vendor]
        for scale in ("full", "small"):
            pages = result[scale]["pages"]
            assert set(pages) == PAGES, vendor
            for key, page in pages.items():
                measured = page.get("paced") or page["flat_out"]
                assert measured["requests"] > 0, (vendor, scale, key)
                assert measured["failures"] == 0, (vendor, scale, key, measured)
                assert measured["p50_ms"] <= measured["p95_ms"] <= measured["p99_ms"]
                assert measured["server_peak_rss_mib"] > 0
        assert result["small"]["counts"]["clients"] < result["full"]["counts"]["clients"]
        rows = result["rows"]
        assert rows["floor"]["times_floor"] == 1.0
        assert rows["caseload"]["growth"] is not None

    text = (docs / "benchmarks.md").read_text()
    assert "Hand-written intro." in text
    assert text.count("<!-- bench:http:start -->") == 1
    assert "| Caseload (home) | clinician |" in text
    assert "| Submit a check-in (POST) | client |" in text


def _page(p50: float, p95: float, rps: float = 20.0, *, failures: int = 0) -> dict[str, object]:
    return {"p50_ms": p50, "p95_ms": p95, "p99_ms": p95 + 1, "throughput_rps": rps,
            "requests": 100, "failures": failures, "server_peak_rss_mib": 500.0}  # fmt: skip


def test_it_compares_each_page_with_the_floor_and_the_smaller_practice() -> None:
    def run(caseload_p95: float, submit_rps: float, failures: int = 0) -> dict[str, object]:
        return {"pages": {
            "floor": {"label": "Floor", "who": "anyone", "method": "GET",
                      "paced": _page(2.0, 4.0), "flat_out": _page(10.0, 20.0, 1500.0)},
            "caseload": {"label": "Caseload", "who": "clinician", "method": "GET",
                         "paced": _page(30.0, caseload_p95, failures=failures)},
            "submit": {"label": "Submit", "who": "client", "method": "POST",
                       "flat_out": _page(50.0, 90.0, submit_rps)},
        }}  # fmt: skip

    rows = http_scenario.summarise(run(60.0, 250.0), run(50.0, 300.0))
    assert rows["caseload"]["times_floor"] == 15.0  # 30 ms over the floor's 2 ms
    assert rows["caseload"]["growth"] == 1.2
    assert rows["caseload"]["misses"] == []
    assert rows["submit"]["max_rps"] == 250.0 and rows["submit"]["misses"] == []

    slow = http_scenario.summarise(run(150.0, 120.0, failures=3), run(50.0, 300.0))
    assert slow["caseload"]["misses"] == ["p95 ≥ 100 ms", "growth ≥ 1.5x", "3 failed"]
    assert slow["submit"]["misses"] == ["under 200/s"]
    table = "\n".join(http_scenario.table(slow, submissions_target=True))
    assert "| Caseload | clinician | 30.0 | 150.0 | 151.0 | 50.0 | 3.00x | 15.0x |" in table
    assert "under 200/s" in table

    # Without a smaller run there is no growth to report, and no target can be missed by it.
    alone = http_scenario.summarise(run(60.0, 250.0), None)
    assert alone["caseload"]["growth"] is None and alone["caseload"]["misses"] == []


def test_it_takes_nearest_rank_percentiles() -> None:
    times = [float(n) for n in range(1, 101)]
    assert http_driver.percentile(times, 0.50) == 50.0
    assert http_driver.percentile(times, 0.95) == 95.0
    assert http_driver.percentile(times, 0.99) == 99.0
    assert http_driver.percentile([7.0], 0.99) == 7.0
    assert http_driver.percentile([], 0.5) is None
