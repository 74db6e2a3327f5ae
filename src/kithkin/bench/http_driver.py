"""The load driver of the HTTP benchmark: Locust, as a library, in a process of its own.

``python .../kithkin/bench/http_driver.py PLAN.json`` runs each page of the plan in turn: Locust
starts the plan's simulated users against the running server, lets them warm up, then records
every request that starts inside the measuring window. It prints one JSON line when a page's
window opens (so the caller can sample the server's memory over it) and one with the page's
figures when it closes.

Locust monkey-patches the standard library for gevent when it is imported, so it is imported
only by :func:`main`, in the driver's own process (run as a script, so that not even Kithkin's
package is imported first); importing this module elsewhere patches nothing. The driver speaks
only HTTP to the server.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from locust import FastHttpUser

# One plan's page: see http_plan.plan_pages() for the shape.
Page = dict[str, Any]
MIN_REQUESTS = 5
MAX_EXTENSION_S = 60.0


def percentile(sorted_ms: list[float], share: float) -> float | None:
    """The nearest-rank percentile of an ascending list (the value at or above ``share``)."""
    if not sorted_ms:
        return None
    rank = max(1, math.ceil(share * len(sorted_ms)))
    return round(sorted_ms[rank - 1], 1)


def say(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


class Recorder:
    """Every request that starts inside the window: its time, and whether it did as expected."""

    def __init__(self) -> None:
        self.opened_at: float | None = None
        self.closed_at: float | None = None
        self.times_ms: list[float] = []
        self.failures = 0
        self.statuses: dict[str, int] = {}

    def on_request(self, *, response_time: float, start_time: float, exception: Any,
                   response: Any = None, **_ignored: Any) -> None:  # fmt: skip
        if self.opened_at is None or start_time < self.opened_at:
            return
        if self.closed_at is not None and start_time >= self.closed_at:
            return
        self.times_ms.append(float(response_time))
        if exception is not None:
            self.failures += 1
            status = str(getattr(response, "status_code", "") or type(exception).__name__)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def figures(self) -> dict[str, Any]:
        assert self.opened_at is not None and self.closed_at is not None
        seconds = self.closed_at - self.opened_at
        ordered = sorted(self.times_ms)
        return {
            "requests": len(ordered),
            "failures": self.failures,
            "failed_statuses": self.statuses,
            "seconds": round(seconds, 2),
            "throughput_rps": round(len(ordered) / seconds, 1) if seconds > 0 else 0.0,
            "p50_ms": percentile(ordered, 0.50),
            "p95_ms": percentile(ordered, 0.95),
            "p99_ms": percentile(ordered, 0.99),
            "max_ms": percentile(ordered, 1.0),
        }


def user_class(page: Page, think: list[float] | None) -> type[FastHttpUser]:
    """A Locust user for one page: each user takes the next identity of the page (a signed-in
    person and the requests they make), and makes its requests in turn."""
    import gevent
    from locust import FastHttpUser, between, constant, task

    identities: Iterator[dict[str, Any]] = itertools.cycle(page["identities"])
    expected = int(page["expect"])
    method = str(page["method"])
    once = bool(page.get("once"))

    class PageUser(FastHttpUser):
        wait_time = between(*think) if think else constant(0)

        def on_start(self) -> None:
            identity = next(identities)
            self.headers = {"Cookie": identity["cookie"]} if identity.get("cookie") else {}
            if identity.get("csrf"):
                self.headers["X-CSRFToken"] = identity["csrf"]
            requests = identity["requests"]
            self.requests = iter(requests) if once else itertools.cycle(requests)

        @task
        def visit(self) -> None:
            planned = next(self.requests, None)
            if planned is None:  # a one-off request list (check-ins to submit) ran out
                gevent.sleep(0.5)
                return
            with self.client.request(
                method,
                planned["path"],
                name=page["key"],
                data=planned.get("data"),
                headers=self.headers,
                allow_redirects=False,
                catch_response=True,
            ) as response:
                # Locust counts any 4xx as failed unless told: a refusal can be what is expected.
                if response.status_code == expected:
                    response.success()
                else:
                    response.failure(f"HTTP {response.status_code}")

    PageUser.__name__ = f"User_{page['key']}"
    return PageUser


def run_page(plan: dict[str, Any], page: Page, *, think: list[float] | None, phase: str) -> None:
    import gevent
    from locust.env import Environment

    recorder = Recorder()
    environment = Environment(user_classes=[user_class(page, think)], host=plan["base"])
    environment.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]
    runner = environment.create_local_runner()
    users = int(plan["users"])
    runner.start(users, spawn_rate=users)
    gevent.sleep(float(plan["warmup_s"]))
    recorder.opened_at = time.time()
    say({"event": "open", "key": page["key"], "phase": phase})
    gevent.sleep(float(plan["measure_s"]))
    # A window too short for a slow page (a smoke run on a busy machine) stays open until a few
    # requests have been made in it, so every page has figures.
    deadline = time.time() + MAX_EXTENSION_S
    while len(recorder.times_ms) < MIN_REQUESTS and time.time() < deadline:
        gevent.sleep(0.1)
    recorder.closed_at = time.time()
    say({"event": "close", "key": page["key"], "phase": phase, "figures": recorder.figures()})
    runner.quit()
    gevent.sleep(0.2)  # let the users' connections close before the next page starts


def main(argv: list[str]) -> int:
    import locust  # first: it patches sockets and threads for gevent

    plan = json.loads(Path(argv[1]).read_text())
    for page in plan["pages"]:
        for phase in page["phases"]:
            think = plan["think_s"] if phase == "paced" else None
            run_page(plan, page, think=think, phase=phase)
    say({"event": "done", "locust": locust.__version__})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
