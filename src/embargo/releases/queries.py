"""Reads of security releases, for a caller who holds the permission (the `access_*` functions check it)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from embargo import clock
from embargo.accounts.access import NotFound, Permission, ReportAccess, access_project_by_slug
from embargo.accounts.models import User
from embargo.advisories.models import Advisory
from embargo.domain import releases as rules
from embargo.domain.advisory import Severity
from embargo.domain.workflow import State
from embargo.projects.models import Packager, Project
from embargo.releases.models import PackagerNotice, ReleaseEntry, SecurityRelease
from embargo.reports.models import Report


def access_release(user: User | None, slug: str, release_id: str) -> tuple[Project, SecurityRelease]:
    """A project's release for its team; NotFound for anyone else, and for a release that does not exist."""
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_RELEASES)
    release = releases_of(project).filter(public_id=release_id).first()
    if release is None or not isinstance(release_id, str):
        raise NotFound
    return project, release


def releases_of(project: Project) -> QuerySet[SecurityRelease]:
    return SecurityRelease.objects.filter(project=project).select_related("project__policy", "data_key")


def release_of_report(report: Report) -> SecurityRelease | None:
    entry = (
        ReleaseEntry.objects.select_related("release__project__policy", "release__data_key")
        .filter(report=report)
        .first()
    )
    return entry.release if entry is not None else None


def report_release(access: ReportAccess) -> SecurityRelease:
    """The release of a report whose viewer holds VIEW_RELEASE; NotFound when it has none."""
    access.require(Permission.VIEW_RELEASE)
    release = release_of_report(access.report)
    if release is None:
        raise NotFound
    return release


def reports_of(release: SecurityRelease) -> list[Report]:
    prefetched = getattr(release, "_listed_reports", None)
    if prefetched is not None:
        return list(prefetched)
    return [
        entry.report
        for entry in ReleaseEntry.objects.filter(release=release)
        .select_related("report__project__policy", "report__data_key", "report__reporter")
        .order_by("added_at", "id")
    ]


def advisories_of(reports: list[Report]) -> dict[int, Advisory]:
    rows = Advisory.objects.filter(report__in=reports).select_related("data_key")
    return {a.report_id: a for a in rows if a.report_id is not None}


def release_state(release: SecurityRelease) -> str:
    """planned (no notices yet), scheduled (the notices went out) or published."""
    if release.published_at is not None:
        return "published"
    if release.notices_sent_at is not None:
        return "scheduled"
    return "planned"


def zone_of(release: SecurityRelease) -> str:
    return release.timezone or release.project.policy.timezone


def local_moment(release: SecurityRelease) -> dt.datetime | None:
    if release.release_at is None:
        return None
    return release.release_at.astimezone(ZoneInfo(zone_of(release)))


def notify_by(release: SecurityRelease) -> dt.datetime | None:
    if release.release_at is None:
        return None
    return rules.notify_by(release.release_at, release.project.policy.as_domain())


@dataclass(frozen=True)
class EntryView:
    report: Report
    advisory: Advisory | None
    confirmed: bool
    confirmation_pending: bool

    @property
    def cve_id(self) -> str | None:
        return self.advisory.cve_id if self.advisory is not None else None


def entry_views(release: SecurityRelease) -> list[EntryView]:
    reports = reports_of(release)
    advisories = getattr(release, "_listed_advisories", None)
    if advisories is None:
        advisories = advisories_of(reports)
    policy = release.project.policy.as_domain()
    now = clock.now()
    return [
        EntryView(
            report=r,
            advisory=advisories.get(r.pk),
            confirmed=r.confirmation_answered_at is not None,
            confirmation_pending=State(r.state) is State.FIX_READY
            and rules.confirmation_pending(r.fix_ready_at, r.confirmation_answered_at, policy, now),
        )
        for r in reports
    ]


