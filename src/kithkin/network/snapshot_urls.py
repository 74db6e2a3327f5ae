"""Snapshots of a client's map: review, take, list, view one, compare two."""

from django.urls import URLPattern, path

from kithkin.network import snapshot_views as views

urlpatterns: list[URLPattern] = [
    path("clients/<uuid:client_id>/network/review/", views.review, name="network_review"),
    path(
        "clients/<uuid:client_id>/network/snapshots/",
        views.snapshot_list,
        name="network_snapshots",
    ),
    path(
        "clients/<uuid:client_id>/network/snapshots/take/",
        views.take,
        name="network_snapshot_take",
    ),
    path(
        "clients/<uuid:client_id>/network/snapshots/compare/",
        views.compare,
        name="network_snapshot_compare",
    ),
    path(
        "clients/<uuid:client_id>/network/snapshots/<uuid:snapshot_id>/",
        views.snapshot_detail,
        name="network_snapshot",
    ),
    path(
        "clients/<uuid:client_id>/network/snapshots/<uuid:snapshot_id>/diff/"
        "<uuid:other_snapshot_id>/",
        views.snapshot_diff,
        name="network_snapshot_diff",
    ),
]
