"""From uploaded files to people on the map.

1. :func:`read_upload` turns a ZIP, a GraphML file or the CSV trio into a checked
   :class:`ParsedNetwork` (or raises :class:`ImportFileError` naming the problem);
2. :func:`keep_pending` / :func:`load_pending` hold it, encrypted, in the user's session while
   they map its variables (an hour at most, a few at a time);
3. :func:`apply_import` writes people and ties in one transaction, after a snapshot of the map.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from django.contrib.sessions.backends.base import SessionBase
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts.models import Client, User
from kithkin.audit import services as audit
from kithkin.core import crypto
from kithkin.network.interchange import graphml, nc_csv
from kithkin.network.interchange.formats import (
    MAX_UNCOMPRESSED_BYTES,
    MAX_UPLOAD_BYTES,
    MAX_ZIP_MEMBERS,
    ImportFileError,
    ParsedNetwork,
    ParsedNode,
)
from kithkin.network.interchange.mapping import (
    Mapping,
    nodes_of_type,
    person_fields,
    tie_strength,
    variables,
)
from kithkin.network.models import Person, Snapshot, Tie

if TYPE_CHECKING:
    Upload: TypeAlias = UploadedFile[bytes]  # generic only in the type stubs
else:
    Upload = UploadedFile
SESSION_KEY = "network_import_pending"
PENDING_TTL = timedelta(hours=1)
MAX_PENDING = 3


# ------------------------------------------------------------------ reading uploads


def _read_limited(upload: Upload, label: str) -> bytes:
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ImportFileError(_too_large(label))
    content: bytes = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportFileError(_too_large(label))
    return content


def _too_large(label: str) -> str:
    return _("%(file)s is larger than %(limit)s MB, so nothing was imported.") % {
        "file": label,
        "limit": MAX_UPLOAD_BYTES // (1024 * 1024),
    }


def _is_graphml(name: str, content: bytes) -> bool:
    if name.lower().endswith((".graphml", ".xml")):
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _zip_members(content: bytes) -> dict[str, bytes]:
    """Every file in the archive, after checking the archive is what it says it is."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile):
        raise ImportFileError(_("The file is not a ZIP archive Kithkin can open.")) from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > MAX_ZIP_MEMBERS:
            raise ImportFileError(
                _("The ZIP holds %(count)s files; Kithkin reads at most %(limit)s.")
                % {"count": len(infos), "limit": MAX_ZIP_MEMBERS}
            )
        # Checked before anything is extracted: a small ZIP can unpack to gigabytes.
        if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED_BYTES:
            raise ImportFileError(
                _("The ZIP unpacks to more than %(limit)s MB, so Kithkin did not open it.")
                % {"limit": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)}
            )
        members: dict[str, bytes] = {}
        total = 0
        for info in infos:
            name = info.filename
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise ImportFileError(
                    _(
                        "The ZIP contains a file with an unsafe path (%(name)s), "
                        "so Kithkin did not open it."
                    )
                    % {"name": name[:80]}
                )
            base = parts[-1]
            if parts[0] == "__MACOSX" or base.startswith("."):
                continue
            try:
                with archive.open(info) as member:
                    # The header's size can lie; never read more than the budget left.
                    data = member.read(MAX_UNCOMPRESSED_BYTES - total + 1)
            except RuntimeError:  # encrypted member
                raise ImportFileError(
                    _(
                        "%(name)s in the ZIP is password-protected; "
                        "please export it without a password."
                    )
                    % {"name": base}
                ) from None
            except (zipfile.BadZipFile, EOFError, OSError):
                raise ImportFileError(
                    _("%(name)s in the ZIP is damaged and could not be read.") % {"name": base}
                ) from None
            total += len(data)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise ImportFileError(
                    _("The ZIP unpacks to more than %(limit)s MB, so Kithkin did not open it.")
                    % {"limit": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)}
                )
            members[name] = data
        return members


