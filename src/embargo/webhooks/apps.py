from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "embargo.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from embargo.notifications import delivery as outbox_delivery
        from embargo.webhooks import delivery

        outbox_delivery.register(delivery.TEMPLATE, outbox_delivery.Builder(send=delivery.deliver))
