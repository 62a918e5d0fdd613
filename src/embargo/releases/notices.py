"""The embargo notice to a packager: one e-mail with every advisory of the release (text and OSV), the CVE IDs,
the release moment in UTC and in the project's zone, an iCalendar event, and every patch for every branch;
signed with the project's OpenPGP key and, when the packager has a key, encrypted to it (PGP/MIME, RFC 3156).

The outbox row names the notice only (`{"notice": public_id}`): the content is put together when the worker
delivers it, so no secret text waits in the outbox. This is DESIGN.md's one exception to "no report content in
e-mail": carrying the advisory and the patches ahead of the release is the notice's purpose."""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from icalendar import Calendar, Event

from embargo.advisories import records
from embargo.advisories.models import Advisory
from embargo.fixes.actions import read_patch
from embargo.fixes.models import Patch
from embargo.notifications.delivery import Cancelled, DeliveryError
from embargo.notifications.models import OutboxMessage
from embargo.notifications.outbox import mail_domain
from embargo.notifications.prepared import PreparedEmail
from embargo.projects.models import ProjectKey
from embargo.releases import links
from embargo.releases.models import PackagerNotice, SecurityRelease
from embargo.reports.http import clean_filename
from embargo.reports.models import Report
from embargo.vault import openpgp

TEMPLATE = "packager_notice"

# What each round tells the packager, beside the content.
REASONS = {
    "first": "This is the embargo notice for an upcoming security release.",
    "moved": "The release moment moved: this notice replaces the earlier ones.",
    "report_added": "An issue was added to the release: this notice replaces the earlier ones.",
    "report_removed": "An issue was taken out of the release: this notice replaces the earlier ones.",
    "embargo_broken": "The embargo is broken: the issues became public early, and the release follows at once.",
    "versions_changed": "The versions to be released changed: this notice replaces the earlier ones.",
}


@dataclass(frozen=True)
class File:
    name: str
    content: bytes
    maintype: str = "application"
    subtype: str = "octet-stream"


@dataclass(frozen=True)
class Issue:
    """One report of the release as the packager sees it: its advisory and its patches."""

    report: Report
    advisory: Advisory | None
    patches: tuple[Patch, ...]

    @property
    def name(self) -> str:
        return self.advisory.readable_id if self.advisory else self.report.public_id


def issues_of(notice: PackagerNotice) -> list[Issue]:
    """The reports this notice carried (and only those), in the order they were sent, with advisory and patches."""
    reports = {
        r.public_id: r
        for r in Report.objects.filter(public_id__in=notice.report_ids).select_related("advisory", "project")
    }
    patches: dict[int, list[Patch]] = {}
    # The patches as they were when the notice was made (a later one goes out with a later round), and never those
    # of a fix the team keeps to itself.
    for patch in (
        Patch.objects.filter(fix__report__in=reports.values(), fix__team_only=False, created_at__lte=notice.created_at)
        .select_related("fix")
        .order_by("fix__created_at", "fix_id", "branch", "created_at", "id")
    ):
        patches.setdefault(patch.fix.report_id, []).append(patch)
    found = []
    for public_id in notice.report_ids:
        report = reports.get(public_id)
        if report is not None:
            advisory = getattr(report, "advisory", None)
            found.append(Issue(report, advisory, tuple(patches.get(report.pk, ()))))
    return found


