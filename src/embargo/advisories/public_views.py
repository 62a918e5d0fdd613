"""The public side of published advisories: the advisory page and its records (OSV, CVE JSON 5, CSAF), a
project's security page and Atom feed, and the zip of every OSV record. Nothing here needs an account, and
every read goes through `public`, which only knows published advisories."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from embargo.advisories import public
from embargo.formats import policy_document
from embargo.projects import keys
from embargo.projects.models import Project
from embargo.releases import queries as release_queries
from embargo.reports import track_record as report_track_record
from embargo.web import markdown

PROJECT_PAGE_LENGTH = 100


def _published(advisory_id: str) -> public.Advisory:
    try:
        return public.get(advisory_id)
    except public.NotPublished:
        raise Http404 from None


@require_http_methods(["GET", "HEAD"])
def advisory_page(request: HttpRequest, advisory_id: str) -> HttpResponse:
    advisory = _published(advisory_id)
    try:
        context = public.page(advisory)
    except public.NotPublished:
        raise Http404 from None
    context["details_html"] = markdown.render(context["record"].details)
    return render(request, "advisories/public_advisory.html", context)


def _record(advisory_id: str, fmt: str) -> HttpResponse:
    try:
        text = public.record(_published(advisory_id), fmt)
    except public.NotPublished:
        raise Http404 from None
    response = HttpResponse(text, content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"  # public data, read by tools in browsers too
    return response


@require_http_methods(["GET", "HEAD"])
def advisory_osv(request: HttpRequest, advisory_id: str) -> HttpResponse:
    return _record(advisory_id, "osv")


@require_http_methods(["GET", "HEAD"])
def advisory_cve(request: HttpRequest, advisory_id: str) -> HttpResponse:
    return _record(advisory_id, "cve")


@require_http_methods(["GET", "HEAD"])
def advisory_csaf(request: HttpRequest, advisory_id: str) -> HttpResponse:
    return _record(advisory_id, "csaf")


@require_http_methods(["GET", "HEAD"])
def project_security(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's advisories (newest first, a page at a time: `?before=<advisory ID>`), its approved
    pre-announcements and its policy in words."""
    project = get_object_or_404(Project.objects.select_related("policy"), slug=slug)
    before = None
    if cursor := request.GET.get("before", ""):
        before = public.published().filter(project=project, readable_id=cursor[:64]).first()
        if before is None:
            raise Http404
    found = public.of_project(project, PROJECT_PAGE_LENGTH + 1, before)
    rows = []
    for advisory in found[:PROJECT_PAGE_LENGTH]:
        stored = public.public_record(advisory)
        # An advisory whose record cannot be built is listed still, with the summary of its draft.
        summary = stored.summary if stored is not None else json.loads(advisory.draft or "{}").get("summary", "")
        rows.append({"advisory": advisory, "summary": summary})
    older = found[PROJECT_PAGE_LENGTH - 1].readable_id if len(found) > PROJECT_PAGE_LENGTH else ""
    context = {
        "project": project,
        "policy": project.policy,
        "release_days": policy_document.weekdays(project.policy.as_domain().release_weekdays),
        "advisories": rows,
        "older": older,
        "upcoming": release_queries.upcoming_public(project),
        "has_key": keys.has_active_key(project),
        # Counts only, never a report's details (domain/track_record.py).
        "track_record": report_track_record.of_project(project),
    }
    return render(request, "advisories/project_security.html", context)


@require_http_methods(["GET", "HEAD"])
def project_feed(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_object_or_404(Project, slug=slug)
    return HttpResponse(public.atom_feed(project), content_type="application/atom+xml; charset=utf-8")


@require_http_methods(["GET", "HEAD"])
def osv_all_zip(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(public.all_osv_zip(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="all.zip"'
    return response
