from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "maeul.accounts"
    verbose_name = "Accounts and roles"
