"""Background jobs for the security app (see kithkin.jobs): an hourly clean-up of throttle
counters whose window has ended. Sign-ins and refusals prune too, but a deployment where nobody
signs in or is refused for weeks would otherwise keep every counter from the last busy day."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from kithkin.jobs import services as jobs
from kithkin.jobs.models import Job
from kithkin.jobs.registry import handler, recurring
from kithkin.security import throttle

PRUNE_JOB = "security.prune_throttle"


def _next_hour(now: datetime.datetime) -> datetime.datetime:
    return now.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0) + (
        datetime.timedelta(hours=1)
    )


def schedule(run_after: datetime.datetime) -> Job:
    """Queue the clean-up for ``run_after``; idempotent per slot."""
    at = run_after.astimezone(datetime.UTC).isoformat()
    return jobs.enqueue(PRUNE_JOB, {"at": at}, run_after=run_after, key=f"{PRUNE_JOB}:{at}")


@handler(PRUNE_JOB)
def prune_throttle(payload: dict[str, Any]) -> None:
    now = timezone.now()
    slot = datetime.datetime.fromisoformat(str(payload.get("at") or now.isoformat()))
    # Queued first, so a failing prune does not break the chain; always after this job's own
    # slot, whose key is taken.
    schedule(_next_hour(max(now, slot)))
    throttle.prune(now)


@recurring(PRUNE_JOB)
def keep_pruning(now: datetime.datetime) -> None:
    if not Job.objects.unfinished().filter(kind=PRUNE_JOB).exists():
        schedule(_next_hour(now))
