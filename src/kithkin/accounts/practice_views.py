"""Practice administration, client pages and invitation acceptance.

Each view first decides access (through accounts.access), then handles the method, so a stranger
is refused the same way whatever method they use."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from kithkin.accounts import access, invitations, mfa, services, staff
from kithkin.accounts.access import Purpose
from kithkin.accounts.invitations import AcceptanceRefused, InvitationError, Problem
from kithkin.accounts.models import Client, Role
from kithkin.accounts.practice_forms import (
    AcceptInvitationForm,
    CareTeamAddForm,
    CareTeamChangeForm,
    ClientAdminForm,
    ClientConcernsForm,
    ClientCreateForm,
    PortalInviteForm,
    StaffInviteForm,
)
from kithkin.audit import services as audit
from kithkin.measures.models import RiskAlert

CLIENTS_PER_PAGE = 25


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def _is_admin_of(request: HttpRequest, client: Client) -> bool:
    membership = access.membership_of(request.user)
    return (
        membership is not None
        and membership.is_admin
        and membership.practice_id == client.practice_id
    )


# --- practice page -----------------------------------------------------------------------


def practice(request: HttpRequest) -> HttpResponse:
    membership = access.practice_admin_membership(request)
    practice = membership.practice
    page = Paginator(services.practice_clients(practice), CLIENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    audit.record(
        request,
        action="practice.view",
        object_type="practice",
        object_id=practice.pk,
        detail={"clients_shown": len(page.object_list)},
    )
    return render(
        request,
        "accounts/practice_page.html",
        {
            "practice": practice,
            "staff": services.practice_staff(practice),
            "page": page,
            "invitations": services.pending_invitations(practice),
        },
    )


STAFF_CHANGES = {
    "reset_two_step": (staff.reset_two_step, "staff.two_step_reset"),
    "end_access": (staff.end_access, "staff.access_end"),
    "restore_access": (staff.restore_access, "staff.access_restore"),
}


def practice_staff(request: HttpRequest) -> HttpResponse:
    """The practice's staff accounts: reset two-step sign-in, end or restore access. The staff
    member travels in the POST body; each change needs the admin to have confirmed who she is
    in the last few minutes."""
    membership = access.practice_admin_membership(request)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        change = STAFF_CHANGES.get(request.POST.get("change", ""))
        if change is None:
            messages.error(request, _("Choose what to change."))
            return redirect("practice_staff")
        do, action = change
        member = staff.staff_member(request, request.POST.get("staff"), action=action)
        if refusal := mfa.require_recent_auth(
            request, back=reverse("practice_staff"), cancel=reverse("practice_staff")
        ):
            return refusal
        try:
            do(request, member)
        except staff.StaffChangeRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request, STAFF_DONE[request.POST["change"]] % {"name": member.user.display_name}
            )
        return redirect("practice_staff")
    audit.record(
        request,
        action="practice.staff.view",
        object_type="practice",
        object_id=membership.practice_id,
    )
    return render(
        request,
        "accounts/practice_staff.html",
        {"practice": membership.practice, "rows": staff.staff_rows(membership.practice)},
    )


STAFF_DONE = {
    "reset_two_step": _lazy(
        "Two-step sign-in was reset for %(name)s. They were signed out and will set up their "
        "app again at their next sign-in. We emailed them."
    ),
    "end_access": _lazy(
        "%(name)s can no longer sign in. Their sessions have ended. Nothing they wrote was removed."
    ),
    "restore_access": _lazy("%(name)s can sign in again."),
}


def invite_staff(request: HttpRequest) -> HttpResponse:
    membership = access.practice_admin_membership(request)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = invitations.invite_staff(
                request,
                membership.practice,
                email=form.cleaned_data["email"],
                display_name=form.cleaned_data["display_name"],
                role=Role(form.cleaned_data["role"]),
            )
        except InvitationError as error:
            form.add_error("email", str(error))
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. The link works for %(days)s days.")
                % {"email": sent.invitation.email, "days": invitations.max_age().days},
            )
            return redirect("practice")
    return render(request, "accounts/practice_invite_staff.html", {"form": form})


def client_create(request: HttpRequest) -> HttpResponse:
    membership = access.practice_admin_membership(request)
    staff = services.care_team_candidates_for_practice(membership.practice)
    form = ClientCreateForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client = services.create_client(
                request,
                membership.practice,
                services.NewClient(
                    display_name=data["display_name"],
                    preferred_name=data["preferred_name"],
                    birth_year=data["birth_year"],
                    presenting_concerns=data["presenting_concerns"],
                    care_team=list(data["care_team"]),
                    lead=data["lead"],
                ),
            )
        except services.CareTeamError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(name)s was added.") % {"name": client.display_name})
            return redirect("client_overview", client_id=client.pk)
    return render(request, "accounts/practice_client_form.html", {"form": form})


def invitation_revoke(request: HttpRequest, invitation_id: UUID) -> HttpResponse:
    invitation = services.revocable_invitations(request.user).filter(pk=invitation_id).first()
    if invitation is None:
        audit.record(
            request,
            action="invitation.revoke",
            object_type="invitation",
            object_id=invitation_id,
            outcome=audit.Outcome.DENIED,
        )
        raise Http404
    refused = _post_only(request)
    if refused:
        return refused
    if invitations.revoke(request, invitation):
        messages.success(
            request,
            _("The invitation to %(email)s was withdrawn. Its link no longer works.")
            % {"email": invitation.email},
        )
    else:
        messages.info(
            request, _("That invitation had already been used, withdrawn or had expired.")
        )
    if request.POST.get("from") == "client" and invitation.client_id is not None:
        return redirect("client_overview", client_id=invitation.client_id)
    return redirect("practice")


# --- client pages ------------------------------------------------------------------------


def client_overview(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(request, client_id, Purpose.CARE, Purpose.MANAGE)
    # The care team, or someone holding live break-glass access (accounts.breakglass).
    clinical = access.has_care_access(request.user, client)
    context: dict[str, Any] = {
        "client": client,
        "clinical": clinical,
        "is_admin": _is_admin_of(request, client),
        "age": services.age_of(client),
        "care_team": services.care_team(client),
        "has_portal": client.user_id is not None,
        "invitations": services.pending_client_invitations(client),
        # Clinical content is handed to the template only for the care team.
        "presenting_concerns": client.presenting_concerns if clinical else None,
        "network_members": services.network_members(client) if clinical else None,
        "open_alerts": RiskAlert.objects.open().filter(client=client).count() if clinical else 0,
    }
    return render(request, "accounts/client_overview.html", context)


def client_edit(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(request, client_id, Purpose.MANAGE, action="client.edit")
    form = ClientAdminForm.for_client(client, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.update_client_admin(request, client, form.cleaned_data)
        messages.success(request, _("The client's details were saved."))
        return redirect("client_overview", client_id=client.pk)
    return render(request, "accounts/client_edit.html", {"client": client, "form": form})


def client_concerns(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(request, client_id, Purpose.CARE, action="client.concerns")
    form = ClientConcernsForm(
        request.POST or None, initial={"presenting_concerns": client.presenting_concerns}
    )
    if request.method == "POST" and form.is_valid():
        if services.update_presenting_concerns(
            request, client, form.cleaned_data["presenting_concerns"]
        ):
            messages.success(request, _("The presenting concerns were saved."))
        return redirect("client_overview", client_id=client.pk)
    return render(request, "accounts/client_concerns.html", {"client": client, "form": form})


def client_care_team(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(request, client_id, Purpose.MANAGE, action="care_team.view")
    team = services.care_team(client)
    candidates = services.care_team_candidates(client)
    add_form = CareTeamAddForm(candidates=candidates, prefix="add")
    if request.method == "POST":
        try:
            if "add-user" in request.POST:
                add_form = CareTeamAddForm(request.POST, candidates=candidates, prefix="add")
                if add_form.is_valid():
                    user = add_form.cleaned_data["user"]
                    services.add_to_care_team(
                        request, client, user, lead=add_form.cleaned_data["lead"]
                    )
                    messages.success(request, _("%(name)s joined the care team.") % {"name": user})
                    return redirect("client_care_team", client_id=client.pk)
            else:
                change = CareTeamChangeForm(request.POST, team=services.care_team_users(client))
                if not change.is_valid():
                    messages.error(request, _("That person is not on this care team any more."))
                    return redirect("client_care_team", client_id=client.pk)
                user = change.cleaned_data["user"]
                if change.cleaned_data["change"] == "remove":
                    services.remove_from_care_team(request, client, user)
                    messages.success(request, _("%(name)s left the care team.") % {"name": user})
                else:
                    services.make_lead(request, client, user)
                    messages.success(
                        request, _("%(name)s is now the lead clinician.") % {"name": user}
                    )
                return redirect("client_care_team", client_id=client.pk)
        except services.CareTeamError as error:
            messages.error(request, str(error))
            return redirect("client_care_team", client_id=client.pk)
    return render(
        request,
        "accounts/client_care_team.html",
        {"client": client, "team": team, "add_form": add_form, "can_add": candidates.exists()},
    )


def client_invite_portal(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(
        request, client_id, Purpose.CARE, Purpose.MANAGE, action="invitation.view"
    )
    form = PortalInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = invitations.invite_client(request, client, email=form.cleaned_data["email"])
        except InvitationError as error:
            form.add_error("email", str(error))
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": sent.invitation.email},
            )
            return redirect("client_overview", client_id=client.pk)
    return render(request, "accounts/client_invite_portal.html", {"client": client, "form": form})


# --- accepting an invitation (public) ----------------------------------------------------

PROBLEM_STATUS = {
    # A link we cannot read looks like one that never existed.
    Problem.TAMPERED: 404,
    Problem.EXPIRED: 410,
    Problem.USED: 410,
    Problem.REVOKED: 410,
    Problem.ACCOUNT_EXISTS: 409,
    Problem.CLIENT_HAS_LOGIN: 409,
}


def _problem_page(request: HttpRequest, refused: AcceptanceRefused) -> HttpResponse:
    return render(
        request,
        "accounts/invitation_problem.html",
        {"problem": refused.problem.value},
        status=PROBLEM_STATUS[refused.problem],
    )


@login_not_required
@never_cache
@sensitive_post_parameters("password1", "password2")
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitations.check(token)
    except AcceptanceRefused as refused:
        invitations.record_refusal(request, refused)
        return _problem_page(request, refused)
    context = invitations.intro_context(invitation)
    if request.user.is_authenticated:
        # Accepting would sign this person out of their own account into a new one.
        return render(request, "accounts/invitation_signed_in.html", context, status=409)
    form = AcceptInvitationForm(
        request.POST or None,
        email=invitation.email,
        initial={"display_name": invitation.display_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.accept(
                request,
                token,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password1"],
            )
        except AcceptanceRefused as refused:
            return _problem_page(request, refused)
        login(request, user, backend="kithkin.accounts.backends.EmailBackend")
        messages.success(request, _("Welcome to Kithkin. Your account is ready."))
        return redirect("home")
    return render(request, "accounts/invitation_accept.html", {**context, "form": form})
