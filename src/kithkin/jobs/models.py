"""Background jobs, kept as rows in the application's own database (see docs/jobs.md).

A job names a registered handler (``kind``) and carries ids only (``payload``), never client
free text: the row may sit in the table for weeks and is read by whoever inspects the queue."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobQuerySet(models.QuerySet["Job"]):
    def claimable(self, now: datetime) -> JobQuerySet:
        """Jobs a worker may take at ``now``: queued and due, or running under a lease that has
        run out (its worker died or was killed mid-run, so the job is taken over)."""
        return self.filter(
            Q(state=JobState.QUEUED, run_after__lte=now)
            | Q(state=JobState.RUNNING, locked_until__lt=now)
        )

    def unfinished(self) -> JobQuerySet:
        """Queued or running: what a keeper checks before queueing another."""
        return self.filter(state__in=[JobState.QUEUED, JobState.RUNNING])


class Job(models.Model):
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True)
    # Idempotent enqueue: NULL for jobs without a key, which the unique index then ignores.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    run_after = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    # Runs started, including ones whose worker died before finishing.
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    locked_by = models.CharField(max_length=200, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["id"]
        indexes: ClassVar[list[models.Index]] = [
            # Claiming asks for (state = queued, run_after <= now) and (state = running,
            # locked_until < now): both are range scans on these.
            models.Index(fields=["state", "run_after"], name="jobs_due"),
            models.Index(fields=["state", "locked_until"], name="jobs_lease"),
        ]

    def __str__(self) -> str:
        return f"job #{self.pk} {self.kind} ({self.state})"
