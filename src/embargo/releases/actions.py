"""Every write to security releases: planning one, its moment and reports, the embargo notices to packagers,
the broken embargo and the pre-announcement. Each action checks permission, asks the domain
(`embargo.domain.releases`), saves, records its event and queues its e-mail in one transaction.

After the notices went out, a release keeps its packagers informed by itself: a moved moment or a changed set of
reports sends every active packager a new round (`PackagerNotice`), and the reporters hear of a moved date."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from packaging.version import InvalidVersion, Version

from embargo import clock
from embargo.accounts.access import Forbidden, Permission, ReportAccess, permissions_of, team_role
from embargo.accounts.models import User
from embargo.audit.actions import fingerprint, record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain import releases as rules
from embargo.domain import workflow
from embargo.domain.workflow import Actor, State, is_open
from embargo.errors import ActionError
from embargo.notifications.outbox import queue_email
from embargo.projects.models import Membership, Packager, Project
from embargo.releases import queries
from embargo.releases.models import PackagerNotice, ReleaseEntry, SecurityRelease
from embargo.reports import actions as report_actions
from embargo.reports.models import Report

MAX_VERSIONS = 20
MAX_TEXT = 10_000
# Dates outside these make no release plan, and would overflow the date arithmetic of the suggestions.
EARLIEST_DATE, LATEST_DATE = dt.date(2000, 1, 1), dt.date(9000, 12, 31)


class ReleaseError(ActionError):
    pass


class ReleaseDateError(ReleaseError):
    """A release moment the policy refuses (422), with the allowed dates to offer instead."""

    def __init__(self, refused: rules.ReleaseDateRefused) -> None:
        super().__init__(refused.message, field="date", code=refused.code, status=422)
        self.suggestions = refused.suggestions


@dataclass(frozen=True)
class MomentIn:
    """The parts of a release moment a request gives; None keeps the current part."""

    date: dt.date | None = None
    time: dt.time | None = None
    timezone: str | None = None

    @property
    def given(self) -> bool:
        return self.date is not None or self.time is not None or self.timezone is not None


# --- checks ----------------------------------------------------------------------------------------------------


def _require_team(project: Project, user: User) -> None:
    role = team_role(user, project)
    if role is None or Permission.MANAGE_RELEASES not in permissions_of(frozenset({role})):
        raise Forbidden("Only the project's team plans security releases.")


def clean_versions(versions: Sequence[str]) -> list[str]:
    """The versions to release, each a PEP 440 version, in the order given, without repeats."""
    if len(versions) > MAX_VERSIONS:
        raise ReleaseError(f"A release has at most {MAX_VERSIONS} versions.", field="versions")
    cleaned: list[str] = []
    for i, raw in enumerate(versions):
        text = raw.strip()
        try:
            Version(text)
        except InvalidVersion:
            raise ReleaseError(
                f"`versions.{i}`: {raw!r} is not a version (PEP 440, e.g. 2.32.4).", field=f"versions.{i}"
            ) from None
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _zone(name: str) -> ZoneInfo:
    if name not in zoneinfo.available_timezones():
        raise ReleaseError(f"`timezone`: unknown time zone {name!r} (e.g. Europe/Paris, UTC).", field="timezone")
    return ZoneInfo(name)


def _new_moment(release: SecurityRelease, given: MomentIn) -> dt.datetime:
    """The local release moment after a change: the given parts, the others kept as they are (in the old zone)."""
    current = queries.local_moment(release)
    zone_name = given.timezone or queries.zone_of(release)
    zone = _zone(zone_name)
    day = given.date if given.date is not None else (current.date() if current else None)
    time = given.time if given.time is not None else (current.time() if current else None)
    if day is None:
        raise ReleaseError("`date` is required to set the release moment.", field="date")
    if time is None:
        raise ReleaseError("`time` is required to set the release moment.", field="time")
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ReleaseError(f"`date`: {day.isoformat()} is not a date to plan a release on.", field="date")
    naive = dt.datetime.combine(day, time)
    local = naive.replace(tzinfo=zone)
    if local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ReleaseError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone_name} (the clocks change that night): "
            "choose another time.",
            field="time",
        )
    return local


def _check_moment(release: SecurityRelease, local: dt.datetime, now: dt.datetime) -> None:
    """The date rules, the lead time counted from now; all but the past are waived once the embargo is broken."""
    try:
        rules.check_release_moment(
            local, release.project.policy.as_domain(), now=now, embargo_broken=release.embargo_broken_at is not None
        )
    except rules.ReleaseDateRefused as refused:
        raise ReleaseDateError(refused) from None


def _not_published(release: SecurityRelease) -> None:
    if release.published_at is not None:
        raise ReleaseError("The release is published: it can no longer change.", code="release_published", status=409)


def _reports_to_add(
    project: Project, ids: Sequence[str], *, field: str, release: SecurityRelease | None, any_open: bool = False
) -> list[Report]:
    """The project's reports named by `ids`, locked: each fix_ready and in no other release."""
    found = {
        r.public_id: r
        for r in Report.objects.filter(project=project, public_id__in=list(ids)).select_related(
            "project__policy", "data_key", "reporter"
        )
    }
    reports: list[Report] = []
    for i, rid in enumerate(ids):
        report = found.get(rid)
        if report is None:
            raise ReleaseError(f"`{field}.{i}`: no report {rid} in this project.", field=f"{field}.{i}")
        if report in reports:
            continue
        report_actions._locked(report)
        if State(report.state) is not State.FIX_READY and not (any_open and is_open(State(report.state))):
            raise ReleaseError(
                f"Report {rid} is {report.state}: a security release takes reports that are fix_ready.",
                field=f"{field}.{i}", code="report_not_fix_ready", status=409,
            )  # fmt: skip
        entry = ReleaseEntry.objects.filter(report=report).select_related("release").first()
        if entry is not None and (release is None or entry.release_id != release.pk):
            raise ReleaseError(
                f"Report {rid} belongs to security release {entry.release.public_id} already.",
                field=f"{field}.{i}", code="report_in_release", status=409,
            )  # fmt: skip
        if entry is None:
            reports.append(report)
    return reports


