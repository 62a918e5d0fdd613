"""Reads of fixes, patches and reproductions, narrowed to what the viewer may see."""

from __future__ import annotations

from django.db.models import QuerySet

from embargo.accounts.access import ReportAccess
from embargo.fixes.models import Fix, Patch, Reproduction


def fixes(access: ReportAccess) -> QuerySet[Fix]:
    rows = Fix.objects.filter(report=access.report).select_related("data_key", "created_by")
    if not access.is_team:
        rows = rows.filter(team_only=False)
    return rows


def fix(access: ReportAccess, public_id: str) -> Fix | None:
    return fixes(access).filter(public_id=public_id).first()


def patches_of(fix: Fix) -> QuerySet[Patch]:
    return Patch.objects.filter(fix=fix).select_related("data_key").order_by("created_at", "id")


def reproductions(access: ReportAccess) -> QuerySet[Reproduction]:
    return Reproduction.objects.filter(report=access.report).select_related("data_key", "fix")


def reproduction_summary(access: ReportAccess) -> str:
    """ "Reproduced on affected, not on fixed", from the latest finished run of each target."""
    latest: dict[str, Reproduction] = {}
    for run in reproductions(access).filter(status="done").order_by("created_at", "id"):
        latest[run.target] = run
    parts = []
    for target in ("affected", "fixed"):
        found = latest.get(target)
        if found is not None:
            parts.append(f"{'reproduced' if found.reproduced else 'not reproduced'} on {target}")
    return (", ".join(parts).capitalize() + ".") if parts else ""
