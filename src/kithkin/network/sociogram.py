"""The sociogram's geometry: a pure function from people and ties to a drawing model.

The client sits at the centre. Three concentric bands hold the inner, middle and outer circles;
the disc is cut into sectors, one per relationship category present on the map (wider for busier
categories). Each person is placed in their band and sector, evenly spread and, when a sector is
crowded, staggered across sub-rows so labels do not sit on top of each other. A layout imported
from Network Canvas (layout_x/layout_y) is kept for export but not drawn: its positions follow
another tool's canvas, and here a person's place must always say how close they are.

Nothing here touches the database; ``network/_sociogram.svg`` draws the model. A 150-person map
has thousands of coordinates, and rendering each through the template engine (localisation,
escaping) cost more than the rest of the page, so the ``svg*`` properties hand the template
numbers ready-formatted and the ties and five-S markers as ready-made elements (numbers and fixed
keys only: nothing in them needs escaping). The output is what the template printed before:
Python's own float format, never a locale's decimal comma, which would break SVG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

SIZE = 1000
CENTRE = SIZE / 2
# Outer radius of each band (inner, middle, outer); the "you" disc sits inside RING_START.
RING_START = 70.0
RING_RADII = (185.0, 320.0, 455.0)
NODE_RADIUS = 17.0
# Roughly the arc length one labelled node needs before a band is split into sub-rows.
NODE_SPACING = 92.0
MIN_SECTOR_WEIGHT = 1.5
MARKER_RADIUS = 4.5
MARKER_DISTANCE = NODE_RADIUS + 8.0
# The five S markers sit on an arc above each node, always in this order (see the legend).
MARKER_ANGLES = (-150.0, -120.0, -90.0, -60.0, -30.0)
NOTE_OFFSET = 17  # the "not safe for me" line sits this far below the name


@dataclass(frozen=True)
class PersonIn:
    """What the drawing needs about one person."""

    key: str
    name: str
    category: str
    category_label: str
    ring: int
    not_safe: bool
    five_s: tuple[bool, bool, bool, bool, bool]
    href: str
    title: str


@dataclass(frozen=True)
class TieIn:
    a: str
    b: str
    strength: int


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    filled: bool
    key: str

    @property
    def svg(self) -> SafeString:
        # Only numbers and a fixed key from FIVE_S: nothing to escape.
        held = " five-s--held" if self.filled else ""
        return mark_safe(  # noqa: S308  # nosec B308 B703 # numbers and fixed keys only
            f'<circle class="five-s five-s--{self.key}{held}" cx="{self.x}" cy="{self.y}" '
            f'r="{MARKER_RADIUS}"/>'
        )


@dataclass(frozen=True)
class Node:
    key: str
    name: str
    label: str
    x: float
    y: float
    label_y: float
    ring: int
    category: str
    not_safe: bool
    href: str
    title: str
    markers: tuple[Marker, ...]

    @property
    def distance(self) -> float:
        return math.hypot(self.x - CENTRE, self.y - CENTRE)

    @property
    def svg_x(self) -> str:
        return str(self.x)

    @property
    def svg_y(self) -> str:
        return str(self.y)

    @property
    def svg_label_y(self) -> str:
        return str(self.label_y)

    @property
    def svg_note_y(self) -> str:
        """Where the "not safe for me" line goes, under the name (whole pixels)."""
        return str(int(self.label_y) + NOTE_OFFSET)

    @property
    def svg_class(self) -> str:
        classes = (
            f"sociogram__node sociogram__node--ring{self.ring} sociogram__node--{self.category}"
        )
        return f"{classes} sociogram__node--not-safe" if self.not_safe else classes

    @property
    def svg_markers(self) -> SafeString:
        return mark_safe("".join(marker.svg for marker in self.markers))  # noqa: S308  # nosec B308 B703

    @property
    def svg(self) -> SafeString:
        """The whole node, built here rather than in the template: a 150-person map would
        otherwise resolve some two thousand template variables for the nodes alone."""
        note = (
            format_html(
                '<text class="sociogram__label sociogram__label--note" x="{}" y="{}" '
                'text-anchor="middle">{}</text>',
                self.svg_x,
                self.svg_note_y,
                _("not safe for me"),
            )
            if self.not_safe
            else ""
        )
        return format_html(
            '<a href="{href}" class="{cls}" data-person="{key}" data-x="{x}" data-y="{y}">'
            "<title>{title}</title>"
            '<circle class="sociogram__dot" cx="{x}" cy="{y}" r="17"/>'
            '<g class="sociogram__markers">{markers}</g>'
            '<text class="sociogram__label" x="{x}" y="{label_y}" text-anchor="middle">{label}'
            "</text>{note}</a>\n",
            href=self.href,
            cls=self.svg_class,
            key=self.key,
            x=self.svg_x,
            y=self.svg_y,
            title=self.title,
            markers=self.svg_markers,
            label_y=self.svg_label_y,
            label=self.label,
            note=note,
        )


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    strength: int
    width: float

    @property
    def svg(self) -> SafeString:
        # Only numbers: nothing to escape.
        return mark_safe(  # noqa: S308  # nosec B308 B703 # numbers only
            f'<line class="sociogram__tie sociogram__tie--{self.strength}" x1="{self.x1}" '
            f'y1="{self.y1}" x2="{self.x2}" y2="{self.y2}" stroke-width="{self.width}"/>'
        )


@dataclass(frozen=True)
class Sector:
    category: str
    label: str
    start: float  # degrees, clockwise from 12 o'clock
    end: float
    line_x: float
    line_y: float
    label_x: float
    label_y: float
    anchor: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Band:
    ring: int
    radius: float
    label_y: float


@dataclass(frozen=True)
class Sociogram:
    size: int
    centre: float
    centre_radius: float
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    sectors: list[Sector] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)


def _point(radius: float, degrees: float) -> tuple[float, float]:
    """Polar to SVG coordinates, 0 degrees at 12 o'clock, clockwise."""
    radians = math.radians(degrees - 90.0)
    return CENTRE + radius * math.cos(radians), CENTRE + radius * math.sin(radians)


