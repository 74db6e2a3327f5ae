from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kithkin.notifications"
    label = "notifications"
    verbose_name = "Notifications"
