from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "embargo.advisories"
    label = "advisories"

    def ready(self) -> None:
        from embargo.advisories import cve_services
        from embargo.notifications import delivery

        delivery.register(cve_services.REJECTION, delivery.Builder(send=cve_services.deliver_rejection))
