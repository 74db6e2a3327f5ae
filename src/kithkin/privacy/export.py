"""One client's full data export: a zip with ``data.json`` (one key per table), one CSV per
table, a FHIR R4 Bundle and a README.

Built from :mod:`kithkin.privacy.registry`, so every table that holds the client's data is in
it. Rows are read in chunks (one query per table) and written straight into a temporary file,
so memory stays bounded however long the record is. Encrypted fields are written decrypted: it
is the client's own data. People other than the client appear only as labels: the care team and
practice staff by name, network members as "network member N", anyone else as "someone else".

One more table, ``audit.access_history``, is her accounting of disclosures (GDPR art. 15, HIPAA):
each audit event naming her (``client_id``), as when, who (the same labels), their role then,
the action, the kind of thing, the outcome, and whether it was made under emergency access. The
IP address, the hash chain and the event's ``detail`` (ids of other things) are never written.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from django.db.models import BooleanField, Case, Value, When
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts.models import CareTeamMember, Client, Membership, NetworkMember, Practice
from kithkin.audit.models import AuditEvent
from kithkin.privacy import fhir
from kithkin.privacy.registry import WITHHELD, Table, tables

CHUNK_SIZE = 500
FORMAT_VERSION = 1

ACCESS_HISTORY = "audit.access_history"
ACCESS_HISTORY_COLUMNS = (
    "when",
    "who",
    "role",
    "action",
    "object_type",
    "outcome",
    "emergency_access",
)


@dataclass
class ExportSummary:
    tables: int = 0
    rows: int = 0
    notes_included: bool = False
    per_table: dict[str, int] = field(default_factory=dict)


class People:
    """Labels for the users a client's rows point at, read in three queries up front."""

    def __init__(self, client: Client) -> None:
        self.labels: dict[int, str] = {}
        for user_id, name in Membership.objects.filter(practice_id=client.practice_id).values_list(
            "user_id", "user__display_name"
        ):
            self.labels[user_id] = _("%(name)s (practice staff)") % {"name": name}
        for user_id, name in CareTeamMember.objects.filter(client=client).values_list(
            "user_id", "user__display_name"
        ):
            self.labels[user_id] = _("%(name)s (care team)") % {"name": name}
        for member_id, user_id in NetworkMember.objects.filter(client=client).values_list(
            "pk", "user_id"
        ):
            self.labels.setdefault(user_id, _("network member %(number)s") % {"number": member_id})
        if client.user_id is not None:
            self.labels[client.user_id] = _("%(name)s (the client)") % {"name": client.display_name}
        self.practice_id = client.practice_id
        self.practice_name = client.practice.name

    def user(self, user_id: Any) -> str:
        return self.labels.get(int(user_id), _("someone else"))

    def actor(self, actor_id: int | None) -> str:
        """Who caused an audit event: a person's label, or nobody signed in (a reminder sent by
        Kithkin itself, say)."""
        return _("no one signed in") if actor_id is None else self.user(actor_id)

    def practice(self, practice_id: Any) -> str:
        return self.practice_name if practice_id == self.practice_id else _("another practice")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rows(table: Table, client: Client, people: People) -> Iterator[dict[str, Any]]:
    columns = table.columns()
    names = [f.attname for f in columns]
    queryset = table.rows_of(client.pk).order_by("pk").values_list(*names)
    user_model = Client._meta.get_field("user").related_model
    for raw in queryset.iterator(chunk_size=CHUNK_SIZE):
        row: dict[str, Any] = {}
        for f, value in zip(columns, raw, strict=True):
            if f.name in table.rule.redact and value not in (None, ""):
                row[f.name] = WITHHELD
            elif f.is_relation and value is not None:
                if f.related_model is user_model:
                    row[f.name] = people.user(value)
                elif f.related_model is Practice:
                    row[f.name] = people.practice(value)
                else:
                    row[f.name] = _plain(value)
            else:
                row[f.name] = _plain(value)
        yield row


