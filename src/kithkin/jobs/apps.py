from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "kithkin.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app keeps its handlers in its own ``jobs`` module (e.g. kithkin/measures/jobs.py);
        # importing them here registers every kind before any worker or request runs.
        autodiscover_modules("jobs")
