"""The loop behind ``kithkin worker``: claim due jobs, run them, sleep, repeat until told to stop.

SIGTERM or Ctrl+C (SIGINT) ask it to stop: the job in hand finishes, jobs claimed but not started
go back to the queue, and the loop exits. A second Ctrl+C stops at once; the interrupted job's
lease then runs out and another worker takes it over."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from django.db import DatabaseError, connections

from kithkin.jobs import services

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0
# How often a running worker checks that self-renewing jobs (the daily sweep) are on schedule.
KEEP_SCHEDULED_EVERY = 3600.0
# How often a sleeping worker looks at its stop flag.
SLEEP_SLICE = 0.25


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Turn SIGTERM and SIGINT into ``stop.set()`` for the duration (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt  # asked twice: stop now
        stop.set()

    numbers = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.signal(number, on_signal) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _refresh_connections() -> None:
    """What the end of a request does: drop connections past CONN_MAX_AGE or broken by a database
    restart. Never inside a transaction (a caller's or a test's), which closing would end."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def _sleep(seconds: float, stop: threading.Event) -> None:
    # Short sleeps rather than stop.wait(): a signal handler calling stop.set() while this
    # thread sat inside Event.wait() could deadlock on the event's own lock.
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, SLEEP_SLICE))


def run_worker(
    worker_id: str,
    *,
    once: bool = False,
    interval: float = DEFAULT_INTERVAL,
    limit: int = services.DEFAULT_LIMIT,
    stop: threading.Event | None = None,
    parent_pid: int | None = None,
) -> int:
    """Run jobs until ``stop`` is set (or, with ``once``, until none is due). Returns how many
    jobs ran. ``parent_pid``: also stop when that process is no longer this one's parent (the
    demo's server went away without saying so)."""
    stop = stop or threading.Event()
    logger.info("job worker %s started", worker_id)
    total = 0
    kept_at: float | None = None
    while not stop.is_set():
        if parent_pid is not None and os.getppid() != parent_pid:
            break
        _refresh_connections()
        if kept_at is None or time.monotonic() - kept_at >= KEEP_SCHEDULED_EVERY:
            kept_at = time.monotonic()
            services.keep_recurring_scheduled()
        try:
            ran = services.run_due(worker_id, limit=limit, stop=stop)
        except DatabaseError as error:
            if once:
                raise
            logger.warning(
                "job worker %s: database error (%s); trying again shortly",
                worker_id, type(error).__name__,
            )  # fmt: skip
            ran = 0
        total += ran
        if once:
            if ran == 0:
                break
        elif ran < limit:  # a full batch suggests more are waiting: go straight on
            _sleep(interval, stop)
    _refresh_connections()
    logger.info("job worker %s stopped after %s jobs", worker_id, total)
    return total
