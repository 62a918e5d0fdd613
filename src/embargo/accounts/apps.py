from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "embargo.accounts"
    label = "accounts"
