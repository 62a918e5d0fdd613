"""Release day: the checks, publishing a security release, and the worker at the release moment.

Publishing is one transaction: every report of the release goes to `published`, each advisory becomes public, the
release records the moment and the overrides (their reasons sealed on the release, their fingerprints in the audit
log), and the outbox gets the news for the reporters, the team, the packagers (the embargo ended; their access
links close by themselves once `published_at` is set) and the announcement lists (the oss-security style text,
public now).

In `cve_services` mode the CVE records are published after the commit, by the worker (`publish_cve_records`, in
every pass): the release keeps the advisories still to send in `cve_records_pending`, and one that CVE Services
refuses stays there for the next pass, so a slow or failing CVE Services never holds back the release itself."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from embargo import clock
from embargo.accounts.access import Permission, ReportAccess
from embargo.accounts.models import User
from embargo.advisories import actions as advisory_actions
from embargo.advisories import cve_services, records
from embargo.advisories import index as advisory_index
from embargo.advisories.models import Advisory, AdvisoryState
from embargo.audit.actions import fingerprint, record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain import publication as rules
from embargo.domain import workflow
from embargo.domain.advisory import AdvisoryError
from embargo.domain.publication import Check
from embargo.domain.workflow import Actor, State
from embargo.formats import ExportError
from embargo.formats import changelog as changelog_format
from embargo.formats import cve as cve_format
from embargo.notifications.outbox import queue_email
from embargo.projects.models import Packager
from embargo.releases import actions, checks, queries
from embargo.releases.actions import ReleaseError
from embargo.releases.models import SecurityRelease
from embargo.reports import actions as report_actions
from embargo.reports import notify as report_notify
from embargo.reports.models import Report

log = logging.getLogger(__name__)


class PublicationBlocked(ReleaseError):
    """409 `publication_blocked`: the failing checks, each as {id, status, evidence}, in `failures`."""

    def __init__(self, blocked: rules.PublicationBlocked) -> None:
        super().__init__(blocked.message, code=blocked.code, status=409)
        self.failures = checks.as_json(blocked.failures)


def advisory_url(advisory: Advisory) -> str:
    return f"{settings.EMBARGO_BASE_URL}/advisories/{advisory.readable_id}"


# --- the checks ---------------------------------------------------------------------------------------------------


def release_checks(release: SecurityRelease, *, acting_user: User) -> list[Check]:
    """The team's view of the release-day checks (they run git and ask the package index)."""
    actions._require_team(release.project, acting_user)
    return checks.run(release, clock.now())


def report_checks(access: ReportAccess) -> tuple[SecurityRelease, list[Check]]:
    access.require(Permission.MANAGE_RELEASES, "Only the project's team sees the release-day checks.")
    release = _release_of(access.report)
    return release, checks.run(release, clock.now())


def _release_of(report: Report) -> SecurityRelease:
    release = queries.release_of_report(report)
    if release is None:
        raise ReleaseError(
            "The report is in no security release: plan one first (PUT …/release).",
            code="release_moment_missing", status=409,
        )  # fmt: skip
    return release


def stored_overrides(release: SecurityRelease) -> dict[str, str]:
    text = release.publication_overrides or ""
    return json.loads(text) if text else {}


# --- publishing ---------------------------------------------------------------------------------------------------


def do_publish_report(access: ReportAccess, *, overrides: Mapping[str, str], acting_user: User) -> SecurityRelease:
    """The per-report shortcut: publishes the report's security release (every report in it)."""
    access.require(Permission.MANAGE_RELEASES, "Only the project's team publishes.")
    return do_publish_release(_release_of(access.report), overrides=overrides, acting_user=acting_user)


