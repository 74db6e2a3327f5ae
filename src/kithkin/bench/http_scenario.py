"""The "http" scenario: the main pages and actions under 20 concurrent simulated users, over
HTTP, against the production server (``kithkin serve``: gunicorn workers, WhiteNoise).

For each database (SQLite always; PostgreSQL when a server is given) and each scale (the full
synthetic practice and 1/100 of it), this module makes a throwaway production deployment:
migrates it, collects its static files, builds the practice and signs its seats in
(http_plan.py), starts the server, and runs the load driver (http_driver.py, Locust), sampling
the server's memory while each page is measured. Every page runs twice:

- *paced*: each simulated person waits 0.5 to 1.5 s between requests, as a busy person
  clicking through the app would (about 20 requests a second offered): latency under load;
- *flat out*: no waiting at all: the most requests a second the server manages.

A trivial endpoint (``/healthz``: one ``SELECT 1``) runs the same way, as the floor.
"""

# ruff: noqa: S603 (runs this interpreter's own modules, with list arguments)
from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import socket
import subprocess  # nosec B404 # our own interpreter and scripts, no shell
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

USERS = 20
THINK_S = (0.5, 1.5)
WARMUP_S, MEASURE_S = 2.0, 8.0
QUICK_WARMUP_S, QUICK_MEASURE_S = 0.3, 1.0
SMALL_DIVISOR = 100
QUICK_DIVISOR = 100  # --quick: 100 clients, 15,000 contacts, 2,000 responses, 200 sessions
SEATS = 20
TARGET_P95_MS = 100.0
TARGET_GROWTH = 1.5
TARGET_SUBMISSIONS_PER_S = 200.0
SERVER_START_TIMEOUT_S = 120


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


# --- processes ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _deployment_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """A production deployment of its own: fresh secrets, plain HTTP on localhost."""
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KITHKIN_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        KITHKIN_ENV="production",
        KITHKIN_DATA_DIR=str(data_dir),
        KITHKIN_SECRET_KEY="bench-" + secrets.token_hex(32),
        KITHKIN_FIELD_KEYS=Fernet.generate_key().decode(),
        KITHKIN_ALLOWED_HOSTS="127.0.0.1",
        KITHKIN_SSL_REDIRECT="false",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(env: dict[str, str], *args: str, what: str) -> str:
    done = subprocess.run(  # nosec B603 # our own interpreter, list arguments
        [sys.executable, "-m", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{what} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


def _get(url: str, cookie: str = "") -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310  # nosec B310 (localhost)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310  # nosec B310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _prime(plan: dict[str, Any], *, quick: bool) -> None:
    """Every page once for every identity (for four, in a smoke run) before anything is
    measured: each worker process loads its code and templates, and each session's first
    request is over."""
    from concurrent.futures import ThreadPoolExecutor

    visits = [
        (plan["base"] + identity["requests"][0]["path"], identity.get("cookie", ""))
        for page in plan["pages"]
        if page["method"] == "GET"
        for identity in page["identities"][: 4 if quick else None]
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda visit: _get(*visit), visits))


@contextmanager
def _server(env: dict[str, str], workers: int | None) -> Iterator[tuple[str, int]]:
    """``kithkin serve`` with its production defaults; yields its address and process id."""
    port = _free_port()
    command = [sys.executable, "-m", "kithkin.cli", "serve", "--bind", f"127.0.0.1:{port}"]
    if workers:
        command += ["--workers", str(workers)]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # nosec B603
        try:
            yield _started(server, port, log)
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _started(server: subprocess.Popen[bytes], port: int, log: Any) -> tuple[str, int]:
    """Waits until the server answers /healthz; its address and process id."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        with suppress(OSError):
            if _get(f"{base}/healthz") == 200:
                return base, server.pid
        if server.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise BenchError(
                "The server did not start:\n" + log.read().decode(errors="replace")[-4000:]
            )
        time.sleep(0.2)


def _family(root: int) -> list[int]:
    """The process and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, IndexError, ValueError):
                # The command name is in parentheses and may hold spaces: split after it.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
    family, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        family += children
        frontier = children
    return family


