"""Every write to a report: check permission, ask the domain, save, record the event — in one
transaction, with the notifications it causes written to the outbox in that same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from embargo import clock
from embargo.accounts.access import Permission, ReportAccess, team_role
from embargo.accounts.models import User
from embargo.audit.actions import fingerprint, record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain import policy as domain_policy
from embargo.domain import workflow
from embargo.domain.workflow import Actor, State
from embargo.errors import ActionError
from embargo.languages import actions as language_actions
from embargo.projects.models import Project
from embargo.reports import notify, timing
from embargo.reports.models import Attachment, Collaborator, Message, Report
from embargo.vault import files


class ReportError(ActionError):
    pass


@dataclass(frozen=True)
class Submission:
    title: str
    description: str
    affected_versions: str = ""
    reproduction: str = ""
    impact: str = ""
    severity_proposed: str = ""
    credit_name: str = ""
    credit_consent: bool = False
    reporter_deadline: dt.date | None = None
    poc_marker: str = ""
    # ISO 639-1, as the reporter chose it; empty: the worker detects it.
    language: str = ""


SECRET_FIELDS = ("title", "description", "affected_versions", "reproduction", "impact", "severity_proposed")


def _report_event(
    tag: Tag, report: Report, *, actor: User | None, target: Any, audience: str, data: dict[str, Any]
) -> None:
    """An audit event about `report` (or one of its parts), in the caller's transaction."""
    record_event(tag, actor=actor, target=target, project=report.project, report=report, audience=audience, data=data)


def _refresh_due(report: Report) -> None:
    timing.refresh(report)


LIVE_FIELDS = (
    "state", "state_before_needs_info", "first_response_at", "closed_at", "next_due_at", "fix_ready_at",
    "needs_info_since", "needs_info_seconds", "next_reminder_at", "confirmation_answered_at",
    "notices_sent_at", "published_at",
)  # fmt: skip


def _locked(report: Report) -> Report:
    """The report's row, locked for the rest of the transaction, with its state as of now."""
    fresh = Report.objects.select_for_update().get(pk=report.pk)
    for name in LIVE_FIELDS:
        setattr(report, name, getattr(fresh, name))
    return report


def do_submit_report(project: Project, submission: Submission, *, acting_user: User, by_link: bool = False) -> Report:
    """A new private report. `by_link`: sent without signing in, so the reporter follows it by private link."""
    if acting_user.spam_reports >= settings.EMBARGO_SPAM_LIMIT:
        raise ReportError(
            "This account may not send reports: too many of its reports were marked as spam. If that is a mistake, "
            "write to the operators of this Embargo instance.",
            code="account_restricted",
            status=403,
        )
    if project.require_poc and not submission.reproduction.strip():
        raise ReportError(
            f"{project.name} asks for a proof of concept with every report: give the shortest code or the steps "
            "that show the problem in `reproduction`.",
            field="reproduction",
        )
    moment = clock.now()
    due = domain_policy.due_times(moment, project.policy.as_domain())
    with transaction.atomic():
        report = Report(
            project=project,
            reporter=acting_user,
            state=State.RECEIVED,
            created_at=moment,
            updated_at=moment,
            response_target_at=due.response_target_at,
            response_due_at=due.response_due_at,
            fix_due_at=due.fix_due_at,
            credit_name=submission.credit_name.strip(),
            credit_consent=submission.credit_consent,
        )
        for name in SECRET_FIELDS:
            setattr(report, name, getattr(submission, name))
        report.reporter_deadline = _deadline(submission.reporter_deadline)
        report.poc_marker = submission.poc_marker.strip()
        if project.hold_new_accounts and is_new_account(acting_user, moment):
            report.held_at = moment
        _refresh_due(report)
        report.save()
        record_event(
            Tag.REPORT_CREATED,
            actor=acting_user,
            target=report,
            project=project,
            report=report,
            audience=Audience.PARTICIPANTS,
            data={"fields": {n: fingerprint(getattr(submission, n)) for n in SECRET_FIELDS if getattr(submission, n)}},
        )
        language_actions.on_report_submitted(report, submission.language)
        notify.report_submitted(report, actor=acting_user, by_link=by_link)
    return report


