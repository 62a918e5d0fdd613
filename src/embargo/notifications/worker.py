"""The worker's pass: claim due outbox rows with a lease, deliver them, retry failures with back-off.

Safe as several processes on PostgreSQL (rows are claimed with SELECT … FOR UPDATE SKIP LOCKED) and as one on
SQLite (whose write transactions are serialised). A worker killed mid-pass leaves its rows leased; once the lease
expires, the next pass claims them again. A message delivered just before the kill is then sent a second time,
with the same Message-ID, so mail clients show it once."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from embargo import clock
from embargo.audit.chain import checkpoint_if_due
from embargo.notifications import delivery
from embargo.notifications.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
# A pass delivers what it claimed for at most this long, then hands the rest back: a row is never still on its
# way when its lease runs out and another worker takes it (which would deliver it twice).
DELIVERY_WINDOW = LEASE / 2
MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=6)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … capped at 6 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PassResult:
    reminders: int = 0
    jobs: int = 0
    language_jobs: int = 0
    purged: int = 0
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


def due_rows(now: dt.datetime) -> Q:
    return Q(sent_at__isnull=True, failed_at__isnull=True, due_at__lte=now) & (
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    )


def claim(now: dt.datetime, owner: str, batch: int) -> list[OutboxMessage]:
    with transaction.atomic():
        rows = OutboxMessage.objects.filter(due_rows(now)).order_by("due_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("id", flat=True)[:batch])
        if not ids:
            return []
        OutboxMessage.objects.filter(id__in=ids).update(
            leased_until=now + LEASE, lease_owner=owner, attempts=F("attempts") + 1
        )
    return list(OutboxMessage.objects.filter(id__in=ids, lease_owner=owner).order_by("due_at", "id"))


def run_pass(
    now: dt.datetime | None = None, *, batch: int = 100, owner: str | None = None, run_jobs: bool = True
) -> PassResult:
    """One pass: the reminders the clocks call for, then the outbox's due e-mails."""
    started = time.monotonic()
    now = now or clock.now()
    owner = owner or worker_name()
    result = PassResult()
    from embargo.reports import reminders

    result.reminders = len(reminders.run(now))
    from embargo.releases import publishing

    # Release day: publish what is due (or alert the team) before delivering, so the news goes out in this pass.
    publishing.run_due(now)
    from embargo.languages import jobs as language_jobs

    # Detection is local and quick (and may queue translations); translation waits on an outside service, so it
    # runs after this pass's e-mail went out.
    result.language_jobs = language_jobs.run_detections(now, owner)
    result.claimed = 0
    _deliver(now, owner, batch, result)
    # What the detections just queued is due now, after the pass's moment.
    result.language_jobs += language_jobs.run_translations(max(now, clock.now()), owner)
    if run_jobs:
        from embargo.fixes import jobs

        result.jobs = jobs.run(now, owner)
    if result.jobs or result.language_jobs:
        # A job's own notifications (and those of the actions meanwhile) go out in the same pass. A job may
        # take minutes: the pass's moment moves on with it, so that what the job queued is due and the
        # leases of this second claim start now, not at the start of the pass (already expired).
        later = now + dt.timedelta(seconds=time.monotonic() - started)
        _deliver(later, owner, batch, result)
    from embargo.reports import retention

    result.purged = len(retention.run(now))  # spam and rejected reports past the project's retention rule
    checkpoint_if_due(now)  # the audit chains' heads, pinned periodically (one indexed query when none is due)
    return result


def _deliver(now: dt.datetime, owner: str, batch: int, result: PassResult) -> None:
    rows = claim(now, owner, batch)
    claimed_at = time.monotonic()
    result.claimed += len(rows)
    if not rows:
        return
    smtp_url = settings.EMBARGO_SMTP_URL
    conn = delivery.smtp_connection(smtp_url) if smtp_url else None
    try:
        if conn is not None:
            try:
                conn.open()
            except Exception as e:  # noqa: BLE001 - the server is down: every claimed row waits for a retry
                for row in rows:
                    _record_failure(row, owner, now, f"{type(e).__name__}: {e}"[:2000], result)
                return
        for index, row in enumerate(rows):
            if time.monotonic() - claimed_at > DELIVERY_WINDOW.total_seconds():
                _release(rows[index:], owner)
                break
            try:
                delivery.deliver(row, conn)
            except delivery.Cancelled as e:
                log.info("delivery of %s (%s) cancelled: %s", row.public_id, row.template, e)
                OutboxMessage.objects.filter(pk=row.pk, lease_owner=owner).update(
                    failed_at=now, leased_until=None, last_error=f"cancelled: {e}"[:2000]
                )
                result.cancelled += 1
                continue
            except Exception as e:  # noqa: BLE001 - recorded on the row and retried later
                _record_failure(row, owner, now, str(e)[:2000], result)
                if conn is not None:
                    # A broken connection would fail every following message: start a new one.
                    conn.close()
                    conn = delivery.smtp_connection(smtp_url)
                continue
            OutboxMessage.objects.filter(pk=row.pk, lease_owner=owner).update(
                sent_at=clock.now(), leased_until=None, last_error=""
            )
            delivery.sent(row)
            result.sent += 1
    finally:
        if conn is not None:
            conn.close()


def _release(rows: list[OutboxMessage], owner: str) -> None:
    """Hands back claimed rows that this pass did not try: due again at once, the claim not counted as an attempt."""
    log.info("the delivery window closed: %d claimed messages handed back for the next pass", len(rows))
    OutboxMessage.objects.filter(pk__in=[row.pk for row in rows], lease_owner=owner).update(
        leased_until=None, attempts=F("attempts") - 1
    )


def _record_failure(row: OutboxMessage, owner: str, now: dt.datetime, error: str, result: PassResult) -> None:
    log.warning("delivery of %s (%s) failed, attempt %d: %s", row.public_id, row.template, row.attempts, error)
    result.errors.append(error)
    if row.attempts >= MAX_ATTEMPTS:
        OutboxMessage.objects.filter(pk=row.pk, lease_owner=owner).update(
            failed_at=now, leased_until=None, last_error=error
        )
        result.failed += 1
    else:
        OutboxMessage.objects.filter(pk=row.pk, lease_owner=owner).update(
            due_at=now + backoff(row.attempts), leased_until=None, last_error=error
        )
        result.retried += 1
