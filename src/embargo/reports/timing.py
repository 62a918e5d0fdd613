"""From a stored report to the domain's clocks and reminders, and back to its indexed due moments."""

from __future__ import annotations

import datetime as dt

from embargo import clock
from embargo.domain import clocks, reminders, retention
from embargo.domain.policy import Policy
from embargo.domain.workflow import State
from embargo.projects.models import Project
from embargo.reports.models import Report, SentReminder


def report_times(report: Report) -> clocks.ReportTimes:
    return clocks.ReportTimes(
        state=State(report.state),
        received_at=report.created_at,
        first_response_at=report.first_response_at,
        fix_ready_at=report.fix_ready_at,
        confirmation_answered_at=report.confirmation_answered_at,
        notices_sent_at=report.notices_sent_at,
        published_at=report.published_at,
        closed_at=report.closed_at,
        reporter_deadline=report.reporter_deadline,
    )


def policy_of(report: Report) -> Policy:
    return report.project.policy.as_domain()


def report_clocks(report: Report, moment: dt.datetime | None = None) -> list[clocks.Clock]:
    return clocks.clocks(report_times(report), policy_of(report), moment or clock.now())


def needs_info_total(report: Report, moment: dt.datetime | None = None) -> dt.timedelta:
    """Time spent waiting for the reporter, the current wait included."""
    seconds = report.needs_info_seconds
    if report.needs_info_since is not None:
        seconds += int(((moment or clock.now()) - report.needs_info_since).total_seconds())
    return dt.timedelta(seconds=max(seconds, 0))


def refresh(report: Report, policy: Policy | None = None) -> None:
    """Recomputes the indexed moments after a change: the due times of the policy, the inbox's next due
    moment, and the worker's next reminder. The caller saves."""
    policy = policy or policy_of(report)
    moment = clock.now()
    times = report_times(report)
    report.response_target_at = times.received_at + dt.timedelta(hours=policy.response_target_hours)
    report.response_due_at = times.received_at + dt.timedelta(hours=policy.response_limit_hours)
    report.fix_due_at = clocks.fix_due_at(times.received_at, policy)
    report.next_due_at = clocks.next_due_at(times, policy, moment)
    already = (
        set(SentReminder.objects.filter(report_id=report.pk).values_list("kind", flat=True)) if report.pk else set()
    )
    plan = reminders.due(times, policy, moment, already=already, needs_info_since=report.needs_info_since)
    report.next_reminder_at = moment if plan.send else plan.next_at
    report.purge_at = purge_moment(report)


def retention_rule(project: Project) -> retention.Rule:
    return retention.Rule(spam_days=project.purge_spam_after_days, rejected_days=project.purge_rejected_after_days)


def purge_moment(report: Report) -> dt.datetime | None:
    """When the project's retention rule purges the report (None: kept, or purged already)."""
    if report.purged_at is not None:
        return None
    return retention.purge_at(
        retention_rule(report.project),
        rejected=report.state == State.REJECTED,
        closed_at=report.closed_at,
        spam_at=report.spam_at,
    )


REFRESHED_FIELDS = (
    "response_target_at", "response_due_at", "fix_due_at", "next_due_at", "next_reminder_at", "purge_at",
)  # fmt: skip
