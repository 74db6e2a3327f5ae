"""An in-memory description of one client's map, and the networkx graph built from it.

``MapData`` is plain, frozen data: the metrics run on it, so a map can be analysed straight from
the database (``load_map_data``) or from a snapshot's JSON (``MapData.from_dict``) alike.

Two graphs are used, as egor and EgoWeb do:

- the *alters* graph: the client's people and the ties between them, WITHOUT the client. Density,
  components and isolates are read from it, because every person is tied to the client by
  definition and counting those ties would only hide how the people relate to each other;
- the *ego* graph: the same plus the client (``EGO``) tied to every person. Burt's effective size
  and constraint are properties of the client's position, so they need the client in the graph.

Both graphs are unweighted: a tie counts whether the two people "know" or are "close to" each
other, so the measures match the textbook formulas and can be checked by hand. Every person on the
map is in both graphs, including someone marked "not safe for me": they are part of the client's
world, they just never count as a source of support (see ``metrics``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import networkx as nx
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.network.models import FIVE_S, SUPPORT_KINDS, Contact, Group, Person, Tie

# The client's own node. Person ids are UUID strings, so this can never collide with one.
EGO = "ego"

# How far back contacts are loaded: exactly what "contacts in the last 30 days" needs at the
# ``now`` the data is loaded for. Every row loaded costs a datetime parse, and the map page loads
# on every view, so no more than that.
RECENT_CONTACT_WINDOW = timedelta(days=30)

FIVE_S_KEYS: tuple[str, ...] = tuple(key for key, _label in FIVE_S)
SUPPORT_KEYS: tuple[str, ...] = tuple(key for key, _label in SUPPORT_KINDS)


@dataclass(frozen=True)
class PersonData:
    """One person on the map, as the metrics need them."""

    id: str
    name: str
    category: str
    ring: int = 2
    five_s: frozenset[str] = frozenset()  # keys from FIVE_S, e.g. {"safe", "seen"}
    support: frozenset[str] = frozenset()  # keys from SUPPORT_KINDS, e.g. {"practical"}
    strain: int = 0
    not_safe: bool = False
    wished_rhythm_days: int | None = None
    last_contact_at: datetime | None = None
    # Contact times within RECENT_CONTACT_WINDOW of when the data was loaded.
    recent_contacts: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class TieData:
    a: str
    b: str
    strength: int = 1


@dataclass(frozen=True)
class GroupData:
    id: str
    kind: str
    member_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MapData:
    """Everything the metrics read about one client's map. Only people on the map (not removed)."""

    people: tuple[PersonData, ...] = ()
    ties: tuple[TieData, ...] = ()
    groups: tuple[GroupData, ...] = ()
    loaded_at: datetime | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form (datetimes as ISO 8601), e.g. for a snapshot's content."""
        return {
            "people": [
                {
                    "id": p.id,
                    "name": p.name,
                    "category": p.category,
                    "ring": p.ring,
                    "five_s": sorted(p.five_s),
                    "support": sorted(p.support),
                    "strain": p.strain,
                    "not_safe": p.not_safe,
                    "wished_rhythm_days": p.wished_rhythm_days,
                    "last_contact_at": _iso(p.last_contact_at),
                    "recent_contacts": [t.isoformat() for t in p.recent_contacts],
                }
                for p in self.people
            ],
            "ties": [{"a": t.a, "b": t.b, "strength": t.strength} for t in self.ties],
            "groups": [
                {"id": g.id, "kind": g.kind, "member_ids": sorted(g.member_ids)}
                for g in self.groups
            ],
            "loaded_at": _iso(self.loaded_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MapData:
        """The inverse of ``to_dict``; missing optional keys take their defaults."""
        people = tuple(
            PersonData(
                id=str(p["id"]),
                name=str(p.get("name", "")),
                category=str(p.get("category", "other")),
                ring=int(p.get("ring", 2)),
                five_s=frozenset(p.get("five_s", ())),
                support=frozenset(p.get("support", ())),
                strain=int(p.get("strain", 0)),
                not_safe=bool(p.get("not_safe", False)),
                wished_rhythm_days=(
                    int(p["wished_rhythm_days"])
                    if p.get("wished_rhythm_days") is not None
                    else None
                ),
                last_contact_at=_parse(p.get("last_contact_at")),
                recent_contacts=tuple(
                    t for t in (_parse(v) for v in p.get("recent_contacts", ())) if t is not None
                ),
            )
            for p in data.get("people", ())
        )
        ties = tuple(
            TieData(str(t["a"]), str(t["b"]), int(t.get("strength", 1)))
            for t in data.get("ties", ())
        )
        groups = tuple(
            GroupData(str(g["id"]), str(g.get("kind", "other")), frozenset(g.get("member_ids", ())))
            for g in data.get("groups", ())
        )
        return cls(people, ties, groups, _parse(data.get("loaded_at")))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value))


# What the metrics read about a person; callers needing more (the map page) add to it. Notes are
# never loaded here: they are not shown, and each encrypted field costs a decryption per row.
PERSON_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "category",
    "ring",
    "strain",
    "not_safe",
    "wished_rhythm_days",
    *(f"helps_{key}" for key in FIVE_S_KEYS),
    *(f"gives_{key}" for key in SUPPORT_KEYS),
)


