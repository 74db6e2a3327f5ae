from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kithkin.core"
    label = "core"
    verbose_name = "Kithkin core"
