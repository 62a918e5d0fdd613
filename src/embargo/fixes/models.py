from __future__ import annotations

from django.conf import settings
from django.db import models

from embargo.ids import new_public_id
from embargo.vault.sealing import SealedRecord, SealedTextField


class FixKind(models.TextChoices):
    PATCH = "patch"
    COMMIT = "commit"
    INTERIM = "interim"  # a release that disables the affected feature while a fuller fix is prepared


class JobStatus(models.TextChoices):
    NONE = "none"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


class Leased(models.Model):
    """A job the worker claims with a lease, as it claims outbox rows."""

    leased_until = models.DateTimeField(null=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class Fix(SealedRecord):
    """What closes a report: patches, commits, or an interim release."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    report = models.ForeignKey("reports.Report", on_delete=models.CASCADE, related_name="fixes")
    kind = models.CharField(max_length=16, choices=FixKind.choices)
    description = SealedTextField()
    team_only = models.BooleanField(default=False)
    # Private commits ({repository, sha, branch}) for kind=commit, and the public ones once the fix landed.
    commits = models.JSONField(default=list)
    public_commits = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["report", "created_at", "id"], name="fix_list")]

    def __str__(self) -> str:
        return f"fix {self.public_id}"


class Patch(SealedRecord, Leased):
    """One patch of a fix, for one supported branch, stored sealed; checked and tested by the worker."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    fix = models.ForeignKey(Fix, on_delete=models.CASCADE, related_name="patches")
    branch = models.CharField(max_length=200)
    filename = SealedTextField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=300)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    # Does it apply to the branch head?
    check_status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    applies = models.BooleanField(null=True)
    head_sha = models.CharField(max_length=64, blank=True)
    files = models.JSONField(default=list)
    diffstat = SealedTextField()
    check_message = SealedTextField()
    checked_at = models.DateTimeField(null=True)
    # Private CI: the project's tests on the branch head with the patch applied.
    ci_status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.NONE)
    ci_passed = models.BooleanField(null=True)
    ci_duration = models.FloatField(null=True)
    ci_summary = SealedTextField()
    ci_output = SealedTextField()
    ci_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["fix", "created_at", "id"], name="patch_list"),
            # The worker's claims (fixes/jobs.py `_claim`): `status = queued OR (status = running AND lease
            # expired)`, oldest first. One index per status column serves both arms of the OR (equality on the
            # status), so an idle pass reads no row whatever the number of finished jobs.
            models.Index(fields=["check_status", "created_at", "id"], name="patch_check_queue"),
            models.Index(fields=["ci_status", "created_at", "id"], name="patch_ci_queue"),
        ]

    def __str__(self) -> str:
        return f"patch {self.public_id} for {self.branch}"


class Target(models.TextChoices):
    AFFECTED = "affected"
    FIXED = "fixed"


class Reproduction(SealedRecord, Leased):
    """A run of the reporter's proof of concept in the sandbox, against the affected or the fixed code."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    report = models.ForeignKey("reports.Report", on_delete=models.CASCADE, related_name="reproductions")
    target = models.CharField(max_length=10, choices=Target.choices)
    ref = models.CharField(max_length=200, blank=True)
    fix = models.ForeignKey(Fix, on_delete=models.SET_NULL, null=True, related_name="reproductions")
    branch = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    reproduced = models.BooleanField(null=True)
    exit_code = models.IntegerField(null=True)
    duration = models.FloatField(null=True)
    output = SealedTextField()
    versions = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["report", "created_at", "id"], name="reproduction_list"),
            models.Index(fields=["status", "created_at", "id"], name="reproduction_queue"),
        ]

    def __str__(self) -> str:
        return f"reproduction {self.public_id} ({self.target})"
