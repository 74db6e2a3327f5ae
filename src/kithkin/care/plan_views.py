"""The case plan, key contacts and consent.

The client sees her own plan (Purpose.SELF) and, with her care team, chooses and invites key
contacts; only the care team edits problems, goals and indicators (for anyone else those pages
do not exist); only the client herself decides what each network member may see. Each view first
fetches the client or the object through accounts.access, which audits the read and turns a
stranger into a 404, then handles the method, so every method is refused alike."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kithkin.accounts import access, invitations
from kithkin.accounts.access import Purpose
from kithkin.accounts.invitations import InvitationError
from kithkin.accounts.models import Client
from kithkin.audit import services as audit
from kithkin.care import plan
from kithkin.care.models import Goal, Indicator, IndicatorKind, KeyContact, Problem
from kithkin.care.plan_forms import (
    ChooseContactForm,
    ConsentForm,
    ContactWhyForm,
    GoalEditForm,
    GoalForm,
    IndicatorForm,
    InviteForm,
    ProblemEditForm,
    ProblemForm,
)
from kithkin.network.services import audience_for

VIEWERS = (Purpose.CARE, Purpose.SELF)


def _client(request: HttpRequest, client_id: UUID, verb: str, *purposes: Purpose) -> Client:
    return access.get_client(request, client_id, *(purposes or VIEWERS), action=f"care.{verb}")


def _context(request: HttpRequest, client: Client, **extra: Any) -> dict[str, Any]:
    audience = audience_for(request.user, client)
    return {"client": client, "audience": audience, "is_client": audience == "client", **extra}


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def _to_plan(client: Client) -> HttpResponse:
    return redirect("care_plan", client_id=client.pk)


# --- the plan --------------------------------------------------------------------------------


def care_plan(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "plan.view")
    context = _context(request, client)
    context["view"] = plan.plan_view(client, audience=context["audience"])
    return render(request, "care/plan_hub.html", context)


def care_problem_add(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "problem.add", Purpose.CARE)
    form = ProblemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        plan.add_problem(request, client, form.cleaned_data["text"])
        messages.success(request, _("The problem was added to the plan."))
        return _to_plan(client)
    return render(request, "care/plan_problem_form.html", _context(request, client, form=form))


def care_problem(request: HttpRequest, client_id: UUID, problem_id: UUID) -> HttpResponse:
    problem = access.get_scoped(
        request,
        Problem.objects.select_related("client").filter(client_id=client_id),
        Purpose.CARE,
        action="care.problem.view",
        pk=problem_id,
    )
    client = problem.client
    form = ProblemEditForm(
        request.POST or None,
        initial={"text": problem.text, "resolved": problem.resolved_at is not None},
    )
    if request.method == "POST" and form.is_valid():
        if plan.update_problem(
            request,
            problem,
            text=form.cleaned_data["text"],
            resolved=form.cleaned_data["resolved"],
        ):
            messages.success(request, _("The problem was saved."))
        return _to_plan(client)
    return render(
        request,
        "care/plan_problem_form.html",
        _context(request, client, form=form, problem=problem),
    )


def care_goal_add(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "goal.add", Purpose.CARE)
    form = GoalForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        goal = plan.add_goal(
            request,
            client,
            title=data["title"],
            description=data["description"],
            problem=data["problem"],
            target_date=data["target_date"],
        )
        messages.success(
            request, _("The goal was added. Now choose how you will follow its progress.")
        )
        return redirect("care_indicator_add", client_id=client.pk, goal_id=goal.pk)
    return render(request, "care/plan_goal_form.html", _context(request, client, form=form))


def _goal(request: HttpRequest, client_id: UUID, goal_id: UUID, verb: str) -> Goal:
    return access.get_scoped(
        request,
        Goal.objects.select_related("client", "problem").filter(client_id=client_id),
        Purpose.CARE,
        action=f"care.goal.{verb}",
        pk=goal_id,
    )


def care_goal(request: HttpRequest, client_id: UUID, goal_id: UUID) -> HttpResponse:
    goal = _goal(request, client_id, goal_id, "view")
    client = goal.client
    initial = {name: getattr(goal, name) for name in plan.GOAL_FIELDS}
    form = GoalEditForm(request.POST or None, client=client, initial=initial)
    if request.method == "POST" and form.is_valid():
        if plan.update_goal(request, goal, form.cleaned_data):
            messages.success(request, _("The goal was saved."))
        return _to_plan(client)
    context = _context(request, client, form=form, goal=goal)
    context["progress"] = plan.progress_for([goal], audience=context["audience"])[goal.pk]
    return render(request, "care/plan_goal.html", context)


def care_indicator_add(request: HttpRequest, client_id: UUID, goal_id: UUID) -> HttpResponse:
    goal = _goal(request, client_id, goal_id, "indicator.add")
    client = goal.client
    context = _context(request, client, goal=goal)
    form = IndicatorForm(request.POST or None, client=client, audience=context["audience"])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == IndicatorKind.SCORE:
                plan.add_score_indicator(
                    request,
                    goal,
                    instrument_id=data["instrument_id"],
                    target_score=data["target_score"],
                )
            else:
                plan.add_rhythm_indicator(
                    request,
                    goal,
                    person=data["person"],
                    target_days=data["target_days"],
                    audience=context["audience"],
                )
        except plan.PlanError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The goal will now show its progress on this."))
            return redirect("care_goal", client_id=client.pk, goal_id=goal.pk)
    context["form"] = form
    return render(request, "care/plan_indicator_form.html", context)


def care_indicator_remove(
    request: HttpRequest, client_id: UUID, goal_id: UUID, indicator_id: UUID
) -> HttpResponse:
    indicator = access.get_scoped(
        request,
        Indicator.objects.filter(goal_id=goal_id, goal__client_id=client_id),
        Purpose.CARE,
        action="care.indicator.view",
        client_path="goal__client",
        pk=indicator_id,
    )
    refused = _post_only(request)
    if refused:
        return refused
    plan.remove_indicator(request, indicator, client_id)
    messages.success(request, _("That way of following the goal was removed."))
    return redirect("care_goal", client_id=client_id, goal_id=goal_id)


# --- key contacts ----------------------------------------------------------------------------


def care_contacts(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "contacts.view")
    context = _context(request, client)
    audience = context["audience"]
    form = ChooseContactForm(request.POST or None, client=client, audience=audience)
    if request.method == "POST":
        if form.is_valid():
            person = form.cleaned_data["person"]
            try:
                contact = plan.choose(request, client, person, audience=audience)
            except plan.PlanError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("%(name)s is now a key contact. You can invite them when you are ready.")
                    % {"name": person.name},
                )
                return redirect("care_contact", client_id=client.pk, contact_id=contact.pk)
        else:
            audit.record(
                request,
                action="care.contact.choose",
                object_type="client",
                object_id=client.pk,
                client=client,
                outcome=audit.Outcome.FAILED,
            )
    context.update(
        {
            "form": form,
            "candidates": plan.candidates(client, audience=audience),
            "contacts": plan.key_contact_rows(client),
        }
    )
    return render(request, "care/plan_contacts.html", context)


def _contact(request: HttpRequest, client_id: UUID, contact_id: UUID, verb: str) -> KeyContact:
    return access.get_scoped(
        request,
        KeyContact.objects.current()
        .select_related("client__practice", "person", "invitation", "network_member__user")
        .filter(client_id=client_id),
        *VIEWERS,
        action=f"care.contact.{verb}",
        pk=contact_id,
    )


def care_contact(request: HttpRequest, client_id: UUID, contact_id: UUID) -> HttpResponse:
    contact = _contact(request, client_id, contact_id, "view")
    client = contact.client
    form = ContactWhyForm(request.POST or None, initial={"why": contact.why})
    if request.method == "POST":
        name = contact.person.name
        if "remove" in request.POST:
            plan.remove_contact(request, contact)
            messages.success(request, _("%(name)s is no longer a key contact.") % {"name": name})
            return redirect("care_contacts", client_id=client.pk)
        if "end_access" in request.POST:
            member = contact.network_member
            if member is not None and plan.end_access(request, member):
                messages.success(
                    request,
                    _("%(name)s's access has ended. Nothing is shared with them any more.")
                    % {"name": name},
                )
            else:
                messages.info(request, _("%(name)s has no access to end.") % {"name": name})
            return redirect("care_contact", client_id=client.pk, contact_id=contact.pk)
        if form.is_valid():
            if plan.update_why(request, contact, form.cleaned_data["why"]):
                messages.success(request, _("Saved."))
            return redirect("care_contact", client_id=client.pk, contact_id=contact.pk)
    context = _context(request, client, contact=contact, form=form)
    row = plan.ContactRow(contact, plan.status_of(contact))
    context.update(
        {
            "row": row,
            "strain_warning": plan.strain_warning(contact.person, audience=context["audience"])
            if plan.is_strained(contact.person)
            else "",
        }
    )
    return render(request, "care/plan_contact.html", context)


def care_contact_invite(request: HttpRequest, client_id: UUID, contact_id: UUID) -> HttpResponse:
    contact = _contact(request, client_id, contact_id, "view")
    client = contact.client
    context = _context(request, client, contact=contact)
    row = plan.ContactRow(contact, plan.status_of(contact))
    form = InviteForm(request.POST or None, initial={"display_name": contact.person.name})
    if request.method == "POST" and form.is_valid():
        try:
            sent = plan.invite(
                request,
                contact,
                email=form.cleaned_data["email"],
                display_name=form.cleaned_data["display_name"],
                audience=context["audience"],
            )
        except plan.PlanError as error:
            form.add_error(None, str(error))
        except InvitationError as error:
            form.add_error("email", str(error))
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. The link works once, for %(days)s days.")
                % {"email": sent.invitation.email, "days": invitations.max_age().days},
            )
            return redirect("care_contact", client_id=client.pk, contact_id=contact.pk)
    context.update({"form": form, "row": row})
    return render(request, "care/plan_contact_invite.html", context)


# --- consent ---------------------------------------------------------------------------------


def _prefix(row: plan.MemberConsent) -> str:
    return f"member-{row.member.pk}"


def care_consent(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "consent.view")
    context = _context(request, client)
    deciding = context["is_client"]
    rows = plan.consent_rows(client)
    if request.method == "POST":
        if not deciding:
            # The care team sees the choices; only the client makes them.
            audit.record(
                request,
                action="care.consent.decide",
                object_type="client",
                object_id=client.pk,
                client=client,
                outcome=audit.Outcome.DENIED,
            )
            raise PermissionDenied
        return _save_consent(request, client, rows)
    context.update(
        {
            "rows": [
                (
                    row,
                    ConsentForm(
                        prefix=_prefix(row),
                        initial=row.choices,
                        audience=context["audience"],
                        read_only=not deciding,
                    ),
                )
                for row in rows
            ],
            "deciding": deciding,
        }
    )
    return render(request, "care/plan_consent.html", context)


def _save_consent(
    request: HttpRequest, client: Client, rows: list[plan.MemberConsent]
) -> HttpResponse:
    stop = request.POST.get("stop")
    if stop is not None:
        row = next((r for r in rows if str(r.member.pk) == stop), None)
        if row is None:
            messages.info(request, _("That person is no longer part of your network."))
        elif plan.save_consent(request, row, {}):
            messages.success(
                request,
                _("Nothing is shared with %(name)s any more, from their very next visit.")
                % {"name": row.name},
            )
        else:
            messages.info(request, _("Nothing was shared with %(name)s.") % {"name": row.name})
        return redirect("care_consent", client_id=client.pk)
    changed = []
    for row in rows:
        form = ConsentForm(request.POST, prefix=_prefix(row), audience="client")
        if form.is_valid() and plan.save_consent(request, row, form.choices()):
            changed.append(row.name)
    if changed:
        messages.success(
            request,
            _("Saved. The change shows from their very next visit: %(names)s.")
            % {"names": ", ".join(changed)},
        )
    else:
        messages.info(request, _("Nothing changed."))
    return redirect("care_consent", client_id=client.pk)


def care_consent_history(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "consent.history")
    context = _context(request, client)
    audience = context["audience"]
    context["histories"] = [
        (history, [(grant, plan.shared_labels(grant, audience)) for grant in history.grants])
        for history in plan.consent_history(client)
    ]
    return render(request, "care/plan_consent_history.html", context)