def do_publish_release(
    release: SecurityRelease,
    *,
    overrides: Mapping[str, str],
    acting_user: User | None,
    found: list[Check] | None = None,
) -> SecurityRelease:
    """Publishes the release when every check passes or each failing one is overridden with a reason;
    `acting_user` None is the worker at the release moment (which never overrides, and passes the checks it just
    ran as `found`)."""
    if acting_user is not None:
        actions._require_team(release.project, acting_user)
    try:
        cleaned = rules.clean_overrides(overrides)
    except rules.OverrideRefused as refused:
        status = 409 if refused.code == "release_moment_not_overridable" else 422
        raise ReleaseError(refused.message, field=refused.field, code=refused.code, status=status) from None
    if release.published_at is not None:
        raise ReleaseError("The release is published already.", code="release_published", status=409)
    # git and the index are asked outside the transaction: they take seconds, and hold no row.
    if found is None:
        found = checks.run(release, clock.now())
    now = clock.now()
    with transaction.atomic():
        release = actions._lock(release)
        actions._not_published(release)
        broken = release.embargo_broken_at is not None
        # The moment is asked again under the lock: it is the one check that cannot be waived.
        found = [
            rules.release_moment(release.release_at, now, embargo_broken=broken) if c.id == rules.RELEASE_MOMENT else c
            for c in found
        ]
        try:
            used = rules.require_publishable(found, cleaned)
        except rules.PublicationBlocked as blocked:
            raise PublicationBlocked(blocked) from None
        reports = [report_actions._locked(r) for r in queries.reports_of(release)]
        if not reports:
            raise ReleaseError("The release has no report.", code="release_empty", status=409)
        for report in reports:
            try:
                workflow.check(State(report.state), State.PUBLISHED, {Actor.SYSTEM},
                               workflow.Context(embargo_broken=broken))  # fmt: skip
            except workflow.TransitionRefused as refused:
                raise ReleaseError(
                    f"Report {report.public_id} is {report.state}: {refused.message}", code=refused.code, status=409
                ) from None
        advisories = queries.advisories_of(reports)
        for report in reports:
            # The actions of the reports app take a person; the worker publishes as Embargo itself (None), which
            # the audit log and the e-mails already read as "Embargo".
            report_actions._move(report, State.PUBLISHED, acting_user, reason="published")  # type: ignore[arg-type]
            report.published_at = now
            report_actions._save(report, "state", "published_at", "closed_at")
            report_notify.report_transitioned(report, actor=acting_user)  # type: ignore[arg-type]
        published = [_publish_advisory(advisories[r.pk], r, now, acting_user) for r in reports if r.pk in advisories]
        release.published_at = now
        release.publication_overrides = json.dumps(used, sort_keys=True) if used else ""
        if release.project.cve_mode == "cve_services":
            release.cve_records_pending = [a.readable_id for a in published if a.cve_id]
        actions._save(release, "published_at", "publication_overrides", "cve_records_pending")
        _tell(release, reports, published, acting_user)
        record_event(
            Tag.RELEASE_PUBLISHED, actor=acting_user, target=release, project=release.project,
            data={
                "reports": [r.public_id for r in reports], "advisories": [a.readable_id for a in published],
                "checks": {c.id: str(c.status) for c in found},
                "overrides": {k: fingerprint(v) for k, v in sorted(used.items())},
                "by": "worker" if acting_user is None else "team", "embargo_broken": broken,
                "cve_records_pending": list(release.cve_records_pending),
            },
        )  # fmt: skip
    return release


def _publish_advisory(advisory: Advisory, report: Report, now: dt.datetime, actor: User | None) -> Advisory:
    advisory.state = AdvisoryState.PUBLISHED
    advisory.published_at = now
    advisory.updated_at = now
    advisory.save(update_fields=["state", "published_at", "updated_at"])
    advisory_index.refresh(advisory)  # the OSV API, all.zip and feeds read the public record from it
    record_event(
        Tag.ADVISORY_PUBLISHED, actor=actor, target=advisory, project=advisory.project, report=report,
        audience=Audience.PARTICIPANTS, data={"id": advisory.readable_id, "cve_id": advisory.cve_id},
    )  # fmt: skip
    return advisory


