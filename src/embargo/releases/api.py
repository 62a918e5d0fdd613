"""Security release routes of the HTTP API: the project's releases (the team), and the per-report shortcuts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from embargo.accounts.access import Permission, ReportAccess, access_project_by_slug, access_report_by_id
from embargo.api.errors import ApiError, invalid
from embargo.api.pagination import Key, paginate
from embargo.domain.publication import Check
from embargo.releases import actions, checks, publishing, queries
from embargo.releases.actions import MomentIn, ReleaseChanges, ReleaseDateError
from embargo.releases.models import SecurityRelease
from embargo.releases.schemas import (
    BrokenIn,
    ChecksOut,
    MomentBody,
    NotifyIn,
    PreannouncementIn,
    PreannouncementOut,
    PublishIn,
    ReleaseIn,
    ReleaseOut,
    ReleasePage,
    ReleasePatch,
    ReportReleaseOut,
)
from embargo.reports.api import Page

router = Router(tags=["security releases"])
NEWEST_FIRST = (Key("created_at", descending=True, is_datetime=True), Key("id", descending=True))
RELEASES = "/projects/{slug}/security-releases"
ONE = RELEASES + "/{release_id}"
REPORT = "/reports/{report_id}/release"


@contextmanager
def _dates() -> Iterator[None]:
    """A refused release date answers 422 with its code and, besides the message, the dates to offer instead."""
    try:
        yield
    except ReleaseDateError as e:
        raise ApiError(
            e.status, e.code, e.message, e.field, suggestions=[d.isoformat() for d in e.suggestions]
        ) from None


def _clock(value: str | None) -> dt.time | None:
    return dt.time.fromisoformat(value) if value is not None else None


def preannouncement_out(release: SecurityRelease) -> dict[str, Any]:
    draft = queries.preannouncement_draft(release)
    return {
        "text": release.preannouncement or draft or "",
        "draft": draft,
        "edited": bool(release.preannouncement),
        "approved_at": release.preannouncement_approved_at,
        "lists": list(release.project.preannounce_lists or []),
    }


def release_out(release: SecurityRelease) -> dict[str, Any]:
    """The whole release, for the team."""
    return {
        "id": release.public_id,
        "project": release.project.slug,
        "state": queries.release_state(release),
        "versions": release.versions,
        "release_at": release.release_at,
        "release_local": queries.local_moment(release),
        "timezone": queries.zone_of(release),
        "notify_by": queries.notify_by(release),
        "reports": [
            {
                "id": v.report.public_id,
                "title": v.report.title,
                "state": v.report.state,
                "confirmed": v.confirmed,
                "confirmation_pending": v.confirmation_pending,
                "advisory_id": v.advisory.readable_id if v.advisory else None,
                "cve_id": v.cve_id,
            }
            for v in queries.entry_views(release)
        ],
        "notices_sent_at": release.notices_sent_at,
        "notice_round": release.notice_round,
        "confirmation_overridden": bool(release.confirmation_override),
        "embargo_broken": (
            {"at": release.embargo_broken_at, "reason": release.embargo_broken_reason}
            if release.embargo_broken_at
            else None
        ),
        "preannouncement": preannouncement_out(release),
        "packagers": [
            {
                "id": s.packager.public_id,
                "organisation": s.packager.organisation,
                "encrypted": bool(s.packager.public_key),
                "round": s.notice.round if s.notice else None,
                "reason": s.notice.reason if s.notice else None,
                "sent_at": s.notice.created_at if s.notice else None,
                "delivered_at": s.notice.delivered_at if s.notice else None,
                "acknowledged_at": s.notice.acknowledged_at if s.notice else None,
                "removed": s.packager.removed_at is not None,
            }
            for s in queries.packager_statuses(release)
        ],
        "created_at": release.created_at,
        "updated_at": release.updated_at,
        "published_at": release.published_at,
    }


def report_release_out(release: SecurityRelease, access: ReportAccess) -> dict[str, Any]:
    """The date facts for whoever may see the report's release; the whole release for the team only."""
    local = queries.local_moment(release)
    return {
        "date": local.date() if local else None,
        "time": f"{local:%H:%M}" if local else None,
        "timezone": queries.zone_of(release),
        "release_at": release.release_at,
        "versions": release.versions,
        "state": queries.release_state(release),
        "embargo_broken_at": release.embargo_broken_at,
        "release": release_out(release) if access.can(Permission.MANAGE_RELEASES) else None,
    }


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _release(request: HttpRequest, slug: str, release_id: str) -> SecurityRelease:
    return queries.access_release(_user(request), slug, release_id)[1]


def _access(request: HttpRequest, report_id: str, permission: Permission) -> ReportAccess:
    return access_report_by_id(_user(request), report_id, permission)


