"""Network sessions and actions: the care team's pages, and the client's own view of them.

Each view first fetches the client, session or action through accounts.access (audited; a
stranger gets a 404), then handles the method, so every method is refused alike. The care team
(Purpose.CARE) sees and edits everything, including the private notes; the client
(Purpose.SELF) reads her sessions and actions, never the notes, and changes only the actions
she owns. Members have their own pages (member_views)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import Client, User
from kithkin.care import session_templates, sessions
from kithkin.care.models import (
    Action,
    ActionStatus,
    AgendaStep,
    Goal,
    NetworkSession,
    OwnerKind,
    SessionStatus,
)
from kithkin.care.session_forms import (
    ActionForm,
    ActionStatusForm,
    AttendanceForm,
    CancelForm,
    ContributionForm,
    NoteForm,
    RescheduleForm,
    ScheduleForm,
    WrapUpForm,
)
from kithkin.care.sessions import SessionError
from kithkin.network.services import audience_for
from kithkin.security.limits import file_export_limited

SESSIONS_PER_PAGE = 20
ACTIONS_PER_PAGE = 50


def _client(request: HttpRequest, client_id: UUID, verb: str, *purposes: Purpose) -> Client:
    return access.get_client(request, client_id, *purposes, action=f"care.{verb}")


def _session(
    request: HttpRequest, client_id: UUID, session_id: UUID, verb: str, *purposes: Purpose
) -> NetworkSession:
    return access.get_scoped(
        request,
        NetworkSession.objects.select_related("client", "client__user").filter(client_id=client_id),
        *purposes,
        action=f"care.session.{verb}",
        pk=session_id,
    )


def _base(request: HttpRequest, client: Client) -> dict[str, Any]:
    audience = audience_for(request.user, client)
    return {"client": client, "audience": audience, "is_client": audience == "client"}


def _to_session(session: NetworkSession) -> HttpResponse:
    return redirect("care_session", client_id=session.client_id, session_id=session.pk)


# --- the list and booking --------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    session: NetworkSession
    kind: str
    to_wrap_up: bool = False


def _row(session: NetworkSession, now: datetime) -> SessionRow:
    return SessionRow(
        session,
        str(sessions.template_of(session).title),
        to_wrap_up=session.status == SessionStatus.PLANNED and session.starts_at <= now,
    )


def care_sessions(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "sessions.view", Purpose.CARE, Purpose.SELF)
    planned, earlier = sessions.sessions_of(client)
    page = Paginator(earlier, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    context = _base(request, client)
    context.update(
        {
            "planned": [_row(session, now) for session in planned],
            "earlier": [_row(session, now) for session in page.object_list],
            "page": page,
        }
    )
    return render(request, "care/session_list.html", context)


def care_session_new(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "session.new", Purpose.CARE)
    form = ScheduleForm(request.POST or None, candidates=sessions.candidates(client))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = sessions.schedule(
                request,
                client,
                template=data["template"],
                starts_at=data["starts_at"],
                duration_minutes=data["duration_minutes"],
                place=data["place"],
                video_link=data["video_link"],
                participant_keys=data["participants"],
            )
        except SessionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("The session is booked. Everyone invited gets an email with the time.")
            )
            return _to_session(session)
    context = _base(request, client)
    context.update({"form": form, "templates": session_templates.TEMPLATES})
    return render(request, "care/session_new.html", context)


# --- one session -----------------------------------------------------------------------------


def _session_page(
    request: HttpRequest,
    session: NetworkSession,
    *,
    contribution_form: ContributionForm | None = None,
    attendance_form: AttendanceForm | None = None,
    note_form: NoteForm | None = None,
) -> HttpResponse:
    context = _base(request, session.client)
    agenda = sessions.agenda(session, audience=context["audience"])
    context.update(
        {
            "session": session,
            "agenda": agenda,
            "ends_at": sessions.ends_at(session),
            "video_href": sessions.safe_video_link(session),
            "prompts": agenda.prompts,
            "can_work": session.status != SessionStatus.CANCELLED,
            "is_planned": session.status == SessionStatus.PLANNED,
            "today": _today(),
        }
    )
    # Only the care team's page holds the private notes and the forms.
    if context["audience"] == "clinician":
        context["notes"] = sessions.clinician_notes(session)
        context["note_form"] = note_form or NoteForm()
        if context["can_work"]:
            problems = [thread.problem for thread in agenda.problems]
            context["contribution_form"] = contribution_form or ContributionForm(
                participants=agenda.participants, problems=problems
            )
            context["attendance_form"] = attendance_form or AttendanceForm(
                participants=agenda.participants
            )
    return render(request, "care/session_detail.html", context)


def _today() -> date:
    return timezone.localdate()


def care_session(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    session = _session(request, client_id, session_id, "view", Purpose.CARE, Purpose.SELF)
    return _session_page(request, session)


def care_session_edit(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    session = _session(request, client_id, session_id, "edit", Purpose.CARE)
    if session.status != SessionStatus.PLANNED:
        messages.info(request, _("Only a planned session can be moved or cancelled."))
        return _to_session(session)
    form = RescheduleForm(request.POST if "reschedule" in request.POST else None, session=session)
    cancel_form = CancelForm(request.POST if "cancel" in request.POST else None)
    if request.method == "POST" and "cancel" in request.POST and cancel_form.is_valid():
        try:
            sessions.cancel(request, session)
        except SessionError as error:
            cancel_form.add_error(None, str(error))
        else:
            messages.success(request, _("The session is cancelled. Everyone invited is told."))
            return _to_session(session)
    elif request.method == "POST" and "reschedule" in request.POST and form.is_valid():
        data = form.cleaned_data
        try:
            changed = sessions.reschedule(
                request,
                session,
                starts_at=data["starts_at"],
                duration_minutes=data["duration_minutes"],
                place=data["place"],
                video_link=data["video_link"],
            )
        except SessionError as error:
            form.add_error(None, str(error))
        else:
            if changed:
                messages.success(
                    request, _("The session is changed. Everyone invited gets the new details.")
                )
            else:
                messages.info(request, _("Nothing was changed."))
            return _to_session(session)
    context = _base(request, session.client)
    context.update({"session": session, "form": form, "cancel_form": cancel_form})
    return render(request, "care/session_edit.html", context)


def care_session_attendance(
    request: HttpRequest, client_id: UUID, session_id: UUID
) -> HttpResponse:
    session = _session(request, client_id, session_id, "attendance", Purpose.CARE)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AttendanceForm(request.POST, participants=sessions.participants_of(session))
    if form.is_valid():
        try:
            sessions.record_attendance(request, session, form.attended())
        except SessionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Attendance is saved."))
            return _to_session(session)
    return _session_page(request, session, attendance_form=form)


def care_session_contribute(
    request: HttpRequest, client_id: UUID, session_id: UUID
) -> HttpResponse:
    session = _session(request, client_id, session_id, "contribute", Purpose.CARE)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    problems = list(
        session.contributions.filter(step=AgendaStep.PROBLEM).order_by("created_at", "pk")
    )
    form = ContributionForm(
        request.POST, participants=sessions.participants_of(session), problems=problems
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            sessions.contribute(
                request,
                session,
                step=data["step"],
                text=data["text"],
                said_by_id=data["said_by"],
                problem_id=data["problem"] or None,
            )
        except SessionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Added to the agenda."))
            url = f"{_to_session(session)['Location']}#step-{data['step']}"
            return redirect(url)
    return _session_page(request, session, contribution_form=form)


def care_session_action_add(
    request: HttpRequest, client_id: UUID, session_id: UUID
) -> HttpResponse:
    session = _session(request, client_id, session_id, "action.add", Purpose.CARE)
    if session.status == SessionStatus.CANCELLED:
        messages.info(request, _("This session was cancelled, so nothing more can be added."))
        return _to_session(session)
    owners = sessions.owner_choices(session, sessions.participants_of(session))
    goals = list(Goal.objects.current().filter(client_id=session.client_id).order_by("created_at"))
    form = ActionForm(request.POST or None, owners=owners, goals=goals)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sessions.add_action(
                request,
                session,
                title=data["title"],
                owner_key=data["owner"],
                due_on=data["due_on"],
                goal_id=data["goal"] or None,
            )
        except SessionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The action is agreed. Its owner gets a reminder."))
            if "add_another" in request.POST:
                return redirect(
                    "care_session_action_add", client_id=session.client_id, session_id=session.pk
                )
            return redirect(f"{_to_session(session)['Location']}#step-action")
    context = _base(request, session.client)
    context.update(
        {
            "session": session,
            "form": form,
            "prompts": sessions.template_of(session).prompts_for("action"),
        }
    )
    return render(request, "care/session_action_add.html", context)


def care_session_wrap_up(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    session = _session(request, client_id, session_id, "wrap_up", Purpose.CARE)
    if session.status == SessionStatus.CANCELLED:
        messages.info(request, _("This session was cancelled, so there is nothing to wrap up."))
        return _to_session(session)
    form = WrapUpForm(
        request.POST or None,
        initial={
            "shared_summary": session.shared_summary,
            "next_plan": session.next_plan,
            "mark_held": session.status == SessionStatus.HELD,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sessions.wrap_up(
                request,
                session,
                shared_summary=data["shared_summary"],
                next_plan=data["next_plan"],
                mark_held=data["mark_held"],
            )
        except SessionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The summary and the plan are saved."))
            return _to_session(session)
    context = _base(request, session.client)
    context.update(
        {
            "session": session,
            "form": form,
            "prompts": sessions.template_of(session).prompts_for("plan"),
        }
    )
    return render(request, "care/session_wrap_up.html", context)


def care_session_note(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    session = _session(request, client_id, session_id, "note", Purpose.CARE)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            sessions.add_note(request, session, form.cleaned_data["text"])
        except SessionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your private note is saved."))
            return redirect(f"{_to_session(session)['Location']}#notes")
    return _session_page(request, session, note_form=form)


@file_export_limited
def care_session_ics(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    session = _session(request, client_id, session_id, "ics", Purpose.CARE, Purpose.SELF)
    user = request.user
    attendee = None
    if isinstance(user, User) and session.participants.filter(user=user).exists():
        attendee = user
    ics = sessions.ics_for(session, method="PUBLISH", attendee=attendee)
    response = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    # A fixed file name: no client data in headers.
    response["Content-Disposition"] = f'attachment; filename="{sessions.ICS_NAME}"'
    return response


@file_export_limited
def care_session_pdf(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    session = _session(request, client_id, session_id, "pdf", Purpose.CARE, Purpose.SELF)
    audience = audience_for(request.user, session.client)
    context = sessions.summary_context(session, audience=audience)
    response = HttpResponse(
        sessions.summary_pdf(context, request=request), content_type="application/pdf"
    )
    response["Content-Disposition"] = 'inline; filename="session-summary.pdf"'
    return response


# --- actions ---------------------------------------------------------------------------------


STATUS_FILTERS = ("", *ActionStatus.values)


def care_actions(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "actions.view", Purpose.CARE, Purpose.SELF)
    status = request.GET.get("status") or ""
    if status not in STATUS_FILTERS:
        status = ""
    page = Paginator(sessions.actions_of(client, status), ACTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = _base(request, client)
    context.update(
        {
            "page": page,
            "status": status,
            "filters": [("", _("All")), *ActionStatus.choices],
            "today": _today(),
            "own_user_id": request.user.pk,
        }
    )
    return render(request, "care/session_actions.html", context)


def care_action(request: HttpRequest, client_id: UUID, action_id: UUID) -> HttpResponse:
    # The care team may open any of the client's actions; the client only those she owns.
    own = Q(owner_kind=OwnerKind.CLIENT, owner_id=request.user.pk)
    care = Q(client__in=access.clients_for(request.user, Purpose.CARE))
    action = access.get_scoped(
        request,
        Action.objects.select_related("client", "owner", "goal", "session", "status_by").filter(
            Q(client_id=client_id) & (care | own)
        ),
        Purpose.CARE,
        Purpose.SELF,
        action="care.action.view",
        pk=action_id,
    )
    form = ActionStatusForm(
        request.POST or None,
        initial={"status": action.status, "note": action.status_note},
    )
    if request.method == "POST" and form.is_valid():
        try:
            sessions.set_action_status(
                request, action, form.cleaned_data["status"], form.cleaned_data["note"]
            )
        except SessionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved. Thank you for letting everyone know."))
            return redirect("care_actions", client_id=action.client_id)
    context = _base(request, action.client)
    context.update({"action": action, "form": form, "today": _today()})
    return render(request, "care/session_action.html", context)
