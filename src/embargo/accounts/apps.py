from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "embargo.accounts"
    label = "accounts"

    def ready(self) -> None:
        from embargo.accounts import reauth  # noqa: F401 - connects the log-in signal
