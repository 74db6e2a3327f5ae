"""Practice administration: clients, care teams and the lists on the practice page.

Views stay thin: they check access (accounts.access), validate a form, and call one function here.
Every function that writes runs in one transaction and writes its audit event inside it, so a
change and its record stand or fall together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext as _

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
from kithkin.audit import services as audit


class CareTeamError(Exception):
    """A care-team change that would break a rule; the message is shown to the person."""


# --- reading -------------------------------------------------------------------------------


def is_on_care_team(user: User | Any, client: Client) -> bool:
    """Whether this user is on the client's care team (and so may see clinical content)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CareTeamMember.objects.filter(
        client=client, user=user, user__membership__practice_id=client.practice_id
    ).exists()


def practice_staff(practice: Practice) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(practice=practice, user__is_active=True)
        .select_related("user")
        .order_by("user__display_name", "pk")
    )


def practice_clients(practice: Practice) -> QuerySet[Client]:
    """Clients with the administrative columns of the practice page, in one query.

    Only administrative fields are selected: presenting concerns never leave the database here."""
    lead = CareTeamMember.objects.filter(client=OuterRef("pk"), is_lead=True).order_by("pk")
    return (
        Client.objects.filter(practice=practice)
        .only("id", "display_name", "preferred_name", "birth_year", "user_id", "discharged_at")
        .annotate(
            lead_name=Subquery(lead.values("user__display_name")[:1]),
            care_team_size=Count("care_team_links", distinct=True),
        )
        .order_by("display_name", "pk")
    )


def pending_invitations(practice: Practice) -> QuerySet[Invitation]:
    return (
        Invitation.objects.pending()
        .filter(practice=practice)
        .select_related("invited_by")
        .defer("relationship")
        .annotate(
            client_name=Subquery(
                Client.objects.filter(pk=OuterRef("client_id")).values("display_name")[:1]
            )
        )
        .order_by("-created_at")
    )


def care_team(client: Client) -> QuerySet[CareTeamMember]:
    return (
        CareTeamMember.objects.filter(client=client)
        .select_related("user")
        .order_by("-is_lead", "user__display_name")
    )


def care_team_candidates(client: Client) -> QuerySet[User]:
    """Staff of the client's practice not yet on the care team."""
    return (
        User.objects.filter(membership__practice_id=client.practice_id, is_active=True)
        .exclude(care_team_links__client=client)
        .order_by("display_name")
    )


def network_members(client: Client) -> QuerySet[NetworkMember]:
    return (
        NetworkMember.objects.filter(client=client, ended_at__isnull=True)
        .select_related("user")
        .order_by("user__display_name")
    )


def age_of(client: Client, today: date | None = None) -> int | None:
    """Approximate age from the year of birth (we keep no birth date on purpose)."""
    if client.birth_year is None:
        return None
    return (today or date.today()).year - client.birth_year


# --- writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewClient:
    display_name: str
    preferred_name: str
    birth_year: int | None
    presenting_concerns: str
    care_team: list[User]
    lead: User


def _check_staff_of(practice: Practice, users: list[User]) -> None:
    ids = {user.pk for user in users}
    found = Membership.objects.filter(practice=practice, user_id__in=ids).count()
    if found != len(ids):
        raise CareTeamError(_("Everyone on the care team must work at this practice."))


def create_client(request: HttpRequest, practice: Practice, data: NewClient) -> Client:
    if not data.care_team:
        raise CareTeamError(_("Choose at least one clinician for the care team."))
    if data.lead not in data.care_team:
        raise CareTeamError(_("The lead clinician must be on the care team."))
    with transaction.atomic():
        _check_staff_of(practice, data.care_team)
        client = Client.objects.create(
            practice=practice,
            display_name=data.display_name,
            preferred_name=data.preferred_name,
            birth_year=data.birth_year,
            presenting_concerns=data.presenting_concerns,
        )
        CareTeamMember.objects.bulk_create(
            CareTeamMember(client=client, user=user, is_lead=user.pk == data.lead.pk)
            for user in data.care_team
        )
        audit.record(
            request,
            action="client.create",
            object_type="client",
            object_id=client.pk,
            client=client,
            detail={"care_team": sorted(user.pk for user in data.care_team)},
        )
    return client


ADMIN_FIELDS = ("display_name", "preferred_name", "birth_year")


