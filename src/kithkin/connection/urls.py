"""Keeping in touch: contact rhythms and reminder settings (rhythm_views). The resilience and
connection profile adds its pages here too."""

from django.urls import URLPattern, path

from kithkin.connection import rhythm_views

CONNECTION = "clients/<uuid:client_id>/connection/"

urlpatterns: list[URLPattern] = [
    path(f"{CONNECTION}rhythm/", rhythm_views.connection_rhythm, name="connection_rhythm"),
    path(
        f"{CONNECTION}nudges/",
        rhythm_views.connection_nudge_settings,
        name="connection_nudge_settings",
    ),
]
