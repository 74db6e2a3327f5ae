"""``audit_verify``: check the audit trail's hash chain from the first event to the last."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kithkin.audit.services import verify_chain


class Command(BaseCommand):
    help = "Check that the audit trail is complete and unaltered; report the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            # returncode 1: scripts and monitors can alert on it.
            raise CommandError(
                f"Audit chain broken at event #{report.broken_at}: {report.reason}", returncode=1
            )
        self.stdout.write(f"Audit chain intact: {report.checked} events checked.")
