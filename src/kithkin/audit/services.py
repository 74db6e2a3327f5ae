"""Writing and checking the audit trail."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kithkin.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, Outcome

if TYPE_CHECKING:
    from kithkin.accounts.models import Client

__all__ = ["Outcome", "record", "verify_chain"]


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: behind trusted proxies, TrustedProxyMiddleware has already put the
    # client's address there (docs/deploy.md); a forwarded header from anyone else is ignored.
    address = request.META.get("REMOTE_ADDR") or None
    return address


def _actor(request: HttpRequest | None, actor: Any) -> tuple[int | None, str]:
    user = actor if actor is not None else getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None, "anonymous"
    from kithkin.accounts.access import roles_of

    roles = sorted(role.value for role in roles_of(user))
    return int(user.pk), ",".join(roles) or "user"


def _break_glass_tag(request: HttpRequest | None, actor: Any, client_id: Any) -> dict[str, Any]:
    """``{"break_glass": grant id}`` when the requesting person acts on this client under a live
    emergency grant, so the admins' review sees every read and write made with it."""
    if request is None or actor is not None or not client_id:
        return {}
    from kithkin.accounts.access import break_glass_detail

    return break_glass_detail(getattr(request, "user", None) or AnonymousUser(), client_id) or {}


def record(
    request: HttpRequest | None,
    *,
    action: str,
    object_type: str = "",
    object_id: Any = "",
    client: Client | None = None,
    client_id: Any = None,
    outcome: str = Outcome.SUCCESS,
    actor: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. ``detail`` must never hold client data: ids and counts.
    An event about a client, by someone holding a live break-glass grant for that client, is
    tagged with the grant's id."""
    actor_id, actor_role = _actor(request, actor)
    if client is not None:
        client_id = client.pk
    if not (detail and "break_glass" in detail):
        detail = {**(detail or {}), **_break_glass_tag(request, actor, client_id)}
    practice_id = client.practice_id if client is not None else None
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            occurred_at=timezone.now(),
            actor_id=actor_id,
            actor_role=actor_role,
            action=action,
            object_type=object_type,
            object_id=str(object_id or "")[:64],
            client_id=str(client_id or ""),
            practice_id=practice_id,
            ip_address=client_ip(request),
            outcome=str(outcome),
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        AuditChainHead.objects.filter(pk=1).update(last_event_id=event.pk, last_hash=event.hash)
    return event


def pseudonym(value: str) -> str:
    """A keyed hash, so repeated failed logins for one address can be linked without storing it."""
    digest = hmac.new(settings.SECRET_KEY.encode(), value.lower().encode(), "sha256")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def _events(batch_size: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Walk the chain in order, in batches, and report the first link that does not hold."""
    previous = GENESIS_HASH
    checked = 0
    for event in _events(batch_size):
        if event.prev_hash != previous:
            return ChainReport(checked, event.id, "it does not point at the event before it")
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event.id, "its contents do not match its hash")
        previous = event.hash
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != previous:
        return ChainReport(checked, head.last_event_id, "the newest events are missing")
    return ChainReport(checked)
