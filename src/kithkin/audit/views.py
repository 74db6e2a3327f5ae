"""The audit page staff see for one client: who did what to that client's data, and when."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.access import Purpose, get_client
from kithkin.accounts.models import Role, User
from kithkin.audit.models import AuditEvent, Outcome

EVENTS_PER_PAGE = 50

# Plain words for the actions Kithkin records; an unknown action is shown as recorded.
ACTION_LABELS: dict[str, Promise] = {
    "client.view": _("Opened the client's page"),
    "client.edit": _("Opened the client's details to edit"),
    "client.create": _("Added the client"),
    "client.update": _("Changed the client's details"),
    "client.audit": _("Looked at this audit trail"),
    "care_team.view": _("Opened the care team"),
    "care_team.update": _("Changed the care team"),
    "invitation.view": _("Opened an invitation form"),
    "invitation.create": _("Sent an invitation"),
    "invitation.revoke": _("Withdrew an invitation"),
    "invitation.accept": _("Accepted an invitation"),
    "login": _("Signed in"),
    "logout": _("Signed out"),
    "breakglass.choose": _("Chose this client for emergency access"),
    "breakglass.open": _("Opened emergency access"),
    "breakglass.end": _("Ended emergency access"),
    "breakglass.review": _("Reviewed an emergency access"),
    "privacy.export": _("Downloaded a copy of the client's data"),
    "privacy.export.view": _("Opened the data download page"),
    "privacy.consent.record": _("Recorded a consent decision"),
    "privacy.consent.history": _("Looked at the consent history"),
    "privacy.erasure.request": _("Asked for the client's record to be erased"),
    "privacy.erasure.view": _("Opened the erasure request"),
    "privacy.erasure.cancel": _("Withdrew the erasure request"),
    "privacy.erasure.confirm": _("Confirmed the erasure"),
}


def humanise_action(action: str) -> str:
    label = ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    return action.replace("_", " ").replace(".", ": ").capitalize()


def humanise_roles(actor_role: str) -> str:
    labels = []
    for value in filter(None, actor_role.split(",")):
        try:
            labels.append(str(Role(value).label))
        except ValueError:
            labels.append(value)
    return ", ".join(labels)


@dataclass(frozen=True)
class Row:
    event: AuditEvent
    who: str
    role: str
    action: str
    outcome: str
    denied: bool


def client_audit(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = get_client(request, client_id, Purpose.CARE, Purpose.MANAGE, action="client.audit")
    events = AuditEvent.objects.for_client(client.pk).order_by("-id")
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    actor_ids = {event.actor_id for event in page.object_list if event.actor_id is not None}
    # One query for every name on the page, however many events it shows.
    names = dict(User.objects.filter(pk__in=actor_ids).values_list("pk", "display_name"))
    outcomes = dict(Outcome.choices)
    rows = [
        Row(
            event=event,
            who=names.get(event.actor_id, str(_("Former user")))
            if event.actor_id is not None
            else str(_("Not signed in")),
            role=humanise_roles(event.actor_role),
            action=humanise_action(event.action),
            outcome=str(outcomes.get(event.outcome, event.outcome)),
            denied=event.outcome != Outcome.SUCCESS,
        )
        for event in page.object_list
    ]
    return render(
        request, "audit/client_audit.html", {"client": client, "page": page, "rows": rows}
    )
