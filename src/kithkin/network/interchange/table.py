"""The map laid out as Network Canvas lays out an interview, ready for either writer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Value = str | int | float | bool | None


def csv_text(value: object) -> str:
    """Network Canvas writes booleans as true/false and leaves missing values empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if not math.isnan(value) else ""
    return str(value)


@dataclass
class ExportDocument:
    case_id: str
    session_id: str
    ego_uuid: str
    protocol_name: str
    ego: dict[str, object]
    node_type: str = "Person"
    edge_type: str = "knows"
    # Variable columns after the leading Network Canvas columns, in order, with GraphML types.
    node_variables: list[str] = field(default_factory=list)
    node_variable_types: dict[str, str] = field(default_factory=dict)
    edge_variables: list[str] = field(default_factory=list)
    edge_variable_types: dict[str, str] = field(default_factory=dict)
    # Each row holds the leading columns and the variables, plus "label" for GraphML.
    nodes: list[dict[str, object]] = field(default_factory=list)
    edges: list[dict[str, object]] = field(default_factory=list)
