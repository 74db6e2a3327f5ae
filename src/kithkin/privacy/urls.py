"""Data rights: export, consent records, the privacy policy and erasure."""

from django.urls import URLPattern, path

from kithkin.privacy import views

CLIENT = "clients/<uuid:client_id>/privacy/"

urlpatterns: list[URLPattern] = [
    path("privacy/my-data/", views.my_data, name="privacy_my_data"),
    path("privacy/my-consent/", views.my_consent, name="privacy_my_consent"),
    path(f"{CLIENT}export/", views.client_export, name="privacy_client_export"),
    path(f"{CLIENT}consent/", views.client_consent, name="privacy_client_consent"),
    path(f"{CLIENT}erase/", views.client_erase, name="privacy_client_erase"),
    path(
        f"{CLIENT}erase/confirm/", views.client_erase_confirm, name="privacy_client_erase_confirm"
    ),
    path("practice/privacy/", views.practice_privacy, name="privacy_practice"),
]
