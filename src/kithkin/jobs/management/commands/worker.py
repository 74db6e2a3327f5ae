"""``worker``: run background jobs from the database until stopped (``kithkin worker``)."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kithkin.jobs import services
from kithkin.jobs.worker import DEFAULT_INTERVAL, run_worker, stop_on_signals


class Command(BaseCommand):
    help = (
        "Run background jobs (emails, escalations, reminders) as they fall due, until stopped. "
        "SIGTERM or Ctrl+C let the current job finish first. Run one or more per deployment."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="run every job that is due, then exit"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=DEFAULT_INTERVAL,
            help="seconds to wait when no job is due (default %(default)s)",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=services.DEFAULT_LIMIT,
            help="jobs claimed at a time (default %(default)s)",
        )
        # The demo passes its own pid, so the worker stops if the demo is killed outright.
        parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        if options["limit"] < 1:
            raise CommandError("--limit must be 1 or more.")
        stop = threading.Event()
        with stop_on_signals(stop):
            ran = run_worker(
                services.make_worker_id(),
                once=options["once"],
                interval=options["interval"],
                limit=options["limit"],
                stop=stop,
                parent_pid=options["parent_pid"],
            )
        if options["once"]:
            self.stdout.write(f"Ran {ran} job{'' if ran == 1 else 's'}.")
