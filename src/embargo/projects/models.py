from __future__ import annotations

from django.conf import settings
from django.db import models

from embargo.domain import policy as domain_policy

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
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.slug


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