def _confirmations_pending(reports: Sequence[Report], now: dt.datetime) -> list[Report]:
    """The gates before the notices, in order: an advisory for each report, a CVE ID where the policy requires one
    (409 each); returns the reports still waiting for the reporter's confirmation."""
    advisories = queries.advisories_of(list(reports))
    missing = [r.public_id for r in reports if r.pk not in advisories]
    if missing:
        raise ReleaseError(
            f"Write the advisory of {', '.join(missing)} first: the notices carry every advisory.",
            code="advisory_missing", status=409,
        )  # fmt: skip
    policy = reports[0].project.policy.as_domain() if reports else None
    if policy is not None and policy.cve_required:
        without = [r.public_id for r in reports if not advisories[r.pk].cve_id]
        if without:
            raise ReleaseError(
                f"The policy requires a CVE ID before the notices: {', '.join(without)} has none yet.",
                code="cve_required", status=409,
            )  # fmt: skip
    return [
        r
        for r in reports
        if policy is not None and rules.confirmation_pending(r.fix_ready_at, r.confirmation_answered_at, policy, now)
    ]


def _confirmation_gate(pending: Sequence[Report], override: str | None, release: SecurityRelease) -> bool:
    """Refuses while a reporter may still answer, unless the team wrote why it goes ahead; True if overridden."""
    if not pending:
        return False
    if override is None:
        ids = ", ".join(r.public_id for r in pending)
        raise ReleaseError(
            f"Waiting for the reporter to confirm the fix of {ids} (or for the policy's wait to run out). "
            "To go ahead now, give your reason in `override_confirmation`.",
            field="override_confirmation", code="confirmation_pending", status=409,
        )  # fmt: skip
    release.confirmation_override = override
    return True


