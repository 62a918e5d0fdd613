"""Fix routes of the HTTP API: fixes and their patches, reproductions, and the reporter's confirmation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from embargo.accounts.access import NotFound, Permission, ReportAccess, access_report_by_id
from embargo.api.errors import invalid
from embargo.api.pagination import Key, paginate
from embargo.audit.reads import Kind, record_read
from embargo.fixes import actions, queries
from embargo.fixes.models import Fix, Patch, Reproduction
from embargo.fixes.schemas import (
    ConfirmationIn,
    FixIn,
    FixOut,
    FixPage,
    FixPatch,
    PatchOut,
    ReproductionIn,
    ReproductionOut,
    ReproductionPage,
)
from embargo.reports.api import Page, detail
from embargo.reports.http import clean_filename, download_response
from embargo.reports.schemas import ReportOut

router = Router(tags=["fixes"])
OLDEST_FIRST = (Key("created_at", is_datetime=True), Key("id"))


def _access(request: HttpRequest, report_id: str, permission: Permission) -> ReportAccess:
    return access_report_by_id(request.auth, report_id, permission)  # type: ignore[attr-defined]


def _fix(access: ReportAccess, fix_id: str) -> Fix:
    found = queries.fix(access, fix_id)
    if found is None:
        raise NotFound
    return found


def patch_out(patch: Patch, access: ReportAccess) -> dict[str, Any]:
    base = f"/api/v1/reports/{access.report.public_id}/fixes/{patch.fix.public_id}/patches/{patch.public_id}"
    return {
        "id": patch.public_id,
        "branch": patch.branch,
        "filename": patch.filename,
        "size": patch.size,
        "sha256": patch.sha256,
        "created_at": patch.created_at,
        "check_status": patch.check_status,
        "applies": patch.applies,
        "head_sha": patch.head_sha,
        "files": patch.files,
        "diffstat": patch.diffstat,
        "check_message": patch.check_message,
        "ci_status": patch.ci_status,
        "ci_passed": patch.ci_passed,
        "ci_duration": patch.ci_duration,
        "ci_summary": patch.ci_summary,
        "ci_output": patch.ci_output if access.is_team else None,
        "download_url": base,
    }


def fix_out(fix: Fix, access: ReportAccess) -> dict[str, Any]:
    return {
        "id": fix.public_id,
        "kind": fix.kind,
        "description": fix.description,
        "team_only": fix.team_only,
        "commits": fix.commits,
        "public_commits": fix.public_commits,
        "created_at": fix.created_at,
        "updated_at": fix.updated_at,
        "patches": [patch_out(p, access) for p in fix.patches.all()],
    }


@router.post("/reports/{report_id}/fixes", response={201: FixOut}, summary="Record a fix (the team)")
def add_fix(request: HttpRequest, report_id: str, payload: FixIn) -> Status:
    access = _access(request, report_id, Permission.MANAGE_FIXES)
    fix = actions.do_add_fix(
        access, kind=payload.kind, description=payload.description, team_only=payload.team_only,
        commits=[c.dict() for c in payload.commits], acting_user=request.auth,  # type: ignore[attr-defined]
    )  # fmt: skip
    return Status(201, fix_out(fix, access))


@router.get("/reports/{report_id}/fixes", response=FixPage, summary="The report's fixes")
def list_fixes(request: HttpRequest, report_id: str, page: Query[Page]) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    rows = queries.fixes(access).prefetch_related("patches__data_key", "patches__fix")
    return paginate(rows, OLDEST_FIRST, limit=page.limit, cursor=page.cursor, serialize=lambda f: fix_out(f, access))


@router.get("/reports/{report_id}/fixes/{fix_id}", response=FixOut, summary="A fix")
def get_fix(request: HttpRequest, report_id: str, fix_id: str) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    return fix_out(_fix(access, fix_id), access)


@router.patch("/reports/{report_id}/fixes/{fix_id}", response=FixOut, summary="Record public commits (the team)")
def change_fix(request: HttpRequest, report_id: str, fix_id: str, payload: FixPatch) -> dict[str, Any]:
    access = _access(request, report_id, Permission.MANAGE_FIXES)
    fix = _fix(access, fix_id)
    changes = {k: getattr(payload, k) for k in payload.model_fields_set}
    if not changes:
        raise invalid("", "Nothing to change: send `public_commits`, `description` or `team_only`.")
    if "public_commits" in changes:
        changes["public_commits"] = [c.dict() for c in payload.public_commits or []]
    actions.do_change_fix(fix, access, changes=changes, acting_user=request.auth)  # type: ignore[attr-defined]
    return fix_out(fix, access)


@router.post(
    "/reports/{report_id}/fixes/{fix_id}/patches", response={201: PatchOut}, summary="Attach a patch for one branch"
)
def add_patch(request: HttpRequest, report_id: str, fix_id: str, file: File[UploadedFile], branch: Form[str]) -> Status:
    access = _access(request, report_id, Permission.MANAGE_FIXES)
    fix = _fix(access, fix_id)
    patch = actions.do_add_patch(
        fix, access, branch=branch, filename=clean_filename(file.name or "fix.patch"), content=file.read(),
        acting_user=request.auth,  # type: ignore[attr-defined]
    )  # fmt: skip
    return Status(201, patch_out(patch, access))


@router.get(
    "/reports/{report_id}/fixes/{fix_id}/patches/{patch_id}",
    response={200: None},
    summary="Download a patch (always as a download)",
)
def download_patch(request: HttpRequest, report_id: str, fix_id: str, patch_id: str) -> HttpResponse:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    patch = queries.patches_of(_fix(access, fix_id)).filter(public_id=patch_id).first()
    if patch is None:
        raise NotFound
    record_read(request, Kind.PATCH, report=access.report, user=access.user, object_id=patch_id)
    return download_response(actions.read_patch(patch), patch.filename, patch.sha256)


def reproduction_out(run: Reproduction) -> dict[str, Any]:
    return {
        "id": run.public_id,
        "target": run.target,
        "ref": run.ref,
        "fix_id": run.fix.public_id if run.fix else None,
        "branch": run.branch,
        "status": run.status,
        "reproduced": run.reproduced,
        "exit_code": run.exit_code,
        "duration": run.duration,
        "output": run.output,
        "versions": run.versions,
        "error": run.error,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


@router.post("/reports/{report_id}/reproductions", response={201: ReproductionOut}, summary="Run the proof of concept")
def request_reproduction(request: HttpRequest, report_id: str, payload: ReproductionIn) -> Status:
    access = _access(request, report_id, Permission.REQUEST_REPRODUCTION)
    fix = _fix(access, payload.fix_id) if payload.fix_id else None
    run = actions.do_request_reproduction(
        access, target=payload.target, ref=payload.ref, fix=fix, branch=payload.branch,
        acting_user=request.auth,  # type: ignore[attr-defined]
    )  # fmt: skip
    return Status(201, reproduction_out(run))


@router.get("/reports/{report_id}/reproductions", response=ReproductionPage, summary="Runs of the proof of concept")
def list_reproductions(request: HttpRequest, report_id: str, page: Query[Page]) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    return paginate(
        queries.reproductions(access), OLDEST_FIRST, limit=page.limit, cursor=page.cursor, serialize=reproduction_out
    )


@router.post("/reports/{report_id}/fix-confirmation", response=ReportOut, summary="Does the fix work? (the reporter)")
def confirm_fix(request: HttpRequest, report_id: str, payload: ConfirmationIn) -> dict[str, Any]:
    access = _access(request, report_id, Permission.CONFIRM_FIX)
    actions.do_confirm_fix(
        access,
        fixed=payload.fixed,
        comment=payload.comment,
        acting_user=request.auth,  # type: ignore[attr-defined]
    )
    return detail(access)
