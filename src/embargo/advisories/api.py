"""Advisory routes of the HTTP API: the draft, its CVE identifier, and the records it exports."""

from __future__ import annotations

import json
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field, StringConstraints

from embargo.accounts.access import NotFound, Permission, ReportAccess, access_report_by_id
from embargo.advisories import actions, records
from embargo.advisories.models import Advisory
from embargo.advisories.schemas import AdvisoryIn, AdvisoryOut, CveIn, CveOut
from embargo.audit.reads import Kind, record_read
from embargo.domain import advisory as domain

router = Router(tags=["advisories"])


def _access(request: HttpRequest, report_id: str, permission: Permission) -> ReportAccess:
    return access_report_by_id(request.auth, report_id, permission)  # type: ignore[attr-defined]


def advisory_out(advisory: Advisory, access: ReportAccess) -> dict[str, Any]:
    data = json.loads(advisory.draft or "{}")
    severity = []
    for entry in data.get("severity", []):
        scored = domain.Severity(entry["type"], entry["score"])
        severity.append({**entry, "base_score": scored.score, "rating": scored.rating})
    cwe_ids = data.get("cwe_ids", [])
    return {
        "id": advisory.readable_id,
        "cve_id": advisory.cve_id,
        "aliases": advisory.aliases,
        "state": advisory.state,
        "summary": data.get("summary", ""),
        "details": data.get("details", ""),
        "severity": severity,
        "cwe_ids": cwe_ids,
        "cwe_names": {c: domain.cwe_name(c) or "" for c in cwe_ids},
        "affected": data.get("affected", []),
        "references": data.get("references", []),
        "credits": data.get("credits", []),
        "reporter_credit": records.reporter_credit(advisory),
        "reporter_credit_public": bool(advisory.report and advisory.report.credit_consent),
        "created_at": advisory.created_at,
        "updated_at": advisory.updated_at,
    }


def _advisory(access: ReportAccess) -> Advisory:
    advisory = Advisory.objects.select_related("data_key", "project", "report").filter(report=access.report).first()
    if advisory is None:
        raise NotFound
    return advisory


@router.get(
    "/reports/{report_id}/advisory", response=AdvisoryOut, summary="The advisory draft (preview for the reporter)"
)
def get_advisory(request: HttpRequest, report_id: str) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    advisory = _advisory(access)
    record_read(request, Kind.ADVISORY, report=access.report, user=access.user, object_id=advisory.readable_id)
    return advisory_out(advisory, access)


@router.put("/reports/{report_id}/advisory", response=AdvisoryOut, summary="Write the advisory (the team)")
def put_advisory(request: HttpRequest, report_id: str, payload: AdvisoryIn) -> dict[str, Any]:
    access = _access(request, report_id, Permission.MANAGE_FIXES)
    advisory = actions.do_save_advisory(access, payload.dict(), acting_user=request.auth)  # type: ignore[attr-defined]
    return advisory_out(advisory, access)


@router.post("/reports/{report_id}/cve", response={201: CveOut}, summary="Enter or reserve the CVE ID (the team)")
def assign_cve(request: HttpRequest, report_id: str, payload: CveIn) -> Any:
    from ninja import Status

    access = _access(request, report_id, Permission.MANAGE_FIXES)
    advisory = actions.do_assign_cve(access, payload.cve_id, acting_user=request.auth)  # type: ignore[attr-defined]
    return Status(201, {"cve_id": advisory.cve_id, "advisory_id": advisory.readable_id})


class WithdrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=5000)] = Field(
        description="why the advisory is withdrawn; shown on its public page"
    )


@router.post(
    "/reports/{report_id}/advisory/withdraw", response=AdvisoryOut, summary="Withdraw the published advisory (the team)"
)
def withdraw_advisory(request: HttpRequest, report_id: str, payload: WithdrawIn) -> dict[str, Any]:
    access = _access(request, report_id, Permission.MANAGE_FIXES)
    advisory = actions.do_withdraw_advisory(access, payload.reason, acting_user=request.auth)  # type: ignore[attr-defined]
    return advisory_out(advisory, access)


def _export(request: HttpRequest, report_id: str, fmt: str) -> HttpResponse:
    access = _access(request, report_id, Permission.MANAGE_FIXES)
    advisory = _advisory(access)
    record_read(request, Kind.ADVISORY, report=access.report, user=access.user, object_id=advisory.readable_id)
    return HttpResponse(records.export(advisory, fmt), content_type="application/json")


@router.get("/reports/{report_id}/advisory/cve.json", response={200: None}, summary="CVE JSON 5 (the team)")
def export_cve(request: HttpRequest, report_id: str) -> HttpResponse:
    return _export(request, report_id, "cve")


@router.get("/reports/{report_id}/advisory/osv.json", response={200: None}, summary="OSV (the team)")
def export_osv(request: HttpRequest, report_id: str) -> HttpResponse:
    return _export(request, report_id, "osv")


@router.get("/reports/{report_id}/advisory/csaf.json", response={200: None}, summary="CSAF 2.0 (the team)")
def export_csaf(request: HttpRequest, report_id: str) -> HttpResponse:
    return _export(request, report_id, "csaf")


@router.post("/projects/{slug}/advisories/import", response=dict, summary="Import OSV records (owners)")
def import_advisories(request: HttpRequest, slug: str, file: File[UploadedFile]) -> dict[str, Any]:
    """A JSON record or a zip of them, into the project's published history; importing twice changes nothing."""
    import tempfile
    from pathlib import Path

    from embargo.accounts.access import access_project_by_slug
    from embargo.advisories.importing import ImportResult, import_record, records_in

    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    result = ImportResult()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(file.name or "records.json").name
        path.write_bytes(file.read())
        for name, raw in records_in(path):
            import_record(project, name, raw, result, acting_user=user)
    return {
        "imported": result.imported,
        "already_present": result.present,
        "rejected": [{"file": f, "reason": r} for f, r in result.rejected],
    }
