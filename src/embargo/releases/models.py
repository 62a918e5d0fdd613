from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from embargo.ids import new_public_id
from embargo.vault.sealing import SealedRecord, SealedTextField


class SecurityRelease(SealedRecord):
    """One or more reports fixed in one coordinated release: the versions, the weekday release moment, the
    embargo notices sent to packagers ahead of it, one publication."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="security_releases")
    # The versions to be released, e.g. ["2.32.4", "2.31.1"].
    versions = models.JSONField(default=list)
    # The release moment, stored in UTC; `timezone` is the one it was chosen in (the project's by default).
    release_at = models.DateTimeField(null=True)
    timezone = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Embargo notices: the first sending, and how many rounds went out (a moved moment or a changed set of
    # reports sends another round).
    notices_sent_at = models.DateTimeField(null=True)
    notice_round = models.PositiveIntegerField(default=0)
    # Sent although a reporter had not confirmed the fix yet: the maintainer's written reason.
    confirmation_override = SealedTextField()
    # A fact, not a state: the issue became public early; waives the release-moment and lead-time rules.
    embargo_broken_at = models.DateTimeField(null=True)
    embargo_broken_reason = SealedTextField()
    # The public pre-announcement: drafted by Embargo, edited and approved by the team, then sent.
    preannouncement = models.TextField(blank=True)
    preannouncement_approved_at = models.DateTimeField(null=True)
    preannouncement_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True)
    # Release day: the failing checks the team published despite, as JSON {check id: written reason}, sealed like
    # the other team text (the audit log keeps each reason's fingerprint); and when the worker, finding a check
    # failing at the moment, alerted the team (once).
    publication_overrides = SealedTextField(null=True)
    publication_alert_sent_at = models.DateTimeField(null=True)
    # In cve_services mode, the CVE records still to publish after the release went public (the worker's job).
    cve_records_pending = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "-created_at", "-id"], name="release_list"),
            # The worker's "is anything due?" (releases/publishing.py `run_due`) is an OR of these two conditions;
            # each arm reads its own small partial index (the releases waiting for their moment; the published
            # ones whose CVE records still wait), never the table of every release ever made.
            models.Index(
                fields=["release_at"], name="release_publication_due",
                condition=Q(published_at__isnull=True, notices_sent_at__isnull=False),
            ),
            models.Index(
                fields=["published_at"], name="release_cve_pending", condition=~Q(cve_records_pending=[]),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"security release {self.public_id}"


class ReleaseEntry(models.Model):
    """A report's place in a security release: a report belongs to at most one."""

    release = models.ForeignKey(SecurityRelease, on_delete=models.CASCADE, related_name="entries")
    report = models.OneToOneField("reports.Report", on_delete=models.CASCADE, related_name="release_entry")
    added_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.report} in {self.release}"


class PackagerNotice(models.Model):
    """One round of the embargo notice to one packager: queued (sent), handed to SMTP (delivered), and
    acknowledged through its single-use link."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    release = models.ForeignKey(SecurityRelease, on_delete=models.CASCADE, related_name="notices")
    packager = models.ForeignKey("projects.Packager", on_delete=models.PROTECT, related_name="notices")
    round = models.PositiveIntegerField()
    # Why this round went out: first, moved, report_added, report_removed, embargo_broken.
    reason = models.CharField(max_length=32)
    # The reports it carried (public IDs), so a packager's access shows only what it was sent.
    report_ids = models.JSONField(default=list)
    encrypted = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True)
    acknowledged_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["release", "packager", "round"], name="one_notice_per_round")]
        indexes = [models.Index(fields=["release", "packager", "-round"], name="notice_latest")]

    def __str__(self) -> str:
        return f"notice {self.public_id} to {self.packager}"
