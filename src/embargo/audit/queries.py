"""Reads of the read audit, already limited to one project (its owners are checked by the caller)."""

from __future__ import annotations

from django.db.models import QuerySet

from embargo.api.pagination import Key
from embargo.audit.models import Read
from embargo.projects.models import Project

NEWEST_FIRST = (Key("id", descending=True),)


def reads_of_project(project: Project, *, report_id: str = "") -> QuerySet[Read]:
    """Newest first; `report_id` (a report's public ID) narrows to one report (an unknown one gives nothing)."""
    reads = Read.objects.filter(project=project).select_related("report", "user", "packager")
    if report_id:
        reads = reads.filter(report__public_id=report_id)
    return reads