def update_client_admin(request: HttpRequest, client: Client, changes: dict[str, Any]) -> Client:
    """Change administrative fields only; clinical fields are not reachable from here."""
    changed = [
        name for name in ADMIN_FIELDS if name in changes and getattr(client, name) != changes[name]
    ]
    if not changed:
        return client
    with transaction.atomic():
        for name in changed:
            setattr(client, name, changes[name])
        client.save(update_fields=changed)
        audit.record(
            request,
            action="client.update",
            object_type="client",
            object_id=client.pk,
            client=client,
            detail={"fields": changed},
        )
    return client


def update_presenting_concerns(request: HttpRequest, client: Client, text: str) -> bool:
    """Care team only (the view asks for Purpose.CARE). Returns whether it changed."""
    if text == client.presenting_concerns:
        return False
    with transaction.atomic():
        client.presenting_concerns = text
        client.save(update_fields=["presenting_concerns"])
        audit.record(
            request,
            action="client.update",
            object_type="client",
            object_id=client.pk,
            client=client,
            detail={"fields": ["presenting_concerns"]},
        )
    return True


def _audit_team(request: HttpRequest, client: Client, change: str, user: User) -> None:
    audit.record(
        request,
        action="care_team.update",
        object_type="client",
        object_id=client.pk,
        client=client,
        detail={"change": change, "user": user.pk},
    )


def add_to_care_team(request: HttpRequest, client: Client, user: User, lead: bool = False) -> None:
    with transaction.atomic():
        _check_staff_of(client.practice, [user])
        if CareTeamMember.objects.filter(client=client, user=user).exists():
            raise CareTeamError(_("%(name)s is already on the care team.") % {"name": user})
        if lead:
            CareTeamMember.objects.filter(client=client).update(is_lead=False)
        CareTeamMember.objects.create(client=client, user=user, is_lead=lead)
        _audit_team(request, client, "add", user)


def remove_from_care_team(request: HttpRequest, client: Client, user: User) -> None:
    with transaction.atomic():
        # Lock the client's team rows so two removals at once cannot leave it empty.
        links = list(
            CareTeamMember.objects.select_for_update()
            .filter(client=client)
            .order_by("added_at", "pk")
        )
        leaving = next((link for link in links if link.user_id == user.pk), None)
        if leaving is None:
            raise CareTeamError(_("%(name)s is not on the care team.") % {"name": user})
        if len(links) == 1:
            raise CareTeamError(
                _(
                    "%(name)s is the only clinician on this care team. Add someone else first: "
                    "every client needs at least one clinician."
                )
                % {"name": user}
            )
        leaving.delete()
        if leaving.is_lead:
            # Someone must stay lead: the longest-serving remaining clinician takes over.
            successor = next(link for link in links if link.pk != leaving.pk)
            CareTeamMember.objects.filter(pk=successor.pk).update(is_lead=True)
        _audit_team(request, client, "remove", user)


def make_lead(request: HttpRequest, client: Client, user: User) -> None:
    with transaction.atomic():
        if not CareTeamMember.objects.filter(client=client, user=user).exists():
            raise CareTeamError(_("%(name)s is not on the care team.") % {"name": user})
        CareTeamMember.objects.filter(client=client).exclude(user=user).update(is_lead=False)
        CareTeamMember.objects.filter(client=client, user=user).update(is_lead=True)
        _audit_team(request, client, "lead", user)


# --- more reading helpers used by the views ------------------------------------------------


def care_team_candidates_for_practice(practice: Practice) -> QuerySet[User]:
    """Staff who can join a new client's care team: anyone working at the practice."""
    return User.objects.filter(membership__practice=practice, is_active=True).order_by(
        "display_name"
    )


def care_team_users(client: Client) -> QuerySet[User]:
    return User.objects.filter(care_team_links__client=client)


def pending_client_invitations(client: Client) -> QuerySet[Invitation]:
    return (
        Invitation.objects.pending()
        .filter(client=client)
        .select_related("invited_by")
        .defer("relationship")
        .order_by("-created_at")
    )


def revocable_invitations(user: User | Any) -> QuerySet[Invitation]:
    """Invitations this user may withdraw: a practice admin any of the practice's, a clinician
    those for clients on their care team."""
    membership = membership_of(user)
    if membership is None:
        return Invitation.objects.none()
    if membership.is_admin:
        return Invitation.objects.filter(practice_id=membership.practice_id)
    return Invitation.objects.filter(
        client__in=clients_for(user, Purpose.CARE), role__in=[Role.CLIENT, Role.MEMBER]
    )
