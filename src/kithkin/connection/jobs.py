"""Background jobs for keeping in touch (see kithkin.jobs): the daily sweep, and sending one
nudge. Both are idempotent: the sweep recomputes, and a nudge is marked sent in the same
transaction as its notification, so a second run finds it sent and does nothing."""

from __future__ import annotations

import datetime
from typing import Any

from kithkin.connection import nudges, sweep
from kithkin.jobs.registry import handler, recurring


@handler(sweep.SWEEP_JOB)
def run_sweep(payload: dict[str, Any]) -> None:
    sweep.run_job(payload)


@handler(nudges.SEND_JOB)
def send_nudge(payload: dict[str, Any]) -> None:
    nudges.send(str(payload["nudge"]))


@recurring(sweep.SWEEP_JOB)
def keep_sweep_scheduled(now: datetime.datetime) -> None:
    sweep.keep_scheduled(now)
