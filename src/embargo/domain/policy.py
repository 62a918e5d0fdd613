"""A project's promises as data, and the due times they give a report.

The defaults are the numbers of the reference policy (requests' "Vulnerability Disclosure"): an answer
usually within 12 hours and within two days at the outside, a fix released within two weeks, packagers
told at least a week before a release that always falls on a weekday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from embargo.domain.workflow import State, is_open

WEEKDAYS = (0, 1, 2, 3, 4)  # Monday to Friday, as `datetime.weekday()` numbers them


@dataclass(frozen=True)
class Policy:
    response_target_hours: int = 12
    response_limit_hours: int = 48
    fix_target_days: int = 14
    packager_lead_days: int = 7
    release_weekdays: tuple[int, ...] = field(default=WEEKDAYS)
    holiday_calendar: str = ""
    cve_required: bool = True
    cve_after_fix: bool = True
    reporter_confirmation_days: int = 7
    timezone: str = "UTC"


REFERENCE = Policy()


@dataclass(frozen=True)
class DueTimes:
    response_target_at: dt.datetime
    response_due_at: dt.datetime
    fix_due_at: dt.datetime


def due_times(received_at: dt.datetime, policy: Policy) -> DueTimes:
    """The moments a report received at `received_at` must be answered and fixed by."""
    return DueTimes(
        response_target_at=received_at + dt.timedelta(hours=policy.response_target_hours),
        response_due_at=received_at + dt.timedelta(hours=policy.response_limit_hours),
        fix_due_at=received_at + dt.timedelta(days=policy.fix_target_days),
    )


def next_due_at(state: State, due: DueTimes, *, responded: bool) -> dt.datetime | None:
    """The nearest moment a promise falls due for this report, for ordering the team's inbox:
    the response limit until the team has answered, then the fix target; none once closed."""
    if not is_open(state):
        return None
    if not responded:
        return due.response_due_at
    return due.fix_due_at
