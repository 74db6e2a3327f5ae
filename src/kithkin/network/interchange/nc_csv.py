"""Network Canvas's CSV layout: ``<case>_<session>_ego.csv``, ``..._attributeList_<NodeType>.csv``
and ``..._edgeList_<EdgeType>.csv``, read into a :class:`ParsedNetwork` and written from an
:class:`ExportDocument`."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kithkin.network.interchange.formats import (
    MAX_VALUE_CHARS,
    ImportFileError,
    ParsedEdge,
    ParsedNetwork,
    ParsedNode,
)
from kithkin.network.interchange.table import ExportDocument, csv_text

EGO_COLUMNS = [
    "networkCanvasEgoUUID",
    "networkCanvasCaseID",
    "networkCanvasSessionID",
    "networkCanvasProtocolName",
    "sessionStart",
    "sessionFinish",
    "sessionExported",
    "APP_VERSION",
    "COMMIT_HASH",
]
NODE_COLUMNS = ["nodeID", "networkCanvasEgoUUID", "networkCanvasUUID"]
EDGE_COLUMNS = [
    "edgeID",
    "from",
    "to",
    "networkCanvasEgoUUID",
    "networkCanvasUUID",
    "networkCanvasSourceUUID",
    "networkCanvasTargetUUID",
]
# Columns a file must have for Kithkin to make sense of it (the rest of the leading columns are
# Network Canvas bookkeeping that Kithkin does not need).
REQUIRED_NODE_COLUMNS = ["nodeID", "networkCanvasUUID"]
REQUIRED_EDGE_COLUMNS = ["from", "to"]
REQUIRED_EGO_COLUMNS = ["networkCanvasEgoUUID"]

_ATTRIBUTE_LIST = re.compile(r"(?:^|_)attributeList_(?P<type>[^/\\]+)\.csv$", re.IGNORECASE)
_EDGE_LIST = re.compile(r"(?:^|_)edgeList_(?P<type>[^/\\]+)\.csv$", re.IGNORECASE)
_EGO = re.compile(r"(?:^|_)ego\.csv$", re.IGNORECASE)
# What a spreadsheet would run as a formula; escaped on export, unescaped on import.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class CsvFile:
    role: str  # "ego", "nodes" or "edges"
    type_name: str  # the NodeType or EdgeType from the file name
    filename: str
    content: bytes


def role_of(filename: str) -> tuple[str, str] | None:
    """("nodes", "Person") for ``..._attributeList_Person.csv``; None for anything else."""
    base = filename.rsplit("/", 1)[-1]
    if match := _ATTRIBUTE_LIST.search(base):
        return "nodes", match["type"]
    if match := _EDGE_LIST.search(base):
        return "edges", match["type"]
    if _EGO.search(base):
        return "ego", ""
    return None


def interview_prefix(filename: str) -> str:
    """``<case>_<session>`` from a Network Canvas file name, to tell interviews apart."""
    base = filename.rsplit("/", 1)[-1]
    for pattern in (_ATTRIBUTE_LIST, _EDGE_LIST, _EGO):
        if match := pattern.search(base):
            return base[: match.start()]
    return base


def _decode(csv_file: CsvFile) -> str:
    try:
        return csv_file.content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "%(file)s is not UTF-8 text (the first problem is at byte %(byte)s). "
                "Please export it again as UTF-8."
            )
            % {"file": csv_file.filename, "byte": error.start}
        ) from None


def _unescape(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _read_table(
    csv_file: CsvFile, required: list[str]
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and rows (with their row number as a spreadsheet shows it, header = row 1)."""
    text = _decode(csv_file)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader, [])]
        if not any(header):
            raise ImportFileError(
                _("%(file)s is empty: it has no header row.") % {"file": csv_file.filename}
            )
        seen: set[str] = set()
        for column in header:
            if not column:
                raise ImportFileError(
                    _("%(file)s has a column with no name in its header row.")
                    % {"file": csv_file.filename}
                )
            if column in seen:
                raise ImportFileError(
                    _("%(file)s has the column “%(column)s” twice.")
                    % {"file": csv_file.filename, "column": column}
                )
            seen.add(column)
        for column in required:
            if column not in seen:
                raise ImportFileError(
                    _(
                        "%(file)s is missing the column “%(column)s”. A Network Canvas export "
                        "starts with the columns %(columns)s."
                    )
                    % {"file": csv_file.filename, "column": column, "columns": ", ".join(required)}
                )
        rows: list[tuple[int, dict[str, str]]] = []
        for values in reader:
            row_number = reader.line_num
            if not values or all(not value.strip() for value in values):
                continue
            if len(values) != len(header):
                raise ImportFileError(
                    _(
                        "%(file)s, row %(row)s has %(found)s values "
                        "but the header has %(expected)s columns."
                    )
                    % {
                        "file": csv_file.filename,
                        "row": row_number,
                        "found": len(values),
                        "expected": len(header),
                    }
                )
            if any(len(value) > MAX_VALUE_CHARS for value in values):
                raise ImportFileError(
                    _("%(file)s, row %(row)s has a value longer than %(limit)s characters.")
                    % {"file": csv_file.filename, "row": row_number, "limit": MAX_VALUE_CHARS}
                )
            rows.append(
                (
                    row_number,
                    {
                        column: _unescape(value)
                        for column, value in zip(header, values, strict=True)
                    },
                )
            )
    except csv.Error as error:
        raise ImportFileError(
            _("%(file)s could not be read as CSV near row %(row)s (%(problem)s).")
            % {"file": csv_file.filename, "row": reader.line_num, "problem": str(error)}
        ) from None
    return header, rows