def _access_history(client: Client, people: People) -> Iterator[dict[str, Any]]:
    """The audit events naming this client, oldest first, in one chunked query. Whether an event
    was made under emergency access is worked out in the database, so ``detail`` is never read."""
    events = (
        AuditEvent.objects.for_client(client.pk)
        .annotate(
            emergency=Case(
                When(detail__has_key="break_glass", then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("id")
        .values_list(
            "occurred_at", "actor_id", "actor_role", "action", "object_type", "outcome", "emergency"
        )
    )
    for occurred_at, actor_id, role, action, object_type, outcome, emergency in events.iterator(
        chunk_size=CHUNK_SIZE
    ):
        yield {
            "when": _plain(occurred_at),
            "who": people.actor(actor_id),
            "role": role,
            "action": action,
            "object_type": object_type,
            "outcome": outcome,
            "emergency_access": bool(emergency),
        }


def _write_table(
    archive: zipfile.ZipFile,
    data: IO[str],
    label: str,
    header: list[str],
    rows: Iterator[dict[str, Any]],
) -> int:
    """One table: its key in data.json and its CSV file. Returns the number of rows."""
    data.write(",\n" + json.dumps(label) + ": [")
    count = 0
    with archive.open(f"csv/{label}.csv", "w", force_zip64=True) as raw_csv:
        text = io.TextIOWrapper(raw_csv, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(header)
        for row in rows:
            data.write(("\n" if count == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
            writer.writerow([_cell(row[name]) for name in header])
            count += 1
        text.flush()
        text.detach()
    data.write("]")
    return count


def write_export(client: Client, *, include_notes: bool, out: IO[bytes]) -> ExportSummary:
    """Write the zip for ``client`` into ``out``."""
    summary = ExportSummary(notes_included=include_notes)
    people = People(client)
    now = timezone.now()
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        tempfile.TemporaryFile() as json_file,
    ):
        data = io.TextIOWrapper(json_file, encoding="utf-8", newline="")
        about = {
            "format": "kithkin-client-export",
            "format_version": FORMAT_VERSION,
            "exported_at": now.astimezone(UTC).isoformat(),
            "client_id": str(client.pk),
            "psychotherapy_notes": "included" if include_notes else "not included",
        }
        data.write('{"about": ' + json.dumps(about, ensure_ascii=False))
        for table in tables():
            left_out = table.rule.psychotherapy_notes and not include_notes
            rows = iter(()) if left_out else _rows(table, client, people)
            count = _write_table(
                archive, data, table.label, [f.name for f in table.columns()], rows
            )
            summary.tables += 1
            summary.rows += count
            summary.per_table[table.label] = count
        count = _write_table(
            archive,
            data,
            ACCESS_HISTORY,
            list(ACCESS_HISTORY_COLUMNS),
            _access_history(client, people),
        )
        summary.tables += 1
        summary.rows += count
        summary.per_table[ACCESS_HISTORY] = count
        data.write("}\n")
        data.flush()
        data.detach()
        json_file.seek(0)
        with archive.open("data.json", "w", force_zip64=True) as target:
            while chunk := json_file.read(1024 * 1024):
                target.write(chunk)
        archive.writestr(
            "fhir/bundle.json",
            json.dumps(fhir.bundle_for(client, now), ensure_ascii=False, indent=2),
        )
        archive.writestr(
            "README.txt",
            render_to_string(
                "privacy/export_readme.txt",
                {
                    "client": client,
                    "now": now,
                    "summary": summary,
                    "tables": list(summary.per_table.items()),
                },
            ),
        )
    return summary


def build_export(client: Client, *, include_notes: bool) -> tuple[IO[bytes], ExportSummary]:
    """The export as an open temporary file, positioned at the start (the caller closes it)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the response, which closes it)
    try:
        summary = write_export(client, include_notes=include_notes, out=out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, summary