# --- the project's releases ----------------------------------------------------------------------------------------


@router.get(RELEASES, response=ReleasePage, summary="The project's security releases, newest first (the team)")
def list_releases(request: HttpRequest, slug: str, page: Query[Page]) -> dict[str, Any]:
    project, _ = access_project_by_slug(_user(request), slug, Permission.MANAGE_RELEASES)
    listed = paginate(
        queries.releases_of(project), NEWEST_FIRST, limit=page.limit, cursor=page.cursor, serialize=lambda r: r
    )
    # Each release's reports, advisories and notices for the whole page at once (no query per release).
    listed["items"] = [release_out(r) for r in queries.prefetch_for_list(listed["items"])]
    return listed


@router.post(RELEASES, response={201: ReleaseOut}, summary="Plan a security release of fix_ready reports (the team)")
def create_release(request: HttpRequest, slug: str, payload: ReleaseIn) -> Status:
    project, _ = access_project_by_slug(_user(request), slug, Permission.MANAGE_RELEASES)
    with _dates():
        release = actions.do_create_release(
            project, report_ids=payload.reports, versions=payload.versions,
            moment=MomentIn(payload.date, _clock(payload.time), payload.timezone), acting_user=_user(request),
        )  # fmt: skip
    return Status(201, release_out(release))


@router.get(ONE, response=ReleaseOut, summary="A security release, with each packager's notice (the team)")
def get_release(request: HttpRequest, slug: str, release_id: str) -> dict[str, Any]:
    return release_out(_release(request, slug, release_id))


@router.patch(ONE, response=ReleaseOut, summary="Change the versions, the moment or the reports (the team)")
def change_release(request: HttpRequest, slug: str, release_id: str, payload: ReleasePatch) -> dict[str, Any]:
    release = _release(request, slug, release_id)
    if not payload.model_fields_set:
        raise invalid("", "Nothing to change: send `versions`, `date`, `time`, `timezone`, `add_reports` or "
                          "`remove_reports`.")  # fmt: skip
    changes = ReleaseChanges(
        versions=payload.versions, moment=MomentIn(payload.date, _clock(payload.time), payload.timezone),
        add_reports=payload.add_reports, remove_reports=payload.remove_reports,
        override_confirmation=payload.override_confirmation,
    )  # fmt: skip
    with _dates():
        release = actions.do_change_release(release, changes, acting_user=_user(request))
    return release_out(release)


@router.post(ONE + "/notify-packagers", response=ReleaseOut, summary="Send the embargo notices (the team)")
def notify_packagers(request: HttpRequest, slug: str, release_id: str, payload: NotifyIn) -> dict[str, Any]:
    """The body is `{}`, or `{"override_confirmation": "why"}` to go ahead before every reporter confirmed."""
    release = _release(request, slug, release_id)
    with _dates():
        release = actions.do_notify_packagers(
            release, override_confirmation=payload.override_confirmation, acting_user=_user(request)
        )
    return release_out(release)


@router.post(ONE + "/embargo-broken", response=ReleaseOut, summary="Record that an issue became public early")
def embargo_broken(request: HttpRequest, slug: str, release_id: str, payload: BrokenIn) -> dict[str, Any]:
    release = _release(request, slug, release_id)
    release = actions.do_record_embargo_broken(release, reason=payload.reason, acting_user=_user(request))
    return release_out(release)


@router.get(ONE + "/preannouncement", response=PreannouncementOut, summary="The public pre-announcement (the team)")
def get_preannouncement(request: HttpRequest, slug: str, release_id: str) -> dict[str, Any]:
    return preannouncement_out(_release(request, slug, release_id))


@router.put(ONE + "/preannouncement", response=PreannouncementOut, summary="Edit the pre-announcement (the team)")
def put_preannouncement(request: HttpRequest, slug: str, release_id: str, payload: PreannouncementIn) -> dict:
    release = _release(request, slug, release_id)
    release = actions.do_save_preannouncement(release, payload.text, acting_user=_user(request))
    return preannouncement_out(release)


@router.post(
    ONE + "/preannouncement/approve", response=PreannouncementOut, summary="Approve and send the pre-announcement"
)
def approve_preannouncement(request: HttpRequest, slug: str, release_id: str) -> dict[str, Any]:
    release = _release(request, slug, release_id)
    release = actions.do_approve_preannouncement(release, acting_user=_user(request))
    return preannouncement_out(release)


# --- through one report --------------------------------------------------------------------------------------------


def _report_release(access: ReportAccess) -> SecurityRelease:
    return queries.report_release(access)


@router.get(REPORT, response=ReportReleaseOut, summary="The report's release date (the team and the reporter)")
def get_report_release(request: HttpRequest, report_id: str) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_RELEASE)
    return report_release_out(_report_release(access), access)


