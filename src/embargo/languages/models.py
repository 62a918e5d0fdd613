"""Languages of reports and messages, and their machine translations.

Detection and translation are worker jobs, claimed with a lease like outbox rows: the detector's models are
loaded in the worker only, and report text reaches a translation service only from the worker, only for a
project whose owner turned translation on. A translation never replaces the original text: it is a row of its
own, sealed like the text it translates."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from embargo.fixes.models import Leased
from embargo.ids import new_public_id
from embargo.vault.sealing import SealedRecord, SealedTextField


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


class Detection(Leased):
    """Detect the language of a report (message is null) or of one of its messages."""

    report = models.ForeignKey("reports.Report", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("reports.Message", on_delete=models.CASCADE, null=True, related_name="+")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The worker's claim (languages/jobs.py `_claim`): `status = queued AND due_at <= now OR status = running
            # AND lease expired`; equality on the status serves both arms on SQLite and PostgreSQL alike.
            models.Index(fields=["status", "due_at"], name="detection_queue"),
        ]

    def __str__(self) -> str:
        return f"detection for {self.message or self.report}"


class Purpose(models.TextChoices):
    # The reporter's text in the team's language, for the team to read.
    TEAM = "team"
    # A team member's message in the reporter's language, sent to the reporter beside the original.
    REPORTER = "reporter"


# The parts of a report that are translated for the team (a message's part is "body").
REPORT_FIELDS = ("title", "description", "impact")


class Translation(SealedRecord, Leased):
    """One text (a field of a report, or a message) in another language: queued, then made by the instance's
    translation service in the worker, or written or corrected by a team member."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    report = models.ForeignKey("reports.Report", on_delete=models.CASCADE, related_name="translations")
    message = models.ForeignKey("reports.Message", on_delete=models.CASCADE, null=True, related_name="translations")
    # "title", "description", "impact" for a report, "body" for a message.
    field = models.CharField(max_length=20)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.TEAM)
    source_language = models.CharField(max_length=8, blank=True)
    target_language = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    text = SealedTextField(blank=True)
    # The service that made it ("LibreTranslate", "DeepL"); kept after a correction by hand.
    provider = models.CharField(max_length=40, blank=True)
    # Why the last try failed, in the service's words or ours (never the text).
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    corrected_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    due_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_at"], name="translation_queue"),
            models.Index(fields=["report", "message", "field"], name="translation_of"),
        ]

    def __str__(self) -> str:
        return f"translation of {self.field} ({self.target_language})"