def parse(files: list[CsvFile]) -> ParsedNetwork:
    """Read one interview's CSVs. Exactly one or more attributeLists; ego and edges optional."""
    network = ParsedNetwork(source_format="csv")
    node_files = [f for f in files if f.role == "nodes"]
    if not node_files:
        raise ImportFileError(
            _(
                "There is no attributeList file (…_attributeList_Person.csv), which lists the "
                "people. Kithkin needs it to import anything."
            )
        )
    for csv_file in files:
        if csv_file.role == "ego":
            _read_table(csv_file, REQUIRED_EGO_COLUMNS)  # checked, not imported: ego is the client
    structural_nodes = set(NODE_COLUMNS)
    for csv_file in node_files:
        header, rows = _read_table(csv_file, REQUIRED_NODE_COLUMNS)
        for column in header:
            if column not in structural_nodes and column not in network.attribute_order:
                network.attribute_order.append(column)
        for row_number, row in rows:
            node_id = row["nodeID"].strip()
            network.nodes.append(
                ParsedNode(
                    node_id=node_id,
                    uuid=row["networkCanvasUUID"].strip(),
                    node_type=csv_file.type_name,
                    where=_("%(file)s, row %(row)s (nodeID %(id)s)")
                    % {"file": csv_file.filename, "row": row_number, "id": node_id or "?"},
                    attrs={k: v for k, v in row.items() if k not in structural_nodes},
                )
            )
    structural_edges = set(EDGE_COLUMNS)
    for csv_file in files:
        if csv_file.role != "edges":
            continue
        _header, rows = _read_table(csv_file, REQUIRED_EDGE_COLUMNS)
        for row_number, row in rows:
            edge_id = row.get("edgeID", "").strip()
            where = (
                _("%(file)s, row %(row)s (edgeID %(id)s)")
                % {"file": csv_file.filename, "row": row_number, "id": edge_id}
                if edge_id
                else _("%(file)s, row %(row)s") % {"file": csv_file.filename, "row": row_number}
            )
            network.edges.append(
                ParsedEdge(
                    source=row["from"].strip(),
                    target=row["to"].strip(),
                    edge_type=csv_file.type_name,
                    where=where,
                    attrs={k: v for k, v in row.items() if k not in structural_edges},
                )
            )
    network.check()
    return network


def _escape(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _write(header: list[str], rows: list[dict[str, object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_escape(csv_text(row.get(column))) for column in header])
    return buffer.getvalue().encode("utf-8")


def write(document: ExportDocument) -> dict[str, bytes]:
    """The three files, named as Network Canvas names them."""
    prefix = f"{document.case_id}_{document.session_id}"
    return {
        f"{prefix}_ego.csv": _write(EGO_COLUMNS, [document.ego]),
        f"{prefix}_attributeList_{document.node_type}.csv": _write(
            NODE_COLUMNS + document.node_variables, document.nodes
        ),
        f"{prefix}_edgeList_{document.edge_type}.csv": _write(
            EDGE_COLUMNS + document.edge_variables, document.edges
        ),
    }
