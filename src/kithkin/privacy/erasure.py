"""Erasing a client's record, within the practice's retention rule.

The flow: an admin requests erasure with a reason. A record still within retention (the client
is in care, or was discharged less than ``retention_years`` ago) is refused unless the admin
records the legal basis for erasing it early. The admin then confirms by typing the client's
name, and :func:`erase_client` deletes every row the registry lists for the client, in one
transaction: all or nothing. The client's login goes too (unless the same person still holds
another role), and network members lose access with their membership rows.

The audit trail is kept: its rows hold opaque ids only, and once the client row and the login
are gone, those ids resolve to nobody. An :class:`ErasureRecord` says when, who and why, with
the same opaque id and no name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kithkin.accounts.models import Client, Membership, NetworkMember, User
from kithkin.audit import services as audit
from kithkin.notifications.models import Notification
from kithkin.privacy.models import ErasureRecord, ErasureRequest
from kithkin.privacy.registry import Scope, Table, deletion_order, tables
from kithkin.privacy.services import policy_for


class ErasureRefused(Exception):
    """Erasure cannot go ahead; the message says why, in words an admin can act on."""


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Retention:
    years: int
    discharged_at: datetime | None
    keep_until: date | None  # None while the client is in care
    today: date

    @property
    def applies(self) -> bool:
        """Whether the record must still be kept."""
        return self.keep_until is None or self.today < self.keep_until

    @property
    def explanation(self) -> str:
        if self.keep_until is None:
            return _(
                "This client is still in care, so the record must be kept. Discharge the "
                "client first, or record the legal basis for erasing it now."
            )
        if self.applies:
            return ngettext(
                "The practice keeps records for %(years)d year after discharge, so this record "
                "must be kept until %(date)s. To erase it sooner, record the legal basis.",
                "The practice keeps records for %(years)d years after discharge, so this record "
                "must be kept until %(date)s. To erase it sooner, record the legal basis.",
                self.years,
            ) % {"years": self.years, "date": formats.date_format(self.keep_until)}
        return _("The retention period ended on %(date)s: the record may be erased.") % {
            "date": formats.date_format(self.keep_until)
        }


def retention_of(client: Client, *, now: datetime | None = None) -> Retention:
    years = policy_for(client.practice_id).retention_years
    moment = now or timezone.now()
    keep_until = (
        _add_years(timezone.localdate(client.discharged_at), years)
        if client.discharged_at is not None
        else None
    )
    return Retention(years, client.discharged_at, keep_until, timezone.localdate(moment))


def _acting_user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def pending_request(client: Client) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(client=client).select_related("requested_by").first()


def request_erasure(
    request: HttpRequest,
    client: Client,
    *,
    reason: str,
    legal_basis: str = "",
    now: datetime | None = None,
) -> ErasureRequest:
    """Record an admin's request, or refuse it (audited) while retention applies and no legal
    basis is given. A new request replaces an older one still waiting."""
    reason, legal_basis = reason.strip(), legal_basis.strip()
    if not reason:
        raise ErasureRefused(_("Say why the record is to be erased."))
    retention = retention_of(client, now=now)
    if retention.applies and not legal_basis:
        audit.record(
            request,
            action="privacy.erasure.request",
            object_type="client",
            object_id=client.pk,
            client=client,
            outcome=audit.Outcome.DENIED,
            detail={"problem": "within_retention"},
        )
        raise ErasureRefused(retention.explanation)
    with transaction.atomic():
        ErasureRequest.objects.filter(client=client).delete()
        made = ErasureRequest.objects.create(
            client=client,
            reason=reason,
            legal_basis=legal_basis if retention.applies else "",
            within_retention=retention.applies,
            requested_by=_acting_user(request),
            requested_at=now or timezone.now(),
        )
        audit.record(
            request,
            action="privacy.erasure.request",
            object_type="erasurerequest",
            object_id=made.pk,
            client=client,
            detail={"within_retention": retention.applies},
        )
    return made


def cancel_request(request: HttpRequest, client: Client) -> bool:
    with transaction.atomic():
        deleted, _counts = ErasureRequest.objects.filter(client=client).delete()
        if deleted:
            audit.record(
                request,
                action="privacy.erasure.cancel",
                object_type="client",
                object_id=client.pk,
                client=client,
            )
    return bool(deleted)


def record_tables() -> list[Table]:
    """The tables erasure deletes row by row, children first (the client row goes last)."""
    chosen = [t for t in tables() if t.rule.scope == Scope.RECORD and t.label != "accounts.client"]
    return deletion_order(chosen)


def account_tables() -> list[Table]:
    return [t for t in tables() if t.rule.scope == Scope.ACCOUNT]


def counts_for(client: Client) -> dict[str, int]:
    """How many rows each table holds for the client: what erasure would delete."""
    return {t.label: t.rows_of(client.pk).count() for t in tables()}


def _delete_rows(table: Table, client_pk: Any) -> dict[str, int]:
    _total, per_model = table.rows_of(client_pk).delete()
    return {label.lower(): count for label, count in per_model.items()}


def _keeps_account(user: User) -> bool:
    """Whether the client's login also serves another role, and so must stay."""
    return (
        Membership.objects.filter(user=user).exists()
        or NetworkMember.objects.filter(user=user).exists()
    )


