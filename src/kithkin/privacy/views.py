"""Data-rights pages: a client's own export and consent, the care team's export and consent
history, and the admin's privacy policy and erasure pages.

Each view decides access first (through accounts.access), then handles the method, so a stranger
is refused the same way whatever method they use."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts import access, mfa
from kithkin.accounts import services as accounts_services
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import Client
from kithkin.audit import services as audit
from kithkin.privacy import erasure, services
from kithkin.privacy.forms import (
    ConsentForm,
    ErasureConfirmForm,
    ErasureRequestForm,
    ExportForm,
    PolicyForm,
)
from kithkin.privacy.models import ConsentRecord, NotesInExport
from kithkin.security import throttle

# A full export reads every table of a record: a few an hour is plenty for a person.
EXPORT_LIMIT = 5
EXPORT_WINDOW_SECONDS = 60 * 60
ERASURES_PER_PAGE = 25


def _only(request: HttpRequest, *methods: str) -> HttpResponse | None:
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)
    return None if request.method in allowed else HttpResponseNotAllowed(sorted(allowed))


def _own_client(request: HttpRequest, action: str) -> Client:
    """The signed-in client's own record; 404 (audited) for anyone without one."""
    client = (
        access.clients_for(request.user, Purpose.SELF).select_related("practice", "user").first()
    )
    if client is None:
        audit.record(request, action=action, object_type="client", outcome=audit.Outcome.DENIED)
        raise Http404
    audit.record(request, action=action, object_type="client", object_id=client.pk, client=client)
    return client


def _is_admin_of(request: HttpRequest, client: Client) -> bool:
    membership = access.membership_of(request.user)
    return (
        membership is not None
        and membership.is_admin
        and (membership.practice_id == client.practice_id)
    )


def _over_export_limit(request: HttpRequest) -> HttpResponse | None:
    """Counted per user, after the access check, so only real exports use up the limit."""
    if throttle.hit(
        "export",
        f"user:{request.user.pk}",
        limit=EXPORT_LIMIT,
        window_seconds=EXPORT_WINDOW_SECONDS,
    ):
        return None
    return throttle.refuse(
        request,
        "export",
        retry_after=throttle.retry_after_seconds(window_seconds=EXPORT_WINDOW_SECONDS),
    )


