"""Every write about languages and translations: setting a report's language, asking for a translation,
correcting one by hand — each checks permission and records its audit event in the caller's transaction — and
the queueing the report actions call when a report or a message arrives.

Nothing here sends text anywhere: the worker does (languages/jobs.py), and only while the project's owner has
translation turned on."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from embargo import clock
from embargo.accounts.access import Permission, ReportAccess
from embargo.accounts.models import User
from embargo.audit.actions import fingerprint, record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain.language import needs_translation
from embargo.errors import ActionError
from embargo.languages import names
from embargo.languages.models import REPORT_FIELDS, Detection, JobStatus, Purpose, Translation
from embargo.projects.models import Project
from embargo.reports.models import Message, Report


def translation_available(project: Project) -> bool:
    """Whether text of this project's reports may go to a translation service: the owner turned it on and the
    instance has a service."""
    return project.translation_enabled and bool(settings.EMBARGO_TRANSLATION_PROVIDER)


def _refuse_unless_available(project: Project) -> None:
    if not project.translation_enabled:
        raise ActionError(
            "Machine translation is off for this project: an owner can turn it on in the project's settings.",
            code="translation_off",
            status=409,
        )
    if not settings.EMBARGO_TRANSLATION_PROVIDER:
        raise ActionError(
            "This Embargo instance has no translation service (EMBARGO_TRANSLATION_PROVIDER).",
            code="translation_off",
            status=409,
        )


def queue_detection(report: Report, message: Message | None = None) -> Detection:
    moment = clock.now()
    return Detection.objects.create(report=report, message=message, created_at=moment, due_at=moment)


def _queue(
    report: Report,
    *,
    field: str,
    message: Message | None,
    purpose: str,
    source: str,
    target: str,
    requested_by: User | None,
) -> Translation:
    """The translation of one text into `target`, queued: a new row, or the existing one asked again (a
    correction by hand is replaced only when asked for explicitly, which is what asking again means)."""
    moment = clock.now()
    row = Translation.objects.filter(
        report=report, message=message, field=field, purpose=purpose, target_language=target
    ).first()
    if row is None:
        row = Translation(report=report, message=message, field=field, purpose=purpose, text="", created_at=moment)
    row.source_language, row.target_language = source, target
    row.status, row.error, row.attempts, row.leased_until, row.lease_owner = JobStatus.QUEUED, "", 0, None, ""
    row.requested_by, row.updated_at, row.due_at = requested_by, moment, moment
    row.save()
    return row


def queue_team_translations(report: Report, *, requested_by: User | None = None) -> list[Translation]:
    """The report's title, description and impact in the team's language, if the report is in another one and
    translation is on. Corrections by hand are kept."""
    project = report.project
    target = project.languages_read[0]
    if not translation_available(project) or not needs_translation(report.language, project.languages_read):
        return []
    queued = []
    for field in REPORT_FIELDS:
        if not str(getattr(report, field)).strip():
            continue
        existing = Translation.objects.filter(
            report=report, message=None, field=field, purpose=Purpose.TEAM, target_language=target
        ).first()
        if existing is not None and existing.corrected_at is not None and existing.source_language == report.language:
            continue
        queued.append(
            _queue(
                report,
                field=field,
                message=None,
                purpose=Purpose.TEAM,
                source=report.language,
                target=target,
                requested_by=requested_by,
            )
        )
    return queued


def queue_message_translation(message: Message) -> Translation | None:
    """A message of the reporter (or a collaborator) in the team's language, once its language is known."""
    report = message.report
    project = report.project
    if not translation_available(project) or not needs_translation(message.language, project.languages_read):
        return None
    return _queue(
        report,
        field="body",
        message=message,
        purpose=Purpose.TEAM,
        source=message.language,
        target=project.languages_read[0],
        requested_by=None,
    )


def on_report_submitted(report: Report, language: str) -> None:
    """Called by do_submit_report in its transaction: the reporter named their language, or the worker is to
    detect it."""
    if language:
        report.language, report.language_source, report.preferred_language = language, "reporter", language
        Report.objects.filter(pk=report.pk).update(
            language=language, language_source="reporter", preferred_language=language
        )
        queue_team_translations(report)
    else:
        queue_detection(report)


def check_reply_translation(report: Report, *, internal: bool) -> str:
    """The language a team message is to be sent to the reporter in, or ActionError saying why it cannot."""
    _refuse_unless_available(report.project)
    if internal:
        raise ActionError(
            "Internal notes are never sent to the reporter, so they are not translated.", field="translate"
        )
    target = report.reply_language
    if not target:
        raise ActionError(
            "The reporter's language is not known yet: set it on the report first.", field="translate", status=409
        )
    if target in report.project.languages_read:
        raise ActionError(
            f"The reporter reads {names.name(target)}, a language of the team: send the message as it is.",
            field="translate",
        )
    return target


def on_message_posted(message: Message, *, by_team: bool, translate_to: str, acting_user: User) -> None:
    """Called by the report actions when a message is written (in their transaction)."""
    if by_team:
        message.language = message.report.project.languages_read[0]
        Message.objects.filter(pk=message.pk).update(language=message.language, translate_to=translate_to)
        if translate_to:
            row = _queue(
                message.report,
                field="body",
                message=message,
                purpose=Purpose.REPORTER,
                source=message.language,
                target=translate_to,
                requested_by=acting_user,
            )
            _translation_event(Tag.TRANSLATION_REQUESTED, row, acting_user)
    elif not message.internal:
        queue_detection(message.report, message)


