"""The pages of transfers (reports/transfers.py): the form on the report page posts here, and the sending team's
stubs — the list of the reports it handed on, and one stub — show where each went, without any report content."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from embargo.accounts.access import (
    NotFound,
    Permission,
    ReportAccess,
    access_project_by_slug,
    access_report_by_id,
    signed_in_user,
)
from embargo.errors import ActionError
from embargo.projects.models import Project
from embargo.reports import transfers
from embargo.reports.api import TRANSFERS_NEWEST_FIRST
from embargo.web.paging import page_of


def _report_access(request: HttpRequest, report_id: str, permission: Permission) -> ReportAccess:
    try:
        return access_report_by_id(signed_in_user(request), report_id, permission)
    except NotFound:
        raise Http404 from None


def _project(request: HttpRequest, slug: str) -> Project:
    try:
        project, _ = access_project_by_slug(signed_in_user(request), slug, Permission.LIST_PROJECT_REPORTS)
    except NotFound:
        raise Http404 from None
    return project


def _page_with_error(request: HttpRequest, access: ReportAccess, action: str, error: ActionError) -> HttpResponse:
    """The report page again, with the form's error and what was typed (as the page's own forms do)."""
    from embargo.reports.views import _page_context

    context = _page_context(
        access, f"/reports/{access.report.public_id}/", {"action": action, "message": error.message}, request.POST
    )
    return render(request, "reports/report.html", context, status=200)


@never_cache
@login_required
@require_POST
def transfer(request: HttpRequest, report_id: str) -> HttpResponse:
    """The team hands the report on; the sending team lands on its stub, as the report is no longer theirs."""
    access = _report_access(request, report_id, Permission.TRANSFER_REPORT)
    try:
        to_project = transfers.find_project(request.POST.get("project", "")[:64])
        done = transfers.do_transfer_report(
            access,
            to_project,
            acting_user=access.user,
            note=request.POST.get("note", ""),
            keep_informed=request.POST.get("keep_informed") == "on",
        )
    except ActionError as e:
        return _page_with_error(request, access, "transfer", e)
    messages.success(request, f"The report is now {to_project.name}'s; its team and the reporter are told.")
    return redirect("transfer-stub", done.from_project.slug, done.public_id)


@never_cache
@login_required
@require_POST
def stop_informing(request: HttpRequest, report_id: str, transfer_id: str) -> HttpResponse:
    access = _report_access(request, report_id, Permission.TRANSFER_REPORT)
    try:
        done = transfers.do_stop_informing(access, transfer_id[:64], acting_user=access.user)
    except ActionError as e:
        if e.status == 404:
            raise Http404 from None
        return _page_with_error(request, access, "stop_informing", e)
    messages.success(request, f"The team of {done.from_project.name} no longer hears of this report.")
    return redirect("report", access.report.public_id)


@never_cache
@login_required
@require_GET
def transfers_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Every report the project handed on, newest first."""
    project = _project(request, slug)
    page = page_of(request, transfers.transfers_out(project), TRANSFERS_NEWEST_FIRST, limit=50)
    return render(
        request,
        "reports/transfers.html",
        {"project": project, "transfers": page["items"], "next_cursor": page["next_cursor"], "query": page["query"]},
    )


@never_cache
@login_required
@require_GET
def transfer_stub(request: HttpRequest, slug: str, transfer_id: str) -> HttpResponse:
    """One report the project handed on: where, when, by whom, why — and its state while the team stays informed."""
    project = _project(request, slug)
    stub = transfers.transfer_stub(project, transfer_id[:64])
    if stub is None:
        raise Http404
    return render(request, "reports/transfer_stub.html", {"project": project, "stub": stub})
