"""The team's security release pages: the project's releases (and a form to plan one), and one release with its
forms. Each form posts back to its page with an `action`; a view parses, calls one action, and redirects (or shows
the page again with the error, the dates the rules suggest, and what was typed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo import clock
from embargo.accounts import reauth
from embargo.accounts.access import Forbidden, NotFound, Permission, access_project_by_slug, signed_in_user
from embargo.accounts.models import User
from embargo.domain import publication
from embargo.domain import releases as rules
from embargo.errors import ActionError
from embargo.projects.models import Project
from embargo.releases import actions, checks, publishing, queries
from embargo.releases.actions import MomentIn, ReleaseChanges, ReleaseDateError
from embargo.releases.models import SecurityRelease

LIST_LIMIT = 100


def _team_project(request: HttpRequest, slug: str) -> tuple[Project, User]:
    user = signed_in_user(request)
    try:
        project, _ = access_project_by_slug(user, slug, Permission.MANAGE_RELEASES)
    except NotFound:
        raise Http404 from None
    return project, user


def _moment(request: HttpRequest, *, required: bool) -> MomentIn:
    """The date, time and zone fields of a form; empty ones keep what the release has."""
    raw_date, raw_time = request.POST.get("date", "").strip(), request.POST.get("time", "").strip()
    zone = request.POST.get("timezone", "").strip() or None
    try:
        day = dt.date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        raise ActionError("The date is YYYY-MM-DD, e.g. 2026-12-08.", field="date") from None
    try:
        time = dt.time.fromisoformat(raw_time) if raw_time else None
    except ValueError:
        raise ActionError("The time is HH:MM, e.g. 15:00.", field="time") from None
    if required and (day is None or time is None):
        raise ActionError("Give the release date and time.", field="date")
    return MomentIn(day, time, zone)


def _versions(request: HttpRequest) -> list[str]:
    return [v.strip() for v in request.POST.get("versions", "").replace(",", " ").split() if v.strip()]


def _error(e: Exception, action: str) -> dict[str, Any]:
    return {
        "action": action,
        "message": getattr(e, "message", str(e)),
        "suggestions": getattr(e, "suggestions", []) if isinstance(e, ReleaseDateError) else [],
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def releases_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, user = _team_project(request, slug)
    error = None
    if request.method == "POST":
        if request.POST.get("action") != "create":
            raise Http404
        try:
            release = actions.do_create_release(
                project, report_ids=request.POST.getlist("reports"), versions=_versions(request),
                moment=_moment(request, required=False), acting_user=user,
            )  # fmt: skip
        except (ActionError, Forbidden) as e:
            error = _error(e, "create")
        else:
            messages.success(request, "The security release is planned.")
            return redirect("release", project.slug, release.public_id)
    rows = list(queries.releases_of(project).prefetch_related("entries").order_by("-created_at", "-id")[:LIST_LIMIT])
    return render(
        request,
        "releases/releases.html",
        {
            "project": project,
            "releases": [
                {
                    "release": r,
                    "state": queries.release_state(r),
                    "local": _local_words(r, "%Y-%m-%d %H:%M"),
                    "reports": len(r.entries.all()),
                }
                for r in rows
            ],
            "ready": list(queries.ready_reports(project)),
            "policy": project.policy,
            "weekdays": _weekdays(project),
            "error": error,
            "posted": request.POST if error else None,
            "checked": request.POST.getlist("reports") if error else [],
        },
    )


def _local_words(release: SecurityRelease, pattern: str) -> str:
    """The moment in the release's zone, written here: the template's `date` filter would show it in UTC."""
    local = queries.local_moment(release)
    if local is None:
        return ""
    return (
        f"{rules.DAY_NAMES[local.weekday()]} {local:%Y-%m-%d %H:%M}" if pattern == "long" else local.strftime(pattern)
    )


def _weekdays(project: Project) -> str:
    return ", ".join(rules.DAY_NAMES[d] for d in sorted(project.policy.as_domain().release_weekdays))


Handler = Callable[[HttpRequest, SecurityRelease, User], str]


def _change(release: SecurityRelease, user: User, changes: ReleaseChanges) -> None:
    actions.do_change_release(release, changes, acting_user=user)


def _set_moment(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    _change(release, user, ReleaseChanges(moment=_moment(request, required=False)))
    return "The release moment is saved."


def _set_versions(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    _change(release, user, ReleaseChanges(versions=_versions(request)))
    return "The versions are saved."


def _override(request: HttpRequest) -> str | None:
    return request.POST.get("override_confirmation", "").strip() or None


def _add_report(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    changes = ReleaseChanges(add_reports=[request.POST.get("report_id", "")], override_confirmation=_override(request))
    _change(release, user, changes)
    return "The report is in the release."


def _remove_report(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    _change(release, user, ReleaseChanges(remove_reports=[request.POST.get("report_id", "")]))
    return "The report is out of the release."


def _notify(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    done = actions.do_notify_packagers(release, override_confirmation=_override(request), acting_user=user)
    count = done.notices.filter(round=done.notice_round).count()
    return f"The embargo notices are on their way to {count} packager{'s' if count != 1 else ''}."


def _broken(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    actions.do_record_embargo_broken(release, reason=request.POST.get("reason", ""), acting_user=user)
    return "The broken embargo is recorded; the date rules no longer hold the release back."


def _preannouncement(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    actions.do_save_preannouncement(release, request.POST.get("text", ""), acting_user=user)
    return "The pre-announcement is saved."


def _approve(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    actions.do_approve_preannouncement(release, acting_user=user)
    return "The pre-announcement is approved and sent to the lists."


def _publish(request: HttpRequest, release: SecurityRelease, user: User) -> str:
    reauth.require(request)  # making it public: a recent log-in
    overrides = {
        check_id: request.POST[f"override_{check_id}"]
        for check_id in publication.CHECK_IDS
        if request.POST.get(f"override_{check_id}", "").strip()
    }
    publishing.do_publish_release(release, overrides=overrides, acting_user=user)
    return "The security release is public."


HANDLERS: dict[str, Handler] = {
    "moment": _set_moment,
    "versions": _set_versions,
    "add_report": _add_report,
    "remove_report": _remove_report,
    "notify": _notify,
    "embargo_broken": _broken,
    "preannouncement": _preannouncement,
    "approve": _approve,
    "publish": _publish,
}


# Release pages name embargoed reports: no browser or proxy may keep a copy.
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def release_page(request: HttpRequest, slug: str, release_id: str) -> HttpResponse:
    user = signed_in_user(request)
    try:
        project, release = queries.access_release(user, slug, release_id)
    except NotFound:
        raise Http404 from None
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        handler = HANDLERS.get(action)
        if handler is None:
            raise Http404
        try:
            done = handler(request, release, user)
        except (ActionError, Forbidden) as e:
            error = _error(e, action)
            release = queries.releases_of(project).get(pk=release.pk)
        else:
            messages.success(request, done)
            return redirect("release", project.slug, release.public_id)
    return render(request, "releases/release.html", _release_context(project, release, error, request))


def _date_problem(release: SecurityRelease) -> rules.ReleaseDateRefused | None:
    """What the date rules say of the current moment now, before anyone presses a button."""
    local = queries.local_moment(release)
    if local is None or release.published_at is not None or release.notices_sent_at is not None:
        return None
    try:
        rules.check_release_moment(
            local, release.project.policy.as_domain(), now=clock.now(),
            embargo_broken=release.embargo_broken_at is not None,
        )  # fmt: skip
    except rules.ReleaseDateRefused as refused:
        return refused
    return None


def _release_context(
    project: Project, release: SecurityRelease, error: dict[str, Any] | None, request: HttpRequest
) -> dict[str, Any]:
    entries = queries.entry_views(release)
    return {
        "project": project,
        "release": release,
        "state": queries.release_state(release),
        "entries": entries,
        "pending": [e for e in entries if e.confirmation_pending],
        "local_words": _local_words(release, "long"),
        "local_date": _local_words(release, "%Y-%m-%d"),
        "local_time": _local_words(release, "%H:%M"),
        "zone": queries.zone_of(release),
        "words": actions.moment_words(release),
        "notify_by": queries.notify_by(release),
        "date_problem": _date_problem(release),
        "packagers": queries.packager_statuses(release),
        "ready": list(queries.ready_reports(project)),
        "preannouncement": release.preannouncement or queries.preannouncement_draft(release) or "",
        "lists": project.preannounce_lists or [],
        "policy": project.policy,
        "weekdays": _weekdays(project),
        "error": error,
        "posted": request.POST if error else None,
        # Release day: the checks run for real (git, the package index) while the release is not public.
        "checks": checks.run(release, clock.now()) if release.published_at is None else [],
        "overrides": publishing.stored_overrides(release),
        "advisory_urls": [publishing.advisory_url(e.advisory) for e in entries if e.advisory]
        if release.published_at
        else [],
    }
