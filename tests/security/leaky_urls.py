"""A URLconf with one view that forgets the access helper, to prove the walk notices."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from kithkin.accounts.access import Purpose, get_client
from kithkin.accounts.models import Client


def leaky_client(request: HttpRequest, client_id: str) -> HttpResponse:
    client = Client.objects.get(pk=client_id)  # the mistake the walk exists to catch
    return HttpResponse(f"{client.display_name}: {client.presenting_concerns}")


def scoped_client(request: HttpRequest, client_id: str) -> HttpResponse:
    client = get_client(request, client_id, Purpose.CARE)
    return HttpResponse(f"{client.display_name}: {client.presenting_concerns}")


urlpatterns = [
    path("leaky/<uuid:client_id>/", leaky_client, name="leaky_client"),
    path("scoped/<uuid:client_id>/", scoped_client, name="scoped_client"),
    path("", include("kithkin.urls")),
]
