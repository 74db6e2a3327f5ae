"""The care team's and the practice admin's measures pages: assigning, entering answers in
session, risk alerts, the due list, the instrument library, FHIR export and import, and the
practice's measures settings.

Each view first decides access (through accounts.access), then handles the method, so a stranger
is refused the same way whatever method they use. Client pages need the care team
(``Purpose.CARE``); the only exception is a practice admin's limited view of an escalated alert."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kithkin.accounts import access
from kithkin.accounts.access import Purpose, clients_for
from kithkin.accounts.models import CareTeamMember, Client, Role, User
from kithkin.audit import services as audit
from kithkin.measures import entry, fhir, fhir_response, imports, scoring, services
from kithkin.measures.library import Instrument
from kithkin.measures.models import Assignment, DueState, Response, RiskAlert
from kithkin.measures.staff_forms import (
    MAX_IMPORT_BYTES,
    AcknowledgeForm,
    AssignForm,
    EntryForm,
    ImportForm,
    SettingsForm,
)
from kithkin.network.models import Person
from kithkin.security.limits import file_export_limited

logger = logging.getLogger(__name__)

ALERTS_PER_PAGE = 25
DUE_PER_PAGE = 25
FHIR_JSON = "application/fhir+json"


def _user(request: HttpRequest) -> User:
    # Login is required everywhere by middleware; this narrows the type for the checker.
    assert isinstance(request.user, User)
    return request.user


def _care_client(request: HttpRequest, client_id: UUID, action: str) -> Client:
    return access.get_client(request, client_id, Purpose.CARE, action=action)


def _only(request: HttpRequest, *methods: str) -> HttpResponse | None:
    """Checked after the access check, so that a stranger gets the same 404 whatever the
    method."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)
    return None if request.method in allowed else HttpResponseNotAllowed(sorted(allowed))


def _posted(request: HttpRequest) -> Any:
    # An empty POST still binds the form, so it shows what is missing instead of a blank form.
    return request.POST if request.method == "POST" else None


def _download(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=FHIR_JSON)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- assigning -------------------------------------------------------------------------------


