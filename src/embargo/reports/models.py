from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from embargo.domain.workflow import State
from embargo.ids import new_public_id
from embargo.projects.models import Project
from embargo.vault.sealing import SealedRecord, SealedTextField

STATE_CHOICES = [(s.value, s.value) for s in State]


class Report(SealedRecord):
    """The private case, from the first message to publication or rejection."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports", null=True)
    state = models.CharField(max_length=20, choices=STATE_CHOICES, default=State.RECEIVED)
    # Where a report waiting in needs_info returns when the reporter answers.
    state_before_needs_info = models.CharField(max_length=20, blank=True)
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, related_name="duplicates")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="assigned_reports"
    )

    title = SealedTextField()
    description = SealedTextField()
    affected_versions = SealedTextField()
    reproduction = SealedTextField()
    impact = SealedTextField()
    severity_proposed = SealedTextField()

    # The reporter's private links are bound to this number: bumping it revokes them all.
    link_version = models.PositiveIntegerField(default=1)

    # How the proof of concept shows the vulnerability: empty means "it exits non-zero while vulnerable";
    # otherwise the text it prints when vulnerable.
    poc_marker = models.CharField(max_length=200, blank=True)

    credit_name = models.CharField(max_length=200, blank=True)
    credit_consent = models.BooleanField(default=False)

    # The report's language (ISO 639-1): detected by the worker, or as the reporter or the team set it
    # (`language_source`: "detected", "reporter", "team"; empty while not known). The confidence is the
    # detector's, for detected ones only.
    language = models.CharField(max_length=8, blank=True)
    language_confidence = models.FloatField(null=True)
    language_source = models.CharField(max_length=10, blank=True)
    # The language the reporter wants answers in; empty means the report's language.
    preferred_language = models.CharField(max_length=8, blank=True)
    # Marked as spam by the team: closed, out of the inbox, and counted against its sender.
    spam_at = models.DateTimeField(null=True)
    # Sent from a new account to a project that holds those for review: out of the inbox until the team lets it in.
    held_at = models.DateTimeField(null=True)

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    response_target_at = models.DateTimeField()
    response_due_at = models.DateTimeField()
    fix_due_at = models.DateTimeField()
    # Moments the clocks stop or start at (domain/clocks.py); those of later stages stay empty until then.
    fix_ready_at = models.DateTimeField(null=True)
    confirmation_answered_at = models.DateTimeField(null=True)
    notices_sent_at = models.DateTimeField(null=True)
    published_at = models.DateTimeField(null=True)
    # The reporter's own disclosure deadline, if they set one (the team sees it).
    reporter_deadline = models.DateTimeField(null=True, blank=True)
    # Time spent waiting for the reporter, shown apart from the team's own time.
    needs_info_since = models.DateTimeField(null=True)
    needs_info_seconds = models.PositiveBigIntegerField(default=0)
    # The nearest due moment of a running clock (domain.clocks.next_due_at); orders the inbox.
    next_due_at = models.DateTimeField(null=True)
    # When the worker next has a reminder to send for this report; idle passes read only this index.
    next_reminder_at = models.DateTimeField(null=True)
    # Retention: when the worker purges this spam or rejected report (empty while it is kept), and when it did.
    purge_at = models.DateTimeField(null=True)
    purged_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "next_due_at", "id"], name="report_inbox"),
            models.Index(fields=["project", "state", "next_due_at", "id"], name="report_inbox_state"),
            models.Index(fields=["assignee", "next_due_at", "id"], name="report_inbox_assignee"),
            models.Index(fields=["reporter", "-created_at", "-id"], name="report_mine"),
            # The inbox's other two lists (`?spam`, `?held`): few rows, each in its own partial index, so listing
            # them does not walk the project's whole inbox.
            models.Index(
                fields=["project", "next_due_at", "id"], name="report_inbox_spam", condition=Q(spam_at__isnull=False)
            ),
            models.Index(
                fields=["project", "next_due_at", "id"], name="report_inbox_held", condition=Q(held_at__isnull=False)
            ),
            models.Index(
                fields=["next_reminder_at"], name="report_reminder_due", condition=Q(next_reminder_at__isnull=False)
            ),
            models.Index(fields=["purge_at"], name="report_purge_due", condition=Q(purge_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"report {self.public_id}"

    @property
    def reply_language(self) -> str:
        """The language answers to the reporter are written in, if known."""
        return self.preferred_language or self.language


class Message(SealedRecord):
    """An entry in a report's thread. Internal messages are for the team only."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    body = SealedTextField()
    internal = models.BooleanField(default=False)
    # Which transition this message explains, if any ("acknowledged", "needs_info", …).
    transition_to = models.CharField(max_length=20, blank=True)
    # The message's language, detected for messages of the reporter and collaborators.
    language = models.CharField(max_length=8, blank=True)
    language_confidence = models.FloatField(null=True)
    # A team member's message sent translated: the language the reporter receives it in (beside the original).
    translate_to = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["report", "created_at", "id"], name="message_thread")]

    def __str__(self) -> str:
        return f"message {self.public_id}"


class Attachment(SealedRecord):
    """A file attached to a report (reproduction code, logs, screenshots), stored sealed."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = SealedTextField()
    content_type = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=300)
    # A Python script that shows the vulnerability (the sandbox runs it when the team asks).
    is_poc = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["report", "created_at", "id"], name="attachment_list")]

    def __str__(self) -> str:
        return f"attachment {self.public_id}"


class SentReminder(models.Model):
    """A reminder or escalation the worker sent (or passed over for a later one of the same clock): each is
    sent once."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="sent_reminders")
    kind = models.CharField(max_length=64)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    skipped = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "kind"], name="one_reminder_of_a_kind")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.report}"


class Collaborator(models.Model):
    """Someone invited to one report (e.g. an upstream author); sees that report only."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collaborations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "user"], name="one_grant_per_user")]

    def __str__(self) -> str:
        return f"{self.user} on {self.report}"


class ReportTransfer(SealedRecord):
    """A report handed from one project to another (reports/transfers.py). The sending team keeps this record as
    its stub of the report: where it went, when, by whom and why — no report content. With `keep_informed` the
    sending team hears of the report's later state changes (the state only) until the receiving team stops it."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="transfers")
    from_project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="transfers_out")
    to_project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="transfers_in")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    # Why it was handed on, for both teams; sealed like messages (it may well describe the vulnerability).
    note = SealedTextField()
    keep_informed = models.BooleanField(default=False)
    # The receiving team stopped telling the sending team (keep_informed was asked for and is no longer honoured).
    informing_stopped_at = models.DateTimeField(null=True)
    informing_stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["from_project", "-at", "-id"], name="transfer_out_newest"),
            models.Index(fields=["report", "at", "id"], name="transfer_of_report"),
        ]

    def __str__(self) -> str:
        return f"{self.report} from {self.from_project} to {self.to_project}"

    @property
    def informing(self) -> bool:
        return self.keep_informed and self.informing_stopped_at is None
