"""The one place that decides which clients, and which of their objects, a user may reach.

Access runs practice → care team → client → grant:
- ``CARE``: clinical content, for staff on the client's care team;
- ``MANAGE``: the administrative record, for admins of the client's practice;
- ``SELF``: the client's own portal;
- ``MEMBER``: a network member of the client (what they see inside is limited by grants).

Views never call ``Model.objects.get`` on client data: they call :func:`get_client` or
:func:`get_scoped`, which filter by these rules, audit the read, and turn a miss into a 404
(audited as denied) so that a stranger cannot tell "not yours" from "does not exist".
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest

from kithkin.accounts.models import Client, Membership, Role, User
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
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def roles_of(user: User | AnonymousUser) -> set[Role]:
    """Every role a user holds; cached on the user object for the request."""
    if not user.is_authenticated:
        return set()
    cached: set[Role] | None = getattr(user, "_kithkin_roles", None)
    if cached is not None:
        return cached
    roles: set[Role] = set()
    membership = membership_of(user)
    if membership is not None:
        roles.add(Role(membership.role))
    if Client.objects.filter(user=user).exists():
        roles.add(Role.CLIENT)
    if user.network_memberships.filter(ended_at__isnull=True).exists():
        roles.add(Role.MEMBER)
    user._kithkin_roles = roles  # type: ignore[attr-defined]
    return roles


def _client_q(user: User, purpose: Purpose) -> Q:
    if purpose is Purpose.CARE:
        return Q(care_team_links__user=user, practice__memberships__user=user)
    if purpose is Purpose.MANAGE:
        return Q(practice__memberships__user=user, practice__memberships__role=Role.ADMIN)
    if purpose is Purpose.SELF:
        return Q(user=user)
    return Q(network_members__user=user, network_members__ended_at__isnull=True)


def clients_for(user: User | AnonymousUser, *purposes: Purpose) -> models.QuerySet[Client]:
    """The clients a user may reach for any of the given purposes."""
    if not user.is_authenticated or not purposes or not user.is_active:
        return Client.objects.none()
    assert isinstance(user, User)
    condition = Q()
    for purpose in purposes:
        condition |= _client_q(user, purpose)
    # The joins above can repeat a client; the subquery keeps callers free to filter further.
    return Client.objects.filter(pk__in=Client.objects.filter(condition).values("pk"))


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
    audit.record(request, action=action, object_type="client", object_id=client.pk, client=client)
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
        request, action=action, object_type=object_type, object_id=obj.pk, client_id=client_id
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
