"""The read audit: who saw which report, attachment, patch or unpublished advisory, and how.

Called by the read paths once access was granted and the object found (a refused request records nothing).
A read holds identifiers only, never report text. Reads are not in the hash chains: they are many, and an
attacker who can write to the database could only hide reads, not invent changes to a report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from embargo import clock
from embargo.audit.models import Read
from embargo.reports.models import Report

Kind = Read.Kind
Via = Read.Via


def _via(request: HttpRequest) -> str:
    # API handlers authenticate with a bearer token (django-ninja sets `request.auth`); pages use the session.
    return Via.TOKEN if getattr(request, "auth", None) is not None else Via.SESSION


def record_read(
    request: HttpRequest,
    kind: str,
    *,
    report: Report,
    user: Any,
    object_id: str = "",
    via: str | None = None,
) -> Read:
    """`user` is who was granted access (for the reporter's private link, the reporter it stands for)."""
    via = via or _via(request)
    who = "reporter link" if via == Via.PRIVATE_LINK else getattr(user, "email", "") or "unknown"
    return Read.objects.create(
        project_id=report.project_id,
        report=report,
        user=user if getattr(user, "pk", None) else None,
        who=who,
        kind=kind,
        object_id=object_id or report.public_id,
        via=via,
        at=clock.now(),
    )


def record_packager_reads(notice: Any, kind: str, items: Iterable[tuple[Report, str]]) -> None:
    """A packager opened its notice's page or downloaded from it: one read per (report, object id)."""
    packager = notice.packager
    now = clock.now()
    Read.objects.bulk_create(
        Read(
            project_id=report.project_id,
            report=report,
            packager=packager,
            who=f"packager {packager.organisation}",
            kind=kind,
            object_id=object_id or report.public_id,
            via=Via.PACKAGER_LINK,
            at=now,
        )
        for report, object_id in items
    )