def advisory_text(advisory: Advisory) -> str:
    """The advisory as a person reads it in a mail client or a terminal."""
    record = records.to_domain(advisory)
    lines = [f"{record.id}: {record.summary}".strip(), ""]
    if record.aliases:
        lines.append("Identifiers: " + ", ".join(record.aliases))
    for severity in record.severity:
        lines.append(f"Severity: {severity.rating.lower()} ({severity.score}) {severity.vector}")
    if record.cwe_ids:
        lines.append("Weakness: " + ", ".join(record.cwe_ids))
    for affected in record.affected:
        ranges = "; ".join(
            " ".join(
                part
                for part in (
                    f">= {r.introduced}" if r.introduced and r.introduced != "0" else "",
                    f"< {r.fixed}" if r.fixed else "",
                    f"<= {r.last_affected}" if r.last_affected else "",
                )
                if part
            )
            or "all versions"
            for r in affected.ranges
            if r.type != "GIT"
        )
        lines.append(f"Affected: {affected.ecosystem} {affected.package} {ranges}".rstrip())
        if affected.fixed_versions:
            lines.append("Fixed in: " + ", ".join(affected.fixed_versions))
    if record.credits:
        lines.append("Credits: " + ", ".join(c.name for c in record.credits))
    if record.details:
        lines += ["", record.details.strip()]
    if record.references:
        lines += ["", "References:"] + [f"- {r.type}: {r.url}" for r in record.references]
    return "\n".join(lines).strip() + "\n"


def moment(release: SecurityRelease) -> dict[str, str]:
    """The release moment in UTC and in the release's own zone, as notices and pages write it."""
    if release.release_at is None:
        raise ValueError("the release has no moment yet")
    zone = release.timezone or release.project.policy.timezone
    utc = release.release_at.astimezone(dt.UTC)
    local = utc.astimezone(ZoneInfo(zone))
    project_zone = release.project.policy.timezone
    in_project = utc.astimezone(ZoneInfo(project_zone)).strftime("%A %Y-%m-%d %H:%M ") + project_zone
    return {
        "utc": utc.strftime("%A %Y-%m-%d %H:%M UTC"),
        "local": local.strftime("%A %Y-%m-%d %H:%M ") + zone,
        "zone": zone,
        # The project's own zone too, when the release was set in another one.
        "project": "" if project_zone in (zone, "UTC") else in_project,
    }


