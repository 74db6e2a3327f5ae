"""``connection_sweep``: run the keeping-in-touch sweep now, and queue the daily one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kithkin.connection import sweep


class Command(BaseCommand):
    help = (
        "Compute every current client's withdrawal signal and queue reminders for clients who "
        "turned them on, now; then make sure the daily sweep job is queued for the worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=sweep.BATCH_SIZE,
            help="clients read at a time (default %(default)s)",
        )
        parser.add_argument(
            "--schedule-only",
            action="store_true",
            help="only queue the daily sweep job (it runs at once if none ran today)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.")
        now = timezone.now()
        if options["schedule_only"]:
            job = sweep.schedule(now)
            self.stdout.write(f"The sweep job is queued (job {job.pk}, {job.state}).")
            return
        result = sweep.run(now=now, batch_size=options["batch_size"])
        sweep.schedule(sweep.next_run_after(now))
        self.stdout.write(
            f"Swept {result.clients} clients: {result.signals_raised} new withdrawal signals, "
            f"{result.signals_kept} still holding, {result.signals_cleared} cleared; "
            f"{result.nudges_queued} reminders queued. The next sweep is queued for tomorrow."
        )