def prefetch_for_list(releases: list[SecurityRelease]) -> list[SecurityRelease]:
    """What `release_out` reads of each release (reports, advisories, packagers and their latest notices), for a
    whole page at once: four queries whatever the page's length, instead of four per release. The releases are
    one project's (the list is per project)."""
    if not releases:
        return releases
    by_release: dict[int, list[Report]] = {r.pk: [] for r in releases}
    entries = (
        ReleaseEntry.objects.filter(release__in=releases)
        .select_related("report__project__policy", "report__data_key", "report__reporter")
        .order_by("added_at", "id")
    )
    for entry in entries:
        by_release[entry.release_id].append(entry.report)
    advisories = advisories_of([r for rows in by_release.values() for r in rows])
    latest: dict[tuple[int, int], PackagerNotice] = {}
    for notice in PackagerNotice.objects.filter(release__in=releases).order_by("release_id", "packager_id", "-round"):
        latest.setdefault((notice.release_id, notice.packager_id), notice)
    packagers = list(
        Packager.objects.filter(project_id__in={r.project_id for r in releases})
        .filter(Q(removed_at__isnull=True) | Q(notices__release__in=releases))
        .distinct()
        .order_by("organisation", "id")
    )
    for release in releases:
        reports = by_release[release.pk]
        release._listed_reports = reports  # type: ignore[attr-defined]
        release._listed_advisories = {r.pk: advisories[r.pk] for r in reports if r.pk in advisories}  # type: ignore[attr-defined]
        release._listed_packagers = [  # type: ignore[attr-defined]
            PackagerStatus(p, latest.get((release.pk, p.pk)))
            for p in packagers
            if p.project_id == release.project_id and (p.removed_at is None or (release.pk, p.pk) in latest)
        ]
    return releases


@dataclass(frozen=True)
class PackagerStatus:
    packager: Packager
    notice: PackagerNotice | None  # the latest this packager was sent for the release


def packager_statuses(release: SecurityRelease) -> list[PackagerStatus]:
    """Every packager on the list now, and every removed one that was sent a notice of this release (the team keeps
    sight of who holds embargoed material), with the latest notice of this release it was sent (two queries)."""
    prefetched = getattr(release, "_listed_packagers", None)
    if prefetched is not None:
        return list(prefetched)
    packagers = list(
        Packager.objects.filter(project_id=release.project_id)
        .filter(Q(removed_at__isnull=True) | Q(notices__release=release))
        .distinct()
        .order_by("organisation", "id")
    )
    latest: dict[int, PackagerNotice] = {}
    for notice in PackagerNotice.objects.filter(release=release).order_by("packager_id", "-round"):
        latest.setdefault(notice.packager_id, notice)
    return [PackagerStatus(p, latest.get(p.pk)) for p in packagers]


def ready_reports(project: Project) -> QuerySet[Report]:
    """The project's fix_ready reports that belong to no release yet: what a new release may take."""
    return (
        Report.objects.filter(project=project, state=State.FIX_READY, release_entry__isnull=True)
        .select_related("data_key")
        .order_by("created_at", "id")
    )


def severity_words(advisories: list[Advisory | None]) -> list[str]:
    """Each advisory's highest CVSS rating, as the pre-announcement counts them ("unrated" without one)."""
    words = []
    for advisory in advisories:
        best: tuple[float, str] | None = None
        draft = json.loads(advisory.draft or "{}") if advisory is not None else {}
        for entry in draft.get("severity", []):
            try:
                scored = Severity(entry["type"], entry["score"])
                candidate = (scored.score, scored.rating.lower())
            except (KeyError, ValueError):
                continue
            if best is None or candidate > best:
                best = candidate
        words.append(best[1] if best else "unrated")
    return words


def preannouncement_draft(release: SecurityRelease) -> str | None:
    """What Embargo proposes to announce in public; None until the release has a moment."""
    if release.release_at is None:
        return None
    views = entry_views(release)
    return rules.preannouncement_text(
        release.project.name, release.versions, release.release_at, severity_words([v.advisory for v in views])
    )


def upcoming_public(project: Project) -> list[SecurityRelease]:
    """Approved pre-announcements of releases not yet published, soonest first (for the public project page)."""
    return list(
        SecurityRelease.objects.filter(
            project=project, preannouncement_approved_at__isnull=False, published_at__isnull=True
        ).order_by("release_at", "id")[:20]
    )