def calendar(notice: PackagerNotice) -> bytes:
    """An iCalendar event at the release moment. Its UID is the release's and its SEQUENCE the notice's round,
    so that a moved date updates the entry a packager imported earlier instead of adding another."""
    release = notice.release
    if release.release_at is None:
        raise ValueError("the release has no moment yet")
    project = release.project
    versions = ", ".join(release.versions)
    cal = Calendar()
    cal.add("prodid", "-//Embargo//security releases//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"release-{release.public_id}@{mail_domain()}")
    event.add("sequence", notice.round)
    event.add("dtstamp", notice.created_at.astimezone(dt.UTC))
    event.add("dtstart", release.release_at.astimezone(dt.UTC))
    event.add("dtend", release.release_at.astimezone(dt.UTC) + dt.timedelta(hours=1))
    event.add("summary", f"{project.name} security release {versions} (embargo ends)".replace("  ", " "))
    event.add(
        "description",
        f"The embargo on {project.name}'s security release {versions} ends at this moment. "
        f"Advisories and patches: {links.access_link(notice.packager, release)}",
    )
    event.add("class", "CONFIDENTIAL")
    cal.add_component(event)
    return cal.to_ical()


def files_of(notice: PackagerNotice, issues: list[Issue]) -> list[File]:
    files: list[File] = []
    for issue in issues:
        if issue.advisory is not None:
            files.append(File(f"{issue.name}.txt", advisory_text(issue.advisory).encode(), "text", "plain"))
            osv = records.export(issue.advisory, "osv").encode()
            files.append(File(f"{issue.name}.osv.json", osv, "application", "json"))
        for patch in issue.patches:
            name = clean_filename(f"{issue.name}-{patch.branch}-{patch.filename}".replace("/", "_"))
            files.append(File(name, read_patch(patch), "text", "x-diff"))
    if notice.release.release_at is not None:
        files.append(File("release.ics", calendar(notice), "text", "calendar"))
    return files


def body_text(notice: PackagerNotice, issues: list[Issue], files: list[File], *, fingerprint: str) -> str:
    release = notice.release
    context: dict[str, Any] = {
        "project": release.project,
        "packager": notice.packager,
        "release": release,
        "moment": moment(release) if release.release_at else None,
        "versions": ", ".join(release.versions),
        "reason": REASONS.get(notice.reason, REASONS["first"]),
        "embargo_broken": bool(release.embargo_broken_at),
        "embargo_broken_reason": release.embargo_broken_reason,
        "issues": [
            {
                "name": issue.name,
                "cve_id": issue.advisory.cve_id if issue.advisory else None,
                "summary": records.to_domain(issue.advisory).summary if issue.advisory else "",
                "patches": [f"{p.branch}: {p.filename} (sha256 {p.sha256})" for p in issue.patches],
            }
            for issue in issues
        ],
        "files": [
            {"name": f.name, "size": len(f.content), "sha256": hashlib.sha256(f.content).hexdigest()} for f in files
        ],
        "ack_link": links.ack_link(notice),
        "access_link": links.access_link(notice.packager, release),
        "round": notice.round,
        "base_url": settings.EMBARGO_BASE_URL,
        "fingerprint": openpgp.fingerprint_display(fingerprint),
    }
    return render_to_string("releases/packager_notice.txt", context).strip() + "\n"


def inner_message(notice: PackagerNotice, key: ProjectKey) -> MimeMessage:
    """The notice's content as one MIME entity: the text, then every file as an attachment."""
    issues = issues_of(notice)
    files = files_of(notice, issues)
    message = MimeMessage(policy=email.policy.SMTP)
    message.set_content(body_text(notice, issues, files, fingerprint=key.fingerprint), cte="quoted-printable")
    for f in files:
        message.add_attachment(f.content, maintype=f.maintype, subtype=f.subtype, filename=f.name)
    return message


def signing_key(release: SecurityRelease) -> ProjectKey:
    key = ProjectKey.objects.filter(project=release.project, retired_at__isnull=True).first()
    if key is None:
        # Nothing goes out unsigned; the delivery is retried once an owner generates the project's key.
        raise DeliveryError(f"the project {release.project.slug} has no OpenPGP key to sign embargo notices with")
    return key


def build(row: OutboxMessage) -> EmailMessage:
    notice = PackagerNotice.objects.select_related("release__project__policy", "packager").get(
        public_id=row.context["notice"]
    )
    release = notice.release
    # What was queued may no longer be due: the content is made now, so the list is read now too.
    if notice.packager.removed_at is not None:
        raise Cancelled("the packager was taken off the list")
    if row.to_email not in notice.packager.emails:
        raise Cancelled("the address was taken off the packager's entry")
    if release.published_at is not None:
        raise Cancelled("the release is published: the embargo is over")
    key = signing_key(release)
    inner = inner_message(notice, key)
    if notice.packager.public_key:
        outer = openpgp.sign_and_encrypt_mime(
            inner, secret_armored=key.secret_key, recipients_armored=[notice.packager.public_key]
        )
    else:
        outer = openpgp.sign_mime(inner, secret_armored=key.secret_key)
    del outer["Subject"], outer["From"], outer["To"], outer["Message-ID"], outer["Date"]
    outer["Subject"] = f"[EMBARGOED] {release.project.name}: security release notice ({notice.round})"
    outer["From"] = settings.EMBARGO_MAIL_FROM
    outer["To"] = row.to_email
    outer["Date"] = formatdate(localtime=False)
    outer["Message-ID"] = row.message_id or make_msgid(domain=mail_domain())
    outer["Auto-Submitted"] = "auto-generated"
    outer["X-Auto-Response-Suppress"] = "All"
    raw = outer.as_bytes(policy=email.policy.SMTP)
    return PreparedEmail(raw, to=[row.to_email], from_email=settings.EMBARGO_MAIL_FROM)


def delivered(row: OutboxMessage) -> None:
    """Called once the row is handed to SMTP: the notice is delivered when every address of it was."""
    notice_id = row.context.get("notice")
    pending = OutboxMessage.objects.filter(template=TEMPLATE, context__notice=notice_id, sent_at__isnull=True)
    if not pending.exists():
        from embargo import clock

        PackagerNotice.objects.filter(public_id=notice_id, delivered_at__isnull=True).update(delivered_at=clock.now())
