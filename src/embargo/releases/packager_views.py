"""The pages a packager reaches from an embargo notice, without an account: the acknowledgement (a GET only
asks; the POST acknowledges, so that a mail scanner following links acknowledges nothing) and the embargoed
advisories and patches it was sent, as downloads."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from embargo.accounts.access import NotFound
from embargo.audit.reads import Kind, record_packager_reads
from embargo.fixes.actions import read_patch
from embargo.releases import actions, notices, packagers
from embargo.releases.models import PackagerNotice
from embargo.reports.http import download_response


# The link itself is the packager's credential (there is no session to ride on), so a cross-site form gains
# nothing a holder of the link does not have: CSRF protection would only stop packagers' own scripts.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, notice_id: str, token: str) -> HttpResponse:
    try:
        notice = packagers.notice_by_ack_link(notice_id, token)
    except NotFound:
        raise Http404 from None
    just_now = request.method == "POST" and actions.do_acknowledge_notice(notice)
    return render(
        request,
        "releases/packager_ack.html",
        {"notice": notice, "release": notice.release, "just_now": just_now, "moment": _moment(notice)},
    )


def _moment(notice: PackagerNotice) -> dict[str, str] | None:
    return notices.moment(notice.release) if notice.release.release_at else None


def _notice(packager_id: str, release_id: str, token: str) -> PackagerNotice:
    try:
        return packagers.latest_notice(packager_id, release_id, token)
    except NotFound:
        raise Http404 from None


@never_cache
@require_GET
def embargoed(request: HttpRequest, packager_id: str, release_id: str, token: str) -> HttpResponse:
    notice = _notice(packager_id, release_id, token)
    issues = packagers.issues_for_packager(notice)
    record_packager_reads(notice, Kind.ADVISORY, [(i.report, i.name) for i in issues])
    rows = [
        {
            "issue": issue,
            "text": notices.advisory_text(issue.advisory) if issue.advisory else "",
        }
        for issue in issues
    ]
    response = render(
        request,
        "releases/packager_access.html",
        {"notice": notice, "release": notice.release, "rows": rows, "moment": _moment(notice), "base": request.path},
    )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_GET
def download_patch(request: HttpRequest, packager_id: str, release_id: str, token: str, patch_id: str) -> HttpResponse:
    notice = _notice(packager_id, release_id, token)
    try:
        patch = packagers.patch_for_packager(notice, patch_id)
    except NotFound:
        raise Http404 from None
    record_packager_reads(notice, Kind.PATCH, [(patch.fix.report, patch_id)])
    return download_response(read_patch(patch), f"{patch.branch}-{patch.filename}".replace("/", "_"), patch.sha256)


@never_cache
@require_GET
def download_advisory(
    request: HttpRequest, packager_id: str, release_id: str, token: str, name: str, fmt: str
) -> HttpResponse:
    notice = _notice(packager_id, release_id, token)
    for issue in packagers.issues_for_packager(notice):
        if issue.advisory is not None and issue.name == name:
            content = (
                notices.records.export(issue.advisory, "osv")
                if fmt == "osv.json"
                else notices.advisory_text(issue.advisory)
            ).encode()
            record_packager_reads(notice, Kind.ADVISORY, [(issue.report, name)])
            return download_response(content, f"{name}.{fmt}", notices.hashlib.sha256(content).hexdigest())
    raise Http404


@never_cache
@require_GET
def download_calendar(request: HttpRequest, packager_id: str, release_id: str, token: str) -> HttpResponse:
    notice = _notice(packager_id, release_id, token)
    if notice.release.release_at is None:
        raise Http404
    content = notices.calendar(notice)
    return download_response(content, "release.ics", notices.hashlib.sha256(content).hexdigest())


ACCESS = "packagers/<str:packager_id>/releases/<str:release_id>/<str:token>/"
urlpatterns = [
    path("packagers/ack/<str:notice_id>/<str:token>/", acknowledge, name="packager-ack"),
    path(ACCESS, embargoed, name="packager-access"),
    path(ACCESS + "patches/<str:patch_id>/", download_patch, name="packager-patch"),
    path(ACCESS + "advisories/<str:name>.txt", download_advisory, {"fmt": "txt"}, name="packager-advisory"),
    path(ACCESS + "advisories/<str:name>.osv.json", download_advisory, {"fmt": "osv.json"}, name="packager-osv"),
    path(ACCESS + "release.ics", download_calendar, name="packager-calendar"),
]
