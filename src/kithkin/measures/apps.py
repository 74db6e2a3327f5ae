from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "kithkin.measures"
    label = "measures"
    verbose_name = "Measures"
