from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "kithkin.security"
    label = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        # Session bookkeeping listens to sign-in, sign-out and password changes.
        from kithkin.security import sessions  # noqa: F401
