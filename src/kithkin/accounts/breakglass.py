"""Break-glass emergency access: a staff member who is not on a client's care team reaches that
client's clinical record for a short, stated time, when waiting for the care team could harm.

- Opening it needs a reason (at least :data:`MIN_REASON_LENGTH` characters, stored encrypted) and
  a duration, capped by ``KITHKIN_BREAK_GLASS_MINUTES``; only staff of the client's practice may.
- While it is live, :mod:`kithkin.accounts.access` adds ``Purpose.CARE`` for that one client and
  that one user, and tags every audited read with the grant's id. It stops by itself at
  ``expires_at`` (a time comparison in the query: no job has to run), or earlier with "End now".
- Opening it tells the practice admins and the client's lead clinician at once (a critical
  notification, always emailed, naming no client), and an admin reviews every use afterwards.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Max, Min
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts import access
from kithkin.accounts.models import BreakGlassAccess, CareTeamMember, Client, Membership, Role, User
from kithkin.audit import services as audit
from kithkin.audit.models import AuditEvent
from kithkin.notifications import kinds
from kithkin.notifications import services as notifications

__all__ = [
    "MIN_REASON_LENGTH",
    "BreakGlassError",
    "Use",
    "end_access",
    "live_grants",
    "max_minutes",
    "open_access",
    "review",
    "search_clients",
    "uses_for_review",
]

MIN_REASON_LENGTH = 20
REASON_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 2000
SEARCH_LIMIT = 20


class BreakGlassError(ValueError):
    """A break-glass request that cannot be done as asked; the message names the problem and is
    safe to show to the person who asked."""


def max_minutes() -> int:
    """The longest a grant may run (``KITHKIN_BREAK_GLASS_MINUTES``, at least one minute)."""
    return max(1, int(settings.BREAK_GLASS_MAX_MINUTES))


def _staff_membership(user: Any) -> Membership | None:
    membership = access.membership_of(user)
    if membership is None or not user.is_active:
        return None
    return membership


# --- finding a client ----------------------------------------------------------------------


def search_clients(user: User, query: str) -> list[Client]:
    """Clients of the staff member's own practice whose name contains ``query`` (at least two
    characters), nearest names first, at most :data:`SEARCH_LIMIT`. Each carries
    ``on_care_team`` so the page can send the care team to the record instead."""
    query = " ".join(query.split())
    if len(query) < 2:
        return []
    mine = CareTeamMember.objects.filter(client=models.OuterRef("pk"), user=user)
    found = (
        access.emergency_candidates(user)
        .filter(models.Q(display_name__icontains=query) | models.Q(preferred_name__icontains=query))
        .annotate(on_care_team=models.Exists(mine))
        .order_by("display_name", "pk")
    )
    return list(found[:SEARCH_LIMIT])


# --- opening and ending --------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    reason = str(reason).strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise BreakGlassError(
            _(
                "Please give the reason in at least %(count)d characters: what is happening and "
                "why it cannot wait for the care team."
            )
            % {"count": MIN_REASON_LENGTH}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise BreakGlassError(
            _("Please keep the reason under %(count)d characters.") % {"count": REASON_MAX_LENGTH}
        )
    return reason


def _clean_minutes(minutes: Any) -> int:
    longest = max_minutes()
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= longest:
        raise BreakGlassError(
            _("Emergency access can last from 1 to %(count)d minutes.") % {"count": longest}
        )
    return value


def _people_to_tell(client: Client, opener: User) -> list[User]:
    """The practice's admins and the client's lead clinician, once each, not the opener; each
    with ``is_admin`` (one query)."""
    admin = models.Q(membership__practice_id=client.practice_id, membership__role=Role.ADMIN)
    lead = models.Q(care_team_links__client=client, care_team_links__is_lead=True)
    admins = Membership.objects.filter(
        user=models.OuterRef("pk"), practice_id=client.practice_id, role=Role.ADMIN
    )
    people = (
        User.objects.filter(pk__in=User.objects.filter(admin | lead).values("pk"), is_active=True)
        .exclude(pk=opener.pk)
        .annotate(is_admin=models.Exists(admins))
        .order_by("pk")
    )
    return list(people)


def _local_time(moment: datetime, person: User) -> str:
    try:
        zone = zoneinfo.ZoneInfo(person.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%H:%M %Z")


def _tell(client: Client, grant: BreakGlassAccess, opener: User) -> None:
    # No client name and no reason: the email may sit on a shared screen. The link names the
    # client by UUID only: admins go to the review page, the lead to the client's audit trail.
    for person in _people_to_tell(client, opener):
        if getattr(person, "is_admin", False):
            url = reverse("breakglass_review")
        else:
            url = reverse("client_audit", kwargs={"client_id": client.pk})
        notifications.notify(
            person,
            kind=kinds.BREAK_GLASS,
            title=_("%(name)s opened emergency access to a client's record")
            % {"name": opener.display_name},
            body=_(
                "%(name)s is not on this client's care team and gave a reason for needing their "
                "record now. The access ends by %(time)s at the latest. Everything they open is "
                "recorded, and a practice admin reviews it afterwards."
            )
            % {"name": opener.display_name, "time": _local_time(grant.expires_at, person)},
            url=url,
            critical=True,
        )


def open_access(
    request: HttpRequest,
    client: Client,
    reason: str,
    minutes: Any,
    *,
    now: datetime | None = None,
) -> BreakGlassAccess:
    """Open emergency access to ``client`` for the requesting staff member, for ``minutes``.

    Only staff of the client's practice may; someone already on the care team does not need it,
    and one live grant per person and client is enough. Refusals raise :class:`BreakGlassError`
    and change nothing (a refusal for someone outside the practice is audited as denied)."""
    user = request.user
    assert isinstance(user, User)
    membership = _staff_membership(user)
    if membership is None or membership.practice_id != client.practice_id:
        audit.record(
            request,
            action="breakglass.open",
            object_type="client",
            object_id=client.pk,
            outcome=audit.Outcome.DENIED,
        )
        raise BreakGlassError(_("Only staff of this client's practice can open emergency access."))
    if CareTeamMember.objects.filter(client=client, user=user).exists():
        raise BreakGlassError(
            _("You are on this client's care team already: open their record as usual.")
        )
    now = now or timezone.now()
    if access.live_break_glass(user, now).filter(client=client).exists():
        raise BreakGlassError(
            _("You already have emergency access to this client. End it before opening it again.")
        )
    reason = _clean_reason(reason)
    minutes = _clean_minutes(minutes)
    with transaction.atomic():
        grant = BreakGlassAccess.objects.create(
            user=user,
            client=client,
            reason=reason,
            started_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        audit.record(
            request,
            action="breakglass.open",
            object_type="break_glass",
            object_id=grant.pk,
            client=client,
            detail={"break_glass": grant.pk, "minutes": minutes},
        )
        _tell(client, grant, user)
    access.forget_break_glass(user)
    return grant


def end_access(
    request: HttpRequest, grant: BreakGlassAccess, *, now: datetime | None = None
) -> bool:
    """End a live grant now ("End now"). Returns False if it had already ended or expired.
    The caller has fetched ``grant`` through :func:`live_grants` or :func:`grants_to_review`."""
    now = now or timezone.now()
    with transaction.atomic():
        ended = (
            BreakGlassAccess.objects.live(now)
            .filter(pk=grant.pk)
            .update(ended_at=now, ended_by_id=request.user.pk)
        )
        if not ended:
            return False
        grant.ended_at, grant.ended_by_id = now, request.user.pk
        audit.record(
            request,
            action="breakglass.end",
            object_type="break_glass",
            object_id=grant.pk,
            client_id=grant.client_id,
            detail={"break_glass": grant.pk},
        )
    access.forget_break_glass(request.user)
    return True


def live_grants(user: User, now: datetime | None = None) -> models.QuerySet[BreakGlassAccess]:
    """The user's own grants in force now, soonest to end first (the banner shows these)."""
    return access.live_break_glass(user, now).select_related("client").order_by("expires_at")


