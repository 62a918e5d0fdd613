from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "embargo.projects"
    label = "projects"