def _override(reason: str | None) -> str | None:
    if reason is None:
        return None
    if not reason.strip():
        raise ReleaseError(
            "`override_confirmation`: write why the notices go out before the reporter confirmed.",
            field="override_confirmation",
        )
    if len(reason) > MAX_TEXT:
        raise ReleaseError(f"`override_confirmation` is at most {MAX_TEXT} characters.", field="override_confirmation")
    return reason.strip()


# --- side effects within the transaction -------------------------------------------------------------------------


def _lock(release: SecurityRelease) -> SecurityRelease:
    """The release's row, locked after its reports' rows: the report actions hold a report when they reach its
    release (`take_out_of_release`), so taking the locks in that same order keeps two writers from deadlocking."""
    reports = list(ReleaseEntry.objects.filter(release_id=release.pk).values_list("report_id", flat=True))
    list(Report.objects.select_for_update().filter(pk__in=reports).order_by("pk").values_list("pk", flat=True))
    return (
        SecurityRelease.objects.select_for_update(of=("self",))
        .select_related("project__policy", "data_key")
        .get(pk=release.pk)
    )


def _save(release: SecurityRelease, *fields: str) -> None:
    release.updated_at = clock.now()
    release.save(update_fields=sorted({*fields, "updated_at"}))


def _schedule(report: Report, actor: User, now: dt.datetime) -> None:
    """Sending the notices is the only way into `scheduled` (DESIGN.md)."""
    workflow.check(State(report.state), State.SCHEDULED, {Actor.SYSTEM})
    report_actions._move(report, State.SCHEDULED, actor, reason="notices_sent")
    report.notices_sent_at = now
    report_actions._save(report, "state", "notices_sent_at")


def _unschedule(report: Report, actor: User) -> None:
    """Out of a release whose notices went out: back to fix_ready, its fix and the reporter's answer untouched."""
    kept = (report.fix_ready_at, report.confirmation_answered_at)
    workflow.check(State.SCHEDULED, State.FIX_READY, {Actor.SYSTEM}, workflow.Context(fixes=report.fixes.count()))
    report_actions._move(report, State.FIX_READY, actor, reason="removed_from_release")
    # `_move` restarts the confirmation clock for a new fix; this is the same fix, already put to the reporter.
    report.fix_ready_at, report.confirmation_answered_at = kept
    report.notices_sent_at = None
    report_actions._save(report, "state", "fix_ready_at", "confirmation_answered_at", "notices_sent_at")


def _send_round(release: SecurityRelease, reason: str, reports: Sequence[Report], *, check_keys: bool = True) -> int:
    """One notice to every packager on the list now, carrying the release's reports; returns how many. A broken
    embargo is told whatever the keys (`check_keys=False`): nothing may hold that news back."""
    if check_keys:
        _require_keys(release)
    round_no = release.notice_round + 1
    ids = [r.public_id for r in reports]
    moment = clock.now()
    sent = 0
    for packager in Packager.objects.filter(project_id=release.project_id, removed_at__isnull=True).order_by("id"):
        notice = PackagerNotice.objects.create(
            release=release, packager=packager, round=round_no, reason=reason, report_ids=ids,
            encrypted=bool(packager.public_key), created_at=moment,
        )  # fmt: skip
        for address in packager.emails:
            queue_email("packager_notice", to=address, context={"notice": notice.public_id})
        sent += 1
    release.notice_round = round_no
    return sent


def moment_words(release: SecurityRelease) -> dict[str, str]:
    """The release moment as e-mail and pages write it: in UTC, in the release's zone, and in the project's."""
    local = queries.local_moment(release)
    if release.release_at is None or local is None:
        return {"release_utc": "", "release_local": "", "release_project": ""}
    zone = queries.zone_of(release)
    project_zone = release.project.policy.timezone
    in_project = release.release_at.astimezone(ZoneInfo(project_zone))
    return {
        "release_utc": f"{release.release_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "release_local": f"{local:%Y-%m-%d %H:%M} {zone}",
        "release_project": "" if project_zone in (zone, "UTC") else f"{in_project:%Y-%m-%d %H:%M} {project_zone}",
    }


