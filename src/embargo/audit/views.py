"""The owners' page of the read audit: who saw which report, attachment, patch or advisory."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from embargo.accounts.access import NotFound, Permission, access_project_by_slug, signed_in_user
from embargo.audit import queries
from embargo.web.paging import page_of

PAGE_SIZE = 50


@never_cache
@login_required
@require_GET
def project_reads(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        project, _ = access_project_by_slug(signed_in_user(request), slug, Permission.MANAGE_PROJECT)
    except NotFound:
        raise Http404 from None
    report_id = request.GET.get("report", "").strip()[:64]
    reads = queries.reads_of_project(project, report_id=report_id)
    page = page_of(request, reads, queries.NEWEST_FIRST, limit=PAGE_SIZE)
    return render(
        request,
        "audit/reads.html",
        {
            "project": project,
            "reads": page["items"],
            "next_cursor": page["next_cursor"],
            "query": page["query"],
            "report_id": report_id,
        },
    )
