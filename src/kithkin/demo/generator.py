"""A deterministic generator of a realistic synthetic practice.

The same seed always gives the same people, concerns and care teams, so demos, tests and
benchmarks are repeatable. The build is a list of step functions (:data:`STEPS`); later issues
append their own steps (maps, measures, sessions) that read what earlier steps made from the
shared :class:`DemoBuild`.

It is built for scale: rows go in with ``bulk_create`` in batches, the demo password is hashed
once and the hash reused for every account, and only one audit event ("demo.seed") is written.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from kithkin.accounts.models import (
    CareTeamMember,
    Client,
    Membership,
    NetworkMember,
    Practice,
    Role,
    User,
)
from kithkin.audit import services as audit
from kithkin.connection import sweep as connection_sweep
from kithkin.demo import names
from kithkin.demo.care import add_casework
from kithkin.demo.measures import add_measures, remove_measures
from kithkin.demo.mfa import add_staff_mfa
from kithkin.demo.networks import add_network_maps

PRACTICE_NAME = "Harbourside Trauma Recovery Service"
EMAIL_DOMAIN = "demo.kithkin.test"
DEMO_PASSWORD = "harbourside-demo"  # noqa: S105 (published on purpose: synthetic demo only)  # nosec B105
DEFAULT_SEED = 2024
DEFAULT_CLIENTS = 40
TIME_ZONE = "Europe/London"
BATCH_SIZE = 1000

ADMIN_EMAIL = f"admin@{EMAIL_DOMAIN}"
CLINICIAN_EMAIL = f"clinician@{EMAIL_DOMAIN}"
CLINICIAN2_EMAIL = f"clinician2@{EMAIL_DOMAIN}"
CLIENT_EMAIL = f"client@{EMAIL_DOMAIN}"
MEMBER_EMAIL = f"member@{EMAIL_DOMAIN}"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: str
    can: str


# The fixed logins printed by `kithkin demo` and listed in README.md.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(
        ADMIN_EMAIL, "Priya Raman", "Practice admin",
        "Manages staff and clients; sees no clinical content (not on any care team)",
    ),
    DemoLogin(
        CLINICIAN_EMAIL, "Amara Okafor", "Clinician",
        "Sees her caseload and the clinical record of clients on her care teams",
    ),
    DemoLogin(
        CLINICIAN2_EMAIL, "Daniel Kowalski", "Clinician",
        "A second clinician; shares Maya Ellis's care team",
    ),
    DemoLogin(
        CLIENT_EMAIL, "Maya Ellis", "Client",
        "Maya's own portal: her home page and what she shares",
    ),
    DemoLogin(
        MEMBER_EMAIL, "Sam Ellis", "Network member",
        "Maya's brother: sees only what Maya grants him",
    ),
)  # fmt: skip

_LOGIN = {login.email: login for login in DEMO_LOGINS}


@dataclass
class DemoBuild:
    """What the steps share: the seeded random source and everything built so far."""

    rng: random.Random
    now: datetime
    client_count: int
    password_hash: str
    practice: Practice | None = None
    admin: User | None = None
    clinicians: list[User] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    # Client index → portal user, and the demo client's network member.
    portal_users: dict[int, User] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def require_practice(self) -> Practice:
        assert self.practice is not None, "add_practice must run first"
        return self.practice

    def person_name(self) -> str:
        return f"{self.rng.choice(names.GIVEN_NAMES)} {self.rng.choice(names.FAMILY_NAMES)}"

    def days_ago(self, low: int, high: int) -> datetime:
        return self.now - timedelta(
            days=self.rng.randint(low, high), minutes=self.rng.randint(0, 1439)
        )


DemoStep = Callable[[DemoBuild], None]


def _user(build: DemoBuild, email: str, display_name: str) -> User:
    return User(
        email=email,
        display_name=display_name,
        password=build.password_hash,
        time_zone=TIME_ZONE,
        date_joined=build.now,
    )


def _save_users(users: list[User]) -> list[User]:
    """bulk_create, then read the rows back so every object has its primary key on every
    database (not all backends return ids from a bulk insert)."""
    User.objects.bulk_create(users, batch_size=BATCH_SIZE)
    by_email = {
        user.email: user
        for user in User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").only("id", "email")
    }
    for user in users:
        user.pk = by_email[user.email].pk
    return users


def add_practice(build: DemoBuild) -> None:
    build.practice = Practice.objects.create(
        name=PRACTICE_NAME, time_zone=TIME_ZONE, created_at=build.now - timedelta(days=1000)
    )


def add_staff(build: DemoBuild) -> None:
    """One practice admin (on no care team) and enough clinicians for ~40 clients each."""
    practice = build.require_practice()
    count = max(6, math.ceil(build.client_count / 40))
    admin = _user(build, ADMIN_EMAIL, _LOGIN[ADMIN_EMAIL].name)
    clinicians = [
        _user(build, CLINICIAN_EMAIL, _LOGIN[CLINICIAN_EMAIL].name),
        _user(build, CLINICIAN2_EMAIL, _LOGIN[CLINICIAN2_EMAIL].name),
    ]
    clinicians += [
        _user(build, f"clinician{index}@{EMAIL_DOMAIN}", build.person_name())
        for index in range(3, count + 1)
    ]
    _save_users([admin, *clinicians])
    Membership.objects.bulk_create(
        [Membership(user=admin, practice=practice, role=Role.ADMIN, created_at=build.now)]
        + [
            Membership(user=user, practice=practice, role=Role.CLINICIAN, created_at=build.now)
            for user in clinicians
        ],
        batch_size=BATCH_SIZE,
    )
    build.admin = admin
    build.clinicians = clinicians
    build.counts["clinicians"] = len(clinicians)
    build.counts["admins"] = 1


def add_clients(build: DemoBuild) -> None:
    """Clients aged 18 to 80 with a short presenting concern; about one in eight discharged.
    The first is the fixed demo client, Maya Ellis."""
    practice = build.require_practice()
    clients: list[Client] = []
    for index in range(build.client_count):
        client_id = uuid.UUID(int=build.rng.getrandbits(128), version=4)
        if index == 0:
            name = _LOGIN[CLIENT_EMAIL].name
            age = 34
            concern = names.PRESENTING_CONCERNS[0]
        else:
            name = build.person_name()
            age = build.rng.randint(18, 80)
            concern = build.rng.choice(names.PRESENTING_CONCERNS)
        created = build.days_ago(30, 900)
        discharged = None
        if index > 0 and build.rng.random() < 0.12:
            discharged = min(created + timedelta(days=build.rng.randint(20, 400)), build.now)
        clients.append(
            Client(
                id=client_id,
                practice=practice,
                display_name=name,
                birth_year=build.now.year - age,
                presenting_concerns=concern,
                created_at=created,
                discharged_at=discharged,
            )
        )
    Client.objects.bulk_create(clients, batch_size=BATCH_SIZE)
    build.clients = clients
    build.counts["clients"] = len(clients)
    build.counts["discharged"] = sum(1 for c in clients if c.discharged_at is not None)


def add_care_teams(build: DemoBuild) -> None:
    """A lead clinician for each client, round robin so every clinician has a caseload, and a
    second clinician for about a third of them."""
    links: list[CareTeamMember] = []
    clinicians = build.clinicians
    for index, client in enumerate(build.clients):
        lead = clinicians[index % len(clinicians)]
        links.append(
            CareTeamMember(client=client, user=lead, is_lead=True, added_at=client.created_at)
        )
        if index == 0:
            second: User | None = clinicians[1]
        elif build.rng.random() < 0.3:
            second = build.rng.choice([c for c in clinicians if c is not lead])
        else:
            second = None
        if second is not None:
            links.append(
                CareTeamMember(
                    client=client, user=second, is_lead=False, added_at=client.created_at
                )
            )
    CareTeamMember.objects.bulk_create(links, batch_size=BATCH_SIZE)
    build.counts["care_team_links"] = len(links)


def add_portal_logins(build: DemoBuild) -> None:
    """The demo client and about a quarter of the other active clients have a portal login."""
    chosen: dict[int, User] = {0: _user(build, CLIENT_EMAIL, build.clients[0].display_name)}
    for index, client in enumerate(build.clients[1:], start=1):
        if client.discharged_at is None and build.rng.random() < 0.25:
            chosen[index] = _user(build, f"client{index:05d}@{EMAIL_DOMAIN}", client.display_name)
    _save_users(list(chosen.values()))
    for index, user in chosen.items():
        build.clients[index].user = user
    Client.objects.bulk_update(
        [build.clients[index] for index in chosen], ["user"], batch_size=BATCH_SIZE
    )
    build.portal_users = chosen
    build.counts["portal_logins"] = len(chosen)


def add_network_members(build: DemoBuild) -> None:
    """Sam Ellis, Maya's brother, and a network member for about one in five portal clients."""
    people: list[tuple[int, User, str]] = [
        (0, _user(build, MEMBER_EMAIL, _LOGIN[MEMBER_EMAIL].name), "Brother")
    ]
    for index in sorted(build.portal_users):
        if index > 0 and build.rng.random() < 0.2:
            family = build.clients[index].display_name.rsplit(" ", 1)[-1]
            name = f"{build.rng.choice(names.GIVEN_NAMES)} {family}"
            email = f"member{index:05d}@{EMAIL_DOMAIN}"
            people.append((index, _user(build, email, name), build.rng.choice(names.RELATIONSHIPS)))
    _save_users([user for _, user, _ in people])
    NetworkMember.objects.bulk_create(
        [
            NetworkMember(
                client=build.clients[index],
                user=user,
                relationship=relationship,
                joined_at=build.now,
            )
            for index, user, relationship in people
        ],
        batch_size=BATCH_SIZE,
    )
    build.counts["network_members"] = len(people)