def _deadline(day: dt.date | None) -> dt.datetime | None:
    """A reporter's disclosure date, as the start of that day in UTC."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC) if day else None


def _post(
    report: Report, author: User, body: str, *, internal: bool, transition_to: str = "", translate_to: str = ""
) -> Message:
    """Writes a message into the thread (inside the caller's transaction) and records it. `translate_to`: a
    team member's message the reporter receives translated into that language, beside the original."""
    moment = clock.now()
    message = Message.objects.create(
        report=report,
        author=author,
        body=body,
        internal=internal,
        transition_to=transition_to,
        created_at=moment,
    )
    by_team = team_role(author, report.project) is not None
    if not internal and report.first_response_at is None and by_team:
        # The response clock stops at the team's first message to the reporter.
        report.first_response_at = moment
    if not internal and not transition_to:
        # A transition's comment is announced by the transition's own e-mail.
        notify.message_posted(report, author=author, author_is_team=by_team, message=message)
    record_event(
        Tag.MESSAGE_POSTED,
        actor=author,
        target=message,
        project=report.project,
        report=report,
        audience=Audience.TEAM if internal else Audience.PARTICIPANTS,
        data={
            "internal": internal,
            "body": fingerprint(body),
            **({"translate_to": translate_to} if translate_to else {}),
        },
    )
    language_actions.on_message_posted(message, by_team=by_team, translate_to=translate_to, acting_user=author)
    return message


def _move(report: Report, target: State, actor: User, *, reason: str = "") -> None:
    source = State(report.state)
    moment = clock.now()
    if target is State.NEEDS_INFO:
        report.state_before_needs_info = source
        report.needs_info_since = moment
    elif source is State.NEEDS_INFO:
        report.state_before_needs_info = ""
        if report.needs_info_since is not None:
            report.needs_info_seconds += int((moment - report.needs_info_since).total_seconds())
        report.needs_info_since = None
    if target is State.FIX_READY:
        # The reporter's confirmation clock starts afresh with every fix put to them.
        report.fix_ready_at = moment
        report.confirmation_answered_at = None
    report.state = target
    if not workflow.is_open(target):
        report.closed_at = clock.now()
    data = {"from": str(source), "to": str(target)}
    if reason:
        data["reason"] = reason
    if target is State.DUPLICATE and report.duplicate_of is not None:
        data["duplicate_of"] = report.duplicate_of.public_id
    _report_event(
        Tag.REPORT_TRANSITIONED,
        report,
        actor=actor,
        target=report,
        audience=Audience.PARTICIPANTS,
        data=data,
    )
    from embargo.reports import transfers  # transfers builds on this module

    transfers.state_changed(report, target)  # a team that transferred the report and stays informed


def _save(report: Report, *fields: str) -> None:
    report.updated_at = clock.now()
    _refresh_due(report)
    report.save(update_fields=sorted({*fields, "updated_at", *timing.REFRESHED_FIELDS}))


def do_transition(
    access: ReportAccess,
    to: str,
    *,
    comment: str = "",
    duplicate_of: str | None = None,
    acting_user: User,
    reason: str = "",
    tell_reporter: bool = True,
) -> Report:
    """A triage transition asked for by a person (DESIGN.md's workflow decides whether it may happen).
    `reason` is kept in the audit event; `tell_reporter=False` sends no e-mail about it (spam)."""
    access.require(Permission.REQUEST_TRANSITION)
    try:
        target = State(to)
    except ValueError:
        raise ReportError(f"`to` must be one of: {', '.join(sorted(workflow.REQUESTABLE))}.", field="to") from None
    if target not in workflow.REQUESTABLE:
        raise ReportError(
            f"A report enters {target} only through its own action, not by a transition request.",
            field="to",
            code="transition_not_allowed",
            status=409,
        )
    report = access.report
    with transaction.atomic():
        _locked(report)
        original = None
        if duplicate_of:
            original = Report.objects.filter(public_id=duplicate_of).first()
        context = workflow.Context(
            comment=comment,
            duplicate_of_same_project=None
            if not duplicate_of
            else bool(original and original.project_id == report.project_id),
            duplicate_of_is_self=duplicate_of == report.public_id,
            fixes=report.fixes.count(),
        )
        workflow.check(State(report.state), target, access.actors, context)
        fields = [
            "state", "state_before_needs_info", "closed_at", "first_response_at", "fix_ready_at",
            "confirmation_answered_at", "needs_info_since", "needs_info_seconds",
        ]  # fmt: skip
        if target is State.DUPLICATE:
            report.duplicate_of = original
            fields.append("duplicate_of")
        if comment.strip():
            _post(report, acting_user, comment, internal=False, transition_to=target)
        source = State(report.state)
        _move(report, target, acting_user, reason=reason)
        if source in (State.FIX_READY, State.SCHEDULED) and target not in (State.FIX_READY, State.SCHEDULED):
            # A report belongs to a security release only while its fix stands.
            from embargo.releases.actions import take_out_of_release

            take_out_of_release(report, acting_user=acting_user, reason=f"moved_to_{target}")
        _save(report, *fields)
        if tell_reporter:
            notify.report_transitioned(report, actor=acting_user)
    return report


def is_new_account(user: User, moment: dt.datetime) -> bool:
    """Younger than EMBARGO_NEW_ACCOUNT_DAYS, and none of its reports answered by a team yet."""
    if user.date_joined < moment - dt.timedelta(days=settings.EMBARGO_NEW_ACCOUNT_DAYS):
        return False
    return not Report.objects.filter(reporter=user, first_response_at__isnull=False).exists()


def do_release_hold(access: ReportAccess, *, acting_user: User) -> Report:
    """A team member lets a held report into the inbox (the owners were told of it when it came); the rest of the
    team hears of it then, as of a new report."""
    access.require(Permission.MODERATE)
    report = access.report
    with transaction.atomic():
        _locked(report)
        held = Report.objects.filter(pk=report.pk).values_list("held_at", flat=True).get()
        if held is None:
            raise ReportError("The report is not held.", code="conflict", status=409)
        report.held_at = None
        Report.objects.filter(pk=report.pk).update(held_at=None)
        _report_event(
            Tag.REPORT_HOLD_RELEASED, report, actor=acting_user, target=report, audience=Audience.TEAM, data={}
        )
        notify.report_let_in(report, actor=acting_user)
    return report


def not_a_vulnerability_text(project: Project, note: str = "") -> str:
    """The message a reporter gets when the team closes their report as not a vulnerability."""
    where = project.public_issues_url or (
        project.repository_url if project.repository_url.startswith("https://") else ""
    )
    place = f"in the project's public issue tracker: {where}" if where else "in the project's public issue tracker"
    text = (
        f"Thank you for writing to the security team of {project.name}. We looked at this and it is not a "
        "security vulnerability, so it does not need to stay private: please file it as a public issue "
        f"{place}, where the maintainers and other users can discuss it."
    )
    return f"{text}\n\n{note.strip()}" if note.strip() else text


def do_close_not_a_vulnerability(access: ReportAccess, *, note: str = "", acting_user: User) -> Report:
    """One click: the report is rejected, and the reporter is told where to go instead."""
    access.require(Permission.MODERATE)
    if len(note) > 10_000:
        raise ReportError("The note is at most 10,000 characters.", field="note")
    return do_transition(
        access,
        State.REJECTED,
        comment=not_a_vulnerability_text(access.report.project, note),
        acting_user=acting_user,
        reason="not_a_vulnerability",
    )


def do_mark_spam(access: ReportAccess, *, acting_user: User) -> Report:
    """The report is closed without a word to its sender, leaves the inbox, and counts against the sender: at
    EMBARGO_SPAM_LIMIT spam reports an account may send no more."""
    access.require(Permission.MODERATE)
    report = access.report
    with transaction.atomic():
        if report.spam_at is not None:
            raise ReportError("The report is already marked as spam.", code="conflict", status=409)
        if workflow.is_open(State(report.state)):
            do_transition(access, State.REJECTED, acting_user=acting_user, reason="spam", tell_reporter=False)
        report.spam_at = clock.now()
        report.purge_at = timing.purge_moment(report)  # the retention rule for spam (reports/retention.py)
        Report.objects.filter(pk=report.pk).update(spam_at=report.spam_at, purge_at=report.purge_at)
        if report.reporter_id is not None:
            User.objects.filter(pk=report.reporter_id).update(spam_reports=F("spam_reports") + 1)
        _report_event(Tag.REPORT_MARKED_SPAM, report, actor=acting_user, target=report, audience=Audience.TEAM, data={})
    return report


def do_post_message(
    access: ReportAccess, body: str, *, internal: bool, acting_user: User, translate: bool = False
) -> Message:
    """`translate`: a team member asks for the message to reach the reporter in the reporter's language too."""
    access.require(Permission.POST_MESSAGE)
    if internal:
        access.require(Permission.POST_INTERNAL, "Only the project's team writes internal notes.")
    report = access.report
    translate_to = ""
    if translate:
        if not access.is_team:
            raise ReportError("Only the project's team sends messages translated.", field="translate")
        translate_to = language_actions.check_reply_translation(report, internal=internal)
    with transaction.atomic():
        _locked(report)
        message = _post(report, acting_user, body, internal=internal, translate_to=translate_to)
        fields = ["first_response_at"]
        if State(report.state) is State.NEEDS_INFO and access.is_reporter and not internal:
            # The reporter's answer returns the report to where it waited from.
            back = workflow.return_from_needs_info(
                State(report.state_before_needs_info) if report.state_before_needs_info else None
            )
            workflow.check(State.NEEDS_INFO, back, {Actor.SYSTEM})
            _move(report, back, acting_user, reason="reporter_replied")
            fields += ["state", "state_before_needs_info", "needs_info_since", "needs_info_seconds"]
        _save(report, *fields)
    return message


def do_add_attachment(
    access: ReportAccess, *, filename: str, content_type: str, content: bytes, acting_user: User, is_poc: bool = False
) -> Attachment:
    """A file on the report; `is_poc`: a Python script that shows the vulnerability, for the sandbox to run."""
    access.require(Permission.ADD_ATTACHMENT)
    report = access.report
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        report=report,
        uploaded_by=acting_user,
        filename=filename,
        content_type=content_type,
        size=len(content),
        sha256=digest,
        is_poc=is_poc,
        created_at=clock.now(),
    )
    with transaction.atomic():
        attachment.save()  # makes the data key that seals the file
        name = files.save(
            attachment.data_key, f"attachments/{attachment.public_id}", content, _file_context(attachment)
        )
        try:
            attachment.storage_name = name
            attachment.save(update_fields=["storage_name"])
            _report_event(
                Tag.ATTACHMENT_ADDED,
                report,
                actor=acting_user,
                target=attachment,
                audience=Audience.PARTICIPANTS,
                data={"size": len(content), "sha256": digest, "filename": fingerprint(filename)},
            )
        except BaseException:
            # Should the commit itself fail, what stays behind is ciphertext whose data key was rolled
            # back with the transaction: unreadable by anyone.
            files.delete(name)
            raise
    return attachment


