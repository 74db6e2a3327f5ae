"""Snapshots of a client's map, and what changed between two of them.

A snapshot is the whole map (people with every field, ties, groups and their members) as one
JSON document, kept encrypted in :attr:`Snapshot.content` because it holds names and notes. It is
taken whenever the map is reviewed, on demand, and before an import replaces anything.

:func:`diff` works on the parsed documents only, so it is pure and can compare any two
snapshots, including ones written by an older schema version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from kithkin.accounts.models import Client, User
from kithkin.audit import services as audit
from kithkin.network.models import FIVE_S, SUPPORT_KINDS, Group, Person, Snapshot, Tie

# Bump when the document's shape changes; diff() reads every version it knows.
SCHEMA_VERSION = 1

Content = dict[str, Any]

# Every person field kept in a snapshot, besides id, name and the five S's / support kinds.
_PERSON_FIELDS = (
    "category",
    "ring",
    "strain",
    "not_safe",
    "wished_rhythm_days",
    "preferred_channel",
    "notes",
    "layout_x",
    "layout_y",
    "external_uuid",
)


def person_entry(person: Person) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": str(person.pk), "name": person.name}
    entry.update({name: getattr(person, name) for name in _PERSON_FIELDS})
    entry["helps"] = person.five_s()
    entry["gives"] = person.support_kinds()
    return entry


def serialise(
    people: Iterable[Person],
    ties: Iterable[Tie],
    groups: Iterable[tuple[Group, Iterable[Any]]],
    *,
    taken_at: datetime,
) -> Content:
    """The snapshot document for objects already in memory (the demo builds it this way).

    ``groups`` pairs each group with its members' ids; ties and members pointing at people not
    in ``people`` (removed from the map) are left out, so the document is self-consistent."""
    entries = [person_entry(person) for person in people]
    on_map = {entry["id"] for entry in entries}
    tie_entries = [
        {"a": str(t.person_a_id), "b": str(t.person_b_id), "strength": t.strength}
        for t in ties
        if str(t.person_a_id) in on_map and str(t.person_b_id) in on_map
    ]
    group_entries = [
        {
            "id": str(group.pk),
            "name": group.name,
            "kind": group.kind,
            "members": sorted(str(m) for m in member_ids if str(m) in on_map),
        }
        for group, member_ids in groups
    ]
    return {
        "schema": SCHEMA_VERSION,
        "taken_at": taken_at.isoformat(),
        "people": sorted(entries, key=lambda e: (e["ring"], e["name"].casefold(), e["id"])),
        "ties": sorted(tie_entries, key=lambda t: (t["a"], t["b"])),
        "groups": sorted(group_entries, key=lambda g: (g["name"].casefold(), g["id"])),
    }


def current_content(client: Client, *, taken_at: datetime) -> Content:
    """The client's map now, read in four queries whatever its size."""
    people = list(Person.objects.on_map().filter(client=client).order_by("pk"))
    ties = list(Tie.objects.filter(client=client).order_by("pk"))
    groups = list(Group.objects.filter(client=client).order_by("pk"))
    members: dict[Any, list[Any]] = {group.pk: [] for group in groups}
    links = Group.members.through.objects.filter(group__client=client)
    for group_id, person_id in links.values_list("group_id", "person_id"):
        members.setdefault(group_id, []).append(person_id)
    return serialise(
        people, ties, [(group, members[group.pk]) for group in groups], taken_at=taken_at
    )


def take_snapshot(client: Client, user: User | None, *, reason: str, label: str = "") -> Snapshot:
    """Keep the client's whole map as it is now, and audit it (ids and counts only)."""
    now = timezone.now()
    with transaction.atomic():
        content = current_content(client, taken_at=now)
        snapshot = Snapshot.objects.create(
            client=client,
            taken_at=now,
            taken_by=user,
            reason=reason,
            label=label.strip()[:120],
            content=json.dumps(content, separators=(",", ":")),
            person_count=len(content["people"]),
        )
        audit.record(
            None,
            actor=user,
            action="network.snapshot.create",
            object_type="snapshot",
            object_id=snapshot.pk,
            client=client,
            detail={"reason": reason, "people": snapshot.person_count},
        )
    return snapshot


