"""Background jobs for notifications: the email for one notification (see kithkin.jobs)."""

from __future__ import annotations

from typing import Any

from kithkin.jobs.registry import handler
from kithkin.notifications import services


@handler(services.EMAIL_JOB)
def email(payload: dict[str, Any]) -> None:
    services.send_email(str(payload["id"]))
