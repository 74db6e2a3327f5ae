from django.urls import URLPattern, path

from kithkin.network import interchange_views as views

urlpatterns: list[URLPattern] = [
    path("clients/<uuid:client_id>/network/export/", views.network_export, name="network_export"),
    path(
        "clients/<uuid:client_id>/network/export/download/",
        views.network_export_download,
        name="network_export_download",
    ),
    path("clients/<uuid:client_id>/network/import/", views.network_import, name="network_import"),
    path(
        "clients/<uuid:client_id>/network/import/<uuid:import_id>/",
        views.network_import_mapping,
        name="network_import_mapping",
    ),
    path(
        "clients/<uuid:client_id>/network/import/<uuid:import_id>/done/",
        views.network_import_done,
        name="network_import_done",
    ),
]