def _tell_reporters(release: SecurityRelease, reports: Sequence[Report], *, moved: bool) -> None:
    """The reporters hear the date (no report text, only its ID)."""
    from embargo.reports.notify import _reporter_link

    words = moment_words(release)
    local = words["release_local"] + (f" ({words['release_project']})" if words["release_project"] else "")
    for report in reports:
        if report.reporter is None:
            continue
        link, _ = _reporter_link(report)
        queue_email(
            "release_scheduled", to=report.reporter, report=report,
            context={
                "project_name": release.project.name, "report_ref": report.public_id, "link": link, "moved": moved,
                "release_utc": words["release_utc"], "release_local": local, "versions": ", ".join(release.versions),
                "language": report.reply_language,
            },
        )  # fmt: skip


def _team(project: Project) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(project=project, user__email_verified_at__isnull=False)
        .select_related("user")
        .order_by("id")
    ]


def release_url(release: SecurityRelease) -> str:
    from django.conf import settings

    return f"{settings.EMBARGO_BASE_URL}/projects/{release.project.slug}/releases/{release.public_id}/"


def _moment_data(release: SecurityRelease) -> dict[str, str | None]:
    return {
        "release_at": release.release_at.astimezone(dt.UTC).isoformat() if release.release_at else None,
        "timezone": release.timezone,
    }


# --- actions -----------------------------------------------------------------------------------------------------


def do_create_release(
    project: Project,
    *,
    report_ids: Sequence[str],
    versions: Sequence[str] = (),
    moment: MomentIn = MomentIn(),
    acting_user: User,
    any_open: bool = False,
) -> SecurityRelease:
    """A new release of the project's fix_ready reports; its moment may come later. `any_open` lets a report not
    fixed yet in (a release of its own, to record a broken embargo on)."""
    _require_team(project, acting_user)
    if not report_ids:
        raise ReleaseError("`reports`: name at least one fix_ready report.", field="reports")
    cleaned = clean_versions(versions)
    now = clock.now()
    with transaction.atomic():
        reports = _reports_to_add(project, report_ids, field="reports", release=None, any_open=any_open)
        release = SecurityRelease(
            project=project, versions=cleaned, timezone=moment.timezone or project.policy.timezone,
            created_by=acting_user, created_at=now, updated_at=now,
        )  # fmt: skip
        if moment.given:
            local = _new_moment(release, moment)
            _check_moment(release, local, now)
            release.release_at = local.astimezone(dt.UTC)
        else:
            _zone(release.timezone)
        release.save()
        for report in reports:
            ReleaseEntry.objects.create(release=release, report=report, added_at=now)
        record_event(
            Tag.RELEASE_CREATED, actor=acting_user, target=release, project=project,
            data={"reports": [r.public_id for r in reports], "versions": cleaned, **_moment_data(release)},
        )  # fmt: skip
    return release


@dataclass(frozen=True)
class ReleaseChanges:
    versions: Sequence[str] | None = None
    moment: MomentIn = MomentIn()
    add_reports: Sequence[str] = ()
    remove_reports: Sequence[str] = ()
    # For reports added after the notices went out whose reporter has not confirmed yet.
    override_confirmation: str | None = None


