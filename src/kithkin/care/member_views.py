"""A network member's view of a client's circle: what the client shares with them, decided on
this very request, their own actions, and the sessions they are invited to.

Every view starts with ``consent.scope_for``, which refuses (404, audited) anyone who is not a
current member of the client's network, and reads the member's newest consent. Everything shown
comes from the scope, so a member never sees more than the client grants: never raw answers,
scores, risk items, clinician notes or another member's actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kithkin.audit import services as audit
from kithkin.care import consent, sessions
from kithkin.care.consent import MemberScope
from kithkin.care.models import Action, ActionStatus, NetworkSession, SessionStatus
from kithkin.security.limits import file_export_limited

MAX_NOTE_LENGTH = 2000
# A planned session stays under "coming up" for a while after it starts, in case it runs late
# or has not been marked as held yet.
STILL_UPCOMING = timedelta(hours=12)


def _deny(request: HttpRequest, action: str, object_type: str, object_id: Any) -> Http404:
    audit.record(
        request,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=audit.Outcome.DENIED,
    )
    return Http404()


def _safe_link(link: str) -> str:
    """A video link is shown as a link only if it is a web address (never javascript: etc.)."""
    link = link.strip()
    return link if link.lower().startswith(("https://", "http://")) else ""


@dataclass(frozen=True)
class Logistics:
    """What a member needs to come to a planned session."""

    session: NetworkSession
    ends_at: datetime
    link: str


def _logistics(session: NetworkSession) -> Logistics:
    return Logistics(
        session,
        session.starts_at + timedelta(minutes=session.duration_minutes),
        _safe_link(session.video_link),
    )


def _base(scope: MemberScope) -> dict[str, Any]:
    return {"client": scope.client, "name": scope.client.first_name, "scope": scope}


# --- the circle ------------------------------------------------------------------------------


def circle(request: HttpRequest, client_id: UUID) -> HttpResponse:
    scope = consent.scope_for(request, client_id, action="care.circle.view")
    now = timezone.now()
    actions = list(scope.actions())
    upcoming = [
        _logistics(session)
        for session in scope.upcoming_sessions().filter(starts_at__gte=now - STILL_UPCOMING)
    ]
    context = _base(scope)
    context.update(
        {
            "today": timezone.localdate(now),
            "goals": list(scope.goals()),
            "held_sessions": list(scope.sessions()),
            "open_actions": [a for a in actions if a.status == ActionStatus.OPEN],
            "closed_actions": [a for a in actions if a.status != ActionStatus.OPEN],
            "upcoming": upcoming,
            "checkins": scope.checkin_summary(),
            "shares": {key: scope.may(key) for key in consent.SHAREABLE_KEYS},
        }
    )
    return render(request, "care/circle_page.html", context)


# --- the member's own actions ----------------------------------------------------------------


class ActionUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("How did it go?"),
        choices=[
            (ActionStatus.DONE.value, gettext_lazy("I did it")),
            (ActionStatus.NOT_POSSIBLE.value, gettext_lazy("It wasn't possible")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose whether you did it or it wasn't possible."),
            "invalid_choice": gettext_lazy("Choose whether you did it or it wasn't possible."),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("A note"),
        help_text=gettext_lazy(
            "Optional if you did it. If it wasn't possible, say in a few words why, so everyone "
            "can plan what to do next."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=MAX_NOTE_LENGTH,
        error_messages={
            "max_length": gettext_lazy("Keep the note under %(limit_value)s characters.")
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        note = (cleaned.get("note") or "").strip()
        cleaned["note"] = note
        if cleaned.get("status") == ActionStatus.NOT_POSSIBLE and not note:
            self.add_error("note", _("Please say in a few words why it wasn't possible."))
        return cleaned


def _own_action(request: HttpRequest, scope: MemberScope, action_id: UUID, verb: str) -> Action:
    action = scope.actions().select_related("goal").filter(pk=action_id).first()
    if action is None:
        raise _deny(request, f"care.circle.action.{verb}", "action", action_id)
    return action


def circle_action(request: HttpRequest, client_id: UUID, action_id: UUID) -> HttpResponse:
    scope = consent.scope_for(request, client_id, action="care.circle.action")
    action = _own_action(request, scope, action_id, "view")
    initial = {"status": action.status, "note": action.status_note}
    form = ActionUpdateForm(request.POST or None, initial=initial, label_suffix="")
    if request.method == "POST" and form.is_valid():
        try:
            sessions.set_action_status(
                request, action, form.cleaned_data["status"], form.cleaned_data["note"]
            )
        except sessions.SessionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Thank you. %(name)s and the care team can see your update.")
                % {"name": scope.client.first_name},
            )
            return redirect("circle", client_id=scope.client.pk)
    audit.record(
        request,
        action="care.circle.action.view",
        object_type="action",
        object_id=action.pk,
        client=scope.client,
    )
    context = _base(scope)
    context.update(
        {
            "action": action,
            "form": form,
            "overdue": action.status == ActionStatus.OPEN and action.due_on < timezone.localdate(),
            # The goal's title only if the client shares goals with this member.
            "goal": action.goal if action.goal is not None and scope.may("goals") else None,
        }
    )
    return render(request, "care/circle_action.html", context)


# --- sessions --------------------------------------------------------------------------------


def _session(
    request: HttpRequest, scope: MemberScope, session_id: UUID, verb: str
) -> NetworkSession:
    """A held session whose summary the member may read, or a planned one they are invited
    to; anything else is refused alike."""
    session = scope.sessions().filter(pk=session_id).first()
    if session is None:
        session = scope.upcoming_sessions().filter(pk=session_id).first()
    if session is None:
        raise _deny(request, f"care.circle.session.{verb}", "networksession", session_id)
    audit.record(
        request,
        action=f"care.circle.session.{verb}",
        object_type="networksession",
        object_id=session.pk,
        client=scope.client,
    )
    return session


def circle_session(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    scope = consent.scope_for(request, client_id, action="care.circle.session")
    session = _session(request, scope, session_id, "view")
    context = _base(scope)
    context["session"] = session
    if session.status == SessionStatus.HELD:
        # The same shared summary as the PDF: only this member's own actions, goals if shared.
        context["summary"] = sessions.summary_context(session, audience="member", scope=scope)
    else:
        context["logistics"] = _logistics(session)
    return render(request, "care/circle_session.html", context)


@file_export_limited
def circle_session_ics(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    scope = consent.scope_for(request, client_id, action="care.circle.session")
    session = _session(request, scope, session_id, "ics")
    if session.status != SessionStatus.PLANNED:
        raise Http404
    response = HttpResponse(
        sessions.ics_for(session, method="PUBLISH", attendee=scope.member.user),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{sessions.ICS_NAME}"'
    return response


@file_export_limited
def circle_session_pdf(request: HttpRequest, client_id: UUID, session_id: UUID) -> HttpResponse:
    scope = consent.scope_for(request, client_id, action="care.circle.session")
    # Only held sessions whose summaries the client shares with this member.
    session = scope.sessions().filter(pk=session_id).first()
    if session is None:
        raise _deny(request, "care.circle.session.pdf", "networksession", session_id)
    audit.record(
        request,
        action="care.circle.session.pdf",
        object_type="networksession",
        object_id=session.pk,
        client=scope.client,
    )
    context = sessions.summary_context(session, audience="member", scope=scope)
    document = sessions.summary_pdf(context, request=request)
    response = HttpResponse(document, content_type="application/pdf")
    # A fixed file name: no client data in headers.
    response["Content-Disposition"] = 'inline; filename="session-summary.pdf"'
    return response