def _download(made: services.MadeExport) -> FileResponse:
    stamp = timezone.localdate().isoformat()
    response = FileResponse(
        made.file,
        as_attachment=True,
        filename=f"kithkin-data-{stamp}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"
    return response


# --- the client's own pages ------------------------------------------------------------------


def my_data(request: HttpRequest) -> HttpResponseBase:
    client = _own_client(request, "privacy.export.view")
    if refused := _only(request, "GET", "POST"):
        return refused
    policy = services.policy_for(client.practice_id)
    if request.method == "POST":
        if over := _over_export_limit(request):
            return over
        return _download(services.make_export(request, client, exporter=services.Exporter.SELF))
    return render(
        request,
        "privacy/my_data.html",
        {
            "client": client,
            "notes_included": services.notes_allowed(policy, services.Exporter.SELF),
        },
    )


def my_consent(request: HttpRequest) -> HttpResponse:
    client = _own_client(request, "privacy.consent.view")
    if refused := _only(request, "GET", "POST"):
        return refused
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            try:
                services.record_consent(
                    request,
                    client,
                    topic=form.cleaned_data["topic"],
                    decision=form.cleaned_data["decision"],
                )
            except services.ConsentError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Your choice was saved."))
                return redirect("privacy_my_consent")
        else:
            messages.error(request, _("That choice could not be saved. Please try again."))
    return render(
        request,
        "privacy/my_consent.html",
        {"client": client, "states": services.consent_states(client)},
    )


# --- the care team's and admins' pages about one client -------------------------------------


def client_export(request: HttpRequest, client_id: UUID) -> HttpResponseBase:
    client = access.get_client(
        request, client_id, Purpose.CARE, Purpose.MANAGE, action="privacy.export.view"
    )
    if refused := _only(request, "GET", "POST"):
        return refused
    is_admin = _is_admin_of(request, client)
    if not is_admin and not accounts_services.is_on_care_team(request.user, client):
        # Reached under emergency access: that is for reading and acting for safety now, not
        # for taking a copy of the whole record away.
        audit.record(
            request,
            action="privacy.export",
            object_type="client",
            object_id=client.pk,
            client=client,
            outcome=audit.Outcome.DENIED,
            detail={"why": "emergency_access"},
        )
        return render(
            request,
            "privacy/export_not_under_emergency_access.html",
            {"client": client},
            status=403,
        )
    policy = services.policy_for(client.practice_id)
    exporter = services.Exporter.ADMIN if is_admin else services.Exporter.CARE_TEAM
    asks_reason = is_admin and policy.notes_in_export == NotesInExport.ON_REQUEST
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if over := _over_export_limit(request):
            return over
        reason = form.cleaned_data["notes_reason"] if asks_reason else ""
        return _download(
            services.make_export(request, client, exporter=exporter, notes_reason=reason)
        )
    return render(
        request,
        "privacy/client_export.html",
        {
            "client": client,
            "form": form,
            "asks_reason": asks_reason,
            "policy": policy,
            "notes_included": services.notes_allowed(policy, exporter),
        },
    )


def client_consent(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(
        request, client_id, Purpose.CARE, Purpose.MANAGE, action="privacy.consent.history"
    )
    if refused := _only(request, "GET"):
        return refused
    history = (
        ConsentRecord.objects.filter(client=client)
        .select_related("recorded_by")
        .order_by("-recorded_at", "topic", "-version")
    )
    return render(
        request,
        "privacy/client_consent.html",
        {
            "client": client,
            "states": services.consent_states(client),
            "history": history,
            "clinical": accounts_services.is_on_care_team(request.user, client),
        },
    )


def client_erase(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(request, client_id, Purpose.MANAGE, action="privacy.erasure.view")
    if refused := _only(request, "GET", "POST"):
        return refused
    retention = erasure.retention_of(client)
    form = ErasureRequestForm(
        request.POST if request.method == "POST" else None, within_retention=retention.applies
    )
    if request.method == "POST" and form.is_valid():
        try:
            erasure.request_erasure(
                request,
                client,
                reason=form.cleaned_data["reason"],
                legal_basis=form.cleaned_data.get("legal_basis", ""),
            )
        except erasure.ErasureRefused as refusal:
            form.add_error("legal_basis" if "legal_basis" in form.fields else None, str(refusal))
        else:
            return redirect("privacy_client_erase_confirm", client_id=client.pk)
    return render(
        request,
        "privacy/client_erase.html",
        {"client": client, "form": form, "retention": retention},
    )


def client_erase_confirm(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(request, client_id, Purpose.MANAGE, action="privacy.erasure.confirm")
    if refused := _only(request, "GET", "POST"):
        return refused
    pending = erasure.pending_request(client)
    if pending is None:
        messages.info(request, _("Start by saying why the record is to be erased."))
        return redirect("privacy_client_erase", client_id=client.pk)
    if request.method == "POST" and "cancel" in request.POST:
        erasure.cancel_request(request, client)
        messages.info(request, _("The erasure request was cancelled. Nothing was erased."))
        return redirect("client_overview", client_id=client.pk)
    # Erasing cannot be undone: the admin confirms who they are first (password, and code),
    # before the page opens and again if that was more than a few minutes before the post.
    if refusal := mfa.require_recent_auth(
        request,
        back=request.path,
        cancel=reverse("client_overview", kwargs={"client_id": client.pk}),
    ):
        return refusal
    form = ErasureConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            made = erasure.erase_client(
                request, client, confirm_name=form.cleaned_data["confirm_name"]
            )
        except erasure.ErasureRefused as refusal:
            form.add_error("confirm_name", str(refusal))
        else:
            messages.success(
                request,
                _("The record was erased. Erasure reference: %(reference)s.")
                % {"reference": made.pk},
            )
            return redirect("privacy_practice")
    counts = erasure.counts_for(client)
    return render(
        request,
        "privacy/client_erase_confirm.html",
        {
            "client": client,
            "form": form,
            "pending": pending,
            "rows": sum(counts.values()),
            "tables": sum(1 for n in counts.values() if n),
        },
    )


# --- the practice's policy and erasure records -----------------------------------------------


def practice_privacy(request: HttpRequest) -> HttpResponse:
    membership = access.practice_admin_membership(request)
    practice = membership.practice
    if refused := _only(request, "GET", "POST"):
        return refused
    policy = services.policy_for(practice)
    form = PolicyForm(
        request.POST if request.method == "POST" else None,
        initial={
            "notes_in_export": policy.notes_in_export,
            "retention_years": policy.retention_years,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.update_policy(
            request,
            practice,
            notes_in_export=form.cleaned_data["notes_in_export"],
            retention_years=form.cleaned_data["retention_years"],
        )
        messages.success(request, _("The privacy settings were saved."))
        return redirect("privacy_practice")
    page = Paginator(erasure.erasure_records(practice.pk), ERASURES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    audit.record(
        request,
        action="privacy.practice.view",
        object_type="practice",
        object_id=practice.pk,
        detail={"erasures_shown": len(page.object_list)},
    )
    return render(
        request, "privacy/practice_privacy.html", {"practice": practice, "form": form, "page": page}
    )
