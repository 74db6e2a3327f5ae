"""A practice admin looks after the practice's staff accounts: resetting two-step sign-in for
someone who lost their phone and their recovery codes, ending the access of someone who has
left (and restoring it, if that was a mistake).

Every change is about one staff member of the admin's own practice (:func:`staff_member`, a 404
audited as denied for anyone else), is never about the admin herself (her own settings do that),
ends the person's sessions at once, and is audited with ids only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kithkin.accounts import access, mfa
from kithkin.accounts.models import AuthenticatorDevice, Membership, Practice, Role, User
from kithkin.audit import services as audit
from kithkin.security import sessions


class StaffChangeRefused(Exception):
    """The change cannot be made; the message says why in plain words."""


@dataclass(frozen=True)
class StaffRow:
    membership: Membership
    has_app: bool
    clients: int
    lead_for: int

    @property
    def user(self) -> User:
        return self.membership.user


def staff_rows(practice: Practice) -> list[StaffRow]:
    """Every staff member of the practice, access ended or not, with what the admin needs to
    decide: whether they have an authenticator app, and how many clients they are on the care
    team of (and lead for). One query, however many staff."""
    memberships: QuerySet[Membership] = (
        Membership.objects.filter(practice=practice)
        .select_related("user")
        .annotate(
            has_app=Exists(
                AuthenticatorDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)
            ),
            clients=Count("user__care_team_links", distinct=True),
            lead_for=Count(
                "user__care_team_links",
                filter=Q(user__care_team_links__is_lead=True),
                distinct=True,
            ),
        )
        .order_by("-user__is_active", "user__display_name", "pk")
    )
    return [
        StaffRow(m, bool(m.has_app), int(m.clients), int(m.lead_for))  # type: ignore[attr-defined]
        for m in memberships
    ]


def staff_member(request: HttpRequest, staff_id: Any, *, action: str) -> Membership:
    """One staff member of the requesting admin's practice; 404 (audited) for anyone else."""
    admin = access.practice_admin_membership(request)
    try:
        return Membership.objects.select_related("user").get(
            practice_id=admin.practice_id, user_id=int(staff_id)
        )
    except (Membership.DoesNotExist, TypeError, ValueError):
        audit.record(
            request,
            action=action,
            object_type="user",
            object_id=str(staff_id)[:64],
            outcome=audit.Outcome.DENIED,
        )
        raise Http404 from None


def _refuse_self(request: HttpRequest, membership: Membership, action: str) -> None:
    if membership.user_id == request.user.pk:
        audit.record(
            request,
            action=action,
            object_type="user",
            object_id=membership.user_id,
            outcome=audit.Outcome.DENIED,
            detail={"why": "self"},
        )
        raise StaffChangeRefused(_("You cannot do this to your own account. Ask another admin."))


def _sign_out_everywhere(request: HttpRequest, user: User, action: str) -> None:
    """End every session of the person and audit the change with how many ended."""
    ended = sessions.end_sessions(user)
    audit.record(
        request,
        action=action,
        object_type="user",
        object_id=user.pk,
        detail={"sessions_ended": ended},
    )


def reset_two_step(request: HttpRequest, membership: Membership) -> None:
    """Remove the person's authenticator app and recovery codes and sign them out everywhere:
    at their next sign-in, after the password, they set up a new app. They are told by email."""
    action = "staff.two_step_reset"
    _refuse_self(request, membership, action)
    user = membership.user
    with transaction.atomic():
        mfa.remove_devices(user)
        _sign_out_everywhere(request, user, action)
        context = {"name": user.display_name, "practice": membership.practice.name}
        subject = render_to_string("accounts/staff/two_step_reset_subject.txt", context).strip()
        body = render_to_string("accounts/staff/two_step_reset_body.txt", context)
        transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))


def _active_admins(practice_id: Any) -> int:
    return Membership.objects.filter(
        practice_id=practice_id, role=Role.ADMIN, user__is_active=True
    ).count()


def end_access(request: HttpRequest, membership: Membership) -> None:
    """The person can no longer sign in or reach any client, from their next request: their
    account is made inactive and every session ends. Nothing they wrote is removed."""
    action = "staff.access_end"
    _refuse_self(request, membership, action)
    user = membership.user
    with transaction.atomic():
        # The practice's admins are locked, so two admins ending each other's access at once
        # cannot leave the practice with none.
        list(
            User.objects.select_for_update()
            .filter(membership__practice_id=membership.practice_id, membership__role=Role.ADMIN)
            .values_list("pk", flat=True)
        )
        if membership.is_admin and _active_admins(membership.practice_id) <= 1:
            raise StaffChangeRefused(_("The practice needs at least one admin."))
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        _sign_out_everywhere(request, user, action)


def restore_access(request: HttpRequest, membership: Membership) -> None:
    """Undo :func:`end_access`: the person may sign in again (with two-step sign-in as before)."""
    action = "staff.access_restore"
    _refuse_self(request, membership, action)
    user = membership.user
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=True)
        user.is_active = True
        audit.record(request, action=action, object_type="user", object_id=user.pk)
