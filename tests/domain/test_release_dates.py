"""The release-date rules, read as the policy: weekdays only, never on a holiday of the calendar, packagers told at
least a week ahead; judged in the release's own time zone. The clock is a plain datetime."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from embargo.domain.policy import Policy
from embargo.domain.releases import (
    ReleaseDateRefused,
    check_release_moment,
    confirmation_pending,
    next_allowed_dates,
    notify_by,
    preannouncement_text,
)

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
POLICY = Policy()  # weekdays, 7 days' lead time, no holiday calendar
US = dataclasses.replace(POLICY, holiday_calendar="US")


def refused(moment: dt.datetime, policy: Policy = POLICY, **kw: bool) -> ReleaseDateRefused:
    with pytest.raises(ReleaseDateRefused) as caught:
        check_release_moment(moment, policy, now=NOW, **kw)
    return caught.value


def at(day: str, time: str = "10:00", zone: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=zone)


def test_a_release_on_a_weekday_well_ahead_is_allowed() -> None:
    check_release_moment(at("2026-11-17"), POLICY, now=NOW)  # a Tuesday


def test_a_release_on_a_saturday_is_refused_and_the_next_weekdays_are_named() -> None:
    error = refused(at("2026-11-14"))
    assert error.code == "release_not_weekday"
    assert error.suggestions == [dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18)]
    assert "Saturday" in error.message
    assert "2026-11-16" in error.message


def test_a_release_on_a_sunday_is_refused() -> None:
    error = refused(at("2026-11-15"))
    assert error.code == "release_not_weekday"
    assert error.suggestions[0] == dt.date(2026, 11, 16)


def test_a_release_on_a_holiday_of_the_calendar_is_refused_with_the_holidays_name() -> None:
    error = refused(at("2026-12-25"), US)  # a Friday
    assert error.code == "release_on_holiday"
    assert "Christmas Day" in error.message
    assert error.suggestions == [dt.date(2026, 12, 28), dt.date(2026, 12, 29), dt.date(2026, 12, 30)]


def test_without_a_holiday_calendar_a_holiday_is_an_ordinary_weekday() -> None:
    check_release_moment(at("2026-12-25"), POLICY, now=NOW)


def test_packagers_told_exactly_seven_days_ahead_is_enough() -> None:
    check_release_moment(NOW + dt.timedelta(days=7), POLICY, now=NOW)


def test_a_release_a_minute_short_of_seven_days_is_refused_with_the_earliest_date_that_allows_it() -> None:
    error = refused(NOW + dt.timedelta(days=7) - dt.timedelta(minutes=1))  # Monday 2026-11-09 08:59 UTC
    assert error.code == "lead_time_too_short"
    # 08:59 on Monday the 9th is a minute too soon; on Tuesday the 10th it is a day and a minute late enough.
    assert error.suggestions[0] == dt.date(2026, 11, 10)
    assert "2026-11-10" in error.message


def test_the_earliest_date_for_the_lead_time_skips_weekends_and_holidays() -> None:
    friday_now = dt.datetime(2026, 12, 18, 12, 0, tzinfo=UTC)
    with pytest.raises(ReleaseDateRefused) as caught:
        check_release_moment(at("2026-12-22", "09:00"), US, now=friday_now)
    assert caught.value.code == "lead_time_too_short"
    # Seven days from Friday noon is Friday the 25th at noon: Christmas, then a weekend; 09:00 on the 28th is fine.
    assert caught.value.suggestions[0] == dt.date(2026, 12, 28)


def test_suggested_dates_for_a_weekend_also_respect_the_lead_time() -> None:
    error = refused(at("2026-11-07"))  # the Saturday of this week
    assert error.code == "release_not_weekday"
    assert error.suggestions[0] == dt.date(2026, 11, 9)  # 10:00 on Monday the 9th is 7 days and an hour ahead


def test_a_release_in_the_past_is_refused() -> None:
    error = refused(NOW - dt.timedelta(hours=1))
    assert error.code == "release_in_past"


def test_the_weekday_is_judged_in_the_releases_own_zone_monday_in_berlin_is_sunday_in_utc() -> None:
    moment = at("2026-11-16", "00:30", BERLIN)  # UTC+1 in winter
    assert moment.astimezone(UTC).weekday() == 6  # Sunday in UTC
    check_release_moment(moment, POLICY, now=NOW)


def test_the_weekday_is_judged_in_the_releases_own_zone_friday_night_in_los_angeles_is_saturday_in_utc() -> None:
    moment = at("2026-11-20", "23:00", LOS_ANGELES)
    assert moment.astimezone(UTC).weekday() == 5  # Saturday in UTC
    check_release_moment(moment, POLICY, now=NOW)


def test_saturday_in_berlin_is_refused_though_it_is_still_friday_in_utc() -> None:
    moment = at("2026-11-21", "00:30", BERLIN)
    assert moment.astimezone(UTC).weekday() == 4
    assert refused(moment).code == "release_not_weekday"


def test_the_next_allowed_dates_skip_weekends_and_holidays() -> None:
    assert next_allowed_dates(dt.date(2026, 12, 23), US) == [
        dt.date(2026, 12, 24), dt.date(2026, 12, 28), dt.date(2026, 12, 29),
    ]  # fmt: skip
    assert next_allowed_dates(dt.date(2026, 12, 31), US, n=2) == [dt.date(2027, 1, 4), dt.date(2027, 1, 5)]


def test_a_policy_releasing_tuesday_to_thursday_refuses_a_monday() -> None:
    midweek = dataclasses.replace(POLICY, release_weekdays=(1, 2, 3))
    error = refused(at("2026-11-16"), midweek)
    assert error.code == "release_not_weekday"
    assert "Tuesday, Wednesday, Thursday" in error.message
    assert error.suggestions == [dt.date(2026, 11, 17), dt.date(2026, 11, 18), dt.date(2026, 11, 19)]
    check_release_moment(at("2026-11-19"), midweek, now=NOW)


def test_a_broken_embargo_waives_the_weekday_and_lead_time_rules() -> None:
    check_release_moment(at("2026-11-07"), POLICY, now=NOW, embargo_broken=True)  # Saturday, 5 days ahead
    check_release_moment(NOW + dt.timedelta(hours=1), POLICY, now=NOW, waive_lead_time=True)
    assert refused(NOW - dt.timedelta(minutes=1), embargo_broken=True).code == "release_in_past"


def test_notify_by_is_the_release_less_the_lead_time() -> None:
    assert notify_by(at("2026-11-17"), POLICY) == at("2026-11-10")


def test_the_confirmation_gate_waits_for_the_reporter_until_the_wait_runs_out() -> None:
    fix_ready = NOW - dt.timedelta(days=3)
    assert confirmation_pending(fix_ready, None, POLICY, NOW)
    assert not confirmation_pending(fix_ready, NOW - dt.timedelta(days=1), POLICY, NOW)
    assert confirmation_pending(fix_ready, None, POLICY, fix_ready + dt.timedelta(days=7, seconds=-1))
    assert not confirmation_pending(fix_ready, None, POLICY, fix_ready + dt.timedelta(days=7))


def test_the_preannouncement_names_versions_moment_and_severities_and_nothing_else() -> None:
    text = preannouncement_text(
        "Requests", ["2.32.4", "2.31.1"], at("2026-11-17", "15:00", BERLIN), ["moderate", "high"]
    )
    assert "2.32.4, 2.31.1" in text
    assert "Tuesday 2026-11-17 at 14:00 UTC" in text
    assert "2 issues: 1 high, 1 moderate." in text
    one = preannouncement_text("Requests", ["2.32.4"], at("2026-11-17"), ["critical"])
    assert "1 issue: 1 critical." in one
