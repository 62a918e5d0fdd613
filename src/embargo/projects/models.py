from __future__ import annotations

from django.conf import settings
from django.db import models

from embargo.domain import policy as domain_policy
from embargo.ids import new_public_id
from embargo.vault.sealing import SealedRecord, SealedTextField

DEFAULTS = domain_policy.REFERENCE


class Project(models.Model):
    """An open-source project that receives reports."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    repository_url = models.CharField(max_length=500, blank=True)
    package_ecosystem = models.CharField(max_length=50, blank=True)
    package_name = models.CharField(max_length=200, blank=True)
    # Maintained branches that fixes are written for (e.g. main and 2.31.x).
    supported_branches = models.JSONField(default=list, blank=True)
    # Private CI: how the project's tests run, and which extras of the package they need.
    test_command = models.CharField(max_length=500, blank=True)
    test_extras = models.CharField(max_length=200, blank=True)
    # CVE identifiers: entered by hand from a CNA (`manual`) or reserved through CVE Services.
    cve_mode = models.CharField(
        max_length=16, default="manual", choices=[("manual", "manual"), ("cve_services", "cve_services")]
    )
    # The UUID of the CNA that assigns the project's IDs (its own or another's), for CVE records.
    cna_org_id = models.CharField(max_length=36, blank=True)
    # Mailing lists: pre-announcements (versions and date, no details) and announcements (the advisories).
    preannounce_lists = models.JSONField(default=list, blank=True)
    announce_lists = models.JSONField(default=list, blank=True)
    # The languages the team reads (ISO 639-1, the first is the one it writes in): reports in others are
    # translated for it when an owner has turned translation on (the text then goes to the instance's service).
    team_languages = models.JSONField(default=list, blank=True)
    # Where questions that are not vulnerabilities belong (the "not a vulnerability" close points there).
    public_issues_url = models.CharField(max_length=500, blank=True)
    # Reports must carry a proof of concept (the reproduction field).
    require_poc = models.BooleanField(default=False)
    # Collaborators too must use a second factor (team members always must).
    require_2fa_collaborators = models.BooleanField(default=False)
    # Reports from new accounts wait for an owner's review before they reach the inbox.
    hold_new_accounts = models.BooleanField(default=False)
    # Retention: spam and rejected reports lose their text, messages and files this many days after they were
    # closed, leaving a stub with the audit chain (reports/retention.py). Empty keeps them.
    purge_spam_after_days = models.PositiveIntegerField(null=True, default=30)
    purge_rejected_after_days = models.PositiveIntegerField(null=True, default=365)
    translation_enabled = models.BooleanField(default=False)
    # The address `embargo mail-in` takes reports at (e.g. security@example.org, which the mail server forwards to
    # it; docs/mail-in.md); lower case, empty when the project takes no mail.
    intake_address = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["intake_address"], condition=~models.Q(intake_address=""), name="one_project_per_intake_address"
            )
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def languages_read(self) -> list[str]:
        """The team's languages, English when none is set."""
        return list(self.team_languages) or ["en"]


class Policy(models.Model):
    """The project's promises as data; the defaults are the reference policy's numbers."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="policy")
    response_target_hours = models.PositiveIntegerField(default=DEFAULTS.response_target_hours)
    response_limit_hours = models.PositiveIntegerField(default=DEFAULTS.response_limit_hours)
    fix_target_days = models.PositiveIntegerField(default=DEFAULTS.fix_target_days)
    packager_lead_days = models.PositiveIntegerField(default=DEFAULTS.packager_lead_days)
    release_weekdays = models.JSONField(default=list)
    holiday_calendar = models.CharField(max_length=10, blank=True, default=DEFAULTS.holiday_calendar)
    cve_required = models.BooleanField(default=DEFAULTS.cve_required)
    cve_after_fix = models.BooleanField(default=DEFAULTS.cve_after_fix)
    reporter_confirmation_days = models.PositiveIntegerField(default=DEFAULTS.reporter_confirmation_days)
    timezone = models.CharField(max_length=64, default=DEFAULTS.timezone)

    class Meta:
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return f"policy of {self.project}"

    def as_domain(self) -> domain_policy.Policy:
        return domain_policy.Policy(
            response_target_hours=self.response_target_hours,
            response_limit_hours=self.response_limit_hours,
            fix_target_days=self.fix_target_days,
            packager_lead_days=self.packager_lead_days,
            release_weekdays=tuple(self.release_weekdays or domain_policy.WEEKDAYS),
            holiday_calendar=self.holiday_calendar,
            cve_required=self.cve_required,
            cve_after_fix=self.cve_after_fix,
            reporter_confirmation_days=self.reporter_confirmation_days,
            timezone=self.timezone,
        )


class Role(models.TextChoices):
    MAINTAINER = "maintainer"
    OWNER = "owner"


class Membership(models.Model):
    """A member of a project's team."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role} of {self.project})"


class ProjectKey(SealedRecord):
    """The project's OpenPGP key: signs embargo notices and announcements. Rotation retires the old one,
    whose public key stays listed so that earlier signatures can still be checked."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="keys")
    fingerprint = models.CharField(max_length=64)
    public_key = models.TextField()
    secret_key = SealedTextField()  # ASCII-armoured, no passphrase: sealed at rest instead
    expires_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(retired_at__isnull=True), name="one_active_key_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"key {self.fingerprint} of {self.project}"


class Packager(models.Model):
    """A downstream distributor on the project's list; gets embargo notices ahead of releases."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="packagers")
    organisation = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200, blank=True)
    emails = models.JSONField(default=list)
    # Optional: when present, notices are encrypted to it (validated with GnuPG on entry).
    public_key = models.TextField(blank=True)
    key_fingerprint = models.CharField(max_length=64, blank=True)
    key_expires_at = models.DateTimeField(null=True)
    # The packager's personal links are bound to this number: bumping it revokes them.
    link_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    # Removed packagers stay for the record of earlier notices; their links stop working.
    removed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["project", "organisation", "id"], name="packager_list")]

    def __str__(self) -> str:
        return f"{self.organisation} (packager of {self.project})"


class PackagerRequestStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class PackagerRequest(models.Model):
    """Someone asking to join the project's packager list; an owner approves or declines."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="packager_requests")
    organisation = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200, blank=True)
    emails = models.JSONField(default=list)
    public_key = models.TextField(blank=True)
    key_fingerprint = models.CharField(max_length=64, blank=True)
    key_expires_at = models.DateTimeField(null=True)
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=PackagerRequestStatus.choices, default=PackagerRequestStatus.PENDING
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    decision_note = models.TextField(blank=True)
    packager = models.ForeignKey(Packager, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["project", "status", "created_at", "id"], name="packager_request_list")]

    def __str__(self) -> str:
        return f"request of {self.organisation} to join {self.project}"


class MastodonAccount(SealedRecord):
    """Where the project announces its advisories on Mastodon: the instance and an access token of the
    project's account (with the `write:statuses` scope), the token sealed like report text and never shown back."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="mastodon_account")
    instance_url = models.CharField(max_length=500)
    access_token = SealedTextField()

    def __str__(self) -> str:
        return f"Mastodon account of {self.project} on {self.instance_url}"