def _short(name: str, limit: int = 16) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _wrap(label: str, width: int = 13) -> tuple[str, ...]:
    """Break a sector label into short lines so it fits beside the circle on a narrow screen."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return tuple(lines) or (label,)


def _sectors(people: Sequence[PersonIn], category_order: Sequence[str]) -> list[Sector]:
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    for person in people:
        counts[person.category] = counts.get(person.category, 0) + 1
        labels[person.category] = person.category_label
    present = [c for c in category_order if c in counts] + sorted(
        c for c in counts if c not in category_order
    )
    if not present:
        return []
    weights = [max(float(counts[c]), MIN_SECTOR_WEIGHT) for c in present]
    total = sum(weights)
    sectors: list[Sector] = []
    start = 0.0
    label_radius = RING_RADII[-1] + 22.0
    for category, weight in zip(present, weights, strict=True):
        end = start + 360.0 * weight / total
        middle = (start + end) / 2
        line_x, line_y = _point(RING_RADII[-1], start)
        label_x, label_y = _point(label_radius, middle)
        # Labels on the right read left-to-right from the circle, on the left they end at it.
        sine = math.sin(math.radians(middle))
        anchor = "start" if sine > 0.25 else "end" if sine < -0.25 else "middle"
        cosine = math.cos(math.radians(middle))
        if anchor == "middle":
            label_y += 6 if cosine < 0 else 0
        sectors.append(
            Sector(
                category=category,
                label=labels[category],
                start=start,
                end=end,
                line_x=line_x,
                line_y=line_y,
                label_x=label_x,
                label_y=label_y + 5 - (11 if len(_wrap(labels[category])) > 1 else 0),
                anchor=anchor,
                lines=_wrap(labels[category]),
            )
        )
        start = end
    return sectors


def _ring_slots(count: int, ring: int, start: float, end: float) -> list[tuple[float, float]]:
    """Deterministic (radius, angle) slots for ``count`` people in one band of one sector."""
    inner = RING_START if ring == 1 else RING_RADII[ring - 2]
    outer = RING_RADII[ring - 1]
    margin = NODE_RADIUS + 14.0
    usable_inner, usable_outer = inner + margin, outer - margin
    middle_radius = (usable_inner + usable_outer) / 2
    span = max(end - start, 1.0)
    arc = math.radians(span) * middle_radius
    per_row = max(1, int(arc // NODE_SPACING))
    rows = max(1, min(math.ceil(count / per_row), 4))
    slots: list[tuple[float, float]] = []
    per_row = math.ceil(count / rows)
    for index in range(count):
        row, column = divmod(index, per_row)
        in_this_row = min(per_row, count - row * per_row)
        radius = (
            middle_radius
            if rows == 1
            else usable_inner + (usable_outer - usable_inner) * row / (rows - 1)
        )
        # Stagger alternate rows by half a step so neighbours' labels do not line up.
        offset = 0.5 if row % 2 == 0 else 0.75 if in_this_row > 1 else 0.5
        angle = start + span * (column + offset) / max(in_this_row, 1)
        slots.append((radius, min(angle, end - 0.5)))
    return slots


def _markers(x: float, y: float, held: tuple[bool, ...], keys: Sequence[str]) -> tuple[Marker, ...]:
    markers = []
    for angle, filled, key in zip(MARKER_ANGLES, held, keys, strict=True):
        radians = math.radians(angle)
        markers.append(
            Marker(
                x=round(x + MARKER_DISTANCE * math.cos(radians), 1),
                y=round(y + MARKER_DISTANCE * math.sin(radians), 1),
                filled=filled,
                key=key,
            )
        )
    return tuple(markers)


def build(
    people: Sequence[PersonIn],
    ties: Sequence[TieIn],
    *,
    category_order: Sequence[str] = (),
    five_s_keys: Sequence[str] = ("seen", "safe", "soothed", "secure", "stable"),
) -> Sociogram:
    """Place everyone and draw their ties. Same input, same picture."""
    ordered = sorted(people, key=lambda p: (p.name.casefold(), p.key))
    sectors = _sectors(ordered, category_order)
    by_sector = {sector.category: sector for sector in sectors}
    positions: dict[str, tuple[float, float]] = {}
    # Group by (category, ring) so each group gets an even spread within its slice.
    groups: dict[tuple[str, int], list[PersonIn]] = {}
    for person in ordered:
        ring = person.ring if person.ring in (1, 2, 3) else 2
        groups.setdefault((person.category, ring), []).append(person)
    for (category, ring), members in groups.items():
        sector = by_sector[category]
        for person, (radius, angle) in zip(
            members, _ring_slots(len(members), ring, sector.start, sector.end), strict=True
        ):
            positions[person.key] = _point(radius, angle)
    nodes: list[Node] = []
    # Document (and so tab) order: inner circle first, then around the clock.
    for person in sorted(
        ordered,
        key=lambda p: (p.ring, by_sector[p.category].start, p.name.casefold(), p.key),
    ):
        x, y = positions[person.key]
        nodes.append(
            Node(
                key=person.key,
                name=person.name,
                label=_short(person.name),
                x=round(x, 1),
                y=round(y, 1),
                label_y=round(y + NODE_RADIUS + 16, 1),
                ring=person.ring,
                category=person.category,
                not_safe=person.not_safe,
                href=person.href,
                title=person.title,
                markers=_markers(x, y, person.five_s, five_s_keys),
            )
        )
    edges: list[Edge] = []
    for tie in ties:
        if tie.a not in positions or tie.b not in positions:
            continue
        (x1, y1), (x2, y2) = positions[tie.a], positions[tie.b]
        edges.append(
            Edge(
                x1=round(x1, 1),
                y1=round(y1, 1),
                x2=round(x2, 1),
                y2=round(y2, 1),
                strength=tie.strength,
                width=4.0 if tie.strength >= 2 else 1.75,
            )
        )
    bands = [
        Band(ring=index + 1, radius=radius, label_y=CENTRE - radius + 16)
        for index, radius in enumerate(RING_RADII)
    ]
    return Sociogram(
        size=SIZE,
        centre=CENTRE,
        centre_radius=RING_START - 18,
        nodes=nodes,
        edges=edges,
        sectors=sectors,
        bands=bands,
    )