@router.put(REPORT, response=ReportReleaseOut, summary="Set the report's release moment (the team)")
def put_report_release(request: HttpRequest, report_id: str, payload: MomentBody) -> dict[str, Any]:
    access = _access(request, report_id, Permission.MANAGE_RELEASES)
    with _dates():
        release = actions.do_set_report_release(
            access, MomentIn(payload.date, _clock(payload.time), payload.timezone), acting_user=_user(request)
        )
    return report_release_out(release, access)


def _with_release(request: HttpRequest, report_id: str, act: Callable[[SecurityRelease], Any]) -> dict[str, Any]:
    access = _access(request, report_id, Permission.MANAGE_RELEASES)
    release = queries.release_of_report(access.report)
    if release is None:
        raise ApiError(
            409, "release_moment_missing", "The report is in no security release: set its date first (PUT …/release)."
        )
    return report_release_out(act(release), access)


@router.post(REPORT + "/notify-packagers", response=ReportReleaseOut, summary="Send the embargo notices (the team)")
def notify_report_packagers(request: HttpRequest, report_id: str, payload: NotifyIn) -> dict[str, Any]:
    override = payload.override_confirmation

    def act(release: SecurityRelease) -> SecurityRelease:
        with _dates():
            return actions.do_notify_packagers(release, override_confirmation=override, acting_user=_user(request))

    return _with_release(request, report_id, act)


@router.post(REPORT + "/embargo-broken", response=ReportReleaseOut, summary="Record that the issue became public")
def report_embargo_broken(request: HttpRequest, report_id: str, payload: BrokenIn) -> dict[str, Any]:
    access = _access(request, report_id, Permission.MANAGE_RELEASES)
    release = actions.do_record_embargo_broken_for_report(access, reason=payload.reason, acting_user=_user(request))
    return report_release_out(release, access)


# --- release day --------------------------------------------------------------------------------------------------


def checks_out(release: SecurityRelease, found: list[Check]) -> dict[str, Any]:
    return {
        "release": release.public_id,
        "published_at": release.published_at,
        "publishable": not any(c.failed for c in found),
        "checks": checks.as_json(found),
        "overrides": publishing.stored_overrides(release),
    }


@contextmanager
def _blocked() -> Iterator[None]:
    """A refused publication answers 409 with the failing checks besides the message."""
    try:
        yield
    except publishing.PublicationBlocked as e:
        raise ApiError(e.status, e.code, e.message, e.field, failures=e.failures) from None


@router.get(ONE + "/publication-checks", response=ChecksOut, summary="The release-day checks (the team)")
def release_publication_checks(request: HttpRequest, slug: str, release_id: str) -> dict[str, Any]:
    release = _release(request, slug, release_id)
    return checks_out(release, publishing.release_checks(release, acting_user=_user(request)))


@router.post(ONE + "/publish", response=ReleaseOut, summary="Publish the security release (the team)")
def publish_release(request: HttpRequest, slug: str, release_id: str, payload: PublishIn) -> dict[str, Any]:
    release = _release(request, slug, release_id)
    with _blocked():
        release = publishing.do_publish_release(release, overrides=payload.overrides, acting_user=_user(request))
    return release_out(release)


@router.get(
    "/reports/{report_id}/publication-checks", response=ChecksOut, summary="The report's release-day checks (the team)"
)
def report_publication_checks(request: HttpRequest, report_id: str) -> dict[str, Any]:
    release, found = publishing.report_checks(_access(request, report_id, Permission.MANAGE_RELEASES))
    return checks_out(release, found)


@router.post("/reports/{report_id}/publish", response=ReportReleaseOut, summary="Publish the report's release")
def publish_report(request: HttpRequest, report_id: str, payload: PublishIn) -> dict[str, Any]:
    """Publishes every report of the report's security release at once."""
    access = _access(request, report_id, Permission.MANAGE_RELEASES)
    with _blocked():
        release = publishing.do_publish_report(access, overrides=payload.overrides, acting_user=_user(request))
    return report_release_out(release, access)


@router.get("/reports/{report_id}/changelog", summary="The changelog entry, ready to paste (the team)")
def report_changelog(request: HttpRequest, report_id: str, format: Literal["md", "rst"] = "md") -> HttpResponse:
    """`?format=md` (Markdown) or `rst` (reStructuredText): the CVE, the affected and fixed versions, the fixing
    commits and the reporter's credit if they consented."""
    text = publishing.changelog(_access(request, report_id, Permission.MANAGE_RELEASES), format)
    kind = "text/markdown" if format == "md" else "text/x-rst"
    return HttpResponse(text, content_type=f"{kind}; charset=utf-8")
