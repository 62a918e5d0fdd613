from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "embargo.notifications"
    label = "notifications"
