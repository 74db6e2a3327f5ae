from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "kithkin.network"
    label = "network"
    verbose_name = "Support network maps"
