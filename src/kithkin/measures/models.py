"""Measurement-based care: what each client is asked to complete, their answers, the scores, and
the risk alerts their answers raise.

Definitions live in files (see library.py), so rows name an instrument by id and keep the
definition version they were answered and scored against. Answers are numbers; the only free
text (a client's own note, an acknowledgement note) is encrypted."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client, Practice
from kithkin.core.fields import EncryptedTextField

# A check-in is "due" from its due time, and "overdue" once this much longer has passed.
OVERDUE_AFTER = timedelta(days=2)


class Cadence(models.TextChoices):
    ONCE = "once", _("Once")
    REPEAT = "repeat", _("Every few days")
    BEFORE_SESSION = "before_session", _("Before each network session")


class DueState(models.TextChoices):
    UPCOMING = "upcoming", _("Coming up")
    DUE = "due", _("Due")
    OVERDUE = "overdue", _("Overdue")
    WAITING = "waiting", _("Waiting for the next session")
    DONE = "done", _("Done")
    ENDED = "ended", _("Stopped")


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def active(self) -> AssignmentQuerySet:
        return self.filter(ended_at__isnull=True, completed_at__isnull=True)

    def due(self, now: datetime | None = None) -> AssignmentQuerySet:
        """Active assignments whose due time has come (overdue ones included)."""
        return self.active().filter(next_due_at__lte=now or timezone.now())

    def overdue(self, now: datetime | None = None) -> AssignmentQuerySet:
        return self.active().filter(next_due_at__lte=(now or timezone.now()) - OVERDUE_AFTER)


class Assignment(models.Model):
    """An instrument the care team has asked a client to complete, once or on a cadence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="measure_assignments")
    instrument_id = models.CharField(max_length=64)
    cadence = models.CharField(max_length=20, choices=Cadence.choices)
    interval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # None while a before-session assignment waits for a session, and once it is finished.
    next_due_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["client", "instrument_id"],
                condition=Q(ended_at__isnull=True, completed_at__isnull=True),
                name="one_active_assignment_per_instrument",
            ),
            models.CheckConstraint(
                condition=Q(cadence="repeat", interval_days__gte=1, interval_days__lte=365)
                | (~Q(cadence="repeat") & Q(interval_days__isnull=True)),
                name="repeat_has_an_interval",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "next_due_at"]),
            models.Index(fields=["next_due_at"]),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None and self.completed_at is None

    def due_state(self, now: datetime | None = None) -> DueState:
        now = now or timezone.now()
        if self.ended_at is not None:
            return DueState.ENDED
        if self.completed_at is not None:
            return DueState.DONE
        if self.next_due_at is None:
            return DueState.WAITING
        if self.next_due_at > now:
            return DueState.UPCOMING
        if self.next_due_at <= now - OVERDUE_AFTER:
            return DueState.OVERDUE
        return DueState.DUE


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("Started")
    SUBMITTED = "submitted", _("Completed")


class Mode(models.TextChoices):
    PORTAL = "portal", _("By the client")
    IN_SESSION = "in_session", _("In session")
    IMPORTED = "imported", _("Imported")


class ResponseQuerySet(models.QuerySet["Response"]):
    def submitted(self) -> ResponseQuerySet:
        return self.filter(status=ResponseStatus.SUBMITTED)

    def in_progress(self) -> ResponseQuerySet:
        return self.filter(status=ResponseStatus.IN_PROGRESS)


class Response(models.Model):
    """One completion of an instrument. Answers are saved as they are given, so a client can
    stop and come back; the score is stored on submission and refreshed by bulk re-scoring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="measure_responses")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    instrument_id = models.CharField(max_length=64)
    definition_version = models.CharField(max_length=32)
    status = models.CharField(
        max_length=20, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.PORTAL)
    # Item id → the chosen option's value. Unanswered items are absent.
    answers = models.JSONField(default=dict)
    note = EncryptedTextField(_("anything you would like to add"), blank=True, default="")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    # The stored score (see services.apply_score); scored_version says which definition made it.
    total = models.FloatField(null=True, blank=True)
    band = models.CharField(max_length=80, blank=True, default="")
    band_severity = models.SmallIntegerField(null=True, blank=True)
    clinical = models.BooleanField(null=True, blank=True)
    no_score_reason = models.TextField(blank=True, default="")
    score_detail = models.JSONField(default=dict)
    scored_version = models.CharField(max_length=32, blank=True, default="")

    objects = ResponseQuerySet.as_manager()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(status="in_progress"),
                name="one_open_response_per_assignment",
            ),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(submitted_at__isnull=False),
                name="submitted_response_has_a_time",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "instrument_id", "status", "submitted_at"]),
            models.Index(fields=["instrument_id", "status"]),
        ]

    def __str__(self) -> str:
        return f"response {self.pk}"

    @property
    def is_submitted(self) -> bool:
        return self.status == ResponseStatus.SUBMITTED


class ResponsePerson(models.Model):
    """A person from the client's map named in an answer ("who helped you feel safe?")."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="people_links")
    item_id = models.CharField(max_length=64)
    person = models.ForeignKey("network.Person", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["response", "item_id", "person"], name="person_named_once_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"response person {self.pk}"


class RiskAlertQuerySet(models.QuerySet["RiskAlert"]):
    def open(self) -> RiskAlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)


class RiskAlert(models.Model):
    """A risk rule that fired on an answer. It stays open until a clinician acknowledges it with
    a note; if nobody does in time, the practice admins are told (escalated)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="risk_alerts")
    # RESTRICT: an alert keeps its response, yet deleting the whole client removes both.
    response = models.ForeignKey(Response, on_delete=models.RESTRICT, related_name="alerts")
    instrument_id = models.CharField(max_length=64)
    rule_id = models.CharField(max_length=64)
    item_id = models.CharField(max_length=64)
    value = models.FloatField()
    severity = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Required on acknowledgement (services.acknowledge); ciphertext cannot be checked in SQL.
    acknowledgement_note = EncryptedTextField(_("note"), blank=True, default="")

    objects = RiskAlertQuerySet.as_manager()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["response", "rule_id"], name="one_alert_per_rule"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "acknowledged_at"]),
            models.Index(fields=["acknowledged_at", "escalated_at"]),
        ]

    def __str__(self) -> str:
        return f"risk alert {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class PracticeMeasuresSettings(models.Model):
    """Per-practice settings: the crisis resources shown to a client whose answers raise an alert,
    and how long an alert may stay unacknowledged before the practice admins are told."""

    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, related_name="measures_settings"
    )
    crisis_resources = models.TextField(_("crisis resources"), blank=True, default="")
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate unacknowledged alerts after (minutes)"), null=True, blank=True
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"measures settings {self.pk}"

    @property
    def escalate_after(self) -> timedelta:
        minutes = self.escalate_after_minutes or settings.MEASURES_ALERT_ESCALATION_MINUTES
        return timedelta(minutes=minutes)
