"""Reads about a project as a whole: its metrics and its outbox failures (the caller checked access)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from embargo import clock
from embargo.domain import metrics
from embargo.domain.workflow import State
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Project
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
