from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "embargo.releases"
    label = "releases"