def _from_zip(content: bytes) -> ParsedNetwork:
    members = _zip_members(content)
    csv_files: list[nc_csv.CsvFile] = []
    graphml_files: list[tuple[str, bytes]] = []
    for name, data in members.items():
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        role = nc_csv.role_of(base)
        if role is not None:
            csv_files.append(nc_csv.CsvFile(role[0], role[1], base, data))
        elif base.lower().endswith(".graphml"):
            graphml_files.append((base, data))
    interviews = {nc_csv.interview_prefix(f.filename) for f in csv_files if f.role == "nodes"}
    if len(interviews) > 1 or (not interviews and len(graphml_files) > 1):
        raise ImportFileError(
            _(
                "The ZIP holds %(count)s interviews. Please export and import one interview "
                "at a time."
            )
            % {"count": max(len(interviews), len(graphml_files))}
        )
    if interviews:
        prefix = interviews.pop()
        # The CSVs carry everything the GraphML does, in a layout that names rows in errors.
        return nc_csv.parse([f for f in csv_files if nc_csv.interview_prefix(f.filename) == prefix])
    if graphml_files:
        return graphml.parse(graphml_files[0][1], graphml_files[0][0])
    raise ImportFileError(
        _(
            "The ZIP has no attributeList file (…_attributeList_Person.csv), which lists the "
            "people, and no GraphML file. Please check it is a Network Canvas export."
        )
    )


def read_upload(
    *,
    archive: Upload | None = None,
    ego: Upload | None = None,
    attribute_list: Upload | None = None,
    edge_list: Upload | None = None,
) -> ParsedNetwork:
    """Read either one file (ZIP or GraphML) or the CSV trio. Raises ImportFileError."""
    if archive is not None:
        name = archive.name or "upload"
        content = _read_limited(archive, name)
        if content.startswith(b"PK\x03\x04") or name.lower().endswith(".zip"):
            return _from_zip(content)
        if _is_graphml(name, content):
            return graphml.parse(content, name)
        raise ImportFileError(
            _(
                "%(file)s is neither a ZIP nor a GraphML file. To import CSV files, use the "
                "three CSV fields instead."
            )
            % {"file": name}
        )
    files: list[nc_csv.CsvFile] = []
    for upload, role, default_type in (
        (ego, "ego", ""),
        (attribute_list, "nodes", "Person"),
        (edge_list, "edges", "knows"),
    ):
        if upload is None:
            continue
        name = upload.name or role
        found = nc_csv.role_of(name)
        type_name = found[1] if found and found[0] == role else default_type
        files.append(nc_csv.CsvFile(role, type_name, name, _read_limited(upload, name)))
    return nc_csv.parse(files)


# ------------------------------------------------------------------ the pending import


@dataclass
class Pending:
    import_id: str
    network: ParsedNetwork
    created_at: datetime


