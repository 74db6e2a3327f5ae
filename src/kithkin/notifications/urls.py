from django.urls import path

from kithkin.notifications import views

urlpatterns = [
    path("notifications/", views.inbox, name="notifications"),
    path("notifications/read-all/", views.read_all, name="notifications_read_all"),
    path(
        "notifications/<uuid:notification_id>/open/",
        views.open_notification,
        name="notification_open",
    ),
    path("notifications/preferences/", views.preferences, name="notification_preferences"),
    path(
        "notifications/unsubscribe/<str:token>/",
        views.unsubscribe,
        name="notification_unsubscribe",
    ),
]
