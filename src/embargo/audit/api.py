"""The read audit in the API: `GET /api/v1/projects/{slug}/reads` (owners)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from embargo.accounts.access import Permission, access_project_by_slug
from embargo.api.pagination import paginate
from embargo.audit import queries
from embargo.audit.models import Read

router = Router(tags=["audit"])


class ReadFilters(Schema):
    limit: int | None = None
    cursor: str | None = None
    report: str | None = None


class ReadOut(Schema):
    at: dt.datetime
    who: str
    user: str | None
    packager: str | None
    kind: str
    object_id: str
    report: str
    via: str


class ReadPage(Schema):
    items: list[ReadOut]
    next_cursor: str | None


def read_out(read: Read) -> dict[str, Any]:
    return {
        "at": read.at,
        "who": read.who,
        "user": read.user.public_id if read.user else None,
        "packager": read.packager.public_id if read.packager else None,
        "kind": read.kind,
        "object_id": read.object_id,
        "report": read.report.public_id,
        "via": read.via,
    }


@router.get("/projects/{slug}/reads", response=ReadPage, summary="Who read the project's reports (owners)")
def list_reads(request: HttpRequest, slug: str, filters: Query[ReadFilters]) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.MANAGE_PROJECT)  # type: ignore[attr-defined]
    reads = queries.reads_of_project(project, report_id=(filters.report or "")[:64])
    return paginate(reads, queries.NEWEST_FIRST, limit=filters.limit, cursor=filters.cursor, serialize=read_out)