# --- review --------------------------------------------------------------------------------


def grants_to_review(admin: User) -> models.QuerySet[BreakGlassAccess]:
    """Every grant in the admin's practice: waiting for review first, newest first. Empty for
    anyone who is not an admin."""
    membership = _staff_membership(admin)
    if membership is None or not membership.is_admin:
        return BreakGlassAccess.objects.none()
    return (
        BreakGlassAccess.objects.filter(client__practice_id=membership.practice_id)
        .select_related("user", "client", "reviewed_by", "ended_by")
        .order_by(models.F("reviewed_at").desc(nulls_first=True), "-started_at", "-pk")
    )


def review(
    request: HttpRequest, grant: BreakGlassAccess, note: str, *, now: datetime | None = None
) -> BreakGlassAccess:
    """Mark a grant reviewed by the requesting admin, with an optional note (encrypted).

    The caller fetched ``grant`` through :func:`grants_to_review`. A grant still running cannot
    be reviewed (end it first), nor can an admin review their own."""
    now = now or timezone.now()
    note = str(note).strip()
    if grant.is_live(now):
        raise BreakGlassError(
            _("This emergency access is still running. End it, or wait until it ends, first.")
        )
    if grant.user_id == request.user.pk:
        raise BreakGlassError(
            _("Another admin of the practice needs to review emergency access you used yourself.")
        )
    if grant.reviewed_at is not None:
        raise BreakGlassError(_("This emergency access has been reviewed already."))
    if len(note) > NOTE_MAX_LENGTH:
        raise BreakGlassError(
            _("Please keep the note under %(count)d characters.") % {"count": NOTE_MAX_LENGTH}
        )
    with transaction.atomic():
        updated = BreakGlassAccess.objects.filter(pk=grant.pk, reviewed_at__isnull=True).update(
            reviewed_at=now, reviewed_by_id=request.user.pk, review_note=note
        )
        if not updated:
            raise BreakGlassError(_("This emergency access has been reviewed already."))
        grant.reviewed_at, grant.reviewed_by_id, grant.review_note = now, request.user.pk, note
        audit.record(
            request,
            action="breakglass.review",
            object_type="break_glass",
            object_id=grant.pk,
            client_id=grant.client_id,
            detail={"break_glass": grant.pk, "with_note": bool(note)},
        )
    return grant