def _confirmed(client: Client, typed: str) -> bool:
    return " ".join(typed.split()).casefold() == " ".join(client.display_name.split()).casefold()


def erase_client(request: HttpRequest, client: Client, *, confirm_name: str) -> ErasureRecord:
    """Delete the client's whole record in one transaction and keep an :class:`ErasureRecord`.
    Raises :class:`ErasureRefused` (nothing deleted) when the request or confirmation fails."""
    pending = pending_request(client)
    if pending is None:
        raise ErasureRefused(_("There is no erasure request for this client. Start again."))
    if not _confirmed(client, confirm_name):
        raise ErasureRefused(
            _("The name you typed does not match the client's name. Nothing was erased.")
        )
    retention = retention_of(client)
    if retention.applies and not pending.legal_basis:
        raise ErasureRefused(retention.explanation)
    client_pk = client.pk
    try:
        with transaction.atomic():
            locked = Client.objects.select_for_update().get(pk=client_pk)
            deleted: Counter[str] = Counter()
            for table in record_tables():
                deleted.update(_delete_rows(table, client_pk))
            # Other people's inbox entries that link into the record (their urls name it).
            others, _per = Notification.objects.filter(url__contains=str(client_pk)).delete()
            if others:
                deleted["notifications.notification"] += others
            left = {t.label: n for t in record_tables() if (n := t.rows_of(client_pk).count())}
            if left:
                raise RuntimeError(f"erasure left rows behind in {sorted(left)}")
            user = locked.user
            _total, per_model = Client.objects.filter(pk=client_pk).delete()
            deleted.update({label.lower(): n for label, n in per_model.items()})
            account_deleted = False
            if user is not None and not _keeps_account(user):
                _total, per_model = user.delete()
                deleted.update({label.lower(): n for label, n in per_model.items()})
                account_deleted = True
            made = ErasureRecord.objects.create(
                practice_id=locked.practice_id,
                client_ref=str(client_pk),
                erased_by=_acting_user(request),
                requested_at=pending.requested_at,
                reason=pending.reason,
                legal_basis=pending.legal_basis,
                within_retention=pending.within_retention,
                account_deleted=account_deleted,
                rows_deleted=dict(sorted(deleted.items())),
            )
            audit.record(
                request,
                action="privacy.erase",
                object_type="erasurerecord",
                object_id=made.pk,
                client_id=client_pk,
                detail={
                    "rows": sum(deleted.values()),
                    "tables": len(deleted),
                    "account_deleted": account_deleted,
                    "within_retention": pending.within_retention,
                },
            )
    except Exception:
        # Rolled back: record the failure outside the transaction, ids only.
        audit.record(
            request,
            action="privacy.erase",
            object_type="client",
            object_id=client_pk,
            client_id=client_pk,
            outcome=audit.Outcome.FAILED,
        )
        raise
    return made


def erasure_records(practice_id: int) -> models.QuerySet[ErasureRecord]:
    return ErasureRecord.objects.filter(practice_id=practice_id).select_related("erased_by")