def do_change_release(release: SecurityRelease, changes: ReleaseChanges, *, acting_user: User) -> SecurityRelease:
    """Versions, moment and reports. After the notices went out, a moved moment or a changed set of reports sends
    every packager a new round, a moved moment is told to the reporters, and an added report passes the same gates
    as at the first sending and becomes scheduled."""
    _require_team(release.project, acting_user)
    versions = clean_versions(changes.versions) if changes.versions is not None else None
    override = _override(changes.override_confirmation)
    both = set(changes.add_reports) & set(changes.remove_reports)
    if both:
        raise ReleaseError(f"Report {sorted(both)[0]} is both added and removed.", field="add_reports")
    now = clock.now()
    with transaction.atomic():
        release = _lock(release)
        _not_published(release)
        project = release.project
        sent = release.notices_sent_at is not None
        data: dict[str, object] = {}
        if versions is not None and versions != release.versions:
            data["versions"] = {"old": release.versions, "new": versions}
            release.versions = versions
        moved = False
        only_zone = changes.moment.date is None and changes.moment.time is None
        if changes.moment.given and release.release_at is None and only_zone and changes.moment.timezone:
            # No moment yet: the zone is all there is to change.
            _zone(changes.moment.timezone)
            if changes.moment.timezone != release.timezone:
                data["timezone"] = {"old": release.timezone, "new": changes.moment.timezone}
                release.timezone = changes.moment.timezone
        elif changes.moment.given:
            local = _new_moment(release, changes.moment)
            zone = changes.moment.timezone or queries.zone_of(release)
            new_at = local.astimezone(dt.UTC)
            if new_at != release.release_at or zone != release.timezone:
                _check_moment(release, local, now)
                old = _moment_data(release)
                moved = release.release_at is not None and new_at != release.release_at
                release.release_at, release.timezone = new_at, zone
                data["moment"] = {"old": old, "new": _moment_data(release)}
        removed: list[Report] = []
        for i, rid in enumerate(changes.remove_reports):
            entry = ReleaseEntry.objects.filter(release=release, report__public_id=rid).select_related("report").first()
            if entry is None:
                raise ReleaseError(
                    f"`remove_reports.{i}`: report {rid} is not in this release.", field=f"remove_reports.{i}"
                )
            report = report_actions._locked(entry.report)
            entry.delete()
            if State(report.state) is State.SCHEDULED:
                _unschedule(report, acting_user)
            removed.append(report)
        added = _reports_to_add(project, changes.add_reports, field="add_reports", release=release)
        overridden = False
        if sent and added:
            # The packagers must get the new report with the full lead time, as they got the first ones.
            current = queries.local_moment(release)
            if current is not None and not moved:
                _check_moment(release, current, now)
            overridden = _confirmation_gate(_confirmations_pending(added, now), override, release)
        for report in added:
            ReleaseEntry.objects.create(release=release, report=report, added_at=now)
            if sent:
                _schedule(report, acting_user, now)
        if added:
            data["added"] = [r.public_id for r in added]
        if removed:
            data["removed"] = [r.public_id for r in removed]
        if not data:
            return release
        versions_changed = "versions" in data
        if sent and (moved or added or removed or versions_changed):
            reason = (
                "moved" if moved else "report_added" if added else "report_removed" if removed else "versions_changed"
            )
            reports = queries.reports_of(release)
            data["round"] = {"number": release.notice_round + 1, "reason": reason,
                             "packagers": _send_round(release, reason, reports)}  # fmt: skip
            if moved:
                _tell_reporters(release, [r for r in reports if r not in added], moved=True)
            _tell_reporters(release, added, moved=False)
        if moved and release.preannouncement_approved_at is not None:
            # The public text names the old date: the team approves a corrected one, which goes out again.
            release.preannouncement_approved_at = None
            release.preannouncement_approved_by = None
            data["preannouncement"] = "approval withdrawn: the moment moved"
        if overridden:
            data["confirmation_overridden"] = fingerprint(override or "")
        _save(
            release, "versions", "release_at", "timezone", "notice_round", "preannouncement_approved_at",
            "preannouncement_approved_by", *(["confirmation_override"] if overridden else []),
        )  # fmt: skip
        record_event(Tag.RELEASE_CHANGED, actor=acting_user, target=release, project=project, data=data)
    return release


