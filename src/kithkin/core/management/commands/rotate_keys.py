"""``rotate_keys``: re-encrypt every encrypted field under the newest key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kithkin.core import services
from kithkin.core.crypto import UndecryptableError


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field of every model under the newest key (the first in "
        "KITHKIN_FIELD_KEYS). Keep the old keys configured until this has finished."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=services.ROTATION_BATCH_SIZE,
            help="rows per transaction (default %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = services.rotate_keys(batch_size=options["batch_size"])
        except UndecryptableError:
            raise CommandError(
                "A stored value cannot be decrypted with any key in KITHKIN_FIELD_KEYS. Put the "
                "old key back (after the new one) and run rotate-keys again; batches already "
                "done are kept.",
                returncode=1,
            ) from None
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} rows re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {sum(counts.values())} rows re-encrypted under the newest key."
            )
        )
