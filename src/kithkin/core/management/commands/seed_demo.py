"""``seed_demo``: load the synthetic demo practice."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kithkin.demo import generator
from kithkin.demo import mfa as demo_mfa


class Command(BaseCommand):
    help = (
        f"Load the synthetic demo practice ({generator.PRACTICE_NAME}). Does nothing if it is "
        "already loaded, unless --reset is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clients",
            type=int,
            default=generator.DEFAULT_CLIENTS,
            help="how many clients to make (default %(default)s)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=generator.DEFAULT_SEED,
            help="random seed; the same seed gives the same data (default %(default)s)",
        )
        parser.add_argument(
            "--reset", action="store_true", help="remove the demo practice first and rebuild it"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        clients: int = options["clients"]
        if clients < 1:
            raise CommandError("--clients must be at least 1.")
        if options["reset"]:
            if generator.remove_demo():
                self.stdout.write("Removed the existing demo practice.")
        elif generator.demo_practice() is not None:
            # A demo loaded before two-step sign-in existed gets its staff devices now.
            demo_mfa.ensure_staff_mfa()
            self.stdout.write(
                "The demo practice is already loaded; nothing to do (--reset rebuilds it)."
            )
            return
        started = time.perf_counter()
        build = generator.build_demo(clients=clients, seed=options["seed"])
        took = time.perf_counter() - started
        summary = ", ".join(
            f"{name.replace('_', ' ')} {count}" for name, count in build.counts.items()
        )
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {generator.PRACTICE_NAME} in {took:.1f}s: {summary}.")
        )