def do_set_report_release(access: ReportAccess, moment: MomentIn, *, acting_user: User) -> SecurityRelease:
    """The per-report shortcut: sets the moment of the report's release, or plans a release of this report alone."""
    access.require(Permission.MANAGE_RELEASES, "Only the project's team plans security releases.")
    release = queries.release_of_report(access.report)
    if release is None:
        return do_create_release(
            access.report.project, report_ids=[access.report.public_id], moment=moment, acting_user=acting_user
        )
    return do_change_release(release, ReleaseChanges(moment=moment), acting_user=acting_user)


def _require_keys(release: SecurityRelease) -> None:
    """Embargo notices are signed with the project's key, and encrypted to each packager's key that is on file: none
    goes out without the first, and none to a packager whose key expired (it could not be encrypted to it, and
    sending it in clear instead is not the packager's choice)."""
    from embargo.projects import keys

    packagers = list(release.project.packagers.filter(removed_at__isnull=True))
    if packagers and not keys.has_active_key(release.project):
        raise ReleaseError(
            "Embargo notices are signed with the project's OpenPGP key: an owner generates or uploads it in the "
            "project settings first.",
            code="signing_key_missing", status=409,
        )  # fmt: skip
    now = clock.now()
    expired = [p.organisation for p in packagers if p.public_key and p.key_expires_at and p.key_expires_at <= now]
    if expired:
        raise ReleaseError(
            f"The OpenPGP key of {', '.join(expired)} expired: an owner updates it (or removes it, for notices "
            "signed in clear) on the packager list first.",
            code="packager_key_expired", status=409,
        )  # fmt: skip


def do_notify_packagers(
    release: SecurityRelease, *, override_confirmation: str | None = None, acting_user: User
) -> SecurityRelease:
    """Sends the embargo notices: one to every packager on the list, each report to `scheduled`, the reporters
    told the date. A project without packagers sends no notice but still takes this step."""
    _require_team(release.project, acting_user)
    override = _override(override_confirmation)
    now = clock.now()
    with transaction.atomic():
        release = _lock(release)
        _not_published(release)
        if release.notices_sent_at is not None:
            raise ReleaseError(
                "The notices went out already; a change to the release re-notifies the packagers by itself.",
                code="notices_already_sent", status=409,
            )  # fmt: skip
        reports = [report_actions._locked(r) for r in queries.reports_of(release)]
        if not reports:
            raise ReleaseError("The release has no report: add one first.", code="release_empty", status=409)
        local = queries.local_moment(release)
        if local is None:
            raise ReleaseError(
                "Set the release moment (`date` and `time`) before the notices.", code="release_moment_missing",
                status=409,
            )  # fmt: skip
        if not release.versions:
            raise ReleaseError(
                "Name the versions to be released before the notices.", field="versions", code="versions_missing",
                status=409,
            )  # fmt: skip
        _check_moment(release, local, now)
        not_ready = [r.public_id for r in reports if State(r.state) is not State.FIX_READY]
        if not_ready:
            raise ReleaseError(
                f"Report {', '.join(not_ready)} is no longer fix_ready: take it out of the release.",
                code="report_not_fix_ready", status=409,
            )  # fmt: skip
        _require_keys(release)
        pending = _confirmations_pending(reports, now)
        overridden = _confirmation_gate(pending, override, release)
        packagers = _send_round(release, "first", reports)
        for report in reports:
            _schedule(report, acting_user, now)
        release.notices_sent_at = now
        _save(
            release, "notices_sent_at", "notice_round", *(["confirmation_override"] if overridden else [])
        )  # fmt: skip
        _tell_reporters(release, reports, moved=False)
        data: dict[str, object] = {
            "round": release.notice_round, "packagers": packagers, "reports": [r.public_id for r in reports],
            **_moment_data(release), "confirmation_overridden": overridden,
        }  # fmt: skip
        if overridden:
            data["pending_reports"] = [r.public_id for r in pending]
            data["override"] = fingerprint(override or "")
        record_event(Tag.RELEASE_NOTICES_SENT, actor=acting_user, target=release, project=release.project, data=data)
    return release


