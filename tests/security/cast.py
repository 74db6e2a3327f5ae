"""The people and objects the security suite asks about: client A and client B, each with every
kind of object a URL can name, and one user for every role, entitled or not.

Shared by the IDOR matrix, the mass-assignment probes, the header checks and the log canaries."""

from __future__ import annotations

from dataclasses import dataclass

from kithkin.accounts.models import NetworkMember, Role, User
from kithkin.care import consent
from tests import factories
from tests.conftest import World
from tests.security.test_it_refuses_every_url_to_strangers import (
    CONCERNS,
    NAME,
    RELATIONSHIP,
    Victim,
    victim_of,
)

# Roles, by the name the matrix reports.
ANONYMOUS = "anonymous"
OTHER_CLINICIAN = "clinician of another practice"
OTHER_ADMIN = "admin of another practice"
OTHER_CLIENT = "client of another practice"
COLLEAGUE = "clinician of the practice, not on A's care team"
ADMIN = "admin of A's practice, not on her care team"
CLIENT_B = "client B"
MEMBER_OF_B = "network member of client B (every grant)"
MEMBER_NO_GRANT = "network member of client A, no grant"
MEMBER = "network member of client A, every grant"
CLIENT_A = "client A"
CLINICIAN = "clinician on A's care team"

EVERY_GRANT = dict.fromkeys(consent.SHAREABLE_KEYS, True)


@dataclass
class Cast:
    world: World
    a: Victim
    b: Victim
    users: dict[str, User | None]

    def user(self, role: str) -> User:
        user = self.users[role]
        assert user is not None
        return user


def granted(member: NetworkMember) -> NetworkMember:
    consent.decide(None, member, **EVERY_GRANT)
    return member


def cast_of(world: World) -> Cast:
    client = world.client_a
    client.display_name = NAME
    client.presenting_concerns = CONCERNS
    client.save()
    NetworkMember.objects.filter(client=client, user=world.member).update(relationship=RELATIONSHIP)
    a = victim_of(client, world.clinician)
    b = victim_of(world.client_b, world.colleague)
    granted(a.network_member)
    granted(b.network_member)
    other_client = factories.client_of(
        world.other_practice, world.stranger, portal=True, display_name="Pia Portal"
    )
    ungranted = factories.member_of(world.client_a, display_name="Nat Nogrant")
    users: dict[str, User | None] = {
        ANONYMOUS: None,
        OTHER_CLINICIAN: world.stranger,
        OTHER_ADMIN: factories.staff(world.other_practice, Role.ADMIN),
        OTHER_CLIENT: other_client.user,
        COLLEAGUE: world.colleague,
        ADMIN: world.admin,
        CLIENT_B: world.client_b_user,
        MEMBER_OF_B: b.network_member.user,
        MEMBER_NO_GRANT: ungranted,
        MEMBER: a.network_member.user,
        CLIENT_A: world.client_a_user,
        CLINICIAN: world.clinician,
    }
    return Cast(world, a, b, users)
