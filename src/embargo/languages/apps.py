from django.apps import AppConfig


class LanguagesConfig(AppConfig):
    name = "embargo.languages"
    label = "languages"
