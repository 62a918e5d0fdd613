from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "embargo.advisories"
    label = "advisories"
