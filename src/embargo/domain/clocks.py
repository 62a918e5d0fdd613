"""A report's clocks: the promises of its project's policy, each with a state at a given moment.

Plain data in, plain data out: the pages, the API and the worker all ask this module.

- response: from the report; due soon at the response target (12 h); overdue at the limit (48 h); stops at
  the team's first message to the reporter.
- fix: from the report; due soon 3 days before the fix target (14 days), overdue at it; stops when the fix is
  released (publication).
- packagers: the derived milestone "notify packagers by" = fix target - lead time; due soon 3 days before;
  stops when the notices are sent.
- confirmation: from entering fix_ready, for reporter_confirmation_days; due soon a day before; stops when the
  reporter answers or the report leaves fix_ready.
- disclosure: the reporter's own deadline, if they set one; due soon 3 days before; stops at publication.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from embargo.domain.policy import Policy
from embargo.domain.workflow import State, is_open

FIX_SOON = dt.timedelta(days=3)
PACKAGERS_SOON = dt.timedelta(days=3)
CONFIRMATION_SOON = dt.timedelta(days=1)
DISCLOSURE_SOON = dt.timedelta(days=3)


class ClockState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    STOPPED = "stopped"


class ClockName(StrEnum):
    RESPONSE = "response"
    FIX = "fix"
    PACKAGERS = "packagers"
    CONFIRMATION = "confirmation"
    DISCLOSURE = "disclosure"


@dataclass(frozen=True)
class ReportTimes:
    """What the clocks need to know of a report."""

    state: State
    received_at: dt.datetime
    first_response_at: dt.datetime | None = None
    fix_ready_at: dt.datetime | None = None
    confirmation_answered_at: dt.datetime | None = None
    notices_sent_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    reporter_deadline: dt.datetime | None = None


@dataclass(frozen=True)
class Clock:
    name: ClockName
    started_at: dt.datetime
    target_at: dt.datetime  # the goal
    due_at: dt.datetime  # when it becomes overdue
    soon_at: dt.datetime  # when it becomes due soon
    stopped_at: dt.datetime | None
    state: ClockState

    @property
    def running(self) -> bool:
        return self.state is not ClockState.STOPPED


def _state(
    moment: dt.datetime, soon_at: dt.datetime, due_at: dt.datetime, stopped_at: dt.datetime | None
) -> ClockState:
    if stopped_at is not None and stopped_at <= moment:
        return ClockState.STOPPED
    if moment >= due_at:
        return ClockState.OVERDUE
    if moment >= soon_at:
        return ClockState.DUE_SOON
    return ClockState.ON_TRACK


def _clock(
    name: ClockName,
    moment: dt.datetime,
    *,
    started_at: dt.datetime,
    target_at: dt.datetime,
    due_at: dt.datetime,
    soon_at: dt.datetime,
    stopped_at: dt.datetime | None,
) -> Clock:
    return Clock(name, started_at, target_at, due_at, soon_at, stopped_at, _state(moment, soon_at, due_at, stopped_at))


def _closed_at(times: ReportTimes) -> dt.datetime | None:
    """A report closed without publication (rejected, duplicate, withdrawn) stops every clock."""
    if not is_open(times.state) and times.state is not State.PUBLISHED:
        return times.closed_at or times.received_at
    return None


def _first(*moments: dt.datetime | None) -> dt.datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def response_clock(times: ReportTimes, policy: Policy, moment: dt.datetime) -> Clock:
    target = times.received_at + dt.timedelta(hours=policy.response_target_hours)
    limit = times.received_at + dt.timedelta(hours=policy.response_limit_hours)
    return _clock(
        ClockName.RESPONSE, moment, started_at=times.received_at, target_at=target, due_at=limit, soon_at=target,
        stopped_at=_first(times.first_response_at, _closed_at(times)),
    )  # fmt: skip


def fix_due_at(received_at: dt.datetime, policy: Policy) -> dt.datetime:
    return received_at + dt.timedelta(days=policy.fix_target_days)


def packagers_due_at(received_at: dt.datetime, policy: Policy) -> dt.datetime:
    """The derived milestone "notify packagers by": the fix target less the packagers' lead time."""
    return fix_due_at(received_at, policy) - dt.timedelta(days=policy.packager_lead_days)


def fix_clock(times: ReportTimes, policy: Policy, moment: dt.datetime) -> Clock:
    due = fix_due_at(times.received_at, policy)
    return _clock(
        ClockName.FIX, moment, started_at=times.received_at, target_at=due, due_at=due, soon_at=due - FIX_SOON,
        stopped_at=_first(times.published_at, _closed_at(times)),
    )  # fmt: skip


def packagers_clock(times: ReportTimes, policy: Policy, moment: dt.datetime) -> Clock:
    due = packagers_due_at(times.received_at, policy)
    return _clock(
        ClockName.PACKAGERS, moment, started_at=times.received_at, target_at=due, due_at=due,
        soon_at=due - PACKAGERS_SOON, stopped_at=_first(times.notices_sent_at, times.published_at, _closed_at(times)),
    )  # fmt: skip


def confirmation_clock(times: ReportTimes, policy: Policy, moment: dt.datetime) -> Clock | None:
    """Runs while the reporter is asked to confirm the fix; None before the report first reached fix_ready."""
    if times.fix_ready_at is None:
        return None
    due = times.fix_ready_at + dt.timedelta(days=policy.reporter_confirmation_days)
    left_fix_ready = None if times.state is State.FIX_READY else (times.notices_sent_at or times.closed_at or moment)
    return _clock(
        ClockName.CONFIRMATION, moment, started_at=times.fix_ready_at, target_at=due, due_at=due,
        soon_at=due - CONFIRMATION_SOON,
        stopped_at=_first(times.confirmation_answered_at, left_fix_ready, times.published_at, _closed_at(times)),
    )  # fmt: skip


def disclosure_clock(times: ReportTimes, moment: dt.datetime) -> Clock | None:
    """The reporter's own disclosure deadline, when they set one."""
    if times.reporter_deadline is None:
        return None
    due = times.reporter_deadline
    return _clock(
        ClockName.DISCLOSURE, moment, started_at=times.received_at, target_at=due, due_at=due,
        soon_at=due - DISCLOSURE_SOON, stopped_at=_first(times.published_at, _closed_at(times)),
    )  # fmt: skip


def clocks(times: ReportTimes, policy: Policy, moment: dt.datetime) -> list[Clock]:
    """Every clock of the report at `moment`, in a fixed order."""
    found = [
        response_clock(times, policy, moment),
        fix_clock(times, policy, moment),
        packagers_clock(times, policy, moment),
        confirmation_clock(times, policy, moment),
        disclosure_clock(times, moment),
    ]
    return [c for c in found if c is not None]


def next_due_at(times: ReportTimes, policy: Policy, moment: dt.datetime) -> dt.datetime | None:
    """The nearest overdue moment among the running clocks, which orders the team's inbox."""
    running = [c.due_at for c in clocks(times, policy, moment) if c.running]
    return min(running) if running else None


def is_overdue(times: ReportTimes, policy: Policy, moment: dt.datetime) -> bool:
    return any(c.state is ClockState.OVERDUE for c in clocks(times, policy, moment))
