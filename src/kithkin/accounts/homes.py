"""What each role's home page shows. Views call these; templates only display the results.

Every query here starts from :func:`kithkin.accounts.access.clients_for`, so a home page can
only ever show clients the signed-in person may reach for that purpose."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import cast
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from kithkin.accounts.access import Purpose, clients_for, membership_of
from kithkin.accounts.models import (
    CareTeamMember,
    Client,
    Invitation,
    Membership,
    NetworkMember,
    Practice,
    Role,
    User,
)

CASELOAD_PAGE_SIZE = 25

# Fields a list needs; the encrypted presenting concerns are never loaded (or decrypted) for it.
_LIST_FIELDS = ("id", "practice_id", "display_name", "preferred_name", "birth_year")


def age_from_birth_year(birth_year: int | None, today: datetime.date | None = None) -> int | None:
    """Age in years as far as a birth year allows: the age this person turns this year."""
    if birth_year is None:
        return None
    today = today or timezone.localdate()
    age = today.year - birth_year
    return age if age >= 0 else None


@dataclass(frozen=True)
class CaseloadRow:
    client_id: UUID
    name: str
    preferred_name: str
    age: int | None
    is_lead: bool
    added_at: datetime.datetime | None


def caseload_queryset(user: User) -> QuerySet[Client]:
    """The current clients on this person's care teams, by name, in a fixed number of queries."""
    links = CareTeamMember.objects.filter(client=OuterRef("pk"), user=user)
    return (
        clients_for(user, Purpose.CARE)
        .filter(discharged_at__isnull=True)
        .only(*_LIST_FIELDS)
        .annotate(
            is_lead=Exists(links.filter(is_lead=True)),
            added_at=Subquery(links.order_by("added_at").values("added_at")[:1]),
        )
        .order_by("display_name", "pk")
    )


def caseload_page(user: User, page_number: str | int | None) -> Page[CaseloadRow]:
    """One page of the caseload: a count query and a page query, whatever its size."""
    paginator: Paginator[Client] = Paginator(caseload_queryset(user), CASELOAD_PAGE_SIZE)
    page = cast("Page[CaseloadRow]", paginator.get_page(page_number))
    today = timezone.localdate()
    clients = cast("list[Client]", page.object_list)
    page.object_list = [
        CaseloadRow(
            client_id=client.pk,
            name=client.display_name,
            preferred_name=client.preferred_name,
            age=age_from_birth_year(client.birth_year, today),
            is_lead=bool(getattr(client, "is_lead", False)),
            added_at=getattr(client, "added_at", None),
        )
        for client in clients
    ]
    return page


@dataclass(frozen=True)
class PracticeSummary:
    practice: Practice
    clinicians: int
    clients: int
    pending_invitations: int


def practice_summary(user: User) -> PracticeSummary | None:
    """Counts for a practice admin's home; None for anyone who is not one."""
    membership: Membership | None = membership_of(user)
    if membership is None or membership.role != Role.ADMIN:
        return None
    practice = membership.practice
    return PracticeSummary(
        practice=practice,
        clinicians=practice.memberships.filter(role=Role.CLINICIAN).count(),
        clients=clients_for(user, Purpose.MANAGE).filter(discharged_at__isnull=True).count(),
        pending_invitations=Invitation.objects.pending().filter(practice=practice).count(),
    )


@dataclass(frozen=True)
class ClientHome:
    client: Client
    first_name: str
    care_team: list[str]
    practice_name: str


def client_home(user: User) -> ClientHome | None:
    """The client's own record and the names of their care team."""
    client = (
        clients_for(user, Purpose.SELF)
        .select_related("practice")
        .only(*_LIST_FIELDS, "practice__name")
        .first()
    )
    if client is None:
        return None
    # Only clinicians still working at the practice: someone who left is no longer on the team.
    team = (
        CareTeamMember.objects.filter(
            client=client, user__is_active=True, user__membership__practice=client.practice_id
        )
        .select_related("user")
        .order_by("-is_lead", "user__display_name")
    )
    return ClientHome(
        client=client,
        first_name=client.first_name,
        care_team=[link.user.display_name for link in team],
        practice_name=client.practice.name,
    )


@dataclass(frozen=True)
class Circle:
    """One client whose support circle this person is part of: their first name, nothing more."""

    client: Client
    first_name: str


def member_circles(user: User) -> list[Circle]:
    memberships = (
        NetworkMember.objects.filter(
            user=user,
            ended_at__isnull=True,
            client__in=clients_for(user, Purpose.MEMBER),
        )
        .select_related("client")
        .only("id", *(f"client__{field}" for field in _LIST_FIELDS))
        .order_by("joined_at", "pk")
    )
    return [Circle(client=m.client, first_name=m.client.first_name) for m in memberships]