def _translation_event(tag: Tag, row: Translation, actor: User | None, **data: object) -> None:
    record_event(
        tag,
        actor=actor,
        target=row,
        project=row.report.project,
        report=row.report,
        audience=Audience.TEAM,
        data={
            "field": row.field,
            "message": row.message.public_id if row.message is not None else None,
            "from_language": row.source_language,
            "to_language": row.target_language,
            **data,
        },
    )


def _locked(access: ReportAccess) -> Report:
    return Report.objects.select_for_update().get(pk=access.report.pk)


def do_set_language(
    access: ReportAccess, *, language: str | None, preferred_language: str | None, acting_user: User
) -> Report:
    """The reporter or the team sets the report's language (correcting a detection) and/or the language the
    reporter wants answers in. None leaves a value as it is; "" clears the preferred language."""
    access.require(Permission.SET_LANGUAGE)
    for value, field in ((language, "language"), (preferred_language, "preferred_language")):
        if value and not names.known(value):
            raise ActionError(f"{value!r} is not a language code Embargo knows (ISO 639-1, e.g. zh).", field=field)
    if language == "":
        raise ActionError("Name the report's language (ISO 639-1, e.g. zh).", field="language")
    with transaction.atomic():
        report = _locked(access)
        changed: dict[str, str] = {}
        if language is not None and language != report.language:
            changed["language"] = language
            report.language, report.language_confidence = language, None
            report.language_source = "reporter" if access.is_reporter else "team"
        elif language is not None:
            report.language_source = "reporter" if access.is_reporter else "team"
        if preferred_language is not None and preferred_language != report.preferred_language:
            changed["preferred_language"] = preferred_language
            report.preferred_language = preferred_language
        report.save(update_fields=["language", "language_confidence", "language_source", "preferred_language"])
        for name in ("language", "language_confidence", "language_source", "preferred_language"):
            setattr(access.report, name, getattr(report, name))
        if changed:
            record_event(
                Tag.REPORT_LANGUAGE_SET,
                actor=acting_user,
                target=report,
                project=report.project,
                report=report,
                audience=Audience.PARTICIPANTS,
                data=changed,
            )
        if "language" in changed:
            queue_team_translations(access.report, requested_by=acting_user)
    return access.report


def _translation_of(access: ReportAccess, translation_id: str) -> Translation:
    row = (
        Translation.objects.select_related("message", "report")
        .filter(report=access.report, public_id=translation_id)
        .first()
    )
    if row is None:
        raise ActionError("No such translation on this report.", code="not_found", status=404)
    return row


def do_request_translation(
    access: ReportAccess,
    *,
    field: str | None = None,
    message_id: str | None = None,
    translation_id: str | None = None,
    acting_user: User,
) -> Translation:
    """Asks the worker for a (new) machine translation: of a report field or a message into the team's language,
    or again of an existing translation (after a failure, or to replace a correction)."""
    access.require(Permission.MANAGE_TRANSLATIONS)
    report = access.report
    _refuse_unless_available(report.project)
    with transaction.atomic():
        _locked(access)
        if translation_id is not None:
            existing = _translation_of(access, translation_id)
            row = _queue(
                report,
                field=existing.field,
                message=existing.message,
                purpose=existing.purpose,
                source=existing.source_language,
                target=existing.target_language,
                requested_by=acting_user,
            )
        elif message_id is not None:
            message = Message.objects.filter(report=report, public_id=message_id, internal=False).first()
            if message is None:
                raise ActionError("No such message on this report.", code="not_found", status=404)
            row = _queue(
                report,
                field="body",
                message=message,
                purpose=Purpose.TEAM,
                source=message.language,
                target=report.project.languages_read[0],
                requested_by=acting_user,
            )
        else:
            if field not in REPORT_FIELDS:
                raise ActionError(f"Translate one of: {', '.join(REPORT_FIELDS)}.", field="field")
            if not str(getattr(report, field)).strip():
                raise ActionError(f"The report's {field} is empty.", field="field")
            row = _queue(
                report,
                field=field,
                message=None,
                purpose=Purpose.TEAM,
                source=report.language,
                target=report.project.languages_read[0],
                requested_by=acting_user,
            )
        _translation_event(Tag.TRANSLATION_REQUESTED, row, acting_user)
    return row


def do_correct_translation(access: ReportAccess, translation_id: str, text: str, *, acting_user: User) -> Translation:
    """A team member writes (or corrects) a translation by hand. The original text is untouched; the audit log
    keeps a hash of the new translation."""
    access.require(Permission.MANAGE_TRANSLATIONS)
    if not text.strip():
        raise ActionError("Write the corrected translation.", field="text")
    if len(text) > 100_000:
        raise ActionError("A translation is at most 100,000 characters.", field="text")
    with transaction.atomic():
        _locked(access)
        row = _translation_of(access, translation_id)
        moment = clock.now()
        row.text, row.status, row.error = text, JobStatus.DONE, ""
        row.corrected_by, row.corrected_at, row.updated_at = acting_user, moment, moment
        row.leased_until, row.lease_owner = None, ""
        row.save()
        _translation_event(Tag.TRANSLATION_CORRECTED, row, acting_user, text=fingerprint(text))
    return row


def record_sent(row: Translation, *, provider: str, url: str, characters: int, outcome: str) -> None:
    """The worker sent text to the translation service: recorded, whatever the answer."""
    _translation_event(
        Tag.TRANSLATION_SENT, row, None, provider=provider, service=url, characters=characters, outcome=outcome
    )
