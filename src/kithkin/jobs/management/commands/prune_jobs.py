"""``prune_jobs``: delete done jobs older than a number of days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kithkin.jobs import services

DEFAULT_DAYS = 90


class Command(BaseCommand):
    help = (
        "Delete jobs that finished successfully more than DAYS days ago. Failed jobs are kept. "
        "A deleted job's key can be used again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="default %(default)s")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be 1 or more.")
        deleted = services.prune(timedelta(days=options["days"]))
        self.stdout.write(f"Deleted {deleted} done jobs older than {options['days']} days.")
