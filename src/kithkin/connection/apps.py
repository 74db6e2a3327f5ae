from django.apps import AppConfig


class ConnectionConfig(AppConfig):
    name = "kithkin.connection"
    label = "connection"
    verbose_name = "Connection and rhythm"
