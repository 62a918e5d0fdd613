from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "embargo.web"
    label = "web"
