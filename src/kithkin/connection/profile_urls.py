"""The resilience and connection profile (profile_views)."""

from django.urls import URLPattern, path

from kithkin.connection import profile_views

urlpatterns: list[URLPattern] = [
    path(
        "clients/<uuid:client_id>/connection/",
        profile_views.connection_profile,
        name="connection_profile",
    ),
]
