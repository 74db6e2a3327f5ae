"""The resilience and connection profile page. The client and her care team both see it, each in
their own wording; anyone else gets the same 404 as for a client who does not exist."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.connection import profile
from kithkin.network.services import audience_for


def connection_profile(request: HttpRequest, client_id: UUID) -> HttpResponse:
    # Access first (audited), then the method: every method is refused alike to a stranger.
    client = access.get_client(
        request, client_id, Purpose.CARE, Purpose.SELF, action="connection.profile.view"
    )
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    audience = audience_for(request.user, client)
    return render(
        request,
        "connection/profile_page.html",
        {
            "client": client,
            "audience": audience,
            "is_client": audience == "client",
            "profile": profile.build_profile(client, audience=audience),
        },
    )
