from django.apps import AppConfig


class ThrottleConfig(AppConfig):
    name = "embargo.throttle"
    label = "throttle"
