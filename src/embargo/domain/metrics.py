"""Whether a project keeps its promises: response and fix times against the policy, over a period."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from embargo.domain.policy import Policy


@dataclass(frozen=True)
class ReportFacts:
    received_at: dt.datetime
    first_response_at: dt.datetime | None
    published_at: dt.datetime | None
    open: bool
    overdue: bool


@dataclass(frozen=True)
class Metrics:
    reports: int
    answered: int
    response_hours_median: float | None
    response_hours_p90: float | None
    fix_days_median: float | None
    fix_days_p90: float | None
    within_target_share: float | None  # of the reports whose target has passed or that were answered
    within_limit_share: float | None
    open: int
    overdue: int


def _hours(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600


def _percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 2)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def compute(facts: Iterable[ReportFacts], policy: Policy, now: dt.datetime) -> Metrics:
    rows = list(facts)
    response = [_hours(r.received_at, r.first_response_at) for r in rows if r.first_response_at]
    fixes = [_hours(r.received_at, r.published_at) / 24 for r in rows if r.published_at]
    # A report still unanswered counts against the promise once its target (or limit) has passed.
    judged_target = [
        r
        for r in rows
        if r.first_response_at or now >= r.received_at + dt.timedelta(hours=policy.response_target_hours)
    ]
    judged_limit = [
        r for r in rows if r.first_response_at or now >= r.received_at + dt.timedelta(hours=policy.response_limit_hours)
    ]

    def within(judged: list[ReportFacts], hours: int) -> float | None:
        if not judged:
            return None
        kept = sum(1 for r in judged if r.first_response_at and _hours(r.received_at, r.first_response_at) <= hours)
        return round(kept / len(judged), 4)

    return Metrics(
        reports=len(rows),
        answered=len(response),
        response_hours_median=_median(response),
        response_hours_p90=_percentile(response, 90),
        fix_days_median=_median(fixes),
        fix_days_p90=_percentile(fixes, 90),
        within_target_share=within(judged_target, policy.response_target_hours),
        within_limit_share=within(judged_limit, policy.response_limit_hours),
        open=sum(1 for r in rows if r.open),
        overdue=sum(1 for r in rows if r.overdue),
    )