def _store(session: SessionBase) -> dict[str, dict[str, str]]:
    stored = session.get(SESSION_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def keep_pending(request: HttpRequest, client: Client, network: ParsedNetwork) -> str:
    """Keep a parsed file for the mapping screen. It holds names, so it is encrypted."""
    store = _store(request.session)
    now = timezone.now()
    store = {
        key: entry
        for key, entry in store.items()
        if now - datetime.fromisoformat(entry["created_at"]) < PENDING_TTL
    }
    for key in sorted(store, key=lambda k: store[k]["created_at"])[
        : max(0, len(store) - MAX_PENDING + 1)
    ]:
        del store[key]
    import_id = str(uuid.uuid4())
    store[import_id] = {
        "client": str(client.pk),
        "created_at": now.isoformat(),
        "content": crypto.encrypt(json.dumps(network.to_json())),
    }
    request.session[SESSION_KEY] = store
    return import_id


def load_pending(request: HttpRequest, client: Client, import_id: object) -> Pending | None:
    entry = _store(request.session).get(str(import_id))
    if entry is None or entry["client"] != str(client.pk):
        return None
    created_at = datetime.fromisoformat(entry["created_at"])
    if timezone.now() - created_at >= PENDING_TTL:
        discard_pending(request, import_id)
        return None
    try:
        network = ParsedNetwork.from_json(json.loads(crypto.decrypt(entry["content"])))
    except (crypto.UndecryptableError, ValueError, KeyError, TypeError):
        discard_pending(request, import_id)
        return None
    return Pending(str(import_id), network, created_at)


def discard_pending(request: HttpRequest, import_id: object) -> None:
    store = _store(request.session)
    if store.pop(str(import_id), None) is not None:
        request.session[SESSION_KEY] = store


# ------------------------------------------------------------------ the import


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    ties_created: int = 0
    ties_updated: int = 0
    nodes_left_out: int = 0
    edges_left_out: int = 0


def _existing_people(client: Client, nodes: list[ParsedNode]) -> dict[str, Person]:
    """People already on the map whom the file names, by the file's networkCanvasUUID."""
    uuids = [node.uuid for node in nodes if node.uuid]
    existing = {
        person.external_uuid: person
        for person in Person.objects.on_map()
        .filter(client=client, external_uuid__in=uuids)
        .order_by("created_at")
    }
    # A file Kithkin exported names people who had no external id by their own id.
    own_ids = []
    for value in uuids:
        try:
            own_ids.append(uuid.UUID(value))
        except ValueError:
            continue
    for person in Person.objects.on_map().filter(client=client, pk__in=own_ids):
        existing.setdefault(str(person.pk), person)
    return existing


def _write_people(
    client: Client,
    user: User | None,
    rows: list[tuple[ParsedNode, dict[str, object]]],
    summary: Summary,
) -> dict[str, Person]:
    existing = _existing_people(client, [node for node, _fields in rows])
    now = timezone.now()
    by_node: dict[str, Person] = {}
    to_create: list[Person] = []
    to_update: list[Person] = []
    changed_fields: set[str] = {"updated_at", "updated_by"}
    for node, fields in rows:
        found = existing.get(node.uuid) if node.uuid else None
        person = found or Person(
            client=client,
            external_uuid=node.uuid[:64],
            created_by=user,
            created_at=now,
        )
        for name, value in fields.items():
            setattr(person, name, value)
        person.updated_by, person.updated_at = user, now
        if found is None:
            if not person.name:
                person.name = _("Person %(n)s") % {"n": node.node_id}
            to_create.append(person)
        else:
            changed_fields.update(fields)
            to_update.append(person)
        by_node[node.node_id] = person
    Person.objects.bulk_create(to_create)
    if to_update:
        Person.objects.bulk_update(to_update, sorted(changed_fields))
    summary.created, summary.updated = len(to_create), len(to_update)
    return by_node


def _write_ties(
    client: Client,
    network: ParsedNetwork,
    edge_type: str,
    by_node: dict[str, Person],
    summary: Summary,
) -> None:
    wanted: dict[tuple[str, str], int] = {}
    for edge in network.edges:
        a, b = by_node.get(edge.source), by_node.get(edge.target)
        if edge.edge_type != edge_type or a is None or b is None:
            summary.edges_left_out += 1
            continue
        first, second = sorted((str(a.pk), str(b.pk)))  # stored once per pair, a < b
        wanted[(first, second)] = max(wanted.get((first, second), 0), tie_strength(edge))
    if not wanted:
        return
    ties = {
        (str(tie.person_a_id), str(tie.person_b_id)): tie
        for tie in Tie.objects.filter(
            client=client, person_a__in=[uuid.UUID(a) for a, _b in wanted]
        )
    }
    new_ties: list[Tie] = []
    changed_ties: list[Tie] = []
    for (a_id, b_id), strength in wanted.items():
        tie = ties.get((a_id, b_id))
        if tie is None:
            new_ties.append(
                Tie(
                    client=client,
                    person_a_id=uuid.UUID(a_id),
                    person_b_id=uuid.UUID(b_id),
                    strength=strength,
                )
            )
        elif tie.strength != strength:
            tie.strength = strength
            changed_ties.append(tie)
    Tie.objects.bulk_create(new_ties)
    Tie.objects.bulk_update(changed_ties, ["strength"])
    summary.ties_created, summary.ties_updated = len(new_ties), len(changed_ties)


def apply_import(
    request: HttpRequest, client: Client, network: ParsedNetwork, mapping: Mapping
) -> Summary:
    """Import everything or nothing. Every row is checked before the first one is written."""
    from kithkin.network.snapshots import take_snapshot

    user = request.user if isinstance(request.user, User) else None
    found = variables(network, mapping.node_type)
    nodes = nodes_of_type(network, mapping.node_type)
    rows = [(node, person_fields(found, mapping, node)) for node in nodes]  # raises first
    summary = Summary(nodes_left_out=len(network.nodes) - len(nodes))
    with transaction.atomic():
        take_snapshot(client, user, reason=Snapshot.Reason.IMPORT, label=_("Before an import"))
        by_node = _write_people(client, user, rows, summary)
        _write_ties(client, network, mapping.edge_type, by_node, summary)
        audit.record(
            request,
            action="network.import",
            object_type="client",
            object_id=client.pk,
            client=client,
            detail={
                "format": network.source_format,
                "created": summary.created,
                "updated": summary.updated,
                "ties_created": summary.ties_created,
                "ties_updated": summary.ties_updated,
                "fields": sorted(
                    {target for target in mapping.targets.values() if target != "ignore"}
                ),
            },
        )
    return summary
