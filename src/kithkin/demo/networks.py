"""Support network maps for the demo: five hand-written archetypes and small random maps.

The archetypes are the stories a tester looks for (README.md, "Demo data"):

- Maya Ellis, the main demo client: a rich map; her brother Sam Ellis is on it.
- Dmitri Petrov: isolated, with one lifeline (one inner-circle person who helps him feel safe).
- Joanna Mensah: a large family, much of it under strain.
- Lars Jensen: a remote worker whose people are all from work, and who has gone quiet: most of
  his team stopped hearing from him 4 to 8 weeks ago (Ioana Popescu, every week for months, among
  them), so his contact in the last 4 weeks is under half his usual and the care team sees the
  withdrawal signal.
- Rosa Castillo: rebuilding after leaving an unsafe relationship; her ex-partner is marked
  "not safe for me".

Each has a contact history over the last twelve weeks (steady rhythms, and some people drifting),
ties, groups, and two review snapshots ten weeks apart, so the diff page shows change. Other
clients get small random maps; at large scale only some of them, so `seed_demo --clients 10000`
stays quick (every name, note and group name is encrypted, ~20 µs each).

Everything comes from one random source seeded by the build, so the same seed gives the same
maps, ids included.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kithkin.accounts.models import CareTeamMember, Client, User
from kithkin.demo import names
from kithkin.network.models import (
    FIVE_S,
    SUPPORT_KINDS,
    Category,
    Channel,
    Contact,
    Group,
    GroupKind,
    Person,
    Snapshot,
    Tie,
)
from kithkin.network.snapshots import serialise

if TYPE_CHECKING:
    from kithkin.demo.generator import DemoBuild

BATCH_SIZE = 1000
HISTORY_DAYS = 84  # twelve weeks of contacts
# A withdrawing archetype's log goes back further: the withdrawal signal compares the last 4 weeks
# with the 12 weeks before them.
WITHDRAWING_HISTORY_DAYS = 126
# Every client up to this many gets a random map; beyond it, one in RANDOM_MAP_SHARE.
ALL_MAPS_UP_TO = 500
RANDOM_MAP_SHARE = 10
# Beyond ALL_MAPS_UP_TO, people carry only their most recent few contacts (speed at scale).
FEW_CONTACTS = 3
FIVE_S_KEYS = [key for key, _label in FIVE_S]
SUPPORT_KEYS = [key for key, _label in SUPPORT_KINDS]


@dataclass(frozen=True)
class P:
    """One person on an archetype's map. ``before`` overrides fields in the older snapshot
    (``{"absent": True}`` means they were not on the map yet); ``removed`` people were on the
    older snapshot only and are kept on the map as removed."""

    name: str
    category: str
    ring: int
    helps: str = ""
    gives: str = ""
    strain: int = 0
    not_safe: bool = False
    rhythm: int | None = None
    channel: str = Channel.MESSAGE
    cluster: str = ""
    drifting: bool = False
    notes: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    removed: bool = False


@dataclass(frozen=True)
class Archetype:
    name: str
    people: tuple[P, ...]
    groups: tuple[tuple[str, str, str], ...]  # (name, kind, cluster)
    extra_ties: tuple[tuple[str, str], ...] = ()
    review_label: str = ""
    withdrawing: bool = False


F, C = Category, Channel

MAYA = Archetype(
    "Maya Ellis",
    (
        P(
            "Sam Ellis",
            F.FAMILY,
            1,
            "seen safe soothed",
            "emotional companionship crisis",
            rhythm=7,
            channel=C.PHONE,
            cluster="family",
            before={"ring": 2},
            notes="My brother. Sunday phone calls.",
        ),
        P(
            "Joan Ellis",
            F.FAMILY,
            2,
            "secure",
            "practical",
            strain=1,
            rhythm=14,
            channel=C.PHONE,
            cluster="family",
            notes="Mum.",
        ),
        P(
            "Tom Ellis",
            F.FAMILY,
            3,
            "",
            "",
            strain=3,
            rhythm=None,
            channel=C.MESSAGE,
            cluster="family",
            drifting=True,
            before={"ring": 2, "helps": ["stable"]},
            notes="Dad. We keep things short.",
        ),
        P(
            "Nadia Farah",
            F.FRIEND,
            1,
            "seen soothed safe",
            "emotional companionship",
            rhythm=5,
            channel=C.IN_PERSON,
            cluster="friends",
            before={"helps": ["seen", "soothed"]},
            notes="Friend since school.",
        ),
        P(
            "Kai Tanaka",
            F.FRIEND,
            2,
            "soothed",
            "companionship",
            rhythm=10,
            channel=C.IN_PERSON,
            cluster="climbing",
        ),
        P(
            "Ines Costa",
            F.FRIEND,
            2,
            "seen",
            "emotional informational",
            rhythm=21,
            channel=C.VIDEO,
            cluster="friends",
            drifting=True,
        ),
        P(
            "Owen Reid",
            F.WORK,
            2,
            "stable",
            "practical informational",
            rhythm=7,
            channel=C.IN_PERSON,
            cluster="work",
        ),
        P(
            "Fiona Walker",
            F.WORK,
            3,
            "",
            "informational",
            strain=2,
            channel=C.EMAIL,
            cluster="work",
        ),
        P(
            "Grace Obi",
            F.COMMUNITY,
            2,
            "secure",
            "practical",
            rhythm=14,
            channel=C.IN_PERSON,
            notes="Neighbour downstairs; has a spare key.",
        ),
        P(
            "Rhys Evans",
            F.FRIEND,
            3,
            "",
            "companionship",
            rhythm=14,
            channel=C.IN_PERSON,
            cluster="climbing",
        ),
        P(
            "Mei Chen",
            F.FRIEND,
            2,
            "seen",
            "companionship",
            rhythm=10,
            channel=C.IN_PERSON,
            cluster="climbing",
        ),
        P(
            "Hana Sato",
            F.PEER_SUPPORT,
            2,
            "seen safe",
            "emotional informational",
            rhythm=7,
            channel=C.IN_PERSON,
            cluster="peers",
            before={"absent": True},
        ),
        P(
            "Tendai Banda",
            F.PEER_SUPPORT,
            3,
            "seen",
            "informational",
            rhythm=7,
            channel=C.IN_PERSON,
            cluster="peers",
            before={"absent": True},
        ),
        P(
            "Dr Anjali Iyer",
            F.PROFESSIONAL,
            3,
            "secure",
            "informational",
            rhythm=60,
            channel=C.IN_PERSON,
            notes="GP.",
        ),
        P(
            "Chris Taylor",
            F.WORK,
            3,
            "",
            "companionship",
            channel=C.MESSAGE,
            cluster="work",
            removed=True,
        ),
    ),
    (
        ("Tuesday climbing club", GroupKind.CLUB, "climbing"),
        ("Harbourside peer group", GroupKind.SUPPORT, "peers"),
        ("Library team", GroupKind.TEAM, "work"),
    ),
    extra_ties=(("Sam Ellis", "Nadia Farah"), ("Kai Tanaka", "Nadia Farah")),
    review_label="Three-month review",
)

DMITRI = Archetype(
    "Dmitri Petrov",
    (
        P(
            "Elif Yilmaz",
            F.FRIEND,
            1,
            "safe seen soothed secure",
            "emotional crisis",
            rhythm=7,
            channel=C.PHONE,
            notes="Old friend from the shipyard. My lifeline.",
            before={"helps": ["safe", "seen"]},
        ),
        P(
            "Alexei Petrov",
            F.FAMILY,
            3,
            "",
            "",
            strain=2,
            rhythm=None,
            channel=C.LETTER,
            drifting=True,
            notes="Cousin abroad.",
            before={"ring": 2},
        ),
        P(
            "Mr Okonkwo",
            F.COMMUNITY,
            3,
            "",
            "practical",
            rhythm=30,
            channel=C.IN_PERSON,
            notes="Neighbour.",
        ),
        P(
            "Dr Hughes",
            F.PROFESSIONAL,
            3,
            "",
            "informational",
            rhythm=60,
            channel=C.IN_PERSON,
            before={"absent": True},
        ),
    ),
    (),
    review_label="First review",
)

_MENSAH = [
    ("Kwame Mensah", 1, "secure", 2, 7), ("Esi Mensah", 1, "seen soothed", 1, 3),
    ("Kofi Mensah", 2, "", 3, 14), ("Ama Mensah", 2, "stable", 2, 14),
    ("Yaw Mensah", 2, "", 2, 30), ("Abena Mensah", 2, "seen", 1, 14),
    ("Akosua Owusu", 2, "", 3, 30), ("Kojo Owusu", 3, "", 2, None),
    ("Adwoa Mensah", 3, "", 2, 30), ("Kwabena Asante", 3, "", 3, None),
    ("Efua Asante", 3, "", 1, 30), ("Nana Mensah", 1, "safe", 0, 7),
    ("Afia Osei", 3, "", 2, None), ("Kweku Osei", 3, "", 0, 60),
]  # fmt: skip

JOANNA = Archetype(
    "Joanna Mensah",
    (
        *(
            P(
                name,
                F.FAMILY,
                ring,
                helps,
                "practical" if strain < 2 else "",
                strain=strain,
                rhythm=rhythm,
                channel=C.PHONE if ring == 1 else C.MESSAGE,
                cluster="family",
                drifting=strain == 3,
                before={"ring": max(1, ring - 1)} if strain == 3 else {},
            )
            for name, ring, helps, strain, rhythm in _MENSAH
        ),
        P(
            "Sunita Shah",
            F.FRIEND,
            2,
            "seen soothed",
            "emotional",
            rhythm=14,
            channel=C.IN_PERSON,
            before={"absent": True},
        ),
        P(
            "Pastor Adeyemi",
            F.FAITH,
            3,
            "stable",
            "emotional",
            rhythm=7,
            channel=C.IN_PERSON,
            cluster="church",
        ),
    ),
    (
        ("Mensah family chat", GroupKind.ONLINE, "family"),
        ("St Luke's congregation", GroupKind.CONGREGATION, "church"),
    ),
    extra_ties=(("Pastor Adeyemi", "Nana Mensah"),),
    review_label="Family map review",
)

LARS = Archetype(
    "Lars Jensen",
    (
        P(
            "Wei Zhang",
            F.WORK,
            1,
            "seen stable",
            "informational companionship",
            rhythm=2,
            channel=C.VIDEO,
            cluster="team",
            drifting=True,
        ),
        P(
            "Carmen Morales",
            F.WORK,
            2,
            "stable",
            "informational",
            rhythm=3,
            channel=C.VIDEO,
            cluster="team",
            drifting=True,
        ),
        P(
            "Jomo Mwangi",
            F.WORK,
            2,
            "seen",
            "companionship",
            rhythm=5,
            channel=C.MESSAGE,
            cluster="team",
            drifting=True,
        ),
        P(
            "Ioana Popescu",
            F.WORK,
            3,
            "",
            "informational",
            rhythm=7,
            channel=C.MESSAGE,
            cluster="team",
            drifting=True,
        ),
        P(
            "Tuan Nguyen",
            F.WORK,
            3,
            "",
            "informational",
            strain=1,
            rhythm=14,
            channel=C.EMAIL,
            cluster="team",
            drifting=True,
            before={"ring": 2},
        ),
        P(
            "Sofia Rossi",
            F.WORK,
            2,
            "soothed",
            "emotional",
            rhythm=7,
            channel=C.VIDEO,
            cluster="guild",
            before={"absent": True},
            drifting=True,
        ),
        P(
            "Bartek Nowak",
            F.WORK,
            3,
            "",
            "companionship",
            rhythm=14,
            channel=C.MESSAGE,
            cluster="guild",
        ),
        P(
            "Hiroshi Sato",
            F.WORK,
            3,
            "",
            "informational",
            rhythm=30,
            channel=C.EMAIL,
            drifting=True,
            notes="Former manager.",
        ),
    ),
    (
        ("Platform team", GroupKind.TEAM, "team"),
        ("Remote designers' forum", GroupKind.ONLINE, "guild"),
    ),
    review_label="Quarterly review",
    withdrawing=True,
)

ROSA = Archetype(
    "Rosa Castillo",
    (
        P(
            "Marek",
            F.PARTNER,
            3,
            "",
            "",
            strain=3,
            not_safe=True,
            channel=C.OTHER,
            notes="Ex-partner. No contact.",
            before={"ring": 1, "helps": ["secure"]},
        ),
        P(
            "Lucia Castillo",
            F.FAMILY,
            1,
            "safe seen soothed",
            "emotional practical crisis",
            rhythm=3,
            channel=C.PHONE,
            cluster="family",
            before={"ring": 2},
        ),
        P(
            "Beatriz Castillo",
            F.FAMILY,
            2,
            "secure",
            "practical",
            rhythm=14,
            channel=C.PHONE,
            cluster="family",
            before={"ring": 3},
        ),
        P(
            "Zanele Dlamini",
            F.PROFESSIONAL,
            2,
            "safe secure",
            "informational crisis",
            rhythm=14,
            channel=C.PHONE,
            notes="Domestic abuse support worker.",
        ),
        P(
            "Aisha Rahman",
            F.PEER_SUPPORT,
            2,
            "seen",
            "emotional",
            rhythm=7,
            channel=C.IN_PERSON,
            cluster="group",
            before={"absent": True},
        ),
        P(
            "Noor Ali",
            F.PEER_SUPPORT,
            3,
            "",
            "companionship",
            rhythm=7,
            channel=C.IN_PERSON,
            cluster="group",
            before={"absent": True},
        ),
        P(
            "Yara Haddad",
            F.FRIEND,
            2,
            "soothed",
            "companionship",
            rhythm=10,
            channel=C.IN_PERSON,
            before={"absent": True},
            notes="New friend from pottery.",
        ),
        P(
            "Jana Novak",
            F.FRIEND,
            3,
            "",
            "",
            strain=2,
            channel=C.MESSAGE,
            removed=True,
            notes="Marek's friend.",
        ),
    ),
    (("Freedom programme group", GroupKind.SUPPORT, "group"),),
    review_label="Safety plan review",
)

ARCHETYPES = (MAYA, DMITRI, JOANNA, LARS, ROSA)


# --- building rows -------------------------------------------------------------------------


@dataclass
class MapRows:
    people: list[Person] = field(default_factory=list)
    ties: list[Tie] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    links: list[tuple[Group, Person]] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)

    def save(self) -> None:
        Person.objects.bulk_create(self.people, batch_size=BATCH_SIZE)
        Tie.objects.bulk_create(self.ties, batch_size=BATCH_SIZE)
        Group.objects.bulk_create(self.groups, batch_size=BATCH_SIZE)
        through = Group.members.through
        through.objects.bulk_create(
            [through(group_id=g.pk, person_id=p.pk) for g, p in self.links],
            batch_size=BATCH_SIZE,
        )
        Contact.objects.bulk_create(self.contacts, batch_size=BATCH_SIZE)
        Snapshot.objects.bulk_create(self.snapshots, batch_size=BATCH_SIZE)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _tie(client: Client, a: Person, b: Person, strength: int) -> Tie:
    first, second = sorted((a, b), key=lambda p: str(p.pk))
    return Tie(
        client=client, person_a=first, person_b=second, strength=strength, created_at=a.created_at
    )


def _person(
    rng: random.Random, client: Client, now: datetime, *, name: str, category: str, ring: int,
    helps: Iterable[str], gives: Iterable[str], strain: int, not_safe: bool,
    rhythm: int | None, channel: str, notes: str = "", user: User | None = None,
) -> Person:  # fmt: skip
    created = now - timedelta(days=rng.randint(90, 200))
    person = Person(
        id=_uuid(rng), client=client, name=name, category=category, ring=ring, strain=strain,
        not_safe=not_safe, wished_rhythm_days=rhythm, preferred_channel=channel, notes=notes,
        created_at=created, updated_at=created, created_by=user, updated_by=user,
    )  # fmt: skip
    for key in helps:
        setattr(person, f"helps_{key}", True)
    for key in gives:
        setattr(person, f"gives_{key}", True)
    return person


def _contacts(
    rng: random.Random, person: Person, now: datetime, *, drifting: bool, user: User | None,
    limit: int = 40, history_days: int = HISTORY_DAYS,
) -> list[Contact]:  # fmt: skip
    """A realistic rhythm: roughly every ``wished_rhythm_days`` (a bit early or late), or a few
    scattered contacts for people without one; drifting people stop 4 to 8 weeks ago."""
    if person.not_safe:
        return []
    rhythm = person.wished_rhythm_days
    step = float(rhythm) if rhythm else rng.uniform(20, 45)
    stop = rng.randint(28, 56) if drifting else 0
    felt = [key for key in FIVE_S_KEYS if getattr(person, f"helps_{key}")]
    rows: list[Contact] = []
    # Walk back from now, so a limit keeps the most recent contacts.
    day = stop + rng.uniform(0, min(step, 14))
    while day < history_days - 0.5 and len(rows) < limit:
        when = now - timedelta(days=day, minutes=rng.randint(0, 600))
        channel = person.preferred_channel if rng.random() < 0.75 else Channel.MESSAGE
        contact = Contact(
            id=_uuid(rng), client=person.client, person=person, occurred_at=when,
            channel=channel or Channel.MESSAGE, logged_by=user, logged_at=when,
        )  # fmt: skip
        for key in felt:
            if rng.random() < 0.6:
                setattr(contact, f"felt_{key}", True)
        rows.append(contact)
        day += step * rng.uniform(0.6, 1.5)
    return rows


def _snapshot(
    rng: random.Random, client: Client, content: dict[str, Any], *, taken_at: datetime,
    label: str, user: User | None,
) -> Snapshot:  # fmt: skip
    return Snapshot(
        id=_uuid(rng), client=client, taken_at=taken_at, taken_by=user,
        reason=Snapshot.Reason.REVIEW, label=label,
        content=json.dumps(content, separators=(",", ":")), person_count=len(content["people"]),
    )  # fmt: skip


def _reviews(
    rng: random.Random, client: Client, archetype: Archetype, rows: MapRows, *,
    specs: dict[str, P], now: datetime, user: User | None,
) -> list[Snapshot]:  # fmt: skip
    """Two reviews: the recent one is the map as it is; the older one is rebuilt from each
    person's "before" and shows who was not there yet and who has left since."""
    on_map = [p for p in rows.people if p.removed_at is None]
    group_members = [
        (g, [p.pk for gg, p in rows.links if gg is g and p.removed_at is None]) for g in rows.groups
    ]
    recent = serialise(on_map, rows.ties, group_members, taken_at=now - timedelta(days=3))
    earlier_people = [p for p in rows.people if not specs[p.name].before.get("absent")]
    older = serialise(
        earlier_people,
        rows.ties,
        [(g, [p.pk for gg, p in rows.links if gg is g]) for g in rows.groups],
        taken_at=now - timedelta(days=73),
    )
    for entry in older["people"]:
        before = specs[entry["name"]].before
        for key in ("ring", "helps", "not_safe"):
            if key in before:
                entry[key] = before[key]
        if "not_safe" not in before and specs[entry["name"]].not_safe:
            entry["not_safe"] = False  # flagged since the older review
    return [
        _snapshot(rng, client, older, taken_at=now - timedelta(days=73),
                  label=archetype.review_label, user=user),
        _snapshot(rng, client, recent, taken_at=now - timedelta(days=3), label="", user=user),
    ]  # fmt: skip


