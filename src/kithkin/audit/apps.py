from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kithkin.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from kithkin.audit import signals  # noqa: F401  (connects the login signals)
