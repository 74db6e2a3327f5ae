"""The client decides what each network member sees. Every member page, export and count goes
through :class:`MemberScope`, which reads the member's newest consent on every request (no
caching), so a revocation takes effect on the member's very next request.

A member never sees raw answers, risk items or clinician notes: MemberScope has no way to
return them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import Client, NetworkMember, User
from kithkin.audit import services as audit
from kithkin.care.models import (
    SHAREABLE,
    Action,
    ConsentGrant,
    Goal,
    NetworkSession,
    SessionStatus,
)

if TYPE_CHECKING:
    from kithkin.care.review import CheckinSummary

SHAREABLE_KEYS = tuple(key for key, _label in SHAREABLE)


def current_grant(member: NetworkMember) -> ConsentGrant | None:
    """The member's newest consent version, read fresh from the database."""
    return ConsentGrant.objects.filter(member=member).order_by("-version").first()


def decide(request: HttpRequest | None, member: NetworkMember, **choices: bool) -> ConsentGrant:
    """Record a new consent version for ``member``. Unnamed choices are false, so a decision is
    always complete; revoking everything is ``decide(request, member)``."""
    unknown = set(choices) - set(SHAREABLE_KEYS)
    if unknown:
        raise ValueError(f"unknown consent choices: {sorted(unknown)}")
    with transaction.atomic():
        # Lock the member row so two decisions at once get consecutive versions.
        NetworkMember.objects.select_for_update().filter(pk=member.pk).first()
        last = ConsentGrant.objects.filter(member=member).order_by("-version").first()
        user = request.user if request is not None and request.user.is_authenticated else None
        grant = ConsentGrant.objects.create(
            client_id=member.client_id,
            member=member,
            version=(last.version + 1) if last else 1,
            decided_by=user if isinstance(user, User) else None,
            decided_at=timezone.now(),
            **{key: bool(choices.get(key, False)) for key in SHAREABLE_KEYS},
        )
        audit.record(
            request,
            action="care.consent.decide",
            object_type="networkmember",
            object_id=member.pk,
            client_id=member.client_id,
            detail={"version": grant.version, **{k: grant.allows(k) for k in SHAREABLE_KEYS}},
        )
    return grant


@dataclass(frozen=True)
class MemberScope:
    """What one network member may see of one client, decided now."""

    member: NetworkMember
    client: Client
    grant: ConsentGrant | None
    decided_at: datetime

    def may(self, what: str) -> bool:
        if what not in SHAREABLE_KEYS:
            raise ValueError(f"{what!r} is not something a client can share")
        return self.grant is not None and self.grant.allows(what)

    @property
    def shares_anything(self) -> bool:
        return self.grant is not None and self.grant.shares_anything

    def goals(self) -> QuerySet[Goal]:
        if not self.may("goals"):
            return Goal.objects.none()
        return Goal.objects.current().filter(client=self.client).order_by("created_at", "pk")

    def sessions(self) -> QuerySet[NetworkSession]:
        """Held sessions whose summaries the member may read."""
        if not self.may("session_summaries"):
            return NetworkSession.objects.none()
        return NetworkSession.objects.filter(
            client=self.client, status=SessionStatus.HELD
        ).order_by("-starts_at", "pk")

    def actions(self) -> QuerySet[Action]:
        """Only the actions agreed for this member, and only if the client shares them."""
        if not self.may("own_actions"):
            return Action.objects.none()
        return Action.objects.filter(client=self.client, owner_member=self.member).order_by(
            "due_on", "pk"
        )

    def upcoming_sessions(self) -> QuerySet[NetworkSession]:
        """Planned sessions the member is invited to: they need the time and place to come."""
        return NetworkSession.objects.filter(
            client=self.client,
            status=SessionStatus.PLANNED,
            participants__member=self.member,
        ).order_by("starts_at", "pk")

    def checkin_summary(self) -> CheckinSummary | None:
        """How many check-ins lately and, per questionnaire, only a direction word ("a little
        better", "about the same", "harder lately"): never answers, scores, risk items or
        alerts. None unless the client shares it."""
        if not self.may("checkin_summary"):
            return None
        from kithkin.care import review  # here: the review reads the plan, which reads this

        return review.checkin_summary(self.client, now=self.decided_at)


def scope_for(request: HttpRequest, client_id: UUID | Any, *, action: str) -> MemberScope:
    """The signed-in member's scope for one client: 404 (audited) for anyone who is not a
    current member of that client's network."""
    client = access.get_client(request, client_id, Purpose.MEMBER, action=action)
    assert isinstance(request.user, User)
    member = (
        NetworkMember.objects.filter(client=client, user=request.user, ended_at__isnull=True)
        .select_related("user")
        .first()
    )
    if member is None:  # ended between the two reads
        raise Http404
    return MemberScope(member, client, current_grant(member), timezone.now())


def scope_of(member: NetworkMember) -> MemberScope:
    """A member's scope outside a request (reminder emails, tests)."""
    return MemberScope(member, member.client, current_grant(member), timezone.now())
