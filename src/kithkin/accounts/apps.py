from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kithkin.accounts"
    label = "accounts"
    verbose_name = "Accounts and practices"