def queue_connection_sweep(build: DemoBuild) -> None:
    """The first keeping-in-touch sweep (withdrawal signals, nudges), run here so the caseload
    shows Lars Jensen's withdrawal signal as soon as the demo is loaded, with no worker yet; and
    queued for the demo's worker, which runs it at once (it is idempotent) and so starts the daily
    chain: each sweep queues the next day's."""
    connection_sweep.run(now=build.now)
    connection_sweep.queue_now(build.now)


# Later issues append their steps here (e.g. support network maps, measures, sessions).
STEPS: list[DemoStep] = [
    add_practice,
    add_staff,
    add_staff_mfa,
    add_clients,
    add_care_teams,
    add_portal_logins,
    add_network_members,
    add_network_maps,
    add_measures,
    add_casework,
    queue_connection_sweep,
]


def demo_practice() -> Practice | None:
    return Practice.objects.filter(
        memberships__user__email=ADMIN_EMAIL, memberships__role=Role.ADMIN
    ).first()


def build_demo(
    *,
    clients: int = DEFAULT_CLIENTS,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    password: str = DEMO_PASSWORD,
    steps: list[DemoStep] | None = None,
) -> DemoBuild:
    """Build the demo practice in one transaction: all of it, or nothing."""
    if clients < 1:
        raise ValueError("The demo needs at least one client.")
    build = DemoBuild(
        rng=random.Random(seed),  # nosec B311 # seeded demo data, not security
        now=now or timezone.now(),
        client_count=clients,
        # Hashed once: hashing per user would take minutes at 10,000 clients.
        password_hash=make_password(password),
    )
    with transaction.atomic():
        for step in steps if steps is not None else STEPS:
            step(build)
        audit.record(
            None,
            action="demo.seed",
            object_type="practice",
            object_id=build.require_practice().pk,
            detail={"seed": seed, **build.counts},
        )
    return build


def remove_demo() -> bool:
    """Delete the demo practice and every demo account. The audit trail stays (append-only)."""
    practice = demo_practice()
    with transaction.atomic():
        users = User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
        if practice is None and not users.exists():
            return False
        if practice is not None:
            remove_measures(practice)
            Client.objects.filter(practice=practice).delete()
        users.delete()
        if practice is not None:
            practice_id = practice.pk
            practice.delete()
            audit.record(None, action="demo.remove", object_type="practice", object_id=practice_id)
    return True
