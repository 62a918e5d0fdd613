from django.conf import settings
from django.db import models


class Event(models.Model):
    """An audit-log entry: who did what to which object, when, with what data (never secret text)."""

    tag = models.CharField(max_length=64)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, null=True, related_name="+")
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT, null=True, related_name="events")
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    audience = models.CharField(max_length=16, default="team")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["report", "id"], name="event_timeline")]

    def __str__(self) -> str:
        return f"{self.tag} at {self.created_at:%Y-%m-%d %H:%M}"
