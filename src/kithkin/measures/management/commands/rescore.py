"""``rescore``: re-score stored responses after an instrument definition is fixed."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kithkin.audit import services as audit
from kithkin.measures import services


class Command(BaseCommand):
    help = (
        "Re-score every submitted response with the installed instrument definitions (after a "
        "definition fix), for all instruments or only those named with --instrument."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--instrument",
            dest="instruments",
            action="extend",
            nargs="+",
            metavar="ID",
            help="only this instrument (e.g. phq9); give it more than once for several",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        instruments: list[str] | None = options["instruments"]
        library = services.installed_library()
        if instruments is not None:
            unknown = [i for i in dict.fromkeys(instruments) if i not in library]
            if unknown:
                known = ", ".join(i.id for i in library)
                raise CommandError(
                    f"No instrument {', '.join(map(repr, unknown))} in the library. "
                    f"Known instruments: {known}."
                )
            instruments = list(dict.fromkeys(instruments))
        started = time.perf_counter()
        count = services.rescore(instruments)
        took = time.perf_counter() - started
        audit.record(
            None,
            action="measures.rescore",
            detail={"responses": count, "instruments": instruments or "all"},
        )
        which = ", ".join(instruments) if instruments else "all instruments"
        noun = "response" if count == 1 else "responses"
        self.stdout.write(self.style.SUCCESS(f"Re-scored {count} {noun} ({which}) in {took:.1f}s."))
