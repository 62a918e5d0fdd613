import datetime as dt

from embargo.domain.policy import REFERENCE, DueTimes, Policy, due_times, next_due_at
from embargo.domain.workflow import State

RECEIVED = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def test_the_reference_policy_promises_12_hours_48_hours_and_two_weeks() -> None:
    due = due_times(RECEIVED, REFERENCE)
    assert due.response_target_at == RECEIVED + dt.timedelta(hours=12)
    assert due.response_due_at == RECEIVED + dt.timedelta(hours=48)
    assert due.fix_due_at == RECEIVED + dt.timedelta(days=14)
    assert REFERENCE.packager_lead_days == 7
    assert REFERENCE.release_weekdays == (0, 1, 2, 3, 4)


def test_a_project_policy_moves_the_due_times() -> None:
    due = due_times(RECEIVED, Policy(response_target_hours=4, response_limit_hours=24, fix_target_days=30))
    assert due == DueTimes(
        RECEIVED + dt.timedelta(hours=4), RECEIVED + dt.timedelta(hours=24), RECEIVED + dt.timedelta(days=30)
    )


def test_the_inbox_orders_by_the_response_limit_until_answered_then_by_the_fix() -> None:
    due = due_times(RECEIVED, REFERENCE)
    assert next_due_at(State.RECEIVED, due, responded=False) == due.response_due_at
    assert next_due_at(State.ACKNOWLEDGED, due, responded=True) == due.fix_due_at
    assert next_due_at(State.REJECTED, due, responded=True) is None
