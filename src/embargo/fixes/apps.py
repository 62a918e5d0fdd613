from django.apps import AppConfig


class FixesConfig(AppConfig):
    name = "embargo.fixes"
    label = "fixes"