def _rss_kib(pid: int) -> int:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ServerMemory:
    """The highest total resident size of the server's processes, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        family = _family(self.pid)
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(pid) for pid in family))
            self._stop.wait(0.05)

    def start(self) -> None:
        self.peak_kib = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return round(self.peak_kib / 1024, 1)


def _drive(plan_file: Path, env: dict[str, str], server_pid: int, log: Path) -> dict[str, Any]:
    """Runs the load driver; returns each page's figures by phase. The driver's own messages
    (Locust's warnings and errors) go to ``log``."""
    memory = ServerMemory(server_pid)
    results: dict[str, dict[str, Any]] = {}
    with log.open("w") as messages:
        driver = subprocess.Popen(  # nosec B603 # our own driver script
            [sys.executable, str(Path(__file__).with_name("http_driver.py")), str(plan_file)],
            env=env, stdout=subprocess.PIPE, stderr=messages, text=True,
        )  # fmt: skip
        assert driver.stdout is not None
        for line in driver.stdout:
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            if event["event"] == "open":
                memory.start()
            elif event["event"] == "close":
                figures = {**event["figures"], "server_peak_rss_mib": memory.stop()}
                results.setdefault(event["key"], {})[event["phase"]] = figures
                print(
                    f"  {event['key']:<16} {event['phase']:<8} p50 {_cell(figures['p50_ms'])} "
                    f"ms, p95 {_cell(figures['p95_ms'])} ms, {figures['throughput_rps']} req/s, "
                    f"{figures['requests']} requests, {figures['failures']} failed "
                    f"{figures['failed_statuses'] or ''}",
                    file=sys.stderr,
                    flush=True,
                )
        code = driver.wait()
    if code != 0:
        raise BenchError(f"The load driver failed:\n{log.read_text()[-4000:]}")
    return results


# --- one deployment ----------------------------------------------------------------------------


@contextmanager
def _postgres_database(server_url: str, name: str) -> Iterator[str]:
    """A scratch database on the given PostgreSQL server, dropped afterwards."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(server_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def run_deployment(
    *, scale: Any, database_url: str | None, quick: bool, pages: list[str] | None = None,
    workers: int | None = None, drafts_per_seat: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Build, serve and drive one deployment at one scale; returns its figures."""
    work = Path(tempfile.mkdtemp(prefix="kithkin-http-bench-"))
    try:
        env = _deployment_env(work / "data", database_url)
        began = time.perf_counter()
        _run(env, "kithkin.cli", "migrate", "-v", "0", what="Migrating the database")
        _run(env, "kithkin.cli", "manage", "collectstatic", "--noinput", "-v", "0",
             what="Collecting static files")  # fmt: skip
        measure_s = QUICK_MEASURE_S if quick else MEASURE_S
        if drafts_per_seat is None:
            # Enough check-ins to submit flat out for the whole window at 600 a second.
            drafts_per_seat = int(600 * (measure_s + 2 * WARMUP_S) / SEATS) + 10
        plan_file = work / "plan.json"
        setup: dict[str, Any] = {
            "scale": dataclasses.asdict(scale),
            "seats": SEATS,
            "drafts_per_seat": drafts_per_seat,
            "plan": str(plan_file),
            "base": "",
            "users": USERS,
            "warmup_s": QUICK_WARMUP_S if quick else WARMUP_S,
            "measure_s": measure_s,
            "think_s": list(THINK_S),
            "pages": pages or [],
        }
        setup_file = work / "setup.json"
        setup_file.write_text(json.dumps(setup))
        output = _run(env, "kithkin.bench.http_plan", str(setup_file), what="Building the practice")
        built = json.loads(output.strip().splitlines()[-1])
        prepared_s = time.perf_counter() - began
        with _server(env, workers) as (base, pid):
            plan = json.loads(plan_file.read_text())
            plan["base"] = base
            if quick:
                for page in plan["pages"]:
                    # A smoke run: latency only, except the submissions' own figure.
                    page["phases"] = page["phases"][:1]
            plan_file.write_text(json.dumps(plan))
            started = time.perf_counter()
            _prime(plan, quick=quick)
            primed = time.perf_counter()
            figures = _drive(plan_file, env, pid, work / "driver.log")
            driven = time.perf_counter()
        stopped = time.perf_counter()
        print(f"  prepared {prepared_s:.1f} s, server up {started - began - prepared_s:.1f} s, "
              f"primed {primed - started:.1f} s, driven {driven - primed:.1f} s, "
              f"stopped {stopped - driven:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
        return {
            "scale": dataclasses.asdict(scale),
            "counts": built["counts"],
            "build_s": built["build_s"],
            "prepare_s": round(prepared_s, 1),
            "pages": {
                page["key"]: {
                    "label": page["label"],
                    "who": page["who"],
                    "method": page["method"],
                    **figures.get(page["key"], {}),
                }
                for page in plan["pages"]
            },
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- the scenario ------------------------------------------------------------------------------


def _scales(quick: bool) -> tuple[Any, Any]:
    from kithkin.bench.practice import Scale

    full = Scale.default().divided(QUICK_DIVISOR) if quick else Scale.default()
    return full, full.divided(SMALL_DIVISOR)


def _ratio(numerator: float, denominator: float) -> float | None:
    if not numerator or not denominator:
        return None  # nothing measured
    return round(numerator / denominator, 2)


def summarise(full: dict[str, Any], small: dict[str, Any] | None) -> dict[str, Any]:
    """Per page at full scale: its figures, its ratio to the floor, its growth from the small
    scale, and whether it meets its targets."""
    floor = full["pages"].get("floor", {}).get("paced", {})
    rows: dict[str, Any] = {}
    for key, page in full["pages"].items():
        paced, flat_out = page.get("paced", {}), page.get("flat_out", {})
        latency = paced or flat_out
        before = ((small or {}).get("pages", {}).get(key, {}).get("paced")
                  or (small or {}).get("pages", {}).get(key, {}).get("flat_out") or {})  # fmt: skip
        row = {
            "label": page["label"],
            "who": page["who"],
            "method": page["method"],
            "p50_ms": latency.get("p50_ms"),
            "p95_ms": latency.get("p95_ms"),
            "p99_ms": latency.get("p99_ms"),
            "throughput_rps": paced.get("throughput_rps"),
            "max_rps": flat_out.get("throughput_rps"),
            "flat_out_p95_ms": flat_out.get("p95_ms"),
            "requests": latency.get("requests", 0) + (flat_out.get("requests", 0) if paced else 0),
            "failures": latency.get("failures", 0) + (flat_out.get("failures", 0) if paced else 0),
            "server_peak_rss_mib": max(
                paced.get("server_peak_rss_mib", 0), flat_out.get("server_peak_rss_mib", 0)
            ),
            "times_floor": _ratio(latency.get("p50_ms", 0), floor.get("p50_ms", 0)),
            "small_p95_ms": before.get("p95_ms"),
            "growth": _ratio(latency.get("p95_ms", 0), before.get("p95_ms", 0)),
        }
        misses = []
        if key == "submit":
            if (row["max_rps"] or 0) < TARGET_SUBMISSIONS_PER_S:
                misses.append(f"under {TARGET_SUBMISSIONS_PER_S:.0f}/s")
        elif key != "floor":
            if page["method"] == "GET" and (row["p95_ms"] or 0) >= TARGET_P95_MS:
                misses.append(f"p95 ≥ {TARGET_P95_MS:.0f} ms")
            if row["growth"] is not None and row["growth"] >= TARGET_GROWTH:
                misses.append(f"growth ≥ {TARGET_GROWTH}x")
        if row["failures"]:
            misses.append(f"{row['failures']} failed")
        row["misses"] = misses
        rows[key] = row
    return rows


def _cell(value: Any, fmt: str = "{:.1f}") -> str:
    if value is None:
        return "-"
    return fmt.format(value)


def table(rows: dict[str, Any], *, submissions_target: bool) -> list[str]:
    lines = [
        "| Page or action | Who | p50 ms | p95 ms | p99 ms | p95 at 1/100 | Growth | x floor "
        "| req/s paced | req/s flat out | Server MiB | Targets |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for key, row in rows.items():
        verdict = "; ".join(row["misses"]) or "met"
        if key == "floor" or (key == "submit" and not submissions_target):
            verdict = "-" if not row["failures"] else verdict
        lines.append(
            f"| {row['label']} | {row['who']} | {_cell(row['p50_ms'])} | {_cell(row['p95_ms'])} "
            f"| {_cell(row['p99_ms'])} | {_cell(row['small_p95_ms'])} "
            f"| {_cell(row['growth'], '{:.2f}x')} | {_cell(row['times_floor'], '{:.1f}x')} "
            f"| {_cell(row['throughput_rps'])} | {_cell(row['max_rps'])} "
            f"| {_cell(row['server_peak_rss_mib'], '{:.0f}')} | {verdict} |"
        )
    return lines


def run(
    *, quick: bool = False, postgres_url: str | None = None, pages: list[str] | None = None,
    **_options: Any,
) -> dict[str, Any]:  # fmt: skip
    """Every deployment: SQLite, and PostgreSQL when ``postgres_url`` names a server (a
    scratch database is made there and dropped after)."""
    import importlib.util
    import platform

    if importlib.util.find_spec("locust") is None:
        raise BenchError(
            "The HTTP benchmark needs Locust, one of the development dependencies: install "
            "them with `python3 dev.py setup` (or pip install -r requirements/dev.lock)."
        )
    full_scale, small_scale = _scales(quick)
    databases: list[tuple[str, str | None]] = [("sqlite", None)]
    if postgres_url:
        databases.append(("postgresql", postgres_url))
    results: dict[str, Any] = {}
    tag = secrets.token_hex(4)
    for vendor, server_url in databases:
        runs: dict[str, Any] = {}
        for label, scale in (("full", full_scale), ("small", small_scale)):
            print(f"HTTP benchmark: {vendor}, {label} scale {dataclasses.asdict(scale)}",
                  file=sys.stderr, flush=True)  # fmt: skip
            if server_url:
                with _postgres_database(server_url, f"kithkin_bench_{tag}_{label}") as url:
                    runs[label] = run_deployment(scale=scale, database_url=url, quick=quick,
                                                 pages=pages)  # fmt: skip
            else:
                runs[label] = run_deployment(scale=scale, database_url=None, quick=quick,
                                             pages=pages)  # fmt: skip
        results[vendor] = {**runs, "rows": summarise(runs["full"], runs.get("small"))}

    lines: list[str] = []
    for vendor, result in results.items():
        full = result["full"]
        counts = full["counts"]
        lines += [
            f"#### {'SQLite' if vendor == 'sqlite' else 'PostgreSQL'}",
            "",
            "Data at full scale: "
            + ", ".join(f"{count:,} {what}" for what, count in counts.items())
            + f". Built in {full['build_s']:,.0f} s; migrating, collecting static files, "
            f"building and signing in took {full['prepare_s']:,.0f} s in all.",
            "",
            *table(result["rows"], submissions_target=vendor == "sqlite"),
            "",
        ]
    target_words = (
        f"Targets: p95 under {TARGET_P95_MS:.0f} ms for every page, growth from 1/100 to full "
        f"scale under {TARGET_GROWTH}x, and at least {TARGET_SUBMISSIONS_PER_S:.0f} check-in "
        "submissions a second on SQLite (the submit row's flat-out figure)."
    )
    return {
        "title": f"Pages and actions over HTTP, {USERS} concurrent simulated users",
        "description": __doc__.split("\n\n", 1)[0].replace("\n", " "),
        "runs": 1,
        "target_ms": TARGET_P95_MS,
        "users": USERS,
        "think_s": list(THINK_S),
        "warmup_s": QUICK_WARMUP_S if quick else WARMUP_S,
        "measure_s": QUICK_MEASURE_S if quick else MEASURE_S,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "databases": results,
        "measurements": {},
        "markdown": "\n".join(
            [
                f"### Pages and actions over HTTP, {USERS} concurrent simulated users",
                "",
                f"`kithkin serve` in production mode (gunicorn, default workers and threads) on "
                f"{os.cpu_count()} CPUs, driven by Locust (FastHttpUser) from the same machine. "
                f"Each page: {USERS} users, a {QUICK_WARMUP_S if quick else WARMUP_S:g} s "
                f"warm-up, then {QUICK_MEASURE_S if quick else MEASURE_S:g} s measured"
                f"{' (--quick: paced only, a smoke run)' if quick else ''}. Paced: each user "
                f"waits {THINK_S[0]:g}-{THINK_S[1]:g} s between requests; flat out: no wait. "
                "Latency (p50/p95/p99, ms) is the paced run's; x floor is p50 over the floor's "
                "p50; growth is p95 at full scale over p95 at 1/100 scale; server MiB is the "
                "highest total resident memory of the server's processes while the page ran.",
                "",
                target_words,
                "",
                *lines,
            ]
        ).rstrip(),
    }
