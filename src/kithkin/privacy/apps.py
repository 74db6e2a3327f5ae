from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "kithkin.privacy"
    label = "privacy"
    verbose_name = "Data rights"
