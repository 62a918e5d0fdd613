"""The published side of advisories kept in clear: each published advisory's OSV record (`PublishedRecord`) and
one row per `affected` entry of those not withdrawn (`PublishedPackage`), so the OSV API, all.zip, the feed and
the security page read public data by index instead of unsealing every draft.

`refresh` is called inside the transaction of every write that changes a published advisory's public record —
publication (releases.publishing), amendment, CVE ID and withdrawal (actions), import (importing) — so the
index can never be seen out of step with the advisory. `rebuild` recomputes every row: the data migration runs
it once, and `embargo django osv_reindex` runs it after a change to a setting the records depend on
(`EMBARGO_OSV_REGISTERED_PREFIXES`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db import transaction

from embargo.advisories import records
from embargo.advisories.models import Advisory, AdvisoryState, PublishedPackage, PublishedRecord
from embargo.domain import osv_match
from embargo.errors import ActionError

REBUILD_CHUNK = 500


def refresh(advisory: Advisory) -> PublishedRecord | None:
    """Rewrites the advisory's public record and package rows from the advisory as saved; None (and no rows)
    when it is not published or its OSV record cannot be built — exactly what the public routes then serve."""
    PublishedRecord.objects.filter(advisory_id=advisory.pk).delete()  # its package rows go with it
    if advisory.state != AdvisoryState.PUBLISHED or advisory.published_at is None:
        return None
    try:
        text = records.export(advisory, "osv")
    except ActionError:
        return None
    data = json.loads(text)
    record = PublishedRecord.objects.create(
        advisory=advisory,
        osv_id=str(data["id"]),
        modified=str(data.get("modified", "")),
        summary=str(data.get("summary", "")),
        osv=text,
    )
    # A withdrawn advisory is still served by ID and in all.zip, but matches no query: no package rows.
    if advisory.withdrawn_at is None:
        rows = []
        for affected in data.get("affected") or []:
            named = affected.get("package") or {}
            ecosystem, name = osv_match.index_key(str(named.get("ecosystem", "")), str(named.get("name", "")))
            rows.append(PublishedPackage(record=record, ecosystem=ecosystem, name=name, affected=json.dumps(affected)))
        PublishedPackage.objects.bulk_create(rows)
    return record


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Recomputes the record and package rows of every advisory that has or should have them, a chunk per
    transaction; the number of advisories read. Safe to run twice, or beside the web processes."""
    wanted = Advisory.objects.filter(state=AdvisoryState.PUBLISHED, published_at__isnull=False)
    stale = PublishedRecord.objects.exclude(advisory__in=wanted)
    stale.delete()
    done = 0
    last = 0
    while True:
        with transaction.atomic():
            chunk = list(
                wanted.filter(pk__gt=last)
                .select_related("project", "report", "data_key")
                .order_by("pk")[:REBUILD_CHUNK]
            )
            for advisory in chunk:
                refresh(advisory)
        if not chunk:
            return done
        done += len(chunk)
        last = chunk[-1].pk
        if progress is not None:
            progress(done)
