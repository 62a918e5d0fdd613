from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "embargo.projects"
    label = "projects"

    def ready(self) -> None:
        from embargo.notifications import delivery
        from embargo.projects import mastodon

        delivery.register(mastodon.TEMPLATE, delivery.Builder(send=mastodon.deliver_announcement))