def measures_assign(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _care_client(request, client_id, "measures.assign")
    if refused := _only(request, "GET", "POST"):
        return refused
    library = list(services.installed_library())
    form = AssignForm(_posted(request), instruments=library)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.assign(
                request,
                client,
                data["instrument"],
                cadence=data["cadence"],
                interval_days=data["interval_days"],
                first_due_at=form.first_due_at(),
            )
        except services.NotAssignable as error:
            form.add_error("instrument", str(error))
        else:
            chosen = services.instrument(assignment.instrument_id)
            messages.success(
                request,
                _("%(name)s was assigned. It is on the client's measures page.")
                % {"name": chosen.short_title},
            )
            return redirect("measures_overview", client_id=client.pk)
    return render(
        request,
        "measures/staff_assign.html",
        {
            "client": client,
            "form": form,
            "unassignable": [(i, i.unassignable_reason) for i in library if not i.assignable],
        },
    )


def measures_assignment_end(
    request: HttpRequest, client_id: UUID, assignment_id: UUID
) -> HttpResponse:
    assignment = access.get_scoped(
        request,
        Assignment.objects.all(),
        Purpose.CARE,
        action="measures.assignment.end",
        client_path="client",
        pk=assignment_id,
        client_id=client_id,
    )
    if refused := _only(request, "POST"):
        return refused
    chosen = services.instrument_or_none(assignment.instrument_id)
    name = chosen.short_title if chosen is not None else assignment.instrument_id
    if assignment.is_active:
        services.end_assignment(request, assignment)
        messages.success(
            request, _("%(name)s was stopped. Nothing more will fall due.") % {"name": name}
        )
    else:
        messages.info(request, _("%(name)s had already finished or been stopped.") % {"name": name})
    return redirect("measures_overview", client_id=assignment.client_id)


# --- in-session entry ------------------------------------------------------------------------


def _people_for(client: Client, chosen: Instrument) -> list[tuple[UUID, str]]:
    """People from the client's map who may be named ("with whom"), never a "not safe" one."""
    if not any(item.links_people for item in chosen.items):
        return []
    people = Person.objects.safe_to_suggest().filter(client=client).only("id", "name")
    return sorted(((p.pk, p.name) for p in people), key=lambda pair: pair[1].casefold())


def measures_enter(request: HttpRequest, client_id: UUID, instrument_id: str) -> HttpResponse:
    client = _care_client(request, client_id, "measures.enter")
    if refused := _only(request, "GET", "POST"):
        return refused
    chosen = services.instrument_or_none(instrument_id)
    if chosen is None:
        raise Http404
    context: dict[str, Any] = {"client": client, "instrument": chosen}
    if not chosen.assignable:
        # Without its licensed wording the instrument cannot be shown, so explain instead.
        context["reason"] = chosen.unassignable_reason
        return render(request, "measures/staff_enter.html", context)
    form = EntryForm(_posted(request), instrument=chosen, people=_people_for(client, chosen))
    if request.method == "POST" and form.is_valid():
        try:
            response, alerts = entry.enter_in_session(
                request,
                client,
                chosen,
                form.answers(),
                people=form.people(),
                note=form.cleaned_data["note"],
            )
        except (services.NotAssignable, scoring.AnswerError) as error:
            form.add_error(None, str(error))
        except services.ResponseClosed:
            form.add_error(None, _("Someone submitted this questionnaire at the same moment."))
        else:
            if alerts:
                messages.warning(
                    request,
                    _(
                        "The answers were saved and raised a risk alert. Please check it now and "
                        "record what you did."
                    ),
                )
                return redirect("measures_alert", client_id=client.pk, alert_id=alerts[0].pk)
            messages.success(request, _("The answers were saved and scored."))
            return redirect("measures_response", client_id=client.pk, response_id=response.pk)
    context["form"] = form
    return render(request, "measures/staff_enter.html", context)


# --- risk alerts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertFacts:
    """What the care team sees of an alert: the instrument, the item and the answer."""

    instrument: Instrument | None
    instrument_title: str
    rule_label: str
    item_label: str
    answer_label: str


def _format_value(value: float) -> str:
    return f"{value:g}"


def alert_facts(alert: RiskAlert) -> AlertFacts:
    chosen = services.instrument_or_none(alert.instrument_id)
    value = _format_value(alert.value)
    if chosen is None:
        return AlertFacts(None, alert.instrument_id, alert.rule_id, alert.item_id, value)
    rule_label = next((r.label for r in chosen.risk_rules if r.id == alert.rule_id), alert.rule_id)
    item = chosen.item_map.get(alert.item_id)
    item_label = _("Question %(id)s") % {"id": alert.item_id}
    answer_label = value
    if item is not None:
        if item.text:
            item_label = _("Question %(id)s: %(text)s") % {"id": item.id, "text": item.text}
        option = next((o for o in item.options if o.value == alert.value), None)
        if option is not None:
            answer_label = f"{option.label} ({value})"
    return AlertFacts(chosen, chosen.title, rule_label, item_label, answer_label)


def _care_team_contacts(client_id: UUID) -> list[User]:
    """The care team an admin should reach about an escalated alert: name and work email."""
    return services.care_team_recipients(client_id)


def _escalates_at(alert: RiskAlert, client: Client) -> datetime | None:
    if alert.escalated_at is not None or not alert.is_open:
        return None
    return alert.created_at + services.practice_settings(client.practice).escalate_after


def measures_alert(request: HttpRequest, client_id: UUID, alert_id: UUID) -> HttpResponse:
    alerts = RiskAlert.objects.select_related("client__practice", "acknowledged_by")
    on_care_team = clients_for(request.user, Purpose.CARE).filter(pk=client_id).exists()
    if on_care_team:
        alert = access.get_scoped(
            request,
            alerts,
            Purpose.CARE,
            action="measures.alert.view",
            client_path="client",
            pk=alert_id,
            client_id=client_id,
        )
    else:
        # A practice admin outside the care team sees only escalated alerts, and no answers.
        alert = access.get_scoped(
            request,
            alerts.filter(escalated_at__isnull=False),
            Purpose.MANAGE,
            action="measures.alert.view_escalated",
            client_path="client",
            pk=alert_id,
            client_id=client_id,
        )
    if refused := _only(request, "GET", "POST"):
        return refused
    client = alert.client
    if not on_care_team:
        if request.method == "POST":
            audit.record(
                request,
                action="measures.alert.acknowledge",
                object_type="riskalert",
                object_id=alert.pk,
                client=client,
                outcome=audit.Outcome.DENIED,
            )
            raise PermissionDenied
        return render(
            request,
            "measures/staff_alert_escalated.html",
            {"alert": alert, "client": client, "care_team": _care_team_contacts(client.pk)},
        )
    form = AcknowledgeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        if services.acknowledge(request, alert, form.cleaned_data["note"]):
            messages.success(request, _("The alert was acknowledged. Thank you."))
        else:
            messages.info(
                request,
                _(
                    "Someone else acknowledged this alert first, so your note was not saved. "
                    "Their note is below."
                ),
            )
        return redirect("measures_alert", client_id=client.pk, alert_id=alert.pk)
    return render(
        request,
        "measures/staff_alert.html",
        {
            "alert": alert,
            "client": client,
            "facts": alert_facts(alert),
            "form": form if alert.is_open else None,
            "escalates_at": _escalates_at(alert, client),
        },
    )


@dataclass(frozen=True)
class AlertRow:
    alert: RiskAlert
    instrument_title: str
    on_care_team: bool
    care_team: list[str]


def _alert_rows(user: User, alerts: list[RiskAlert]) -> list[AlertRow]:
    """Rows for a page of alerts in a fixed number of queries."""
    client_ids = {a.client_id for a in alerts}
    care = set(
        clients_for(user, Purpose.CARE).filter(pk__in=client_ids).values_list("pk", flat=True)
    )
    others = client_ids - care
    teams: dict[UUID, list[str]] = {pk: [] for pk in others}
    if others:
        for link in (
            CareTeamMember.objects.filter(
                client_id__in=others,
                user__is_active=True,
                user__membership__practice=F("client__practice"),
            )
            .select_related("user")
            .order_by("-is_lead", "user__display_name")
        ):
            teams[link.client_id].append(link.user.display_name)
    library = services.installed_library()
    return [
        AlertRow(
            alert=a,
            instrument_title=library.get(a.instrument_id).short_title
            if a.instrument_id in library
            else a.instrument_id,
            on_care_team=a.client_id in care,
            care_team=teams.get(a.client_id, []),
        )
        for a in alerts
    ]


def measures_alerts(request: HttpRequest) -> HttpResponse:
    access.require_role(request, Role.ADMIN, Role.CLINICIAN)
    if refused := _only(request, "GET"):
        return refused
    user = _user(request)
    alerts = services.open_alerts_for(user) | services.escalated_alerts_for_admin(user)
    page = Paginator(alerts.order_by("created_at", "pk"), ALERTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = _alert_rows(user, list(page.object_list))
    audit.record(
        request,
        action="measures.alerts.view",
        object_type="alerts",
        object_id=user.pk,
        detail={"count": page.paginator.count},
    )
    return render(
        request,
        "measures/staff_alerts.html",
        {"page": page, "rows": rows, "is_admin": Role.ADMIN in access.roles_of(user)},
    )


# --- due check-ins ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DueRow:
    assignment: Assignment
    instrument_title: str
    state: DueState


def measures_due(request: HttpRequest) -> HttpResponse:
    access.require_role(request, Role.ADMIN, Role.CLINICIAN)
    if refused := _only(request, "GET"):
        return refused
    user = _user(request)
    now = timezone.now()
    page = Paginator(services.due_assignments(user, now), DUE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    library = services.installed_library()
    rows = [
        DueRow(
            assignment=a,
            instrument_title=library.get(a.instrument_id).short_title
            if a.instrument_id in library
            else a.instrument_id,
            state=a.due_state(now),
        )
        for a in page.object_list
    ]
    audit.record(
        request,
        action="measures.due.view",
        object_type="due",
        object_id=user.pk,
        detail={"count": page.paginator.count},
    )
    return render(request, "measures/staff_due.html", {"page": page, "rows": rows})


# --- the library and Questionnaires ----------------------------------------------------------


@dataclass(frozen=True)
class LibraryRow:
    instrument: Instrument
    rci: float | None  # the Jacobson-Truax threshold, in score points


def measures_library(request: HttpRequest) -> HttpResponse:
    access.require_role(request, Role.ADMIN, Role.CLINICIAN)
    if refused := _only(request, "GET"):
        return refused
    return render(
        request,
        "measures/staff_library.html",
        {"rows": [LibraryRow(i, scoring.rci_threshold(i)) for i in services.installed_library()]},
    )


def measures_questionnaire_fhir(request: HttpRequest, instrument_id: str) -> HttpResponse:
    access.require_role(request, Role.ADMIN, Role.CLINICIAN)
    if refused := _only(request, "GET"):
        return refused
    chosen = services.instrument_or_none(instrument_id)
    if chosen is None:
        raise Http404
    return _download(fhir.questionnaire_json(chosen), f"{chosen.id}-questionnaire.json")


# --- FHIR export and import of responses ------------------------------------------------------


def _response_resource(response: Response, client: Client) -> dict[str, Any] | None:
    """The response as a QuestionnaireResponse, or None (logged) if its stored answers no
    longer fit the installed definition: the export must not fail for one old response."""
    chosen = services.instrument_or_none(response.instrument_id)
    if chosen is None or response.submitted_at is None:
        return None
    try:
        return fhir_response.questionnaire_response_for(
            chosen,
            services.answers_of(response),
            response_id=str(response.pk),
            subject_reference=f"Patient/{client.pk}",
            authored=response.submitted_at,
            total=response.total,
        )
    except (scoring.AnswerError, ValueError):
        logger.warning("response %s does not fit its definition; left out of export", response.pk)
        return None


@file_export_limited
def measures_response_fhir(
    request: HttpRequest, client_id: UUID, response_id: UUID
) -> HttpResponse:
    # Only submitted responses are exported: one in progress may still change, so it is 404.
    response = access.get_scoped(
        request,
        Response.objects.submitted().select_related("client"),
        Purpose.CARE,
        action="measures.response.export",
        client_path="client",
        pk=response_id,
        client_id=client_id,
    )
    if refused := _only(request, "GET"):
        return refused
    resource = _response_resource(response, response.client)
    if resource is None:
        raise Http404
    return _download(
        json.dumps(resource, ensure_ascii=False, indent=2),
        f"{response.instrument_id}-response-{response.pk}.json",
    )


@file_export_limited
def measures_export_fhir(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _care_client(request, client_id, "measures.export.view")
    if refused := _only(request, "GET"):
        return refused
    # One client's history is small enough to build in memory; rows are read in chunks.
    resources = []
    for response in (
        Response.objects.submitted()
        .filter(client=client)
        .order_by("submitted_at", "pk")
        .iterator(chunk_size=500)
    ):
        resource = _response_resource(response, client)
        if resource is not None:
            resources.append(resource)
    audit.record(
        request,
        action="measures.export",
        object_type="client",
        object_id=client.pk,
        client=client,
        detail={"responses": len(resources)},
    )
    return _download(
        json.dumps(fhir_response.bundle_of(resources), ensure_ascii=False, indent=2),
        f"measures-{client.pk}.json",
    )


def measures_import_fhir(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _care_client(request, client_id, "measures.import.view")
    if refused := _only(request, "GET", "POST"):
        return refused
    form = ImportForm(_posted(request), request.FILES if request.method == "POST" else None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            parsed = fhir_response.parse_questionnaire_responses(
                form.cleaned_data["file"], services.installed_library()
            )
        except fhir_response.ResponseImportError as error:
            errors = error.errors
            audit.record(
                request,
                action="measures.response.import",
                object_type="client",
                object_id=client.pk,
                client=client,
                outcome=audit.Outcome.FAILED,
                detail={"problems": len(errors)},
            )
        else:
            created = imports.import_responses(request, client, parsed)
            messages.success(request, _import_summary(parsed, created))
            return redirect("measures_overview", client_id=client.pk)
    return render(
        request,
        "measures/staff_import.html",
        {
            "client": client,
            "form": form,
            "errors": errors,
            "limit_mb": MAX_IMPORT_BYTES // (1024 * 1024),
        },
    )


def _import_summary(parsed: list[fhir_response.ImportedResponse], created: list[Response]) -> str:
    n = len(created)
    parts = [ngettext("Imported %(n)s response", "Imported %(n)s responses", n) % {"n": n}]
    skipped = len(parsed) - n
    if skipped:
        parts.append(
            ngettext(
                "%(n)s was already here and was skipped",
                "%(n)s were already here and were skipped",
                skipped,
            )
            % {"n": skipped}
        )
    alerted = imports.responses_with_alerts(created)
    if alerted:
        parts.append(
            ngettext("%(n)s raised a risk alert", "%(n)s raised risk alerts", alerted)
            % {"n": alerted}
        )
    return "; ".join(parts) + "."


# --- practice settings -----------------------------------------------------------------------


def measures_settings(request: HttpRequest) -> HttpResponse:
    membership = access.practice_admin_membership(request)
    if refused := _only(request, "GET", "POST"):
        return refused
    practice = membership.practice
    current = services.practice_settings(practice)
    default_minutes = settings.MEASURES_ALERT_ESCALATION_MINUTES
    form = SettingsForm(
        _posted(request),
        initial={
            "crisis_resources": current.crisis_resources,
            "escalate_after_minutes": current.escalate_after_minutes,
        },
        default_text=services.default_crisis_resources(),
        default_minutes=default_minutes,
    )
    if request.method == "POST" and form.is_valid():
        services.save_practice_settings(
            request,
            practice,
            crisis_resources=form.cleaned_data["crisis_resources"],
            escalate_after_minutes=form.cleaned_data["escalate_after_minutes"],
        )
        messages.success(request, _("The measures settings were saved."))
        return redirect("measures_settings")
    return render(
        request,
        "measures/staff_settings.html",
        {
            "practice": practice,
            "form": form,
            "default_text": services.default_crisis_resources(),
            "default_minutes": default_minutes,
            "current": current,
            "crisis_text": services.crisis_resources(practice),
        },
    )
