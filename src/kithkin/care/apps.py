from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "kithkin.care"
    label = "care"
    verbose_name = "Network casework"

    def ready(self) -> None:
        from kithkin.care import receivers  # noqa: F401  (connects the signal receivers)
