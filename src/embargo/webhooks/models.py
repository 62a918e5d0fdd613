from django.conf import settings
from django.db import models

from embargo.ids import new_public_id
from embargo.vault.sealing import SealedRecord, SealedTextField


class Format(models.TextChoices):
    JSON = "json", "JSON (Embargo's own payload)"
    SLACK = "slack", "Slack / Mattermost"
    MATRIX = "matrix", "Matrix (hookshot)"


class Webhook(SealedRecord):
    """A URL of the team's that Embargo POSTs to when an event it subscribed to happens in the project.

    The URL is sealed like the secret: a chat service's webhook URL is itself a credential. `host` is kept in
    clear for lists and the audit log."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="webhooks")
    url = SealedTextField()
    host = models.CharField(max_length=255)
    description = models.CharField(max_length=200, blank=True)
    # Event names (embargo.webhooks.events.EVENTS), sorted.
    events = models.JSONField(default=list)
    format = models.CharField(max_length=16, choices=Format.choices, default=Format.JSON)
    active = models.BooleanField(default=True)
    # Report titles and message bodies in the payload: off unless an owner opts in.
    include_content = models.BooleanField(default=False)
    secret = SealedTextField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["project", "active"], name="webhook_project_active")]

    def __str__(self) -> str:
        return f"webhook {self.public_id} to {self.host}"


class WebhookDelivery(models.Model):
    """One attempt at delivering one event to one hook: what the receiver answered, or why it could not."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    # The outbox row's public_id: the X-Embargo-Delivery header, the same for every attempt.
    delivery_id = models.CharField(max_length=32)
    event = models.CharField(max_length=32)
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True)
    duration_ms = models.PositiveIntegerField(null=True)
    # Why the attempt failed (never the secret); "" on success.
    error = models.CharField(max_length=500, blank=True)
    # The start of the receiver's answer, printable characters only.
    response_excerpt = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["webhook", "-id"], name="webhook_delivery_log")]

    def __str__(self) -> str:
        return f"delivery {self.delivery_id} attempt {self.attempt}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
