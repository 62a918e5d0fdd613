from __future__ import annotations

from django.db import models

from embargo.vault.sealing import SealedRecord, SealedTextField


class AdvisorySequence(models.Model):
    """The last readable number given out per prefix and year (EMB-2026-0001, EMB-2026-0002, …)."""

    prefix = models.CharField(max_length=32)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="one_sequence_per_prefix_year")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class AdvisoryState(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "published"


class Advisory(SealedRecord):
    """The record that will be public. Its draft is sealed until publication."""

    readable_id = models.CharField(max_length=64, unique=True)
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="advisories")
    report = models.OneToOneField("reports.Report", on_delete=models.PROTECT, null=True, related_name="advisory")
    # The editable fields as JSON (summary, details, severity, cwe_ids, affected, references, credits).
    draft = SealedTextField()
    cve_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=AdvisoryState.choices, default=AdvisoryState.DRAFT)
    # Imported from another database (OSV, GHSA, PYSEC): keeps its own ID, already public.
    imported = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True)
    # After publication an amendment makes a new revision (1 at publication); `revisions` keeps each one's
    # [moment, summary] for the CSAF revision history.
    revision = models.PositiveIntegerField(default=1)
    revisions = models.JSONField(default=list, blank=True)
    # A published advisory is withdrawn, never deleted: OSV `withdrawn`, and the reason on its public page.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "advisories"
        indexes = [models.Index(fields=["project", "state", "published_at"], name="advisory_list")]

    def __str__(self) -> str:
        return self.readable_id


class CnaAccount(SealedRecord):
    """A project's CVE Services credentials (the API key sealed like report text)."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="cna_account")
    short_name = models.CharField(max_length=64)
    user = models.CharField(max_length=254)
    api_key = SealedTextField()

    def __str__(self) -> str:
        return f"CNA account {self.short_name}/{self.user}"


class PublishedRecord(models.Model):
    """The public OSV record of a published advisory, in clear: once published it is public, so it is kept
    ready to serve (OSV API, all.zip, feed, security page) without unsealing the draft. Rewritten by
    `advisories.index.refresh` in the transaction of every change to a published advisory (publication,
    amendment, CVE ID, withdrawal, import). No row: the record cannot be built (served nowhere, as before)."""

    advisory = models.OneToOneField(Advisory, on_delete=models.CASCADE, primary_key=True, related_name="published")
    osv_id = models.CharField(max_length=128)
    modified = models.CharField(max_length=32)  # OSV's `modified`, as in the record
    summary = models.TextField(blank=True)
    osv = models.TextField()  # the exact text `records.export(advisory, "osv")` returns

    def __str__(self) -> str:
        return self.osv_id


class PublishedPackage(models.Model):
    """One `affected` entry of a published, not withdrawn, advisory, looked up by the OSV query API by
    (ecosystem without its `:suffix`, name normalised as `osv_match.index_key` does); the entry itself decides the
    version with `osv_match`, so only the few candidates of the package are read."""

    record = models.ForeignKey(PublishedRecord, on_delete=models.CASCADE, related_name="packages")
    ecosystem = models.CharField(max_length=64)
    name = models.CharField(max_length=1000)
    affected = models.TextField()  # the OSV `affected` entry as JSON

    class Meta:
        indexes = [models.Index(fields=["ecosystem", "name"], name="published_package")]

    def __str__(self) -> str:
        return f"{self.ecosystem}/{self.name}"
