"""The neutral shape every parser produces, the limits they enforce, and the one error they raise.

A parsed file is plain strings all the way down, so it can be kept (encrypted) between the upload
and the mapping screen as JSON, and so that nothing is interpreted before the user has said what
each variable means."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

# Bounds on what Kithkin will read. A support network map has tens of people, a research
# interview a few hundred; these leave room and still stop a hostile file early.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 50
MAX_NODES = 2000
MAX_EDGES = 20000
MAX_VALUE_CHARS = 2000

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f", ""})


class ImportFileError(Exception):
    """A file Kithkin cannot import. The message is shown to the user as it is, so it names the
    file, row or element and the problem in plain words, and never quotes a person's data."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_true(value: str) -> bool:
    return value.strip().lower() in TRUE_WORDS


def is_boolean_word(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in TRUE_WORDS or lowered in FALSE_WORDS


@dataclass
class ParsedNode:
    node_id: str  # nodeID in the CSVs, the element id in GraphML
    uuid: str  # networkCanvasUUID, or "" when the file has none
    node_type: str
    where: str  # how to name this node in a message: "attributeList_Person.csv, row 3"
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedEdge:
    source: str  # node_id
    target: str
    edge_type: str
    where: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedNetwork:
    source_format: str  # "csv" or "graphml"
    nodes: list[ParsedNode] = field(default_factory=list)
    edges: list[ParsedEdge] = field(default_factory=list)
    # Column / key order as found in the file, so the mapping screen lists them in that order.
    attribute_order: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedNetwork:
        return cls(
            source_format=data["source_format"],
            nodes=[ParsedNode(**node) for node in data["nodes"]],
            edges=[ParsedEdge(**edge) for edge in data["edges"]],
            attribute_order=list(data["attribute_order"]),
        )

    def node_types(self) -> list[str]:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.node_type] = counts.get(node.node_type, 0) + 1
        return sorted(counts, key=lambda name: (-counts[name], name))

    def edge_types(self) -> list[str]:
        return sorted({edge.edge_type for edge in self.edges})

    def check(self) -> None:
        """The structural checks every format shares: limits, unique ids, edges that join two
        different nodes that exist. Raises :class:`ImportFileError` naming the first problem."""
        if not self.nodes:
            raise ImportFileError(
                _("The file has no people (nodes) in it, so there is nothing to import.")
            )
        if len(self.nodes) > MAX_NODES:
            raise ImportFileError(
                _("The file has %(count)s nodes; Kithkin imports at most %(limit)s.")
                % {"count": len(self.nodes), "limit": MAX_NODES}
            )
        if len(self.edges) > MAX_EDGES:
            raise ImportFileError(
                _("The file has %(count)s edges; Kithkin imports at most %(limit)s.")
                % {"count": len(self.edges), "limit": MAX_EDGES}
            )
        seen_ids: dict[str, str] = {}
        seen_uuids: dict[str, str] = {}
        for node in self.nodes:
            if not node.node_id:
                raise ImportFileError(_("%(where)s: the node has no id.") % {"where": node.where})
            if node.node_id in seen_ids:
                raise ImportFileError(
                    _("%(where)s: the node id “%(id)s” is used twice (first at %(first)s).")
                    % {"where": node.where, "id": node.node_id, "first": seen_ids[node.node_id]}
                )
            seen_ids[node.node_id] = node.where
            if node.uuid:
                if node.uuid in seen_uuids:
                    raise ImportFileError(
                        _(
                            "%(where)s: the networkCanvasUUID “%(id)s” is used twice "
                            "(first at %(first)s)."
                        )
                        % {"where": node.where, "id": node.uuid, "first": seen_uuids[node.uuid]}
                    )
                seen_uuids[node.uuid] = node.where
        for edge in self.edges:
            for end, node_id in ((_("from"), edge.source), (_("to"), edge.target)):
                if node_id not in seen_ids:
                    raise ImportFileError(
                        _(
                            "%(where)s: “%(end)s” refers to node “%(id)s”, which is not in "
                            "the file's list of people."
                        )
                        % {"where": edge.where, "end": end, "id": node_id}
                    )
            if edge.source == edge.target:
                raise ImportFileError(
                    _("%(where)s: the edge joins node “%(id)s” to itself.")
                    % {"where": edge.where, "id": edge.source}
                )
