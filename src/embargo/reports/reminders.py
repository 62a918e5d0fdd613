"""The worker's reminder job: for each report whose next reminder is due, send what its clocks call for,
once. Idempotent and safe in two processes at once: a reminder is a `SentReminder` row (unique per report
and kind) written in the same transaction as its e-mails and its audit event."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, connection, transaction

from embargo.audit.actions import record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain import reminders
from embargo.reports import notify, timing
from embargo.reports.models import Report, SentReminder

log = logging.getLogger(__name__)


def due_report_ids(now: dt.datetime, batch: int) -> list[int]:
    return list(
        Report.objects.filter(next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .values_list("id", flat=True)[:batch]
    )


def run(now: dt.datetime, *, batch: int = 200, dry_run: bool = False) -> list[tuple[str, str]]:
    """Sends the due reminders; returns (report ID, reminder kind) for each one sent (or that would be)."""
    done: list[tuple[str, str]] = []
    for report_id in due_report_ids(now, batch):
        try:
            done += _one(report_id, now, dry_run=dry_run)
        except IntegrityError:
            # Another worker sent these reminders first; its transaction won, ours changed nothing.
            log.info("reminders of report %s were sent by another worker", report_id)
    return done


def _one(report_id: int, now: dt.datetime, *, dry_run: bool) -> list[tuple[str, str]]:
    with transaction.atomic():
        rows = Report.objects.select_related("project__policy", "reporter", "data_key").filter(
            pk=report_id, next_reminder_at__lte=now
        )
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        report = rows.first()
        if report is None:
            return []
        already = set(SentReminder.objects.filter(report=report).values_list("kind", flat=True))
        policy = timing.policy_of(report)
        plan = reminders.due(
            timing.report_times(report), policy, now, already=already, needs_info_since=report.needs_info_since
        )
        sent = [(report.public_id, r.kind) for r in plan.send]
        if dry_run:
            transaction.set_rollback(True)
            return sent
        for reminder in plan.pass_over:
            SentReminder.objects.create(
                report=report, kind=reminder.kind, due_at=reminder.at, sent_at=now, skipped=True
            )
        for reminder in plan.send:
            SentReminder.objects.create(report=report, kind=reminder.kind, due_at=reminder.at, sent_at=now)
            notify.reminder(
                report,
                clock=reminder.clock,
                step=reminder.step,
                due_at=f"{reminder.clock_due_at:%Y-%m-%d %H:%M} UTC",
                audiences=tuple(str(a) for a in reminder.audiences),
            )
            record_event(
                Tag.CONFIRMATION_TIMED_OUT
                if reminder.clock == "confirmation"
                else Tag.REPORT_OVERDUE
                if reminder.step is reminders.Step.OVERDUE
                else Tag.REPORT_REMINDED,
                actor=None,
                target=report,
                project=report.project,
                report=report,
                audience=Audience.TEAM if reminder.clock == "packagers" else Audience.PARTICIPANTS,
                data={"clock": reminder.clock, "step": str(reminder.step), "due_at": reminder.clock_due_at.isoformat()},
            )
        report.next_reminder_at = plan.next_at
        timing_next = plan.next_at
        Report.objects.filter(pk=report.pk).update(next_reminder_at=timing_next)
    return sent
