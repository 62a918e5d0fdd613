"""The clocks at their boundaries, with a frozen moment: target - 1 s, target, limit."""

from __future__ import annotations

import datetime as dt

import pytest

from embargo.domain import clocks, reminders
from embargo.domain.clocks import ClockName, ClockState, ReportTimes
from embargo.domain.policy import REFERENCE, Policy
from embargo.domain.workflow import State

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
S = dt.timedelta(seconds=1)


def state(name: ClockName, times: ReportTimes, at: dt.datetime, policy: Policy = REFERENCE) -> ClockState:
    found = {c.name: c for c in clocks.clocks(times, policy, at)}
    return found[name].state


RECEIVED = ReportTimes(state=State.RECEIVED, received_at=T0)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (12 * H - S, ClockState.ON_TRACK),
        (12 * H, ClockState.DUE_SOON),
        (48 * H - S, ClockState.DUE_SOON),
        (48 * H, ClockState.OVERDUE),
    ],
)
def test_the_response_clock_at_its_boundaries(offset: dt.timedelta, expected: ClockState) -> None:
    assert state(ClockName.RESPONSE, RECEIVED, T0 + offset) is expected


def test_the_response_clock_stops_at_the_first_answer() -> None:
    answered = ReportTimes(state=State.ACKNOWLEDGED, received_at=T0, first_response_at=T0 + 50 * H)
    assert state(ClockName.RESPONSE, answered, T0 + 49 * H) is ClockState.OVERDUE  # before the answer
    assert state(ClockName.RESPONSE, answered, T0 + 50 * H) is ClockState.STOPPED


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (11 * D - S, ClockState.ON_TRACK),
        (11 * D, ClockState.DUE_SOON),
        (14 * D - S, ClockState.DUE_SOON),
        (14 * D, ClockState.OVERDUE),
    ],
)
def test_the_fix_clock_runs_two_weeks(offset: dt.timedelta, expected: ClockState) -> None:
    assert state(ClockName.FIX, RECEIVED, T0 + offset) is expected


def test_the_fix_clock_stops_only_at_publication() -> None:
    fixed = ReportTimes(state=State.FIX_READY, received_at=T0, fix_ready_at=T0 + 3 * D, first_response_at=T0 + H)
    assert state(ClockName.FIX, fixed, T0 + 15 * D) is ClockState.OVERDUE
    published = ReportTimes(state=State.PUBLISHED, received_at=T0, published_at=T0 + 10 * D)
    assert state(ClockName.FIX, published, T0 + 15 * D) is ClockState.STOPPED


def test_notify_packagers_by_is_the_fix_target_less_the_lead_time() -> None:
    assert clocks.packagers_due_at(T0, REFERENCE) == T0 + 7 * D
    assert clocks.packagers_due_at(T0, Policy(fix_target_days=30, packager_lead_days=10)) == T0 + 20 * D
    assert state(ClockName.PACKAGERS, RECEIVED, T0 + 7 * D - S) is ClockState.DUE_SOON
    assert state(ClockName.PACKAGERS, RECEIVED, T0 + 7 * D) is ClockState.OVERDUE
    notified = ReportTimes(state=State.SCHEDULED, received_at=T0, notices_sent_at=T0 + 5 * D)
    assert state(ClockName.PACKAGERS, notified, T0 + 8 * D) is ClockState.STOPPED


def test_a_policy_change_moves_every_boundary() -> None:
    quick = Policy(response_target_hours=4, response_limit_hours=8)
    assert state(ClockName.RESPONSE, RECEIVED, T0 + 4 * H, quick) is ClockState.DUE_SOON
    assert state(ClockName.RESPONSE, RECEIVED, T0 + 8 * H, quick) is ClockState.OVERDUE
    assert state(ClockName.RESPONSE, RECEIVED, T0 + 8 * H) is ClockState.ON_TRACK


def test_the_confirmation_clock_runs_only_in_fix_ready() -> None:
    assert clocks.confirmation_clock(RECEIVED, REFERENCE, T0) is None
    asked = ReportTimes(state=State.FIX_READY, received_at=T0, fix_ready_at=T0 + 2 * D)
    assert state(ClockName.CONFIRMATION, asked, T0 + 8 * D) is ClockState.DUE_SOON
    assert state(ClockName.CONFIRMATION, asked, T0 + 9 * D) is ClockState.OVERDUE
    answered = ReportTimes(
        state=State.FIX_READY, received_at=T0, fix_ready_at=T0 + 2 * D, confirmation_answered_at=T0 + 3 * D
    )
    assert state(ClockName.CONFIRMATION, answered, T0 + 9 * D) is ClockState.STOPPED