def _tell(release: SecurityRelease, reports: list[Report], published: list[Advisory], actor: User | None) -> None:
    """The team, the packagers and the announcement lists (the reporters heard through the report's own news)."""
    project = release.project
    urls = [advisory_url(a) for a in published]
    names = [f"{a.cve_id} ({a.readable_id})" if a.cve_id else a.readable_id for a in published]
    common = {"project_name": project.name, "versions": ", ".join(release.versions), "advisories": urls,
              "names": ", ".join(names)}  # fmt: skip
    for member in actions._team(project):
        if actor is not None and member.pk == actor.pk:
            continue
        queue_email(
            "release_published", to=member,
            context={**common, "release_ref": release.public_id, "link": actions.release_url(release),
                     "by_worker": actor is None},
        )  # fmt: skip
    if release.notices_sent_at is not None:
        for packager in Packager.objects.filter(project=project, removed_at__isnull=True).order_by("id"):
            for address in packager.emails:
                queue_email("embargo_ended", to=address, context={**common, "organisation": packager.organisation})
    for advisory in published:
        try:
            text = announcement(advisory)
        except AdvisoryError:
            # Published over a failing records_valid check: the lists still hear where the advisory is.
            text = {"advisory_id": advisory.readable_id, "cve_id": advisory.cve_id or "",
                    "references": [advisory_url(advisory)]}  # fmt: skip
        for address in project.announce_lists or []:
            queue_email("announcement", to=address, context={**common, **text})
        if hasattr(project, "mastodon_account"):
            queue_email("mastodon_announcement", to="", context={"project": project.slug, "text": toot(advisory)})


def toot(advisory: Advisory) -> str:
    """The Mastodon post for one published advisory: what, which versions fix it, where to read it (≤ 500)."""
    name = f"{advisory.cve_id} ({advisory.readable_id})" if advisory.cve_id else advisory.readable_id
    try:
        record = records.to_domain(advisory)
        summary = record.summary
        fixed = sorted({v for a in record.affected for v in a.fixed_versions})
    except AdvisoryError:
        summary, fixed = "", []
    head = f"Security advisory {name} for {advisory.project.name}"
    fixed_words = f" Fixed in {', '.join(fixed)}." if fixed else ""
    url = advisory_url(advisory)
    room = 500 - len(head) - len(fixed_words) - len(url) - 4
    summary = summary if len(summary) <= room else summary[: max(room - 1, 0)] + "…"
    return f"{head}: {summary}.{fixed_words} {url}".replace(": .", ".")


def announcement(advisory: Advisory) -> dict[str, object]:
    """The public text of one advisory for an oss-security style e-mail: summary, affected, fixed, CVE, credits as
    consented, references."""
    record = records.to_domain(advisory)
    return {
        "advisory_id": advisory.readable_id,
        "cve_id": advisory.cve_id or "",
        "summary": record.summary,
        "details": record.details,
        "affected": [changelog_format.affected_words(a) for a in record.affected],
        "fixed": sorted({v for a in record.affected for v in a.fixed_versions}),
        "credits": [c.name for c in record.credits if c.name],
        "references": [advisory_url(advisory), *[r.url for r in record.references]],
        "severity": ", ".join(s.vector for s in record.severity),
    }


# --- the worker at the release moment -----------------------------------------------------------------------------


@dataclass
class DueRun:
    published: list[str] = field(default_factory=list)
    alerted: list[str] = field(default_factory=list)
    cve_records: int = 0


def run_due(now: dt.datetime | None = None) -> DueRun:
    """Publishes each scheduled release whose moment has come when every check passes; else alerts the team once,
    listing the failing checks. Idempotent, and safe in two workers at once (publishing locks the release and
    refuses a published one; the alert is claimed by a conditional update). Then sends pending CVE records."""
    now = now or clock.now()
    result = DueRun()
    # One query for both kinds of work, so that an idle pass stays cheap: the releases due, and the published ones
    # whose CVE records still wait.
    due = Q(published_at__isnull=True, notices_sent_at__isnull=False, release_at__lte=now)
    waiting = Q(published_at__isnull=False) & ~Q(cve_records_pending=[])
    rows = list(
        SecurityRelease.objects.filter(due | waiting)
        .select_related("project__policy", "data_key")
        .order_by("release_at", "id")
    )
    for release in rows:
        if release.published_at is not None:
            continue
        found = checks.run(release, now)
        failing = [c for c in found if c.failed]
        if not failing:
            try:
                do_publish_release(release, overrides={}, acting_user=None, found=found)
            except ReleaseError as error:
                # Another worker published it, or a check turned between the two runs: the next pass sees.
                log.info("release %s not published by the worker: %s", release.public_id, error.message)
                continue
            result.published.append(release.public_id)
        elif _alert(release, failing, now):
            result.alerted.append(release.public_id)
    waiting_ids = [r.pk for r in rows if r.published_at is not None] + [
        r.pk for r in rows if r.public_id in result.published and r.project.cve_mode == "cve_services"
    ]
    if waiting_ids:
        result.cve_records = publish_cve_records(SecurityRelease.objects.filter(pk__in=waiting_ids))
    return result