def people_on_map(client: Client, *extra_fields: str) -> QuerySet[Person]:
    """The client's people on the map with their last contact (``last_contact_at``), loading
    only ``PERSON_FIELDS`` plus ``extra_fields``, in a fixed order."""
    # The latest contact per person through the (person, -occurred_at) index, rather than
    # Max() over a join of every contact grouped by every column loaded.
    latest = Contact.objects.filter(person=OuterRef("pk")).order_by("-occurred_at")
    return (
        Person.objects.filter(client=client)
        .on_map()
        .only(*PERSON_FIELDS, *extra_fields)
        .annotate(last_contact_at=Subquery(latest.values("occurred_at")[:1]))
        .order_by("ring", "category", "created_at", "id")
    )


def load_map_data(
    client: Client, *, now: datetime | None = None, people: Iterable[Person] | None = None
) -> MapData:
    """Read one client's map in five queries, whatever its size: people (with their last
    contact), ties, groups, group memberships and recent contacts. Every query is filtered by
    this client, so nobody else's people can leak in.

    A caller that has already loaded ``people_on_map(client)`` (the map page) passes them as
    ``people`` so they are read, and their names decrypted, once; then it is four queries."""
    now = now or timezone.now()
    people_rows = people_on_map(client) if people is None else people
    # Keyed by the UUID itself: thousands of contacts, and str() on each would add up.
    recent: dict[UUID, list[datetime]] = defaultdict(list)
    for person_id, occurred_at in Contact.objects.filter(
        client=client,
        person__client=client,
        person__removed_at__isnull=True,
        occurred_at__gte=now - RECENT_CONTACT_WINDOW,
        occurred_at__lte=now,
    ).values_list("person_id", "occurred_at"):
        recent[person_id].append(occurred_at)

    loaded = tuple(
        PersonData(
            id=str(p.pk),
            name=p.name,
            category=p.category,
            ring=p.ring,
            five_s=frozenset(key for key in FIVE_S_KEYS if getattr(p, f"helps_{key}")),
            support=frozenset(key for key in SUPPORT_KEYS if getattr(p, f"gives_{key}")),
            strain=p.strain,
            not_safe=p.not_safe,
            wished_rhythm_days=p.wished_rhythm_days,
            last_contact_at=p.last_contact_at,  # type: ignore[attr-defined]
            recent_contacts=tuple(sorted(recent.get(p.pk, ()))),
        )
        for p in people_rows
    )
    ties = tuple(
        TieData(str(a), str(b), strength)
        for a, b, strength in Tie.objects.filter(
            client=client,
            person_a__client=client,
            person_b__client=client,
            person_a__removed_at__isnull=True,
            person_b__removed_at__isnull=True,
        ).values_list("person_a_id", "person_b_id", "strength")
    )
    members: dict[str, set[str]] = defaultdict(set)
    for group_id, person_id in Group.members.through.objects.filter(
        group__client=client, person__client=client, person__removed_at__isnull=True
    ).values_list("group_id", "person_id"):
        members[str(group_id)].add(str(person_id))
    groups = tuple(
        GroupData(str(gid), kind, frozenset(members.get(str(gid), ())))
        for gid, kind in Group.objects.filter(client=client).values_list("id", "kind")
    )
    return MapData(loaded, ties, groups, now)


def _clean_edges(data: MapData) -> list[tuple[str, str]]:
    """Ties between two different people who are both on the map (snapshots may hold strays)."""
    ids = {p.id for p in data.people}
    return [(t.a, t.b) for t in data.ties if t.a != t.b and t.a in ids and t.b in ids]


def alters_graph(data: MapData) -> nx.Graph:
    """The client's people and their ties, without the client."""
    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from(p.id for p in data.people)
    graph.add_edges_from(_clean_edges(data))
    return graph


def ego_graph(data: MapData) -> nx.Graph:
    """The alters graph plus the client, tied to every person on the map."""
    graph = alters_graph(data)
    graph.add_node(EGO)
    graph.add_edges_from((EGO, p.id) for p in data.people)
    return graph


def burt_constraint(graph: nx.Graph, node: str) -> float | None:
    """Burt's constraint of ``node`` in an unweighted, undirected graph:

        c(i) = sum over neighbours j of (p_ij + sum over q of p_iq * p_qj) ** 2

    where p_ij = 1 / degree(i) when i and j are tied, else 0; q runs over neighbours of i that are
    also neighbours of j. This is exactly ``networkx.constraint(graph, [node])`` (the tests check
    that), but networkx recomputes each normalisation inside the double sum and takes seconds for
    150 people; here each degree is looked up once, so it is linear in the number of ties.
    Returns None for a node with no neighbours, where constraint is undefined.
    """
    neighbours = set(graph[node]) - {node}
    if not neighbours:
        return None
    p_i = 1.0 / len(neighbours)
    total = 0.0
    for j in neighbours:
        indirect = sum(p_i / _degree(graph, q) for q in neighbours & set(graph[j]) if q != j)
        total += (p_i + indirect) ** 2
    return total


def _degree(graph: nx.Graph, node: str) -> int:
    return len(set(graph[node]) - {node})


def edges(pairs: Iterable[tuple[str, str]]) -> tuple[TieData, ...]:
    """Shorthand for building ties in tests and snapshot code."""
    return tuple(TieData(a, b) for a, b in pairs)