def do_record_embargo_broken(release: SecurityRelease, *, reason: str, acting_user: User) -> SecurityRelease:
    """An issue of the release became public early: recorded, the team, reporters and packagers told, and the
    release-moment and lead-time rules waived so that publication can happen at once."""
    _require_team(release.project, acting_user)
    if not reason.strip():
        raise ReleaseError("`reason`: say how the issue became public.", field="reason")
    if len(reason) > MAX_TEXT:
        raise ReleaseError(f"`reason` is at most {MAX_TEXT} characters.", field="reason")
    now = clock.now()
    with transaction.atomic():
        release = _lock(release)
        _not_published(release)
        if release.embargo_broken_at is not None:
            raise ReleaseError(
                "The embargo of this release is recorded as broken already.", code="embargo_already_broken", status=409
            )
        release.embargo_broken_at = now
        release.embargo_broken_reason = reason.strip()
        reports = queries.reports_of(release)
        packagers = None
        if release.notices_sent_at is not None:
            packagers = _send_round(release, "embargo_broken", reports, check_keys=False)
        _save(release, "embargo_broken_at", "embargo_broken_reason", "notice_round")
        for member in _team(release.project):
            if member.pk == acting_user.pk:
                continue
            queue_email(
                "embargo_broken", to=member,
                context={"project_name": release.project.name, "release_ref": release.public_id,
                         "actor_name": acting_user.display_name, "link": release_url(release), "report_ref": ""},
            )  # fmt: skip
        for report in reports:
            if report.reporter is None or report.reporter.pk == acting_user.pk:
                continue
            from embargo.reports.notify import _reporter_link

            queue_email(
                "embargo_broken", to=report.reporter, report=report,
                context={"project_name": release.project.name, "report_ref": report.public_id,
                         "link": _reporter_link(report)[0], "language": report.reply_language},
            )  # fmt: skip
        record_event(
            Tag.RELEASE_EMBARGO_BROKEN, actor=acting_user, target=release, project=release.project,
            data={"reason": fingerprint(reason.strip()), "reports": [r.public_id for r in reports],
                  "round": release.notice_round if packagers is not None else None, "packagers": packagers},
        )  # fmt: skip
    return release


def do_record_embargo_broken_for_report(access: ReportAccess, *, reason: str, acting_user: User) -> SecurityRelease:
    """The per-report shortcut; a report in no release gets a release of its own to record it on."""
    access.require(Permission.MANAGE_RELEASES, "Only the project's team records a broken embargo.")
    if not reason.strip():
        raise ReleaseError("`reason`: say how the issue became public.", field="reason")
    with transaction.atomic():
        release = queries.release_of_report(access.report)
        if release is None:
            # Leaks happen before fixes too: the fact is recorded whatever the report's open state.
            release = do_create_release(
                access.report.project, report_ids=[access.report.public_id], acting_user=acting_user, any_open=True
            )
        return do_record_embargo_broken(release, reason=reason, acting_user=acting_user)


def do_save_preannouncement(release: SecurityRelease, text: str, *, acting_user: User) -> SecurityRelease:
    """The team's edit of the public pre-announcement (public by design: versions, moment, severities)."""
    _require_team(release.project, acting_user)
    if not text.strip():
        raise ReleaseError("`text`: the pre-announcement is empty.", field="text")
    if len(text) > MAX_TEXT:
        raise ReleaseError(f"`text` is at most {MAX_TEXT} characters.", field="text")
    with transaction.atomic():
        release = _lock(release)
        _not_published(release)
        if release.preannouncement_approved_at is not None:
            raise ReleaseError(
                "The pre-announcement was approved and sent; it no longer changes.",
                code="preannouncement_approved", status=409,
            )  # fmt: skip
        if text.strip() != release.preannouncement:
            release.preannouncement = text.strip()
            _save(release, "preannouncement")
            record_event(
                Tag.PREANNOUNCEMENT_SAVED, actor=acting_user, target=release, project=release.project,
                data={"text": "changed " + fingerprint(release.preannouncement)},
            )  # fmt: skip
    return release


