"""Keeping in touch: a client's choices about reminders (nudges), the nudges queued and sent, and
the withdrawal signal the care team sees on the caseload.

Nothing here holds free text. A nudge's wording is built when it is sent, from the map as it is
then, so a renamed person, or one marked "not safe" in the meantime, is respected."""

from __future__ import annotations

import datetime
import uuid
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client
from kithkin.network.models import Person

MAX_WEEKLY_CAP = 7


class NudgeSettings(models.Model):
    """One client's reminder choices. Reminders are off until the client turns them on."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="nudge_settings")
    enabled = models.BooleanField(_("send me reminders to get in touch"), default=False)
    # In the client's own time zone (their account's); start after end spans midnight.
    quiet_start = models.TimeField(_("quiet from"), default=datetime.time(21, 0))
    quiet_end = models.TimeField(_("quiet until"), default=datetime.time(8, 0))
    weekly_cap = models.PositiveSmallIntegerField(
        _("at most this many reminders a week"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WEEKLY_CAP)],
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # People the client never wants a reminder about (besides the "not safe", who never get one).
    muted_people = models.ManyToManyField(Person, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"nudge settings {self.pk}"


class NudgeKind(models.TextChoices):
    DRIFT = "drift", _("Drifting apart")


class NudgeState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent")


class SkipReason(models.TextChoices):
    """Why a queued nudge was not sent: checked again at send time, never only when queued."""

    OPTED_OUT = "opted_out", _("Reminders were turned off")
    NOT_SAFE = "not_safe", _("The person is marked not safe")
    OFF_MAP = "off_map", _("The person is no longer on the map")
    MUTED = "muted", _("No reminders about this person")
    IN_TOUCH = "in_touch", _("Back in touch")
    NO_ACCOUNT = "no_account", _("No active portal account")


class Nudge(models.Model):
    """One reminder about one person. A drift episode is named by the contact it drifted from
    (``last_contact_at``): a new contact ends the episode, so a drift is nudged at most once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="nudges")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NudgeKind.choices, default=NudgeKind.DRIFT)
    last_contact_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # When it may go out: after quiet hours, a snooze and the weekly cap. Moved on, never
    # dropped, when one of those still holds at send time.
    due_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=NudgeState.choices, default=NudgeState.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["person", "kind", "last_contact_at"], name="nudge_once_per_drift"
            )
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "state"], name="nudge_client_state"),
            models.Index(fields=["client", "sent_at"], name="nudge_client_sent"),
        ]

    def __str__(self) -> str:
        return f"nudge {self.pk} ({self.state})"

    @property
    def dedupe_key(self) -> str:
        """The drift episode, as ids: one nudge per person per episode."""
        return f"{self.kind}:{self.person_id}:{self.last_contact_at.isoformat()}"


class WithdrawalReason(models.TextChoices):
    CONTACT_DROPPED = "contact_dropped", _("Contact has dropped")
    LONELIER = "lonelier", _("Feeling lonelier")


class WithdrawalSignal(models.Model):
    """A client who may be withdrawing, as the last sweep found (see connection.withdrawal).
    The row exists only while the signal holds; the sweep deletes it when it no longer does."""

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, related_name="withdrawal_signal"
    )
    reasons = models.JSONField(default=list)  # WithdrawalReason codes
    recent_contacts = models.PositiveIntegerField(default=0)  # the last 4 weeks
    baseline_contacts = models.FloatField(default=0)  # a 4-week average over the 12 before
    loneliness_before = models.FloatField(null=True, blank=True)
    loneliness_after = models.FloatField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)  # kept while the signal holds
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"withdrawal signal {self.pk}"

    @property
    def reason_labels(self) -> list[str]:
        labels = dict(WithdrawalReason.choices)
        return [str(labels[code]) for code in self.reasons if code in labels]
