"""Which reminders, escalations and "we are late" notices a report's clocks call for, and when.

    response     at the target: remind the maintainers · 6 h before the limit: escalate to the owners ·
                 at the limit: the report is overdue, the owners are told, the reporter hears the truth
    fix          3 days before: remind · 1 day before: escalate · at the target: overdue, owners, reporter
    packagers    3 days before "notify packagers by": remind · 1 day before: escalate · at it: owners
    needs_info   7 days without the reporter's answer: one reminder to the reporter

A reminder is due only while its clock runs. When several of one clock are due at once (a worker that was
down), only the latest is sent; the earlier ones are passed over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from embargo.domain.clocks import (
    Clock,
    ClockName,
    ReportTimes,
    confirmation_clock,
    fix_clock,
    packagers_clock,
    response_clock,
)
from embargo.domain.policy import Policy
from embargo.domain.workflow import State

RESPONSE_ESCALATION_BEFORE = dt.timedelta(hours=6)
REMIND_BEFORE = dt.timedelta(days=3)
ESCALATE_BEFORE = dt.timedelta(days=1)
QUESTION_REMINDER_AFTER = dt.timedelta(days=7)


class Audience(StrEnum):
    MAINTAINERS = "maintainers"  # the whole team
    OWNERS = "owners"
    REPORTER = "reporter"


class Step(StrEnum):
    REMIND = "remind"
    ESCALATE = "escalate"
    OVERDUE = "overdue"
    ASK_AGAIN = "ask_again"


@dataclass(frozen=True)
class Reminder:
    kind: str  # unique per report: "response:remind", "needs_info:ask_again:2026-12-01T09:00:00+00:00"
    clock: str
    step: Step
    at: dt.datetime
    audiences: tuple[Audience, ...]
    clock_due_at: dt.datetime


def _chain(clock: Clock, steps: list[tuple[Step, dt.datetime, tuple[Audience, ...]]]) -> list[Reminder]:
    return [
        Reminder(f"{clock.name}:{step}", str(clock.name), step, at, audiences, clock.due_at)
        for step, at, audiences in steps
    ]


def planned(times: ReportTimes, policy: Policy, *, needs_info_since: dt.datetime | None = None) -> list[Reminder]:
    """Every reminder the report's clocks call for, whatever the moment (the caller filters what is due)."""
    moment = times.received_at  # only the schedule is needed here, not the states
    response = response_clock(times, policy, moment)
    fix = fix_clock(times, policy, moment)
    packagers = packagers_clock(times, policy, moment)
    team, owners, everyone_late = (Audience.MAINTAINERS,), (Audience.OWNERS,), (Audience.OWNERS, Audience.REPORTER)
    result = _chain(
        response,
        [
            (Step.REMIND, response.target_at, team),
            (Step.ESCALATE, response.due_at - RESPONSE_ESCALATION_BEFORE, owners),
            (Step.OVERDUE, response.due_at, everyone_late),
        ],
    )
    result += _chain(
        fix,
        [
            (Step.REMIND, fix.due_at - REMIND_BEFORE, team),
            (Step.ESCALATE, fix.due_at - ESCALATE_BEFORE, owners),
            (Step.OVERDUE, fix.due_at, everyone_late),
        ],
    )
    result += _chain(
        packagers,
        [
            (Step.REMIND, packagers.due_at - REMIND_BEFORE, team),
            (Step.ESCALATE, packagers.due_at - ESCALATE_BEFORE, owners),
            (Step.OVERDUE, packagers.due_at, owners),
        ],
    )
    confirmation = confirmation_clock(times, policy, moment)
    if confirmation is not None and times.fix_ready_at is not None:
        # Keyed by the moment the fix was put to the reporter: each new fix gets its own.
        result.append(
            Reminder(
                f"confirmation:{Step.OVERDUE}:{times.fix_ready_at.isoformat()}", "confirmation", Step.OVERDUE,
                confirmation.due_at, team, confirmation.due_at,
            )
        )  # fmt: skip
    if times.state is State.NEEDS_INFO and needs_info_since is not None:
        at = needs_info_since + QUESTION_REMINDER_AFTER
        result.append(
            Reminder(
                f"needs_info:{Step.ASK_AGAIN}:{needs_info_since.isoformat()}",
                "needs_info",
                Step.ASK_AGAIN,
                at,
                (Audience.REPORTER,),
                at,
            )
        )
    return sorted(result, key=lambda r: (r.at, r.kind))


def _running(reminder: Reminder, times: ReportTimes, policy: Policy, moment: dt.datetime) -> bool:
    if reminder.clock == "needs_info":
        return times.state is State.NEEDS_INFO
    if reminder.clock == "confirmation":
        running = confirmation_clock(times, policy, moment)
        return running is not None and running.running
    clock = {
        ClockName.RESPONSE: response_clock,
        ClockName.FIX: fix_clock,
        ClockName.PACKAGERS: packagers_clock,
    }[ClockName(reminder.clock)](times, policy, moment)
    return clock.running


@dataclass(frozen=True)
class Plan:
    send: list[Reminder]
    pass_over: list[Reminder]
    next_at: dt.datetime | None  # when the next reminder falls due, for the worker's index


def due(
    times: ReportTimes,
    policy: Policy,
    moment: dt.datetime,
    *,
    already: set[str],
    needs_info_since: dt.datetime | None = None,
) -> Plan:
    """What to send at `moment`, given the kinds already sent (or passed over)."""
    send: list[Reminder] = []
    pass_over: list[Reminder] = []
    later: list[dt.datetime] = []
    candidates = [r for r in planned(times, policy, needs_info_since=needs_info_since) if r.kind not in already]
    for reminder in candidates:
        if not _running(reminder, times, policy, moment):
            continue
        if reminder.at <= moment:
            send.append(reminder)
        else:
            later.append(reminder.at)
    # Of one clock's reminders due together, the latest says it all.
    latest: dict[str, Reminder] = {}
    for reminder in send:
        latest[reminder.clock] = reminder
    keep = [r for r in send if latest[r.clock] is r]
    pass_over = [r for r in send if latest[r.clock] is not r]
    return Plan(send=keep, pass_over=pass_over, next_at=min(later) if later else None)