def archetype_rows(
    rng: random.Random, client: Client, archetype: Archetype, now: datetime, user: User | None
) -> MapRows:
    rows = MapRows()
    by_name: dict[str, Person] = {}
    specs: dict[str, P] = {}
    for spec in archetype.people:
        person = _person(
            rng, client, now, name=spec.name, category=spec.category, ring=spec.ring,
            helps=spec.helps.split(), gives=spec.gives.split(), strain=spec.strain,
            not_safe=spec.not_safe, rhythm=spec.rhythm, channel=spec.channel, notes=spec.notes,
            user=user,
        )  # fmt: skip
        if spec.before.get("absent"):
            # Added since the older review.
            person.created_at = person.updated_at = now - timedelta(days=rng.randint(20, 60))
        if spec.removed:
            person.removed_at = now - timedelta(days=rng.randint(20, 50))
        by_name[spec.name] = person
        specs[spec.name] = spec
        rows.people.append(person)
        if not spec.removed:
            history = WITHDRAWING_HISTORY_DAYS if archetype.withdrawing else HISTORY_DAYS
            rows.contacts += _contacts(
                rng, person, now, drifting=spec.drifting, user=user, history_days=history
            )

    clusters: dict[str, list[Person]] = {}
    for spec in archetype.people:
        if spec.cluster:
            clusters.setdefault(spec.cluster, []).append(by_name[spec.name])
    for members in clusters.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                strength = Tie.Strength.CLOSE if a.ring + b.ring <= 3 else Tie.Strength.KNOW
                rows.ties.append(_tie(client, a, b, strength))
    for first, second in archetype.extra_ties:
        rows.ties.append(_tie(client, by_name[first], by_name[second], Tie.Strength.KNOW))
    for name, kind, cluster in archetype.groups:
        group = Group(id=_uuid(rng), client=client, name=name, kind=kind, created_at=now)
        rows.groups.append(group)
        rows.links += [(group, person) for person in clusters.get(cluster, [])]

    rows.snapshots += _reviews(rng, client, archetype, rows, specs=specs, now=now, user=user)
    return rows


