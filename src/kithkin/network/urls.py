"""The map, its editor, groups and the contact log: all under the client's network."""

from django.urls import URLPattern, path

from kithkin.network import views

PREFIX = "clients/<uuid:client_id>/network/"

urlpatterns: list[URLPattern] = [
    path(PREFIX, views.network_map, name="network_map"),
    path(f"{PREFIX}map.pdf", views.network_map_pdf, name="network_map_pdf"),
    path(f"{PREFIX}people/add/", views.network_quick_add, name="network_quick_add"),
    path(f"{PREFIX}people/<uuid:person_id>/", views.network_person, name="network_person"),
    path(
        f"{PREFIX}people/<uuid:person_id>/remove/",
        views.network_person_remove,
        name="network_person_remove",
    ),
    path(f"{PREFIX}groups/", views.network_groups, name="network_groups"),
    path(f"{PREFIX}groups/<uuid:group_id>/", views.network_group, name="network_group"),
    path(f"{PREFIX}contacts/", views.network_contacts, name="network_contacts"),
    path(f"{PREFIX}contacts/log/", views.network_contact_log, name="network_contact_log"),
]
