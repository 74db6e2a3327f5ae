"""Measures: the client's check-ins and scores, the care team's schedules, alerts and exchange."""

from django.urls import URLPattern, path

from kithkin.measures import staff_views, views

CLIENT = "clients/<uuid:client_id>/measures/"
RESPONSE = f"{CLIENT}responses/<uuid:response_id>/"

urlpatterns: list[URLPattern] = [
    # The client and the care team
    path(CLIENT, views.measures_overview, name="measures_overview"),
    path(
        f"{CLIENT}instruments/<slug:instrument_id>/",
        views.measures_instrument,
        name="measures_instrument",
    ),
    path(f"{CLIENT}support/", views.measures_support, name="measures_support"),
    path(
        f"{CLIENT}assignments/<uuid:assignment_id>/start/",
        views.measures_checkin_start,
        name="measures_checkin_start",
    ),
    path(RESPONSE, views.measures_response, name="measures_response"),
    path(
        f"{RESPONSE}questions/<int:step>/",
        views.measures_response_step,
        name="measures_response_step",
    ),
    path(f"{RESPONSE}review/", views.measures_response_review, name="measures_response_review"),
    path(f"{RESPONSE}done/", views.measures_response_done, name="measures_response_done"),
    # The care team only
    path(f"{CLIENT}assign/", staff_views.measures_assign, name="measures_assign"),
    path(
        f"{CLIENT}assignments/<uuid:assignment_id>/end/",
        staff_views.measures_assignment_end,
        name="measures_assignment_end",
    ),
    path(f"{CLIENT}enter/<slug:instrument_id>/", staff_views.measures_enter, name="measures_enter"),
    path(f"{CLIENT}alerts/<uuid:alert_id>/", staff_views.measures_alert, name="measures_alert"),
    path(f"{RESPONSE}fhir.json", staff_views.measures_response_fhir, name="measures_response_fhir"),
    path(f"{CLIENT}fhir.json", staff_views.measures_export_fhir, name="measures_export_fhir"),
    path(f"{CLIENT}import/", staff_views.measures_import_fhir, name="measures_import_fhir"),
    path("measures/alerts/", staff_views.measures_alerts, name="measures_alerts"),
    path("measures/due/", staff_views.measures_due, name="measures_due"),
    path("measures/instruments/", staff_views.measures_library, name="measures_library"),
    path(
        "measures/instruments/<slug:instrument_id>/questionnaire.json",
        staff_views.measures_questionnaire_fhir,
        name="measures_questionnaire_fhir",
    ),
    path("practice/measures/", staff_views.measures_settings, name="measures_settings"),
]
