"""Retention: spam and rejected reports are purged when the project's rule says (domain/retention.py).

A purge keeps a stub: the report's row (ID, project, reporter account, state, dates) and its whole audit chain,
which is why the chain still verifies afterwards. Gone are the text of the report, its messages and their
translations, its attachments and patches (the stored files too, once the transaction commits), the runs of its
proof of concept and an unpublished advisory draft. A `report:purged` event says when, under which rule, and how
much went."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from embargo.audit.actions import record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain import retention
from embargo.domain.workflow import State
from embargo.projects.models import Project
from embargo.reports import timing
from embargo.reports.models import Report
from embargo.vault import files

# A worker pass purges at most this many reports; the rest wait for the next pass.
BATCH = 50


@dataclass(frozen=True)
class Purged:
    report: str
    rule: str
    messages: int
    files: int


def due(now: dt.datetime) -> list[int]:
    """The reports whose purge is due (one indexed query: report_purge_due holds only the scheduled ones)."""
    return list(Report.objects.filter(purge_at__lte=now).order_by("purge_at").values_list("pk", flat=True)[:BATCH])


def purge(report_pk: int, now: dt.datetime) -> Purged | None:
    """Purges one report in one transaction, if it is still due (a report reopened meanwhile is not)."""
    from embargo.advisories.models import Advisory
    from embargo.fixes.models import Patch
    from embargo.languages.models import Detection, Translation
    from embargo.mailin.models import InboundMail

    stored: list[str] = []
    with transaction.atomic():
        report = Report.objects.select_for_update().select_related("project").filter(pk=report_pk).first()
        if report is None or report.purged_at is not None:
            return None
        report.purge_at = timing.purge_moment(report)
        if report.purge_at is None or report.purge_at > now:
            Report.objects.filter(pk=report.pk).update(purge_at=report.purge_at)  # the rule changed: reschedule
            return None
        rule = retention.reason(timing.retention_rule(report.project), spam=report.spam_at is not None)
        stored += report.attachments.values_list("storage_name", flat=True)
        stored += Patch.objects.filter(fix__report=report).values_list("storage_name", flat=True)
        # The e-mail the report or its messages came in, kept whole by `embargo mail-in` (mailin/).
        stored += InboundMail.objects.filter(report=report).values_list("storage_name", flat=True)
        messages = report.messages.count()
        attachments = len(stored)
        Translation.objects.filter(report=report).delete()
        Detection.objects.filter(report=report).delete()
        report.messages.all().delete()
        report.attachments.all().delete()
        InboundMail.objects.filter(report=report).delete()
        report.reproductions.all().delete()
        report.fixes.all().delete()
        Advisory.objects.filter(report=report, published_at__isnull=True).delete()
        report.title = retention.PURGED_TITLE
        for name in ("description", "affected_versions", "reproduction", "impact", "severity_proposed"):
            setattr(report, name, "")
        report.credit_name = ""
        report.poc_marker = ""
        report.purged_at = now
        report.purge_at = None
        report.updated_at = now
        report.save()
        record_event(
            Tag.REPORT_PURGED,
            actor=None,
            target=report,
            project=report.project,
            report=report,
            audience=Audience.TEAM,
            data={"rule": rule, "messages": messages, "files": attachments},
        )
        transaction.on_commit(lambda: _delete_files(stored))
    return Purged(report.public_id, rule, messages, attachments)


def _delete_files(names: list[str]) -> None:
    for name in names:
        files.delete(name)


def run(now: dt.datetime, progress: Callable[[Purged], None] | None = None) -> list[Purged]:
    """The worker's hook (and `embargo retention run`): purges what is due, a batch at a time."""
    done: list[Purged] = []
    while batch := due(now):
        for pk in batch:
            purged = purge(pk, now)
            if purged is not None:
                done.append(purged)
                if progress:
                    progress(purged)
        if len(batch) < BATCH:
            break
    return done


def reschedule(project: Project) -> int:
    """After the project's rule changed: the purge moment of each of its spam and rejected reports, anew."""
    rows = Report.objects.filter(project=project, purged_at__isnull=True).filter(
        state=State.REJECTED
    ) | Report.objects.filter(project=project, purged_at__isnull=True, spam_at__isnull=False)
    changed = 0
    for report in rows.select_related("project"):
        moment = timing.purge_moment(report)
        if moment != report.purge_at:
            Report.objects.filter(pk=report.pk).update(purge_at=moment)
            changed += 1
    return changed


def pending(now: dt.datetime) -> list[Report]:
    """What a purge now would take (for `embargo retention run --dry-run`)."""
    return list(Report.objects.filter(purge_at__lte=now).select_related("project").order_by("purge_at"))
