"""GraphML in Network Canvas's manner: nodes and edges carry ``label``, ``networkCanvasType`` and
``networkCanvasUUID`` next to their variables; the interview's own ids sit on the graph.

Reading goes through defusedxml, which refuses DTDs, entity expansion and external references."""

from __future__ import annotations

import re
import xml.etree.ElementTree as StdET  # writing only; reading uses defusedxml  # nosec B405
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError  # nosec B405 # types only

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.utils.translation import gettext as _

from kithkin.network.interchange.formats import (
    MAX_VALUE_CHARS,
    ImportFileError,
    ParsedEdge,
    ParsedNetwork,
    ParsedNode,
)
from kithkin.network.interchange.table import ExportDocument, csv_text

NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
STRUCTURAL = {"networkCanvasType", "networkCanvasUUID"}
GRAPH_KEYS = [
    "networkCanvasEgoUUID",
    "networkCanvasCaseID",
    "networkCanvasSessionID",
    "networkCanvasProtocolName",
    "sessionExported",
]
# Characters XML 1.0 cannot carry at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _root(content: bytes, filename: str) -> Element:
    try:
        content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "%(file)s is not UTF-8 text (the first problem is at byte %(byte)s). "
                "Please export it again as UTF-8."
            )
            % {"file": filename, "byte": error.start}
        ) from None
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        root: Element = SafeET.fromstring(content, forbid_dtd=True)
    except ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        raise ImportFileError(
            _(
                "%(file)s is not well-formed XML: the problem is at line %(line)s, column "
                "%(column)s."
            )
            % {"file": filename, "line": line, "column": column + 1}
        ) from None
    except DefusedXmlException:
        raise ImportFileError(
            _(
                "%(file)s declares a DTD or entities. Kithkin does not read those, for safety; "
                "GraphML does not need them."
            )
            % {"file": filename}
        ) from None
    if _local(root.tag) != "graphml":
        raise ImportFileError(
            _("%(file)s is not GraphML: its first element is <%(tag)s>, not <graphml>.")
            % {"file": filename, "tag": _local(root.tag)[:40]}
        )
    return root


@dataclass
class _Keys:
    """The file's <key> declarations: attribute names, defaults, and the node keys' order."""

    names: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, dict[str, str]] = field(default_factory=lambda: {"node": {}, "edge": {}})
    order: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, root: Element, filename: str) -> _Keys:
        keys = cls()
        for index, key in enumerate(_children(root, "key"), start=1):
            key_id = key.get("id")
            if not key_id:
                raise ImportFileError(
                    _("%(file)s: <key> number %(n)s has no id.") % {"file": filename, "n": index}
                )
            name = key.get("attr.name") or key_id
            keys.names[key_id] = name
            domain = key.get("for", "all")
            if domain in ("node", "all") and name not in STRUCTURAL and name not in keys.order:
                keys.order.append(name)
            default = _children(key, "default")
            for kind in ("node", "edge"):
                if default and domain in (kind, "all"):
                    keys.defaults[kind][name] = (default[0].text or "").strip()
        return keys

    def data_of(self, element: Element, kind: str, where: str) -> dict[str, str]:
        values = dict(self.defaults[kind])
        for data in _children(element, "data"):
            key_id = data.get("key", "")
            if key_id not in self.names:
                raise ImportFileError(
                    _("%(where)s: its <data> uses the key “%(key)s”, which no <key> declares.")
                    % {"where": where, "key": key_id[:40]}
                )
            text = "".join(data.itertext())
            if len(text) > MAX_VALUE_CHARS:
                raise ImportFileError(
                    _("%(where)s has a value longer than %(limit)s characters.")
                    % {"where": where, "limit": MAX_VALUE_CHARS}
                )
            values[self.names[key_id]] = text
        return values


def _where(filename: str, what: str, index: int, element_id: str) -> str:
    if element_id:
        return _("%(file)s, %(what)s %(n)s (id “%(id)s”)") % {
            "file": filename,
            "what": what,
            "n": index,
            "id": element_id,
        }
    return _("%(file)s, %(what)s %(n)s") % {"file": filename, "what": what, "n": index}


