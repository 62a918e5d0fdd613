from django.apps import AppConfig


class MailInConfig(AppConfig):
    name = "embargo.mailin"
    label = "mailin"