def _file_context(attachment: Attachment) -> str:
    return f"reports.attachment:{attachment.public_id}"


def read_attachment(attachment: Attachment) -> bytes:
    return files.read(attachment.data_key, attachment.storage_name, _file_context(attachment))


def do_assign(access: ReportAccess, assignee: User | None, *, acting_user: User) -> Report:
    access.require(Permission.ASSIGN, "Only the project's team assigns reports.")
    report = access.report
    if assignee is not None and team_role(assignee, report.project) is None:
        raise ReportError("The assignee must be a member of the project's team.", field="assignee")
    with transaction.atomic():
        _locked(report)
        old = report.assignee
        report.assignee = assignee
        _save(report, "assignee")
        _report_event(
            Tag.REPORT_ASSIGNED,
            report,
            actor=acting_user,
            target=report,
            audience=Audience.TEAM,
            data={"old": old.public_id if old else None, "new": assignee.public_id if assignee else None},
        )
        notify.report_assigned(report, actor=acting_user)
    return report


def do_change_credit(
    access: ReportAccess,
    *,
    credit_name: str | None,
    credit_consent: bool | None,
    acting_user: User,
    reporter_deadline: dt.date | EllipsisType | None = ...,
) -> Report:
    """The reporter's choices: their credit, and their own disclosure date (`...` leaves it as it is)."""
    access.require(Permission.EDIT_CREDIT, "Only the reporter chooses how they are credited.")
    report = access.report
    if State(report.state) is State.PUBLISHED:
        raise ReportError(
            "The advisory is published: its credit can no longer change.",
            code="already_published",
            status=409,
        )
    changes: dict[str, dict[str, object]] = {}
    with transaction.atomic():
        _locked(report)
        if credit_name is not None and credit_name.strip() != report.credit_name:
            changes["credit_name"] = {"old": report.credit_name, "new": credit_name.strip()}
            report.credit_name = credit_name.strip()
        if credit_consent is not None and credit_consent != report.credit_consent:
            changes["credit_consent"] = {"old": report.credit_consent, "new": credit_consent}
            report.credit_consent = credit_consent
        if not isinstance(reporter_deadline, EllipsisType) and _deadline(reporter_deadline) != report.reporter_deadline:
            new = _deadline(reporter_deadline)
            changes["reporter_deadline"] = {
                "old": report.reporter_deadline.date().isoformat() if report.reporter_deadline else None,
                "new": new.date().isoformat() if new else None,
            }
            report.reporter_deadline = new
        if changes:
            _save(report, "credit_name", "credit_consent", "reporter_deadline")
            _report_event(
                Tag.REPORT_CREDIT_CHANGED,
                report,
                actor=acting_user,
                target=report,
                audience=Audience.PARTICIPANTS,
                data=changes,
            )
    return report


