"""The one place that decides which clients, and which of their objects, a user may reach.

Access runs practice → care team → client → grant:
- ``CARE``: clinical content, for staff on the client's care team, and for a staff member of the
  client's practice holding a live break-glass grant for that one client (accounts.breakglass);
- ``MANAGE``: the administrative record, for admins of the client's practice;
- ``SELF``: the client's own portal;
- ``MEMBER``: a network member of the client (what they see inside is limited by grants).

Views never call ``Model.objects.get`` on client data: they call :func:`get_client` or
:func:`get_scoped`, which filter by these rules, audit the read, and turn a miss into a 404
(audited as denied) so that a stranger cannot tell "not yours" from "does not exist".
Every audit event a person causes about a client while holding a live break-glass grant for
that client carries ``detail={"break_glass": <grant id>}`` (added by ``audit.services.record``),
so an admin can review what emergency access opened and changed.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import F
from django.http import Http404, HttpRequest
from django.utils import timezone

from kithkin.accounts.models import (
    BreakGlassAccess,
    CareTeamMember,
    Client,
    Membership,
    NetworkMember,
    Role,
    User,
)
from kithkin.audit import services as audit

M = TypeVar("M", bound=models.Model)


class Purpose(enum.Enum):
    CARE = "care"
    MANAGE = "manage"
    SELF = "self"
    MEMBER = "member"


def membership_of(user: User | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    roles_of(user)  # reads the membership too, in the same query, and caches it on the user
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


_MEMBERSHIP_FIELDS = [f.attname for f in Membership._meta.concrete_fields]
_MEMBERSHIP_RELATION = User._meta.get_field("membership")


def roles_of(user: User | AnonymousUser) -> set[Role]:
    """Every role a user holds; cached on the user object for the request.

    One query per request for everyone (every page asks): the staff membership, whether they
    have a client record, and whether they are a member of anyone's network."""
    if not user.is_authenticated:
        return set()
    cached: set[Role] | None = getattr(user, "_kithkin_roles", None)
    if cached is not None:
        return cached
    assert isinstance(user, User)
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            is_client=models.Exists(Client.objects.filter(user=models.OuterRef("pk"))),
            is_member=models.Exists(
                NetworkMember.objects.filter(user=models.OuterRef("pk"), ended_at__isnull=True)
            ),
        )
        .values("is_client", "is_member", *(f"membership__{name}" for name in _MEMBERSHIP_FIELDS))
        .first()
    )
    roles: set[Role] = set()
    if row is None:  # deleted while signed in: no roles
        user._kithkin_roles = roles  # type: ignore[attr-defined]
        return roles
    membership = None
    if row["membership__id"] is not None:
        values = [row[f"membership__{name}"] for name in _MEMBERSHIP_FIELDS]
        membership = Membership.from_db(user._state.db, _MEMBERSHIP_FIELDS, values)
        roles.add(Role(membership.role))
    # Cached the way Django caches a fetched reverse one-to-one (None: there is none).
    _MEMBERSHIP_RELATION.set_cached_value(user, membership)
    if row["is_client"]:
        roles.add(Role.CLIENT)
    if row["is_member"]:
        roles.add(Role.MEMBER)
    user._kithkin_roles = roles  # type: ignore[attr-defined]
    return roles


STAFF_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN})


def live_break_glass(user: User, now: datetime | None = None) -> models.QuerySet[BreakGlassAccess]:
    """The user's break-glass grants in force now, for clients of the practice they still work in
    (a grant stops with the staff membership). Expiry is compared in the query: no job needed."""
    return BreakGlassAccess.objects.live(now).filter(
        user=user, user__membership__practice_id=F("client__practice_id")
    )


def _client_ids(user: User, purpose: Purpose) -> list[models.QuerySet[Any]]:
    """The ids of the clients one purpose reaches, as one-column subqueries (none for nobody)."""
    # Staff reach clients only in the practice they work in. Each part starts from the rows that
    # name this user (care-team links, grants, network memberships), so its cost follows the
    # user's own caseload, never the size of the practice.
    membership = membership_of(user)
    if purpose is Purpose.CARE:
        if membership is None:
            return []  # a grant stops with the membership, and care needs one
        # "+ 0" keeps the practice out of index choice: SQLite (without statistics) would
        # otherwise walk every client of the practice by that index.
        own_links = (
            CareTeamMember.objects.filter(user=user)
            .alias(client_practice=F("client__practice_id") + 0)
            .filter(client_practice=membership.practice_id)
            .values("client_id")
        )
        return [own_links, live_break_glass(user).values("client_id")]
    if purpose is Purpose.MANAGE:
        if membership is None or membership.role != Role.ADMIN:
            return []
        return [Client.objects.filter(practice_id=membership.practice_id).values("pk")]
    if purpose is Purpose.SELF:
        return [Client.objects.filter(user=user).values("pk")]
    return [user.network_memberships.filter(ended_at__isnull=True).values("client_id")]


