"""The map as Network Canvas would have exported it: GraphML, or a ZIP of the CSV trio.

File names and the case id hold no personal data: the case id is the start of the client's UUID,
never their name, and the session id is new for every export."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass

from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.network.interchange import graphml, nc_csv
from kithkin.network.interchange.table import ExportDocument
from kithkin.network.models import FIVE_S, SUPPORT_KINDS, Category, Channel, Person, Tie

PROTOCOL_NAME = "Kithkin support network map"
APP_VERSION = "kithkin-0.1"
# A namespace of Kithkin's own, so the ego UUID is stable per client yet reveals nothing.
EGO_NAMESPACE = uuid.UUID("6b1c9f3e-2f5a-4d39-9c4e-6a0f3b7d2e11")
MAX_EXPORT_BYTES = 20 * 1024 * 1024


class ExportTooLarge(Exception):
    """The export would exceed MAX_EXPORT_BYTES."""


@dataclass
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def case_id(client: Client) -> str:
    return str(client.pk).replace("-", "")[:8]


def _variables() -> tuple[list[str], dict[str, str]]:
    columns: list[str] = ["name"]
    types: dict[str, str] = {"name": "string"}

    def add(name: str, type_name: str) -> None:
        columns.append(name)
        types[name] = type_name

    for value in Category.values:
        add(f"category_{value}", "boolean")
    add("ring", "int")
    for key, _label in FIVE_S:
        add(f"helps_{key}", "boolean")
    for key, _label in SUPPORT_KINDS:
        add(f"gives_{key}", "boolean")
    add("strain", "int")
    add("not_safe", "boolean")
    add("wished_rhythm_days", "int")
    for value in Channel.values:
        add(f"channel_{value}", "boolean")
    add("layout_x", "double")
    add("layout_y", "double")
    return columns, types


def build_document(client: Client) -> ExportDocument:
    """Two queries: the people on the map, and the ties between them."""
    now = timezone.now()
    session_id = str(uuid.uuid4())
    ego_uuid = str(uuid.uuid5(EGO_NAMESPACE, str(client.pk)))
    stamp = now.isoformat()
    document = ExportDocument(
        case_id=case_id(client),
        session_id=session_id,
        ego_uuid=ego_uuid,
        protocol_name=PROTOCOL_NAME,
        ego={
            "networkCanvasEgoUUID": ego_uuid,
            "networkCanvasCaseID": case_id(client),
            "networkCanvasSessionID": session_id,
            "networkCanvasProtocolName": PROTOCOL_NAME,
            "sessionStart": stamp,
            "sessionFinish": stamp,
            "sessionExported": stamp,
            "APP_VERSION": APP_VERSION,
            "COMMIT_HASH": "",
        },
    )
    document.node_variables, document.node_variable_types = _variables()
    document.edge_variables, document.edge_variable_types = ["strength"], {"strength": "int"}
    people = list(Person.objects.on_map().filter(client=client).order_by("created_at", "id"))
    uuid_of: dict[uuid.UUID, str] = {}
    node_id_of: dict[uuid.UUID, int] = {}
    for number, person in enumerate(people, start=1):
        external = person.external_uuid or str(person.pk)
        uuid_of[person.pk] = external
        node_id_of[person.pk] = number
        row: dict[str, object] = {
            "nodeID": number,
            "networkCanvasEgoUUID": ego_uuid,
            "networkCanvasUUID": external,
            "label": person.name,
            "name": person.name,
            "ring": person.ring,
            "strain": person.strain,
            "not_safe": person.not_safe,
            "wished_rhythm_days": person.wished_rhythm_days,
            "layout_x": person.layout_x,
            "layout_y": person.layout_y,
        }
        for value in Category.values:
            row[f"category_{value}"] = person.category == value
        for key, _label in FIVE_S:
            row[f"helps_{key}"] = bool(getattr(person, f"helps_{key}"))
        for key, _label in SUPPORT_KINDS:
            row[f"gives_{key}"] = bool(getattr(person, f"gives_{key}"))
        for value in Channel.values:
            row[f"channel_{value}"] = person.preferred_channel == value
        document.nodes.append(row)
    ties = Tie.objects.filter(
        client=client, person_a__in=list(node_id_of), person_b__in=list(node_id_of)
    )
    for number, tie in enumerate(ties.order_by("created_at", "id"), start=1):
        document.edges.append(
            {
                "edgeID": number,
                "from": node_id_of[tie.person_a_id],
                "to": node_id_of[tie.person_b_id],
                "networkCanvasEgoUUID": ego_uuid,
                "networkCanvasUUID": str(uuid.uuid5(EGO_NAMESPACE, f"tie-{tie.pk}")),
                "networkCanvasSourceUUID": uuid_of[tie.person_a_id],
                "networkCanvasTargetUUID": uuid_of[tie.person_b_id],
                "strength": tie.strength,
            }
        )
    return document


def export_graphml(client: Client) -> ExportFile:
    document = build_document(client)
    content = graphml.write(document)
    if len(content) > MAX_EXPORT_BYTES:
        raise ExportTooLarge
    return ExportFile(
        f"{document.case_id}_{document.session_id}.graphml", "application/graphml+xml", content
    )


def export_csv_zip(client: Client) -> ExportFile:
    document = build_document(client)
    buffer = io.BytesIO()
    total = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in nc_csv.write(document).items():
            total += len(content)
            if total > MAX_EXPORT_BYTES:
                raise ExportTooLarge
            archive.writestr(name, content)
    return ExportFile(
        f"{document.case_id}_{document.session_id}.zip", "application/zip", buffer.getvalue()
    )
