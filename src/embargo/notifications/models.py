from django.conf import settings
from django.db import models
from django.db.models import Q

from embargo.ids import new_public_id


class OutboxMessage(models.Model):
    """A notification written in the same transaction as the change that caused it."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    template = models.CharField(max_length=64)
    to_email = models.EmailField()
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    report = models.ForeignKey("reports.Report", on_delete=models.CASCADE, null=True, related_name="+")
    # What the templates need; never secret text (tests check the rendered mail).
    context = models.JSONField(default=dict)
    message_id = models.CharField(max_length=200, unique=True)
    thread_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    leased_until = models.DateTimeField(null=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True)
    failed_at = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # A pass with nothing due reads only this index.
            models.Index(
                fields=["due_at"],
                name="outbox_pending",
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.to_email}"
