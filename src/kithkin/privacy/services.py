"""Data-rights operations: the practice's privacy policy, the client's consent records, and
making an export under the psychotherapy-notes policy. Erasure lives in :mod:`.erasure`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client, Practice, User
from kithkin.audit import services as audit
from kithkin.privacy import export
from kithkin.privacy.models import (
    ConsentDecision,
    ConsentRecord,
    ConsentTopic,
    DataExport,
    NotesInExport,
    PrivacyPolicy,
)

# --- the practice's policy --------------------------------------------------------------------


def policy_for(practice: Practice | int) -> PrivacyPolicy:
    """The practice's policy; an unsaved default one if it has never been set."""
    practice_id = practice if isinstance(practice, int) else practice.pk
    found = PrivacyPolicy.objects.filter(practice_id=practice_id).first()
    return found or PrivacyPolicy(practice_id=practice_id)


def update_policy(
    request: HttpRequest, practice: Practice, *, notes_in_export: str, retention_years: int
) -> PrivacyPolicy:
    with transaction.atomic():
        policy, _created = PrivacyPolicy.objects.select_for_update().get_or_create(
            practice=practice
        )
        changed = sorted(
            name
            for name, value in (
                ("notes_in_export", notes_in_export),
                ("retention_years", retention_years),
            )
            if getattr(policy, name) != value
        )
        policy.notes_in_export = notes_in_export
        policy.retention_years = retention_years
        policy.updated_at = timezone.now()
        policy.updated_by = request.user if isinstance(request.user, User) else None
        policy.save()
        audit.record(
            request,
            action="privacy.policy.update",
            object_type="practice",
            object_id=practice.pk,
            detail={
                "fields": changed,
                "notes_in_export": notes_in_export,
                "retention_years": retention_years,
            },
        )
    return policy


# --- exports -------------------------------------------------------------------------------


class Exporter:
    SELF = "self"
    CARE_TEAM = "care_team"
    ADMIN = "admin"


def notes_allowed(policy: PrivacyPolicy, exporter: str, *, admin_reason: str = "") -> bool:
    """Whether this export holds the private session notes, as the practice's policy says:
    ``include`` always, ``exclude`` never, ``on_request`` only for an admin with a reason."""
    if policy.notes_in_export == NotesInExport.INCLUDE:
        return True
    if policy.notes_in_export == NotesInExport.ON_REQUEST:
        return exporter == Exporter.ADMIN and bool(admin_reason.strip())
    return False


@dataclass
class MadeExport:
    file: IO[bytes]
    summary: export.ExportSummary
    record: DataExport


def make_export(
    request: HttpRequest, client: Client, *, exporter: str, notes_reason: str = ""
) -> MadeExport:
    """Build the client's export, record it, and audit it (``privacy.export``)."""
    policy = policy_for(client.practice_id)
    include_notes = notes_allowed(policy, exporter, admin_reason=notes_reason)
    file, summary = export.build_export(client, include_notes=include_notes)
    with transaction.atomic():
        record = DataExport.objects.create(
            client=client,
            made_by=request.user if isinstance(request.user, User) else None,
            notes_included=include_notes,
            reason=notes_reason.strip() if include_notes else "",
        )
        audit.record(
            request,
            action="privacy.export",
            object_type="dataexport",
            object_id=record.pk,
            client=client,
            detail={
                "by": exporter,
                "notes": include_notes,
                "tables": summary.tables,
                "rows": summary.rows,
            },
        )
    return MadeExport(file, summary, record)


# --- consent records -------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """The text a client reads before deciding. Change ``version`` whenever the text changes:
    records name the version the client saw, and an older decision then asks to be renewed."""

    topic: str
    version: str
    title: Any
    text: Any


NOTICES: dict[str, Notice] = {
    ConsentTopic.TREATMENT: Notice(
        ConsentTopic.TREATMENT,
        "2025-1",
        _("Care and treatment"),
        _(
            "I agree to receive care from my care team at this practice. I can ask questions "
            "at any time, and I can stop at any time."
        ),
    ),
    ConsentTopic.DATA_PROCESSING: Notice(
        ConsentTopic.DATA_PROCESSING,
        "2025-1",
        _("Keeping and using my information"),
        _(
            "I agree that the practice keeps what I share here and what my care team writes "
            "about my care, to help me. Only my care team reads my clinical record; every "
            "look at it is recorded. I can download all of it, and ask for it to be erased."
        ),
    ),
    ConsentTopic.NETWORK_INVOLVEMENT: Notice(
        ConsentTopic.NETWORK_INVOLVEMENT,
        "2025-1",
        _("Involving people from my network"),
        _(
            "I agree that my care team may invite people I choose from my support network to "
            "take part. I decide, for each person, what they can see, and I can change that "
            "at any time."
        ),
    ),
}


@dataclass(frozen=True)
class ConsentState:
    notice: Notice
    current: ConsentRecord | None

    @property
    def is_given(self) -> bool:
        return self.current is not None and self.current.is_given

    @property
    def needs_renewal(self) -> bool:
        """Agreed, but to an older version of the notice."""
        return (
            self.is_given
            and self.current is not None
            and (self.current.notice_version != self.notice.version)
        )


def consent_states(client: Client) -> list[ConsentState]:
    """Each topic's notice with the client's newest decision on it (one query)."""
    latest = {r.topic: r for r in ConsentRecord.objects.filter(client=client).latest_per_topic()}
    return [ConsentState(notice, latest.get(topic)) for topic, notice in NOTICES.items()]


class ConsentError(ValueError):
    pass


def record_consent(
    request: HttpRequest, client: Client, *, topic: str, decision: str
) -> ConsentRecord:
    """Append a new version of the client's decision on ``topic``, against the current notice."""
    notice = NOTICES.get(topic)
    if notice is None:
        raise ConsentError(_("That is not something Kithkin asks consent for."))
    if decision not in ConsentDecision.values:
        raise ConsentError(_("Choose whether you agree or withdraw."))
    with transaction.atomic():
        # Lock the client row so two decisions at once get consecutive versions.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        last = ConsentRecord.objects.filter(client=client, topic=topic).order_by("-version").first()
        record = ConsentRecord.objects.create(
            client=client,
            topic=topic,
            version=(last.version + 1) if last else 1,
            notice_version=notice.version,
            decision=decision,
            recorded_by=request.user if isinstance(request.user, User) else None,
        )
        audit.record(
            request,
            action="privacy.consent.record",
            object_type="consentrecord",
            object_id=record.pk,
            client=client,
            detail={
                "topic": topic,
                "decision": decision,
                "version": record.version,
                "notice_version": notice.version,
            },
        )
    return record
