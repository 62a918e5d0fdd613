"""Reads about a project as a whole: its metrics, its outbox failures, its packager list and the requests to
join it (the caller checked access to the project)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, IntegerField, QuerySet, Value, When

from embargo import clock
from embargo.accounts.access import NotFound
from embargo.domain import metrics
from embargo.domain.workflow import State
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Packager, PackagerRequest, PackagerRequestStatus, Project
from embargo.reports.models import Report

OPEN_STATES = [s.value for s in State if s not in {State.PUBLISHED, State.REJECTED, State.DUPLICATE, State.WITHDRAWN}]


def report_facts(project: Project, since: dt.datetime, until: dt.datetime) -> list[metrics.ReportFacts]:
    now = clock.now()
    rows = (
        Report.objects.filter(project=project, created_at__gte=since, created_at__lt=until)
        .exclude(state=State.DUPLICATE)
        .order_by("created_at")
        .values_list("created_at", "first_response_at", "published_at", "state", "next_due_at")
    )
    return [
        metrics.ReportFacts(
            received_at=created,
            first_response_at=responded,
            published_at=published,
            open=state in OPEN_STATES,
            overdue=state in OPEN_STATES and due is not None and due <= now,
        )
        for created, responded, published, state, due in rows
    ]


def project_metrics(project: Project, since: dt.datetime, until: dt.datetime) -> metrics.Metrics:
    return metrics.compute(report_facts(project, since, until), project.policy.as_domain(), clock.now())


def delivery_problems(project: Project) -> QuerySet[OutboxMessage]:
    """E-mails about the project's reports that failed at least once and are not delivered."""
    return (
        OutboxMessage.objects.filter(report__project=project, sent_at__isnull=True, attempts__gt=0)
        .select_related("report")
        .order_by("-id")
    )


def project_by_slug(slug: str) -> Project:
    """A project for its public pages and routes (anyone may see that it exists)."""
    project = Project.objects.filter(slug=str(slug)).first()
    if project is None:
        raise NotFound
    return project


def packagers(project: Project) -> QuerySet[Packager]:
    """The project's packager list: those not removed."""
    return Packager.objects.filter(project=project, removed_at__isnull=True)


def packager_by_id(project: Project, public_id: str) -> Packager:
    """One packager on the list; NotFound for an unknown, removed or other project's one."""
    packager = packagers(project).select_related("project").filter(public_id=str(public_id)).first()
    if packager is None:
        raise NotFound
    return packager


def packager_requests(project: Project) -> QuerySet[PackagerRequest]:
    """Requests to join, with `waiting` = 0 for the pending ones so that they sort first."""
    waiting = Case(
        When(status=PackagerRequestStatus.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return PackagerRequest.objects.filter(project=project).annotate(waiting=waiting)


def packager_request_by_id(project: Project, public_id: str) -> PackagerRequest:
    request = (
        PackagerRequest.objects.select_related("project").filter(project=project, public_id=str(public_id)).first()
    )
    if request is None:
        raise NotFound
    return request
