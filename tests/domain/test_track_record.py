"""A project's public track record, and the promises one report is owed, with exact figures."""

from __future__ import annotations

import datetime as dt

from embargo.domain.clocks import ReportTimes
from embargo.domain.policy import REFERENCE
from embargo.domain.track_record import Handled, Kept, as_of, promises, track_record
from embargo.domain.workflow import State

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def handled(days_ago: float, answered_after_h: float | None, published_after_d: float | None = None,
            target: int = 12, limit: int = 48) -> Handled:  # fmt: skip
    received = NOW - days_ago * D
    return Handled(
        received_at=received,
        first_response_at=received + answered_after_h * H if answered_after_h is not None else None,
        published_at=received + published_after_d * D if published_after_d is not None else None,
        response_target_hours=target,
        response_limit_hours=limit,
    )


def test_shares_within_target_and_limit_and_the_median_time_to_fix() -> None:
    record = track_record(
        [
            handled(100, 2, published_after_d=10),  # within target
            handled(90, 12, published_after_d=20),  # exactly at the target: kept
            handled(80, 30, published_after_d=14),  # after the target, within the limit
            handled(70, 50),  # after the limit
            handled(60, None),  # never answered, the limit long past
        ],
        now=NOW,
    )
    assert record.received == 5
    assert record.responses_counted == 5
    assert (record.within_target, record.within_limit) == (2, 3)
    assert (record.within_target_percent, record.within_limit_percent) == (40, 60)
    assert record.fixes_counted == 3
    assert record.median_time_to_fix == 14 * D
    assert record.median_days_to_fix == 14.0


def test_an_even_number_of_fixes_takes_the_middle_of_the_two() -> None:
    record = track_record([handled(200, 1, 10), handled(150, 1, 11), handled(100, 1, 20), handled(50, 1, 31)], now=NOW)
    assert record.median_time_to_fix == dt.timedelta(days=15, hours=12)
    assert record.median_days_to_fix == 15.5


def test_a_report_still_inside_its_limit_counts_nowhere_yet() -> None:
    fresh = handled(1, None)  # 24 h old, limit 48 h: neither kept nor broken yet
    overdue = handled(3, None)  # 72 h old, never answered: broken
    record = track_record([handled(10, 1), handled(20, 1), fresh, overdue], now=NOW)
    assert record.received == 4
    assert record.responses_counted == 3
    assert (record.within_target, record.within_limit) == (2, 2)
    assert record.within_target_percent == 67


def test_only_the_last_12_months_count() -> None:
    record = track_record([handled(366, 1, 5), handled(365, 1, 5), handled(364, 100, 5), handled(1, 1)], now=NOW)
    assert record.received == 2  # 364 days ago and yesterday; exactly 365 days ago falls out
    assert record.since == NOW - 365 * D


def test_figures_resting_on_fewer_than_three_reports_are_hidden() -> None:
    record = track_record([handled(10, 1, 5), handled(20, 1, 7)], now=NOW)
    assert record.received == 2
    assert record.responses_counted == 2
    assert record.fixes_counted == 2
    assert record.within_target is None
    assert record.within_limit is None
    assert record.within_target_percent is None
    assert record.median_time_to_fix is None
    assert record.median_days_to_fix is None
    # Three answers but two fixes: the shares show, the median does not.
    record = track_record([handled(10, 1, 5), handled(20, 1, 7), handled(30, 1)], now=NOW)
    assert record.within_target_percent == 100
    assert record.median_time_to_fix is None


def test_each_report_is_judged_by_the_promise_it_was_given() -> None:
    # Answered after 20 h: late for a 12 h target, kept for a 24 h one.
    record = track_record([handled(10, 20), handled(20, 20, target=24), handled(30, 20, target=24)], now=NOW)
    assert record.within_target == 2


def test_no_reports_give_an_empty_record() -> None:
    record = track_record([], now=NOW)
    assert (record.received, record.responses_counted, record.fixes_counted) == (0, 0, 0)
    assert record.within_target_percent is None
    assert record.median_time_to_fix is None


# --- promises to one report ---------------------------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


def kept(times: ReportTimes, at: dt.datetime, **kw: object) -> dict[str, Kept]:
    return {p.name: p.kept for p in promises(times, REFERENCE, at, **kw)}  # type: ignore[arg-type]


