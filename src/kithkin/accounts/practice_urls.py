"""Practice administration, client pages and invitation links."""

from django.urls import path

from kithkin.accounts import practice_views as views

urlpatterns = [
    path("practice/", views.practice, name="practice"),
    path("practice/staff/", views.practice_staff, name="practice_staff"),
    path("practice/staff/invite/", views.invite_staff, name="practice_invite_staff"),
    path("practice/clients/new/", views.client_create, name="practice_client_create"),
    path(
        "practice/invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("clients/<uuid:client_id>/", views.client_overview, name="client_overview"),
    path("clients/<uuid:client_id>/edit/", views.client_edit, name="client_edit"),
    path("clients/<uuid:client_id>/concerns/", views.client_concerns, name="client_concerns"),
    path("clients/<uuid:client_id>/care-team/", views.client_care_team, name="client_care_team"),
    path(
        "clients/<uuid:client_id>/invite-portal/",
        views.client_invite_portal,
        name="client_invite_portal",
    ),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
