from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "embargo.vault"
    label = "vault"
