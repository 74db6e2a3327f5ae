"""Data rights: each practice's privacy policy (psychotherapy notes in exports, how long records
are kept), the client's own versioned consent records, the exports made, and erasure requests
with the record that outlives an erasure.

Free text (reasons, legal bases) may describe a person's situation, so it is encrypted."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client, Practice
from kithkin.core.fields import EncryptedTextField

DEFAULT_RETENTION_YEARS = 8


class NotesInExport(models.TextChoices):
    """Whether a client's export holds the clinicians' private session notes (psychotherapy
    notes). ``exclude`` follows HIPAA's psychotherapy-notes exception."""

    EXCLUDE = "exclude", _("Never include them")
    INCLUDE = "include", _("Always include them")
    ON_REQUEST = "on_request", _("Only when an admin exports with a recorded reason")


class PrivacyPolicy(models.Model):
    """One practice's data-rights rules. A practice without a row uses the defaults."""

    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, related_name="privacy_policy"
    )
    notes_in_export = models.CharField(
        _("clinicians' private session notes in exports"),
        max_length=20,
        choices=NotesInExport.choices,
        default=NotesInExport.EXCLUDE,
    )
    retention_years = models.PositiveSmallIntegerField(
        _("keep records for this many years after discharge"),
        default=DEFAULT_RETENTION_YEARS,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"privacy policy {self.pk}"


class ConsentTopic(models.TextChoices):
    TREATMENT = "treatment", _("Care and treatment")
    DATA_PROCESSING = "data_processing", _("Keeping and using my information")
    NETWORK_INVOLVEMENT = "network_involvement", _("Involving people from my network")


class ConsentDecision(models.TextChoices):
    GIVEN = "given", _("Agreed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentRecordQuerySet(models.QuerySet["ConsentRecord"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyConsentError("Consent records are never changed: record a new version.")

    def latest_per_topic(self) -> ConsentRecordQuerySet:
        newer = ConsentRecord.objects.filter(
            client=models.OuterRef("client"),
            topic=models.OuterRef("topic"),
            version__gt=models.OuterRef("version"),
        )
        return self.exclude(models.Exists(newer))


class AppendOnlyConsentError(Exception):
    pass


class ConsentRecord(models.Model):
    """One decision by the client about one topic, against one version of the notice they read.
    Append-only: a change of mind is a new version, so the history is kept. (Erasure deletes
    the rows with the rest of the record.)"""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consent_records")
    topic = models.CharField(max_length=30, choices=ConsentTopic.choices)
    version = models.PositiveIntegerField()
    notice_version = models.CharField(max_length=20)
    decision = models.CharField(max_length=10, choices=ConsentDecision.choices)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["client", "topic", "version"], name="consent_record_version_once"
            )
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "topic", "-version"], name="consent_record_latest")
        ]

    def __str__(self) -> str:
        return f"consent record {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyConsentError("Consent records are never changed.")
        super().save(*args, **kwargs)

    @property
    def is_given(self) -> bool:
        return self.decision == ConsentDecision.GIVEN


class DataExport(models.Model):
    """One full export of a client's data: who made it, and whether the private notes went in
    (with the reason an admin recorded, when the policy asks for one)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="data_exports")
    made_at = models.DateTimeField(default=timezone.now)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    notes_included = models.BooleanField(default=False)
    reason = EncryptedTextField(_("reason"), blank=True, default="")

    def __str__(self) -> str:
        return f"data export {self.pk}"


class ErasureRequest(models.Model):
    """An admin's request to erase one client's record, waiting for confirmation. Part of the
    record, so it goes with it; the :class:`ErasureRecord` is what stays."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="erasure_request")
    reason = EncryptedTextField(_("reason"))
    legal_basis = EncryptedTextField(_("legal basis for erasing within retention"), blank=True)
    within_retention = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"erasure request {self.pk}"


class ErasureRecord(models.Model):
    """What remains after an erasure: when, who, why, and the opaque id the audit trail uses.
    Never the client's name: after erasure that id resolves to nobody."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="erasures")
    client_ref = models.CharField(max_length=36, db_index=True)
    erased_at = models.DateTimeField(default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    reason = EncryptedTextField()
    legal_basis = EncryptedTextField(blank=True, default="")
    within_retention = models.BooleanField(default=False)
    account_deleted = models.BooleanField(default=False)
    # Table label → rows deleted: counts only.
    rows_deleted = models.JSONField(default=dict)

    class Meta:
        ordering: ClassVar[list[str]] = ["-erased_at"]

    def __str__(self) -> str:
        return f"erasure record {self.pk}"

    @property
    def total_rows(self) -> int:
        return sum(int(n) for n in self.rows_deleted.values())