def do_approve_preannouncement(release: SecurityRelease, *, acting_user: User) -> SecurityRelease:
    """Approves the pre-announcement (the team's text, or Embargo's draft): it goes to the pre-announcement lists and
    onto the project's public page."""
    _require_team(release.project, acting_user)
    with transaction.atomic():
        release = _lock(release)
        _not_published(release)
        if release.preannouncement_approved_at is not None:
            raise ReleaseError(
                "The pre-announcement was approved already.", code="preannouncement_approved", status=409
            )
        if release.release_at is None:
            raise ReleaseError(
                "Set the release moment before announcing it.", code="release_moment_missing", status=409
            )
        if not release.versions:
            raise ReleaseError(
                "Name the versions before announcing them.", field="versions", code="versions_missing", status=409
            )
        release.preannouncement = release.preannouncement or queries.preannouncement_draft(release) or ""
        release.preannouncement_approved_at = clock.now()
        release.preannouncement_approved_by = acting_user
        _save(release, "preannouncement", "preannouncement_approved_at", "preannouncement_approved_by")
        lists = list(release.project.preannounce_lists or [])
        words = moment_words(release)
        for address in lists:
            queue_email(
                "preannouncement", to=address,
                context={"project_name": release.project.name, "text": release.preannouncement,
                         "versions": ", ".join(release.versions), "release_utc": words["release_utc"]},
            )  # fmt: skip
        record_event(
            Tag.PREANNOUNCEMENT_APPROVED, actor=acting_user, target=release, project=release.project,
            data={"lists": lists, "text": fingerprint(release.preannouncement)},
        )  # fmt: skip
    return release


def take_out_of_release(report: Report, *, acting_user: User | None, reason: str) -> None:
    """Called inside the transaction of an action that moved `report` out of fix_ready or scheduled (the reporter's
    "still vulnerable", or the team's transition): it leaves its release, whose packagers get a `report_removed`
    round if the notices went out."""
    entry = ReleaseEntry.objects.filter(report=report).first()
    if entry is None:
        return
    # Only the release's row: the caller holds this report, and another report's action may hold that one.
    release = (
        SecurityRelease.objects.select_for_update(of=("self",))
        .select_related("project__policy")
        .get(pk=entry.release_id)
    )
    entry.delete()
    if report.notices_sent_at is not None:
        report.notices_sent_at = None
        Report.objects.filter(pk=report.pk).update(notices_sent_at=None)
    data: dict[str, object] = {"report": report.public_id, "reason": reason}
    if release.notices_sent_at is not None and release.published_at is None:
        data["round"] = release.notice_round + 1
        data["packagers"] = _send_round(release, "report_removed", queries.reports_of(release))
        _save(release, "notice_round")
    record_event(
        Tag.RELEASE_REPORT_REMOVED, actor=acting_user, target=release, project=release.project, report=report,
        audience=Audience.TEAM, data=data,
    )  # fmt: skip


def do_acknowledge_notice(notice: PackagerNotice) -> bool:
    """The packager confirms it received the notice. The link works once: True the first time, then False."""
    with transaction.atomic():
        changed = PackagerNotice.objects.filter(pk=notice.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=clock.now()
        )
        if changed:
            notice.refresh_from_db(fields=["acknowledged_at"])
            record_event(
                Tag.NOTICE_ACKNOWLEDGED, actor=None, target=notice.release, project=notice.release.project,
                data={"packager": notice.packager.public_id, "notice": notice.public_id, "round": notice.round},
            )  # fmt: skip
    return bool(changed)
