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

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def problems(policy: Policy, *, known_timezones: set[str], known_calendars: set[str]) -> list[tuple[str, str]]:
    """What is wrong with a policy, as (field, message) pairs; empty when it can be kept."""
    found: list[tuple[str, str]] = []
    for name in ("response_target_hours", "response_limit_hours", "fix_target_days", "packager_lead_days",
                 "reporter_confirmation_days"):  # fmt: skip
        if getattr(policy, name) <= 0:
            found.append((name, "must be a positive whole number"))
    if policy.response_target_hours > policy.response_limit_hours:
        found.append(("response_target_hours", "the usual answer time cannot be later than the limit"))
    if policy.packager_lead_days >= policy.fix_target_days:
        found.append(
            ("packager_lead_days", "packagers must be told before the fix target, so the lead time is shorter")
        )
    if not policy.release_weekdays:
        found.append(("release_weekdays", "name at least one weekday for releases"))
    elif any(d not in range(7) for d in policy.release_weekdays):
        found.append(("release_weekdays", f"weekdays are {', '.join(WEEKDAY_NAMES)}"))
    if policy.timezone not in known_timezones:
        found.append(("timezone", f"unknown time zone {policy.timezone!r} (e.g. Europe/Paris, UTC)"))
    if policy.holiday_calendar and policy.holiday_calendar not in known_calendars:
        found.append(
            ("holiday_calendar", f"no holiday calendar for {policy.holiday_calendar!r} (a country code, e.g. US)")
        )
    return found


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
