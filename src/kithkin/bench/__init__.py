"""``kithkin bench``: repeatable performance measurements (not timed tests).

Each scenario builds its own data, measures server-side time, and returns a JSON-ready dict;
:func:`run` collects them. Issue 3 adds the "map" scenario (the support network map page and its
metrics for a 150-person network); issue 4 the "rescore" scenario (re-scoring 100,000 stored
responses after a definition fix); issue 6 the "sweep" scenario (the daily keeping-in-touch
sweep over 100,000 clients and 2,000,000 contacts); issue 8 the "http" scenario (the main pages
and actions over HTTP against the production server, with Locust, at full and 1/100 scale).
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kithkin.bench import map_scenario, rescore_scenario, sweep_scenario

Scenario = Callable[..., dict[str, Any]]


def _http(**options: Any) -> dict[str, Any]:
    # Imported only when run: it needs the development dependencies (Locust).
    from kithkin.bench import http_scenario

    return http_scenario.run(**options)


SCENARIOS: dict[str, Scenario] = {
    "map": lambda quick, **_options: map_scenario.run(quick=quick),
    "rescore": lambda quick, **_options: rescore_scenario.run(quick=quick),
    "sweep": lambda quick, **_options: sweep_scenario.run(quick=quick),
    "http": _http,
}
DOCS_FILE = "benchmarks.md"
JSON_FILE = "benchmarks.json"
MARK_START = "<!-- bench:{name}:start -->"
MARK_END = "<!-- bench:{name}:end -->"


def run(
    *, quick: bool = False, only: list[str] | None = None, postgres_url: str | None = None
) -> dict[str, Any]:
    """Every scenario, or those named in ``only``; the HTTP scenario also on PostgreSQL when
    ``postgres_url`` names a server."""
    import django
    from django.db import connection

    return {
        "kithkin_bench": 1,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "environment": {
            "python": platform.python_version(),
            "django": django.get_version(),
            "database": connection.vendor,
            "machine": platform.machine(),
        },
        "scenarios": {
            name: scenario(quick=quick, postgres_url=postgres_url)
            for name, scenario in SCENARIOS.items()
            if not only or name in only
        },
    }


def markdown(results: dict[str, Any]) -> dict[str, str]:
    """One Markdown section per scenario, keyed by scenario name."""
    sections: dict[str, str] = {}
    environment = results["environment"]
    for name, result in results["scenarios"].items():
        if "markdown" in result:  # a scenario with a table of its own
            sections[name] = (
                f"{result['markdown']}\n\nMeasured {results['generated_at']} on Python "
                f"{environment['python']}, Django {environment['django']}."
            )
            continue
        lines = [
            f"### {result['title']}",
            "",
            f"{result['description']} Measured {results['generated_at']} on Python "
            f"{environment['python']}, Django {environment['django']}, "
            f"{environment['database']}, {result['runs']} runs each"
            f"{' (--quick)' if results['quick'] else ''}. Target: under "
            f"{result['target_ms']} ms of server time.",
            "",
            "| What | p50 (ms) | p95 (ms) | Queries |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {row['label']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['queries']} |"
            for row in result["measurements"].values()
        ]
        network = result.get("network") or result.get("data")
        if network:
            lines += [
                "",
                "Data: " + ", ".join(f"{count} {what}" for what, count in network.items()) + ".",
            ]
        lines += ["", *result["notes"]] if result.get("notes") else []
        sections[name] = "\n".join(lines)
    return sections


def write_docs(results: dict[str, Any], directory: Path) -> Path:
    """Replace each scenario's section in ``directory/benchmarks.md`` (kept between markers, so
    other sections and hand-written text survive), creating the file if needed."""
    path = directory / DOCS_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else _DOCS_HEADER
    for name, section in markdown(results).items():
        start, end = MARK_START.format(name=name), MARK_END.format(name=name)
        block = f"{start}\n{section}\n{end}"
        if start in text and end in text:
            before, rest = text.split(start, 1)
            text = before + block + rest.split(end, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    _merge_json(results, directory / JSON_FILE)
    return path


def _merge_json(results: dict[str, Any], path: Path) -> None:
    """The figures behind the Markdown, scenario by scenario: a run of some scenarios keeps the
    others' last figures."""
    merged: dict[str, Any] = {"kithkin_bench": 1, "scenarios": {}}
    if path.exists():
        merged = json.loads(path.read_text(encoding="utf-8"))
    for name, result in results["scenarios"].items():
        merged["scenarios"][name] = {
            "generated_at": results["generated_at"],
            "quick": results["quick"],
            "environment": results["environment"],
            **{key: value for key, value in result.items() if key != "markdown"},
        }
    path.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")


def write_json(results: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return path


_DOCS_HEADER = """# Benchmarks

Produced by `kithkin bench --output docs` (the sections below are rewritten on each run; text
outside the marked sections is kept). These are measurements, not tests: CI never fails on them.
Server time is measured in-process through Django's test client, so it includes the view,
template rendering and database work, but no network or web-server overhead.

Run `kithkin bench` to print the same figures as JSON, or `kithkin bench --output FILE` to save
them. `--quick` makes fewer runs.
"""