def random_rows(
    rng: random.Random, client: Client, now: datetime, *, size: int, user: User | None = None,
    tie_chance: float = 0.3, group_count: int | None = None, contact_limit: int = 40,
) -> MapRows:  # fmt: skip
    """A plausible random map of ``size`` people (the benchmark uses it at 150)."""
    rows = MapRows()
    categories = [c for c, _label in Category.choices]
    weights = [2, 6, 6, 3, 2, 1, 2, 1, 1]
    channels = [c for c, _label in Channel.choices]
    for _index in range(size):
        ring = rng.choices([1, 2, 3], weights=[2, 4, 4])[0]
        person = _person(
            rng, client, now,
            name=f"{rng.choice(names.GIVEN_NAMES)} {rng.choice(names.FAMILY_NAMES)}",
            category=rng.choices(categories, weights=weights)[0], ring=ring,
            helps=[k for k in FIVE_S_KEYS if rng.random() < (0.45 if ring == 1 else 0.15)],
            gives=[k for k in SUPPORT_KEYS if rng.random() < 0.3],
            strain=rng.choices([0, 1, 2, 3], weights=[6, 3, 2, 1])[0],
            not_safe=rng.random() < 0.03, rhythm=rng.choice([None, 7, 7, 14, 30]),
            channel=rng.choice(channels), user=user,
        )  # fmt: skip
        rows.people.append(person)
        rows.contacts += _contacts(
            rng, person, now, drifting=rng.random() < 0.2, user=user, limit=contact_limit
        )
    people = rows.people
    for i, a in enumerate(people):
        for b in people[i + 1 :]:
            if rng.random() < tie_chance:
                rows.ties.append(_tie(client, a, b, rng.choice([1, 1, 2])))
    count = group_count if group_count is not None else (1 if rng.random() < 0.4 else 0)
    kinds = [k for k, _label in GroupKind.choices]
    for index in range(count):
        group = Group(
            id=_uuid(rng), client=client, kind=rng.choice(kinds), created_at=now,
            name=rng.choice(GROUP_NAMES) + (f" {index + 1}" if index else ""),
        )  # fmt: skip
        rows.groups.append(group)
        rows.links += [(group, p) for p in rng.sample(people, min(len(people), rng.randint(2, 8)))]
    return rows