def test_the_reporters_own_deadline_is_a_clock_when_set() -> None:
    assert ClockName.DISCLOSURE not in {c.name for c in clocks.clocks(RECEIVED, REFERENCE, T0)}
    deadline = ReportTimes(state=State.CONFIRMED, received_at=T0, reporter_deadline=T0 + 30 * D)
    assert state(ClockName.DISCLOSURE, deadline, T0 + 27 * D) is ClockState.DUE_SOON
    assert state(ClockName.DISCLOSURE, deadline, T0 + 30 * D) is ClockState.OVERDUE


def test_a_closed_report_stops_every_clock() -> None:
    rejected = ReportTimes(state=State.REJECTED, received_at=T0, closed_at=T0 + H)
    assert all(c.state is ClockState.STOPPED for c in clocks.clocks(rejected, REFERENCE, T0 + 30 * D))
    assert clocks.next_due_at(rejected, REFERENCE, T0 + 30 * D) is None


def test_the_inbox_orders_by_the_nearest_running_clock() -> None:
    assert clocks.next_due_at(RECEIVED, REFERENCE, T0) == T0 + 48 * H
    answered = ReportTimes(state=State.ACKNOWLEDGED, received_at=T0, first_response_at=T0 + H)
    assert clocks.next_due_at(answered, REFERENCE, T0 + H) == T0 + 7 * D  # notify packagers by


def _due_kinds(times: ReportTimes, at: dt.datetime, already: set[str] | None = None) -> list[str]:
    return [r.kind for r in reminders.due(times, REFERENCE, at, already=already or set()).send]


def test_reminders_of_the_response_clock_come_at_target_six_hours_before_and_at_the_limit() -> None:
    assert _due_kinds(RECEIVED, T0 + 11 * H + 50 * 60 * S) == []
    assert _due_kinds(RECEIVED, T0 + 13 * H) == ["response:remind"]
    assert _due_kinds(RECEIVED, T0 + 43 * H, {"response:remind"}) == ["response:escalate"]
    assert _due_kinds(RECEIVED, T0 + 49 * H, {"response:remind", "response:escalate"}) == ["response:overdue"]
    overdue = next(r for r in reminders.planned(RECEIVED, REFERENCE) if r.kind == "response:overdue")
    assert set(overdue.audiences) == {reminders.Audience.OWNERS, reminders.Audience.REPORTER}


def test_no_reminder_for_a_stopped_clock() -> None:
    answered = ReportTimes(state=State.ACKNOWLEDGED, received_at=T0, first_response_at=T0 + H)
    assert not any(k.startswith("response") for k in _due_kinds(answered, T0 + 49 * H))


def test_a_late_worker_sends_only_the_latest_reminder_of_a_clock() -> None:
    plan = reminders.due(RECEIVED, REFERENCE, T0 + 49 * H, already=set())
    assert [r.kind for r in plan.send] == ["response:overdue"]
    assert [r.kind for r in plan.pass_over] == ["response:remind", "response:escalate"]


def test_fix_and_packager_reminders_three_days_one_day_and_at() -> None:
    answered = ReportTimes(state=State.CONFIRMED, received_at=T0, first_response_at=T0 + H)
    at = {r.kind: r.at for r in reminders.planned(answered, REFERENCE)}
    assert at["fix:remind"] == T0 + 11 * D
    assert at["fix:escalate"] == T0 + 13 * D
    assert at["fix:overdue"] == T0 + 14 * D
    assert at["packagers:remind"] == T0 + 4 * D
    assert at["packagers:escalate"] == T0 + 6 * D
    assert at["packagers:overdue"] == T0 + 7 * D


def test_a_question_unanswered_for_a_week_is_asked_again_once() -> None:
    waiting = ReportTimes(state=State.NEEDS_INFO, received_at=T0, first_response_at=T0 + H)
    since = T0 + H
    plan = reminders.due(waiting, REFERENCE, since + 7 * D - S, already=set(), needs_info_since=since)
    assert not [r for r in plan.send if r.clock == "needs_info"]
    plan = reminders.due(waiting, REFERENCE, since + 7 * D, already=set(), needs_info_since=since)
    kinds = [r.kind for r in plan.send if r.clock == "needs_info"]
    assert len(kinds) == 1
    again = reminders.due(waiting, REFERENCE, since + 8 * D, already=set(kinds), needs_info_since=since)
    assert not [r for r in again.send if r.clock == "needs_info"]


def test_the_next_reminder_moment_is_the_earliest_unsent() -> None:
    plan = reminders.due(RECEIVED, REFERENCE, T0, already=set())
    assert plan.next_at == T0 + 12 * H
    plan = reminders.due(RECEIVED, REFERENCE, T0 + 13 * H, already={"response:remind"})
    assert plan.next_at == T0 + 42 * H
