from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "embargo.audit"
    label = "audit"