def parse(snapshot: Snapshot) -> Content:
    content: Content = json.loads(snapshot.content)
    return content


# --- diff ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRef:
    id: str
    name: str
    category: str
    ring: int


@dataclass(frozen=True)
class Move:
    person: PersonRef
    from_ring: int
    to_ring: int


@dataclass(frozen=True)
class FiveSChange:
    person: PersonRef
    gained: tuple[str, ...]
    lost: tuple[str, ...]


@dataclass(frozen=True)
class SnapshotDiff:
    added: list[PersonRef] = field(default_factory=list)
    removed: list[PersonRef] = field(default_factory=list)
    closer: list[Move] = field(default_factory=list)
    further: list[Move] = field(default_factory=list)
    five_s: list[FiveSChange] = field(default_factory=list)
    newly_not_safe: list[PersonRef] = field(default_factory=list)
    no_longer_not_safe: list[PersonRef] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(
            (
                self.added,
                self.removed,
                self.closer,
                self.further,
                self.five_s,
                self.newly_not_safe,
                self.no_longer_not_safe,
            )
        )


def _ref(entry: Mapping[str, Any]) -> PersonRef:
    return PersonRef(
        id=str(entry["id"]),
        name=str(entry.get("name", "")),
        category=str(entry.get("category", "")),
        ring=int(entry.get("ring", 2)),
    )


def _people(content: Snapshot | Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    document = parse(content) if isinstance(content, Snapshot) else content
    return {str(entry["id"]): entry for entry in document.get("people", [])}


def _sorted(refs: Iterable[PersonRef]) -> list[PersonRef]:
    return sorted(refs, key=lambda r: (r.ring, r.name.casefold(), r.id))


def diff(older: Snapshot | Mapping[str, Any], newer: Snapshot | Mapping[str, Any]) -> SnapshotDiff:
    """What changed from ``older`` to ``newer``, matching people by id.

    Closer means a smaller ring number (outer 3 → inner 1)."""
    before, after = _people(older), _people(newer)
    order = [key for key, _label in FIVE_S]
    closer: list[Move] = []
    further: list[Move] = []
    five_s: list[FiveSChange] = []
    newly_not_safe: list[PersonRef] = []
    no_longer_not_safe: list[PersonRef] = []
    for person_id in before.keys() & after.keys():
        old, new = before[person_id], after[person_id]
        ref = _ref(new)
        old_ring, new_ring = int(old.get("ring", 2)), int(new.get("ring", 2))
        if new_ring < old_ring:
            closer.append(Move(ref, old_ring, new_ring))
        elif new_ring > old_ring:
            further.append(Move(ref, old_ring, new_ring))
        old_s, new_s = set(old.get("helps", [])), set(new.get("helps", []))
        if old_s != new_s:
            five_s.append(
                FiveSChange(
                    ref,
                    gained=tuple(key for key in order if key in new_s - old_s),
                    lost=tuple(key for key in order if key in old_s - new_s),
                )
            )
        if new.get("not_safe") and not old.get("not_safe"):
            newly_not_safe.append(ref)
        elif old.get("not_safe") and not new.get("not_safe"):
            no_longer_not_safe.append(ref)

    def by_person(move: Move) -> tuple[int, str, str]:
        return (move.to_ring, move.person.name.casefold(), move.person.id)

    return SnapshotDiff(
        added=_sorted(_ref(after[key]) for key in after.keys() - before.keys()),
        removed=_sorted(_ref(before[key]) for key in before.keys() - after.keys()),
        closer=sorted(closer, key=by_person),
        further=sorted(further, key=by_person),
        five_s=sorted(five_s, key=lambda c: (c.person.name.casefold(), c.person.id)),
        newly_not_safe=_sorted(newly_not_safe),
        no_longer_not_safe=_sorted(no_longer_not_safe),
    )


# Re-exported for templates and the demo, which label support kinds in snapshots.
SUPPORT_KIND_LABELS = dict(SUPPORT_KINDS)
FIVE_S_LABELS = dict(FIVE_S)