def do_add_collaborator(access: ReportAccess, user: User, *, acting_user: User) -> Collaborator:
    access.require(Permission.MANAGE_COLLABORATORS)
    report = access.report
    if team_role(user, report.project) is not None:
        raise ReportError("This person is in the project's team and sees the report already.", field="email")
    if report.reporter_id == user.pk:
        raise ReportError("This person reported it.", field="email")
    try:
        with transaction.atomic():
            grant = Collaborator.objects.create(
                report=report, user=user, invited_by=acting_user, created_at=clock.now()
            )
            _report_event(
                Tag.COLLABORATOR_ADDED,
                report,
                actor=acting_user,
                target=report,
                audience=Audience.PARTICIPANTS,
                data={"user": user.public_id},
            )
            notify.collaborator_invited(report, user)
    except IntegrityError:
        raise ReportError(
            "This person is a collaborator already.", field="email", code="already_collaborator", status=409
        ) from None
    return grant


def do_remove_collaborator(access: ReportAccess, user_public_id: str, *, acting_user: User) -> None:
    access.require(Permission.MANAGE_COLLABORATORS)
    report = access.report
    with transaction.atomic():
        deleted, _ = Collaborator.objects.filter(report=report, user__public_id=user_public_id).delete()
        if not deleted:
            raise ReportError("No collaborator with this id on this report.", code="not_found", status=404)
        _report_event(
            Tag.COLLABORATOR_REMOVED,
            report,
            actor=acting_user,
            target=report,
            audience=Audience.PARTICIPANTS,
            data={"user": user_public_id},
        )


def do_revoke_reporter_links(access: ReportAccess, *, acting_user: User) -> None:
    """Kills every private link the reporter was given (they are bound to the version number)."""
    access.require(Permission.MANAGE_COLLABORATORS, "Only the project's team revokes private links.")
    report = access.report
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(link_version=F("link_version") + 1)
        report.refresh_from_db(fields=["link_version"])
        _report_event(
            Tag.REPORTER_LINKS_REVOKED,
            report,
            actor=acting_user,
            target=report,
            audience=Audience.TEAM,
            data={"version": report.link_version},
        )
