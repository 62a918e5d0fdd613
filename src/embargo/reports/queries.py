"""Every read that involves reports, already narrowed to what the user may see."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from embargo.accounts.access import Permission, ReportAccess, restrict_reports
from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.audit.tags import Audience
from embargo.domain.workflow import State
from embargo.projects.models import Membership, Project
from embargo.reports.models import Attachment, Collaborator, Message, Report

REPORT_RELATED = ("project", "data_key", "reporter", "assignee", "duplicate_of")


def project_inbox(
    project: Project,
    *,
    state: State | None = None,
    assignee: User | None = None,
    overdue_at: dt.datetime | None = None,
    spam: bool = False,
    held: bool = False,
) -> QuerySet[Report]:
    """The team's list of a project's reports. The caller has checked LIST_PROJECT_REPORTS.
    `overdue_at`: only reports whose nearest running clock was due before that moment. Reports marked as spam,
    and reports held for review, are left out, or (`spam`, `held`) listed alone."""
    reports = Report.objects.filter(project=project, spam_at__isnull=not spam, held_at__isnull=not held)
    reports = reports.select_related(*REPORT_RELATED)
    if overdue_at is not None:
        reports = reports.filter(next_due_at__lt=overdue_at)
    if state is not None:
        reports = reports.filter(state=state)
    if assignee is not None:
        reports = reports.filter(assignee=assignee)
    return reports


def reports_of_reporter(user: User) -> QuerySet[Report]:
    return Report.objects.filter(reporter=user).select_related(*REPORT_RELATED)


def visible_reports(user: User) -> QuerySet[Report]:
    return restrict_reports(Report.objects.select_related(*REPORT_RELATED), user)


def thread(access: ReportAccess) -> QuerySet[Message]:
    from embargo.languages.queries import prefetch_for_thread

    messages = (
        Message.objects.filter(report=access.report)
        .select_related("author", "data_key")
        .prefetch_related(prefetch_for_thread(access))
    )
    if not access.can(Permission.VIEW_INTERNAL):
        messages = messages.filter(internal=False)
    return messages


def attachments(access: ReportAccess) -> QuerySet[Attachment]:
    return Attachment.objects.filter(report=access.report).select_related("uploaded_by", "data_key")


def attachment(access: ReportAccess, public_id: str) -> Attachment | None:
    return attachments(access).filter(public_id=public_id).first()


def timeline(access: ReportAccess) -> QuerySet[Event]:
    events = Event.objects.filter(report=access.report).select_related("actor")
    if not access.can(Permission.VIEW_INTERNAL):
        events = events.filter(audience=Audience.PARTICIPANTS)
    return events


def collaborators(access: ReportAccess) -> QuerySet[Collaborator]:
    return Collaborator.objects.filter(report=access.report).select_related("user")


def people_of(report: Report) -> tuple[set[int], set[int]]:
    """The user ids of the report's team and of its collaborators (two queries, whatever the thread)."""
    team = set(Membership.objects.filter(project_id=report.project_id).values_list("user_id", flat=True))
    guests = set(Collaborator.objects.filter(report=report).values_list("user_id", flat=True))
    return team, guests


def team_member_by_email(project: Project, email: str) -> User | None:
    return User.objects.filter(Q(email=email.strip().lower()), memberships__project=project).first()


def role_of(user_id: int | None, report: Report, team: set[int], guests: set[int]) -> str | None:
    """What the author of a message is to the report, for labelling the thread."""
    if user_id is None:
        return None
    if user_id in team:
        return "team"
    if user_id == report.reporter_id:
        return "reporter"
    if user_id in guests:
        return "collaborator"
    return None
