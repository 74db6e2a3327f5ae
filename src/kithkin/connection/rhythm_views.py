"""The keeping-in-touch pages: each relationship's rhythm (the client and her care team), and the
client's reminder settings (the care team may look; only the client changes them)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import Client
from kithkin.audit import services as audit
from kithkin.connection import nudges, rhythm, withdrawal
from kithkin.connection.nudge_forms import NudgeSettingsForm
from kithkin.network.models import Person
from kithkin.network.services import audience_for


def _client(request: HttpRequest, client_id: UUID, verb: str) -> Client:
    return access.get_client(
        request, client_id, Purpose.CARE, Purpose.SELF, action=f"connection.{verb}"
    )


def _only(request: HttpRequest, *methods: str) -> HttpResponse | None:
    """Checked after the access check, so a stranger gets the same 404 whatever the method."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)
    return None if request.method in allowed else HttpResponseNotAllowed(sorted(allowed))


def connection_rhythm(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "rhythm.view")
    if refused := _only(request, "GET"):
        return refused
    audience = audience_for(request.user, client)
    is_client = audience == "client"
    rows = rhythm.for_client(client)
    return render(
        request,
        "connection/rhythm.html",
        {
            "client": client,
            "is_client": is_client,
            "rows": rows,
            "drifting": sum(1 for row in rows if row.rhythm.drifting),
            "min_contacts": rhythm.MIN_CONTACT_DAYS,
            # The withdrawal signal is for the care team; the client sees her own rhythms.
            "signal": None if is_client else withdrawal.signal_for(client),
            "settings": nudges.settings_of(client),
        },
    )


def connection_nudge_settings(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "nudges.view")
    if refused := _only(request, "GET", "POST"):
        return refused
    is_client = audience_for(request.user, client) == "client"
    if request.method == "POST" and not is_client:
        # The care team may see the client's choices; only she makes them.
        audit.record(
            request,
            action="connection.nudges.update",
            object_type="client",
            object_id=client.pk,
            client=client,
            outcome=audit.Outcome.DENIED,
        )
        raise PermissionDenied
    current = nudges.settings_of(client)
    people = Person.objects.safe_to_suggest().filter(client=client).order_by("ring", "created_at")
    form = NudgeSettingsForm(
        request.POST if request.method == "POST" else None,
        people=people,
        initial={
            "enabled": current.enabled,
            "quiet_start": current.quiet_start,
            "quiet_end": current.quiet_end,
            "weekly_cap": current.weekly_cap,
            "muted": list(current.muted_people.all()) if current.pk else [],
        },
    )
    if not is_client:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        nudges.save_settings(
            request,
            client,
            enabled=data["enabled"],
            quiet_start=data["quiet_start"],
            quiet_end=data["quiet_end"],
            weekly_cap=data["weekly_cap"],
            snooze_days=form.snooze_days,
            resume=form.resume,
            muted=list(data["muted"]),
        )
        messages.success(request, _("Your reminder settings were saved."))
        return redirect("connection_nudge_settings", client_id=client.pk)
    until = current.snoozed_until
    snoozed = until if until is not None and until > timezone.now() else None
    return render(
        request,
        "connection/nudge_settings.html",
        {
            "client": client,
            "is_client": is_client,
            "form": form,
            "current": current,
            "snoozed_until": snoozed,
            "waiting": nudges.queued_for(client),
            "recent": nudges.recent_for(client),
        },
    )
