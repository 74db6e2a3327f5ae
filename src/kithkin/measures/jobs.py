"""Background jobs for measures: the risk-alert email and its escalation (see kithkin.jobs)."""

from __future__ import annotations

from typing import Any

from kithkin.jobs.registry import handler
from kithkin.measures import services


@handler(services.ALERT_EMAIL_JOB)
def alert_email(payload: dict[str, Any]) -> None:
    services.send_alert_email(payload["alert"])


@handler(services.ESCALATE_JOB)
def escalate_alert(payload: dict[str, Any]) -> None:
    services.escalate_alert(payload["alert"])


@handler(services.CHECKIN_DUE_JOB)
def checkin_due(payload: dict[str, Any]) -> None:
    services.send_checkin_due(payload["assignment"], payload["due"])