@dataclass(frozen=True)
class Opened:
    """One kind of thing opened under a grant: the audit action, how often, first and last."""

    action: str
    object_type: str
    count: int
    first: datetime
    last: datetime


@dataclass
class Use:
    """One grant as the review page shows it."""

    grant: BreakGlassAccess
    opened: list[Opened] = field(default_factory=list)

    @property
    def minutes_used(self) -> int:
        end = min(self.grant.ends_at(), timezone.now())
        return max(0, round((end - self.grant.started_at).total_seconds() / 60))

    @property
    def live(self) -> bool:
        return self.grant.is_live()

    @property
    def reads(self) -> int:
        return sum(item.count for item in self.opened)


def opened_under(grant_ids: list[int]) -> dict[int, list[Opened]]:
    """What each grant opened, from the audit trail by grant id: one query for all of them."""
    if not grant_ids:
        return {}
    rows = (
        AuditEvent.objects.filter(detail__break_glass__in=grant_ids)
        .exclude(action__startswith="breakglass.")
        .values("detail__break_glass", "action", "object_type")
        .annotate(count=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("detail__break_glass", "first")
    )
    found: dict[int, list[Opened]] = defaultdict(list)
    for row in rows:
        found[int(row["detail__break_glass"])].append(
            Opened(row["action"], row["object_type"], row["count"], row["first"], row["last"])
        )
    return found


def uses_for_review(grants: list[BreakGlassAccess]) -> list[Use]:
    """The review page's rows for one page of grants: two queries however many there are."""
    opened = opened_under([grant.pk for grant in grants])
    return [Use(grant, opened.get(grant.pk, [])) for grant in grants]


def banner_grants(user: User | Any) -> list[BreakGlassAccess]:
    """The live grants the banner on every page shows. Costs nothing more for the many staff
    without one: the per-request grant lookup in accounts.access answers first."""
    if user is None or not access.break_glass_grants(user):
        return []
    assert isinstance(user, User)
    return list(live_grants(user))
