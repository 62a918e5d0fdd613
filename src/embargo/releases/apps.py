from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "embargo.releases"
    label = "releases"

    def ready(self) -> None:
        from embargo.notifications import delivery
        from embargo.releases import notices

        delivery.register(notices.TEMPLATE, delivery.Builder(build=notices.build, sent=notices.delivered))
