from django.conf import settings
from django.db import models


class Event(models.Model):
    """An audit-log entry: who did what to which object, when, with what data (never secret text).

    Each event is a link of its chain (embargo.domain.audit_chain): `chain` is "report:<id>", "project:<id>" or
    "instance", `seq` its position there, `hash` = sha256(`prev_hash` || canonical fields)."""

    tag = models.CharField(max_length=64)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, null=True, related_name="+")
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT, null=True, related_name="events")
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    audience = models.CharField(max_length=16, default="team")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    chain = models.CharField(max_length=48, default="")
    seq = models.PositiveBigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64, default="")
    hash = models.CharField(max_length=64, default="")

    class Meta:
        indexes = [models.Index(fields=["report", "id"], name="event_timeline")]
        constraints = [
            # Two writers that read the same head cannot both append: the second fails (and retries).
            models.UniqueConstraint(fields=["chain", "seq"], name="event_chain_position"),
        ]

    def __str__(self) -> str:
        return f"{self.tag} at {self.created_at:%Y-%m-%d %H:%M}"


class Checkpoint(models.Model):
    """A periodic link that pins the heads of the chains that moved since the previous checkpoint."""

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    # [[chain, seq, hash], …], sorted.
    heads = models.JSONField(default=list)
    # The highest event id this checkpoint looked at; the next one looks only beyond it.
    last_event_id = models.BigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"checkpoint {self.seq} at {self.created_at:%Y-%m-%d %H:%M}"


class Read(models.Model):
    """Someone saw a report, attachment, patch or unpublished advisory. Never holds report text; outside the hash
    chains because of its volume."""

    class Kind(models.TextChoices):
        REPORT = "report"
        ATTACHMENT = "attachment"
        PATCH = "patch"
        ADVISORY = "advisory"

    class Via(models.TextChoices):
        SESSION = "session"
        TOKEN = "token"  # noqa: S105 - a kind of access, not a password
        PRIVATE_LINK = "private_link"
        PACKAGER_LINK = "packager_link"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey("reports.Report", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    packager = models.ForeignKey("projects.Packager", on_delete=models.SET_NULL, null=True, related_name="+")
    # How the reader is shown: an e-mail address, "packager <organisation>" or "reporter link".
    who = models.CharField(max_length=300)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.CharField(max_length=64, blank=True)
    via = models.CharField(max_length=16, choices=Via.choices)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "-id"], name="read_project_newest"),
            models.Index(fields=["report", "-id"], name="read_report_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.who} read {self.kind} {self.object_id} at {self.at:%Y-%m-%d %H:%M}"