def _alert(release: SecurityRelease, failing: list[Check], now: dt.datetime) -> bool:
    with transaction.atomic():
        claimed = SecurityRelease.objects.filter(pk=release.pk, publication_alert_sent_at__isnull=True).update(
            publication_alert_sent_at=now
        )
        if not claimed:
            return False
        failures = [f"{c.id}: {c.evidence}" for c in failing]
        for member in actions._team(release.project):
            queue_email(
                "publication_alert", to=member,
                context={"project_name": release.project.name, "release_ref": release.public_id,
                         "link": actions.release_url(release), "failures": failures},
            )  # fmt: skip
        record_event(
            Tag.RELEASE_PUBLICATION_ALERT, actor=None, target=release, project=release.project,
            data={"failing": [c.id for c in failing]},
        )  # fmt: skip
    return True


def publish_cve_records(releases: QuerySet[SecurityRelease]) -> int:
    """Sends the CVE record of each advisory of `releases` published in `cve_services` mode that has not gone yet;
    returns how many went. A refusal leaves it pending for the next pass (and logs why)."""
    sent = 0
    for release in (
        releases.exclude(cve_records_pending=[]).filter(published_at__isnull=False).select_related("project")
    ):
        pending = list(release.cve_records_pending)
        client = cve_services.client_for(advisory_actions.credentials_of(release.project))
        for readable_id in list(pending):
            advisory = Advisory.objects.select_related("project", "report", "data_key").get(readable_id=readable_id)
            project = advisory.project
            try:
                container = cve_format.cna_container(
                    records.to_domain(advisory), cna_org_id=project.cna_org_id or None, vendor=project.name,
                    collection_urls=settings.EMBARGO_PACKAGE_COLLECTION_URLS,
                )  # fmt: skip
                client.publish(str(advisory.cve_id), container)
            except (cve_services.CveServicesError, ExportError) as error:
                log.warning("CVE record %s not published yet: %s", advisory.cve_id, getattr(error, "message", error))
                continue
            pending.remove(readable_id)
            sent += 1
            with transaction.atomic():
                SecurityRelease.objects.filter(pk=release.pk).update(cve_records_pending=pending)
                record_event(
                    Tag.CVE_RECORD_PUBLISHED, actor=None, target=advisory, project=project, report=advisory.report,
                    audience=Audience.PARTICIPANTS, data={"cve_id": advisory.cve_id},
                )  # fmt: skip
    return sent


# --- the changelog ------------------------------------------------------------------------------------------------


def changelog(access: ReportAccess, fmt: str) -> str:
    """The report's changelog entry for the team: the CVE, affected and fixed versions, the fixing commits (the
    public ones once recorded, else the fix's commits) and the credits as consented."""
    access.require(Permission.MANAGE_RELEASES, "Only the project's team writes the changelog.")
    advisory = Advisory.objects.filter(report=access.report).select_related("report", "project", "data_key").first()
    if advisory is None:
        raise ReleaseError("Write the advisory first: the changelog is made from it.", code="advisory_missing",
                           status=409)  # fmt: skip
    commits = []
    for fix in access.report.fixes.order_by("created_at", "id"):
        commits += [c for c in (fix.public_commits or fix.commits) if isinstance(c, dict) and c.get("sha")]
    return changelog_format.entry(records.to_domain(advisory), commits, fmt)
