from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "embargo.reports"
    label = "reports"