def clients_for(user: User | AnonymousUser, *purposes: Purpose) -> models.QuerySet[Client]:
    """The clients a user may reach for any of the given purposes."""
    if not user.is_authenticated or not purposes or not user.is_active:
        return Client.objects.none()
    assert isinstance(user, User)
    parts = [ids for purpose in dict.fromkeys(purposes) for ids in _client_ids(user, purpose)]
    if not parts:
        return Client.objects.none()
    # One UNION of id lists rather than ORed conditions: an OR of subqueries makes PostgreSQL
    # scan every client and test each against both lists.
    reachable = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    return Client.objects.filter(pk__in=reachable)


_GRANTS_CACHE = "_kithkin_break_glass"


def break_glass_grants(user: User | AnonymousUser) -> dict[str, tuple[int, datetime]]:
    """The user's live grants as {client id: (grant id, expires at)}: one query per request at
    most (cached on the user object, like roles), and none for people who are not staff."""
    if not user.is_authenticated or not roles_of(user) & STAFF_ROLES:
        return {}
    cached: dict[str, tuple[int, datetime]] | None = getattr(user, _GRANTS_CACHE, None)
    if cached is None:
        assert isinstance(user, User)
        rows = live_break_glass(user).values_list("client_id", "pk", "expires_at")
        cached = {str(client_id): (pk, expires_at) for client_id, pk, expires_at in rows}
        setattr(user, _GRANTS_CACHE, cached)
    return cached


def forget_break_glass(user: User | AnonymousUser) -> None:
    """Drop the cached grants after one is opened or ended in this request."""
    if hasattr(user, _GRANTS_CACHE):
        delattr(user, _GRANTS_CACHE)


def break_glass_detail(user: User | AnonymousUser, client_id: Any) -> dict[str, Any] | None:
    """``{"break_glass": grant id}`` for an audited read under a live grant, else None."""
    found = break_glass_grants(user).get(str(client_id))
    if found is None or found[1] <= timezone.now():
        return None
    return {"break_glass": found[0]}


def _deny(request: HttpRequest, action: str, object_type: str, object_id: Any) -> Http404:
    audit.record(
        request,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=audit.Outcome.DENIED,
    )
    return Http404()


def get_client(
    request: HttpRequest, client_id: Any, *purposes: Purpose, action: str = "client.view"
) -> Client:
    """Fetch one client the requesting user may reach, and audit the read."""
    client = (
        clients_for(request.user, *purposes).select_related("practice").filter(pk=client_id).first()
    )
    if client is None:
        raise _deny(request, action, "client", client_id)
    audit.record(
        request,
        action=action,
        object_type="client",
        object_id=client.pk,
        client=client,
    )
    return client


def get_scoped(
    request: HttpRequest,
    queryset: models.QuerySet[M],
    *purposes: Purpose,
    action: str,
    client_path: str = "client",
    **lookup: Any,
) -> M:
    """Fetch one object that belongs to a client the user may reach (via ``client_path``)."""
    allowed = clients_for(request.user, *purposes)
    obj = queryset.filter(**{f"{client_path}__in": allowed}, **lookup).first()
    object_type = queryset.model._meta.model_name or "object"
    if obj is None:
        raise _deny(request, action, object_type, lookup.get("pk", lookup))
    client_id = getattr(obj, f"{client_path}_id", None)
    audit.record(
        request,
        action=action,
        object_type=object_type,
        object_id=obj.pk,
        client_id=client_id,
    )
    return obj


def require_role(request: HttpRequest, *roles: Role) -> None:
    """Refuse (403, audited) unless the user holds one of the roles."""
    if roles_of(request.user) & set(roles):
        return
    audit.record(
        request,
        action="role.required",
        object_type="view",
        object_id=request.resolver_match.view_name if request.resolver_match else "",
        outcome=audit.Outcome.DENIED,
    )
    raise PermissionDenied


def practice_admin_membership(request: HttpRequest) -> Membership:
    """The requesting admin's membership; 403 (audited) for anyone else."""
    require_role(request, Role.ADMIN)
    membership = membership_of(request.user)
    assert membership is not None
    return membership


def has_care_access(user: User | AnonymousUser, client: Client) -> bool:
    """Whether the user may see this client's clinical content now: on the care team, or under
    a live break-glass grant."""
    return clients_for(user, Purpose.CARE).filter(pk=client.pk).exists()


def emergency_candidates(user: User | AnonymousUser) -> models.QuerySet[Client]:
    """The clients a staff member may open break-glass access to: every client of their own
    practice. Nobody else (clients, members, other practices) has any."""
    membership = membership_of(user)
    if membership is None or not user.is_active:
        return Client.objects.none()
    return Client.objects.filter(practice_id=membership.practice_id)


def get_emergency_candidate(request: HttpRequest, client_id: Any, *, action: str) -> Client:
    """One client the requesting staff member may open break-glass access to; a 404 (audited as
    denied) for anything else, a malformed id included."""
    try:
        client = emergency_candidates(request.user).select_related("practice").get(pk=client_id)
    except (Client.DoesNotExist, ValidationError, ValueError):
        raise _deny(request, action, "client", str(client_id)[:64]) from None
    return client