def _read_nodes(graph: Element, keys: _Keys, filename: str, network: ParsedNetwork) -> set[str]:
    """Adds the nodes; returns the ids of ego nodes, which are the client, not people."""
    ego_ids: set[str] = set()
    for index, node in enumerate(_children(graph, "node"), start=1):
        node_id = (node.get("id") or "").strip()
        where = _where(filename, _("node"), index, node_id)
        values = keys.data_of(node, "node", where)
        node_type = values.pop("networkCanvasType", "").strip() or "node"
        uuid = values.pop("networkCanvasUUID", "").strip()
        if node_type.lower() == "ego":
            ego_ids.add(node_id)
            continue
        network.nodes.append(
            ParsedNode(node_id=node_id, uuid=uuid, node_type=node_type, where=where, attrs=values)
        )
    return ego_ids


def _read_edges(
    graph: Element, keys: _Keys, filename: str, network: ParsedNetwork, ego_ids: set[str]
) -> None:
    for index, edge in enumerate(_children(graph, "edge"), start=1):
        where = _where(filename, _("edge"), index, (edge.get("id") or "").strip())
        source = (edge.get("source") or "").strip()
        target = (edge.get("target") or "").strip()
        if not source or not target:
            raise ImportFileError(
                _("%(where)s: the edge needs both a source and a target.") % {"where": where}
            )
        if source in ego_ids or target in ego_ids:
            continue  # the client's own links to each person are the map itself
        values = keys.data_of(edge, "edge", where)
        edge_type = values.pop("networkCanvasType", "").strip() or "edge"
        values.pop("networkCanvasUUID", None)
        network.edges.append(
            ParsedEdge(source=source, target=target, edge_type=edge_type, where=where, attrs=values)
        )


def parse(content: bytes, filename: str) -> ParsedNetwork:
    root = _root(content, filename)
    keys = _Keys.read(root, filename)
    graphs = _children(root, "graph")
    if not graphs:
        raise ImportFileError(_("%(file)s has no <graph> element.") % {"file": filename})
    network = ParsedNetwork(source_format="graphml", attribute_order=keys.order)
    ego_ids = _read_nodes(graphs[0], keys, filename, network)
    _read_edges(graphs[0], keys, filename, network, ego_ids)
    network.check()
    return network


def _text(value: object) -> str:
    return _NOT_XML.sub("", csv_text(value))


def write(document: ExportDocument) -> bytes:
    StdET.register_namespace("", NAMESPACE)
    root = StdET.Element(f"{{{NAMESPACE}}}graphml")

    def key(key_id: str, domain: str, name: str, type_name: str) -> None:
        StdET.SubElement(
            root,
            f"{{{NAMESPACE}}}key",
            {"id": key_id, "for": domain, "attr.name": name, "attr.type": type_name},
        )

    for name in GRAPH_KEYS:
        key(f"g_{name}", "graph", name, "string")
    node_keys = ["label", "networkCanvasType", "networkCanvasUUID", *document.node_variables]
    for name in node_keys:
        key(f"n_{name}", "node", name, document.node_variable_types.get(name, "string"))
    edge_keys = ["networkCanvasType", "networkCanvasUUID", *document.edge_variables]
    for name in edge_keys:
        key(f"e_{name}", "edge", name, document.edge_variable_types.get(name, "string"))

    graph = StdET.SubElement(root, f"{{{NAMESPACE}}}graph", {"edgedefault": "undirected"})

    def data(parent: Element, key_id: str, value: object) -> None:
        if value is None:
            return
        element = StdET.SubElement(parent, f"{{{NAMESPACE}}}data", {"key": key_id})
        element.text = _text(value)

    for name in GRAPH_KEYS:
        data(graph, f"g_{name}", document.ego.get(name))
    for row in document.nodes:
        node = StdET.SubElement(
            graph, f"{{{NAMESPACE}}}node", {"id": str(row["networkCanvasUUID"])}
        )
        data(node, "n_label", row.get("label"))
        data(node, "n_networkCanvasType", document.node_type)
        for name in node_keys[2:]:
            data(node, f"n_{name}", row.get(name))
    for row in document.edges:
        edge = StdET.SubElement(
            graph,
            f"{{{NAMESPACE}}}edge",
            {
                "id": str(row["networkCanvasUUID"]),
                "source": str(row["networkCanvasSourceUUID"]),
                "target": str(row["networkCanvasTargetUUID"]),
            },
        )
        data(edge, "e_networkCanvasType", document.edge_type)
        for name in edge_keys[1:]:
            data(edge, f"e_{name}", row.get(name))
    StdET.indent(root)
    body: bytes = StdET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
