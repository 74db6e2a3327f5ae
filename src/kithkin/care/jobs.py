"""Background jobs for network sessions and actions (see kithkin.jobs): the invitation, update or
cancellation notice, the reminder the day before a session, and the reminder before an action
is due. Each handler re-reads the session or action and sends nothing if it no longer applies;
each marks whom it emailed, so a job that runs twice sends once."""

from __future__ import annotations

from typing import Any

from kithkin.care import sessions
from kithkin.jobs.registry import handler


@handler(sessions.NOTICE_JOB)
def session_notice(payload: dict[str, Any]) -> None:
    sessions.send_notice(str(payload["id"]), int(payload["sequence"]))


@handler(sessions.SESSION_REMINDER_JOB)
def session_reminder(payload: dict[str, Any]) -> None:
    sessions.send_session_reminder(str(payload["id"]), int(payload["sequence"]))


@handler(sessions.ACTION_REMINDER_JOB)
def action_reminder(payload: dict[str, Any]) -> None:
    sessions.send_action_reminder(str(payload["id"]), str(payload["due_on"]))
