from typing import Any

from django.apps import AppConfig
from django.core import checks


class MeasuresConfig(AppConfig):
    name = "kithkin.measures"
    label = "measures"
    verbose_name = "Measures"

    def ready(self) -> None:
        checks.register(check_instrument_library)


def check_instrument_library(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A practice's instrument files are checked at start-up, so a typo is found before a
    client is given a broken questionnaire."""
    from kithkin.measures import services
    from kithkin.measures.schema import DefinitionError

    services.reset_library_cache()
    try:
        services.installed_library()
    except DefinitionError as error:
        return [
            checks.Error(
                message, hint="Fix the file in KITHKIN_INSTRUMENTS_DIR.", id="measures.E001"
            )
            for message in error.errors
        ]
    return []
