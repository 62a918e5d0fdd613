import datetime as dt

from embargo.domain.metrics import ReportFacts, compute
from embargo.domain.policy import REFERENCE

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def facts(
    response_hours: float | None, *, published_days: float | None = None, age: dt.timedelta = dt.timedelta(days=30)
) -> ReportFacts:
    received = T0 - age
    return ReportFacts(
        received_at=received,
        first_response_at=received + response_hours * H if response_hours is not None else None,
        published_at=received + dt.timedelta(days=published_days) if published_days is not None else None,
        open=published_days is None,
        overdue=False,
    )


def test_median_percentile_and_shares_against_the_policy() -> None:
    rows = [facts(h) for h in (1, 2, 3, 4, 5, 6, 7, 8, 20, 60)]
    m = compute(rows, REFERENCE, T0)
    assert m.reports == 10
    assert m.answered == 10
    assert m.response_hours_median == 5.5
    assert m.response_hours_p90 == 24.0
    assert m.within_target_share == 0.8  # 8 of 10 within 12 h
    assert m.within_limit_share == 0.9  # 9 of 10 within 48 h


def test_an_unanswered_report_counts_against_the_promise_only_once_its_time_has_passed() -> None:
    young = facts(None, age=dt.timedelta(hours=5))
    late = facts(None, age=dt.timedelta(hours=50))
    m = compute([facts(1), young, late], REFERENCE, T0)
    assert m.within_target_share == 0.5  # the answered one and the late one are judged; the young one not yet
    assert m.within_limit_share == 0.5


def test_fix_times_come_from_published_reports() -> None:
    m = compute([facts(1, published_days=10), facts(1, published_days=20), facts(1)], REFERENCE, T0)
    assert m.fix_days_median == 15.0
    assert m.open == 1


def test_no_report_gives_no_figures() -> None:
    m = compute([], REFERENCE, T0)
    assert (m.reports, m.response_hours_median, m.within_target_share) == (0, None, None)