GROUP_NAMES = (
    "Walking group", "Choir", "Allotment society", "Five-a-side team", "Book club",
    "Parents' group", "Mosque community", "Parish church", "Online gaming guild",
    "Recovery cafe", "Running club", "Knitting circle",
)  # fmt: skip


# --- the demo step -------------------------------------------------------------------------


def _archetype_indices(build: DemoBuild) -> list[int]:
    """Clients in clinician@'s caseload (the round-robin lead), so one login reaches them all."""
    step = len(build.clinicians)
    chosen = list(range(step, build.client_count, step))[: len(ARCHETYPES) - 1]
    spare = [i for i in range(1, build.client_count) if i not in chosen]
    while len(chosen) < len(ARCHETYPES) - 1 and spare:
        chosen.append(spare.pop(0))
    return [0, *chosen]


def add_network_maps(build: DemoBuild) -> None:
    rng = random.Random(build.rng.getrandbits(64))  # nosec B311 # seeded demo data
    lead = build.clinicians[0]
    indices = _archetype_indices(build)
    rows = MapRows()
    renamed: list[Client] = []
    for index, archetype in zip(indices, ARCHETYPES, strict=False):
        client = build.clients[index]
        if index:
            client.display_name = archetype.name
            client.discharged_at = None
            renamed.append(client)
        part = archetype_rows(rng, client, archetype, build.now, lead)
        for name in ("people", "ties", "groups", "links", "contacts", "snapshots"):
            getattr(rows, name).extend(getattr(part, name))
    if renamed:
        Client.objects.bulk_update(renamed, ["display_name", "discharged_at"])
        users = [c.user for c in renamed if c.user is not None]
        for client in renamed:
            if client.user is not None:
                client.user.display_name = client.display_name
        User.objects.bulk_update(users, ["display_name"])
        # Small demos may put an archetype outside clinician@'s round-robin caseload.
        on_team = set(
            CareTeamMember.objects.filter(client__in=renamed, user=lead).values_list(
                "client_id", flat=True
            )
        )
        CareTeamMember.objects.bulk_create(
            [
                CareTeamMember(client=c, user=lead, is_lead=False, added_at=c.created_at)
                for c in renamed
                if c.pk not in on_team
            ]
        )

    special = set(indices)
    mapped = 0
    for index, client in enumerate(build.clients):
        if index in special:
            continue
        few = index >= ALL_MAPS_UP_TO
        if few and rng.randrange(RANDOM_MAP_SHARE):
            continue
        part = random_rows(
            rng,
            client,
            build.now,
            size=rng.randint(3, 9),
            contact_limit=FEW_CONTACTS if few else 40,
        )
        for name in ("people", "ties", "groups", "links", "contacts"):
            getattr(rows, name).extend(getattr(part, name))
        mapped += 1
    rows.save()
    build.counts["network_maps"] = mapped + len(indices)
    build.counts["network_people"] = len(rows.people)
    build.counts["network_contacts"] = len(rows.contacts)
    build.counts["network_snapshots"] = len(rows.snapshots)