def test_an_unanswered_report_is_waiting_then_overdue() -> None:
    times = ReportTimes(state=State.RECEIVED, received_at=T0)
    found = {p.name: p for p in promises(times, REFERENCE, T0 + 2 * H)}
    assert found["response"].kept is Kept.ON_TRACK
    assert found["response"].due_at == T0 + 12 * H
    assert found["response"].limit_at == T0 + 48 * H
    assert found["fix"].kept is Kept.ON_TRACK
    assert found["fix"].due_at == T0 + 14 * D
    assert "packagers" not in found  # no release moment yet
    assert found["credit"].kept is Kept.PRIVATE
    assert kept(times, T0 + 13 * H)["response"] is Kept.DUE_SOON
    assert kept(times, T0 + 48 * H)["response"] is Kept.OVERDUE


def test_an_answer_is_within_the_target_within_the_limit_or_late() -> None:
    for after, expected in ((12 * H, Kept.WITHIN_TARGET), (13 * H, Kept.WITHIN_LIMIT), (49 * H, Kept.LATE)):
        times = ReportTimes(state=State.ACKNOWLEDGED, received_at=T0, first_response_at=T0 + after)
        found = {p.name: p for p in promises(times, REFERENCE, T0 + 3 * D)}
        assert found["response"].kept is expected
        assert found["response"].done_at == T0 + after


def test_the_fix_is_on_track_due_soon_overdue_or_released() -> None:
    times = ReportTimes(state=State.CONFIRMED, received_at=T0, first_response_at=T0 + H)
    assert kept(times, T0 + 10 * D)["fix"] is Kept.ON_TRACK
    assert kept(times, T0 + 11 * D)["fix"] is Kept.DUE_SOON
    assert kept(times, T0 + 14 * D)["fix"] is Kept.OVERDUE
    published = ReportTimes(state=State.PUBLISHED, received_at=T0, first_response_at=T0 + H, published_at=T0 + 9 * D)
    assert kept(published, T0 + 20 * D)["fix"] is Kept.RELEASED
    late = ReportTimes(state=State.PUBLISHED, received_at=T0, first_response_at=T0 + H, published_at=T0 + 15 * D)
    assert kept(late, T0 + 20 * D)["fix"] is Kept.RELEASED_LATE


def test_a_closed_report_owes_nothing_more() -> None:
    times = ReportTimes(state=State.REJECTED, received_at=T0, closed_at=T0 + 3 * H)
    assert kept(times, T0 + 30 * D) == {"response": Kept.CLOSED, "fix": Kept.CLOSED, "credit": Kept.PRIVATE}


def test_packagers_lead_time_once_a_release_moment_is_set() -> None:
    release_at = T0 + 13 * D  # the lead (7 days) asks for the notices by T0 + 6 days
    times = ReportTimes(state=State.SCHEDULED, received_at=T0, first_response_at=T0 + H, fix_ready_at=T0 + 3 * D)
    found = {p.name: p for p in promises(times, REFERENCE, T0 + 4 * D, release_at=release_at)}
    assert found["packagers"].kept is Kept.ON_TRACK
    assert found["packagers"].due_at == T0 + 6 * D
    assert kept(times, T0 + 6 * D, release_at=release_at)["packagers"] is Kept.OVERDUE
    told = ReportTimes(state=State.SCHEDULED, received_at=T0, notices_sent_at=T0 + 5 * D)
    assert kept(told, T0 + 8 * D, release_at=release_at)["packagers"] is Kept.SENT
    short = ReportTimes(state=State.SCHEDULED, received_at=T0, notices_sent_at=T0 + 7 * D)
    assert kept(short, T0 + 8 * D, release_at=release_at)["packagers"] is Kept.SENT_SHORT


def test_credit_follows_consent() -> None:
    times = ReportTimes(state=State.RECEIVED, received_at=T0)
    assert kept(times, T0, credit_consent=True)["credit"] is Kept.NAMED


def test_the_public_record_is_computed_as_of_the_start_of_the_month() -> None:
    assert as_of(dt.datetime(2026, 12, 7, 13, 5, tzinfo=dt.UTC)) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    # In UTC, whatever the zone of the moment given.
    paris = dt.timezone(dt.timedelta(hours=1))
    assert as_of(dt.datetime(2027, 1, 1, 0, 30, tzinfo=paris)) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
