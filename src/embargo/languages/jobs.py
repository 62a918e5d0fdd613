"""The worker's language jobs: detect the language of new reports and messages (the detector is loaded here,
once per worker process, never in a web process), and have the instance's translation service translate what
the team or the reporter needs in another language.

Text goes to the service only for a project whose owner has translation on, checked again when the job runs
(an owner may turn it off after a job was queued: the job then ends without sending anything). Every request
sent is recorded in the audit log, whatever its answer. A failure the service may recover from (busy, down) is
retried with back-off; the original stays readable meanwhile, and the team can ask again at any time."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, models, transaction
from django.db.models import F, Q

from embargo import clock
from embargo.languages import actions
from embargo.languages.models import Detection, JobStatus, Purpose, Translation
from embargo.reports.models import Message, Report

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
BACKOFF_BASE = dt.timedelta(seconds=30)
# A pass starts no new translation after this long, so that a slow service does not hold up the e-mail.
TRANSLATION_BUDGET = dt.timedelta(seconds=20)
DETECTION_BATCH = 50


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min, …"""
    return BACKOFF_BASE * (2 ** max(attempts - 1, 0))


def _claim[M: models.Model](model: type[M], now: dt.datetime, owner: str, limit: int) -> list[M]:
    """Due jobs of `model`, leased to `owner` (SKIP LOCKED on PostgreSQL); expired leases are due again."""
    due = Q(status=JobStatus.QUEUED, due_at__lte=now) | Q(status=JobStatus.RUNNING, leased_until__lt=now)
    # An idle pass costs one indexed read per kind of job (partial indexes on due_at); no transaction is opened.
    if not model.objects.filter(due).exists():  # type: ignore[attr-defined]
        return []
    with transaction.atomic():
        rows = model.objects.filter(due).order_by("due_at", "id")  # type: ignore[attr-defined]
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        model.objects.filter(id__in=ids).update(  # type: ignore[attr-defined]
            status=JobStatus.RUNNING, leased_until=now + LEASE, lease_owner=owner, attempts=F("attempts") + 1
        )
    return list(model.objects.filter(id__in=ids, lease_owner=owner).order_by("due_at", "id"))  # type: ignore[attr-defined]


# --- detection -------------------------------------------------------------------------------------


def _detect_one(job: Detection) -> None:
    from embargo.languages import detection

    if job.message_id is not None:
        message = Message.objects.select_related("report__project").get(pk=job.message_id)
        found = detection.detect(message.body)
        with transaction.atomic():
            if found is not None:
                message.language, message.language_confidence = found.language, found.confidence
                Message.objects.filter(pk=message.pk).update(
                    language=found.language, language_confidence=found.confidence
                )
                actions.queue_message_translation(message)
            Detection.objects.filter(pk=job.pk).update(status=JobStatus.DONE, leased_until=None)
        return
    report = Report.objects.select_related("project").get(pk=job.report_id)
    found = detection.detect("\n\n".join(str(getattr(report, f)) for f in ("title", "description", "impact")))
    with transaction.atomic():
        fresh = Report.objects.select_for_update().get(pk=report.pk)
        # A language the reporter or the team set by hand is not overruled by the detector.
        if found is not None and fresh.language_source in ("", "detected"):
            Report.objects.filter(pk=report.pk).update(
                language=found.language, language_confidence=found.confidence, language_source="detected"
            )
            report.language, report.language_confidence = found.language, found.confidence
            report.language_source = "detected"
            actions.queue_team_translations(report)
        Detection.objects.filter(pk=job.pk).update(status=JobStatus.DONE, leased_until=None)


def run_detections(now: dt.datetime, owner: str) -> int:
    done = 0
    for job in _claim(Detection, now, owner, DETECTION_BATCH):
        try:
            _detect_one(job)
        except Exception:  # a broken row must not stop the others: it ends as an error, the report stays as is
            log.exception("language detection %s failed", job.pk)
            status = JobStatus.ERROR if job.attempts >= MAX_ATTEMPTS else JobStatus.QUEUED
            Detection.objects.filter(pk=job.pk).update(
                status=status, leased_until=None, due_at=now + backoff(job.attempts)
            )
        done += 1
    return done


# --- translation -----------------------------------------------------------------------------------


def _source_text(row: Translation) -> str:
    if row.message_id is not None:
        return Message.objects.get(pk=row.message_id).body
    return str(getattr(row.report, row.field))


def _finish(row: Translation, **fields: Any) -> None:
    Translation.objects.filter(pk=row.pk, lease_owner=row.lease_owner).update(
        leased_until=None, updated_at=clock.now(), **fields
    )


def _translate_one(row: Translation, now: dt.datetime) -> None:
    from embargo.languages import providers

    report = row.report
    project = report.project
    if not actions.translation_available(project):
        _finish(
            row, status=JobStatus.ERROR, error="Machine translation was turned off for this project: nothing was sent."
        )
        return
    if row.purpose == Purpose.TEAM and row.source_language in project.languages_read:
        _finish(row, status=JobStatus.ERROR, error="The text is in a language the team reads: nothing was sent.")
        return
    try:
        provider = providers.configured()
    except providers.TranslationError as e:
        _finish(row, status=JobStatus.ERROR, error=e.message[:500])
        return
    if provider is None:
        _finish(row, status=JobStatus.ERROR, error="This instance has no translation service.")
        return
    text = _source_text(row)
    host = urlsplit(provider.url).netloc
    try:
        translated = providers.translate_text(
            provider, text, source=row.source_language or None, target=row.target_language
        )
    except providers.TranslationError as e:
        with transaction.atomic():
            actions.record_sent(row, provider=provider.name, url=host, characters=len(text), outcome=e.code)
            if e.retryable and row.attempts < MAX_ATTEMPTS:
                _finish(row, status=JobStatus.QUEUED, error=e.message[:500], due_at=now + backoff(row.attempts))
            else:
                _finish(row, status=JobStatus.ERROR, error=e.message[:500])
        return
    with transaction.atomic():
        actions.record_sent(row, provider=provider.name, url=host, characters=len(text), outcome="translated")
        fresh = Translation.objects.select_for_update().get(pk=row.pk)
        if fresh.lease_owner != row.lease_owner or fresh.status != JobStatus.RUNNING:
            return  # asked again or corrected by hand meanwhile: that newer request wins
        fresh.text, fresh.provider, fresh.status, fresh.error = translated, provider.name, JobStatus.DONE, ""
        fresh.corrected_by, fresh.corrected_at = None, None
        fresh.leased_until, fresh.updated_at = None, clock.now()
        fresh.save()


def run_translations(now: dt.datetime, owner: str) -> int:
    started = time.monotonic()
    done = 0
    while time.monotonic() - started < TRANSLATION_BUDGET.total_seconds():
        rows = _claim(Translation, now, owner, 1)
        if not rows:
            break
        row = Translation.objects.select_related("report__project", "data_key").get(pk=rows[0].pk)
        try:
            _translate_one(row, now)
        except Exception as e:  # recorded on the row; the worker goes on
            log.exception("translation %s failed", row.public_id)
            _finish(row, status=JobStatus.ERROR, error=f"{type(e).__name__}"[:500])
        done += 1
    return done


def run(now: dt.datetime, owner: str) -> int:
    """One pass of language jobs; the number of jobs run."""
    return run_detections(now, owner) + run_translations(now, owner)
