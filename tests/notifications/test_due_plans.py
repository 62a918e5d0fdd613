"""Each "is anything due?" query of the worker's pass reads an index, never the whole table: an idle pass costs the
same at 1,000 and at 1,000,000 reports.

The query plan of each due query (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN, with sequential scans turned
off inside the test's transaction, so that a tiny test table does not make a scan look cheaper) must name the
index that serves it. The querysets are built with the same conditions as the worker's code (the outbox's with
the worker's own `due_rows`); the last test checks that an idle pass queries no table that is not covered here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q, QuerySet
from django.test.utils import CaptureQueriesContext

from embargo.audit.models import Checkpoint
from embargo.fixes.models import JobStatus, Patch, Reproduction
from embargo.languages.models import Detection, Translation
from embargo.notifications import worker
from embargo.notifications.models import OutboxMessage
from embargo.releases.models import SecurityRelease
from embargo.reports import retention
from embargo.reports.models import Report

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _leased_job(status_field: str, now: dt.datetime) -> Q:
    """fixes/jobs.py `_claim`: a queued job, or a running one whose lease expired."""
    return Q(**{status_field: JobStatus.QUEUED}) | Q(**{status_field: JobStatus.RUNNING, "leased_until__lt": now})


def _language_job(now: dt.datetime) -> Q:
    """languages/jobs.py `_claim`."""
    return Q(status=JobStatus.QUEUED, due_at__lte=now) | Q(status=JobStatus.RUNNING, leased_until__lt=now)


@dataclass(frozen=True)
class Due:
    name: str
    query: Callable[[dt.datetime], Any]  # a QuerySet, or a Query (for `.exists()`)
    indexes: tuple[str, ...]  # every one must appear in the plan
    table: str
    idle: bool = True  # run by a pass with nothing due (the CI claim runs only once a CI run is known queued)


def _exists(qs: QuerySet[Any]) -> Any:
    """The query `qs.exists()` runs."""
    return qs.query.exists()


DUE = [
    Due(
        "outbox claim (worker.claim)",
        lambda now: OutboxMessage.objects.filter(worker.due_rows(now)).order_by("due_at", "id").values_list("id")[:100],
        ("outbox_pending",),
        OutboxMessage._meta.db_table,
    ),
    Due(
        "reminders (reports/reminders.py due_report_ids)",
        lambda now: (
            Report.objects.filter(next_reminder_at__lte=now).order_by("next_reminder_at").values_list("id")[:200]
        ),
        ("report_reminder_due",),
        Report._meta.db_table,
    ),
    Due(
        "release day and pending CVE records (releases/publishing.py run_due)",
        lambda now: SecurityRelease.objects.filter(
            Q(published_at__isnull=True, notices_sent_at__isnull=False, release_at__lte=now)
            | (Q(published_at__isnull=False) & ~Q(cve_records_pending=[]))
        ).order_by("release_at", "id"),
        ("release_publication_due", "release_cve_pending"),
        SecurityRelease._meta.db_table,
    ),
    Due(
        "language detections",
        lambda now: _exists(Detection.objects.filter(_language_job(now))),
        ("detection_queue",),
        Detection._meta.db_table,
    ),
    Due(
        "translations",
        lambda now: _exists(Translation.objects.filter(_language_job(now))),
        ("translation_queue",),
        Translation._meta.db_table,
    ),
    Due(
        "patch checks",
        lambda now: Patch.objects.filter(_leased_job("check_status", now)).order_by("created_at", "id")[:1],
        ("patch_check_queue",),
        Patch._meta.db_table,
    ),
    Due(
        "CI runs (is one queued?)",
        lambda now: Patch.objects.filter(
            ci_status=JobStatus.QUEUED, check_status=JobStatus.DONE, applies=True
        ).order_by("created_at", "id")[:1],
        ("patch_ci_queue",),
        Patch._meta.db_table,
    ),
    Due(
        "CI runs (claim)",
        lambda now: Patch.objects.filter(_leased_job("ci_status", now)).order_by("created_at", "id")[:1],
        ("patch_ci_queue",),
        Patch._meta.db_table,
        idle=False,
    ),
    Due(
        "reproductions",
        lambda now: Reproduction.objects.filter(_leased_job("status", now)).order_by("created_at", "id")[:1],
        ("reproduction_queue",),
        Reproduction._meta.db_table,
    ),
    Due(
        "retention (reports/retention.py due)",
        lambda now: Report.objects.filter(purge_at__lte=now).order_by("purge_at").values_list("pk")[: retention.BATCH],
        ("report_purge_due",),
        Report._meta.db_table,
    ),
    Due(
        "audit checkpoint (audit/chain.py checkpoint_due)",
        lambda now: Checkpoint.objects.order_by("-seq").values_list("created_at")[:1],
        # The unique constraint's index on `seq`, named by the engine.
        ("sqlite_autoindex_audit_checkpoint_1",) if connection.vendor == "sqlite" else ("audit_checkpoint_seq_key",),
        Checkpoint._meta.db_table,
    ),
]


def plan_of(query: Any) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Only for this test's transaction: a near-empty table would otherwise be scanned, index or not.
            cursor.execute("SET LOCAL enable_seqscan = off")
    if isinstance(query, QuerySet):
        return query.explain()
    return query.explain(using="default")


@pytest.mark.parametrize("due", DUE, ids=[d.name for d in DUE])
def test_each_due_query_reads_its_index(due: Due) -> None:
    plan = plan_of(due.query(NOW))
    for index in due.indexes:
        assert re.search(rf"\b{index}\b", plan), f"{due.name}: the plan does not use {index}:\n{plan}"
    if connection.vendor == "postgresql":
        assert "Seq Scan" not in plan, f"{due.name}: a sequential scan:\n{plan}"
    else:
        # "SCAN table" alone reads every row; "SEARCH … USING INDEX" or "SCAN … USING INDEX" reads an index.
        assert not re.search(r"\bSCAN \w+\s*$", plan, re.MULTILINE), f"{due.name}: a full table scan:\n{plan}"


def test_an_idle_pass_runs_only_the_due_queries_checked_here() -> None:
    """Guards the list above: a new "is anything due?" query in the worker's pass (even on a table already listed)
    changes the count, and must get a plan test too."""
    worker.run_pass(NOW)
    with CaptureQueriesContext(connection) as queries:
        worker.run_pass(NOW)
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    read = {table for sql in selects for table in re.findall(r'\bFROM "(\w+)"', sql)}
    idle = [d for d in DUE if d.idle]
    assert read <= {d.table for d in idle}, (
        f"tables read by an idle pass without a plan test: {read - {d.table for d in idle}}"
    )
    assert len(selects) == len(idle), "\n".join(["the idle pass's queries:", *selects])
