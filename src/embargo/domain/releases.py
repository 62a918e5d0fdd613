"""The rules of a security release's date, and the gates before the embargo notices go out.

Plain data in, plain data out. A release falls on one of the policy's release weekdays and not on a holiday of
its calendar, both judged in the release's own time zone (a release at Monday 01:00 in Berlin is on a Monday,
whatever day it is in UTC); packagers are told at least `packager_lead_days` before the release moment. Once an
embargo is broken, the weekday, holiday and lead-time rules are waived so that publication can happen at once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo

from embargo.domain.policy import Policy

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# How far ahead a suggestion is looked for: a policy always has a release weekday, but a calendar could hold
# long runs of holidays.
SEARCH_DAYS = 400
# The order a pre-announcement counts severities in (CVSS ratings and the advisory databases' words).
SEVERITY_ORDER = ("critical", "high", "moderate", "medium", "low", "none", "unrated")


class ReleaseDateRefused(Exception):
    """The release moment breaks a rule. `code` is the API's, `suggestions` the allowed dates to offer instead."""

    def __init__(self, code: str, message: str, suggestions: Sequence[dt.date] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.suggestions = list(suggestions)


@functools.lru_cache(maxsize=64)
def _calendar(code: str, year: int) -> dict[dt.date, str]:
    import holidays

    return dict(holidays.country_holidays(code, years=year).items())


def holiday_name(day: dt.date, policy: Policy) -> str | None:
    """The holiday of the policy's calendar on `day`, or None (always None without a calendar)."""
    if not policy.holiday_calendar:
        return None
    return _calendar(policy.holiday_calendar, day.year).get(day)


def is_release_day(day: dt.date, policy: Policy) -> bool:
    return day.weekday() in policy.release_weekdays and holiday_name(day, policy) is None


def _allowed_from(first: dt.date, policy: Policy) -> Iterator[dt.date]:
    for offset in range(SEARCH_DAYS):
        day = first + dt.timedelta(days=offset)
        if is_release_day(day, policy):
            yield day


def next_allowed_dates(after: dt.date, policy: Policy, n: int = 3) -> list[dt.date]:
    """The first `n` release days strictly after `after`."""
    found = _allowed_from(after + dt.timedelta(days=1), policy)
    return [day for _, day in zip(range(n), found, strict=False)]


def notify_by(release_at: dt.datetime, policy: Policy) -> dt.datetime:
    """The latest moment the embargo notices may go out for a release at `release_at`."""
    return release_at - dt.timedelta(days=policy.packager_lead_days)


def _suggestions(
    release_at_local: dt.datetime, policy: Policy, *, earliest: dt.datetime, after: dt.date | None, n: int = 3
) -> list[dt.date]:
    """Release days (strictly after `after`, if given) on which the same local time is no sooner than `earliest`."""
    zone = release_at_local.tzinfo
    first = earliest.astimezone(zone).date()
    if after is not None:
        first = max(first, after + dt.timedelta(days=1))
    found = []
    for day in _allowed_from(first, policy):
        if dt.datetime.combine(day, release_at_local.timetz()) >= earliest:
            found.append(day)
            if len(found) == n:
                break
    return found


def _dates(days: Sequence[dt.date]) -> str:
    return ", ".join(d.isoformat() for d in days) if days else "none within a year"


def check_release_moment(
    release_at_local: dt.datetime, policy: Policy, *, now: dt.datetime, waive_lead_time: bool = False,
    embargo_broken: bool = False,
) -> None:  # fmt: skip
    """Raises `ReleaseDateRefused` unless a release may happen at `release_at_local` (aware, in the release's own
    zone), as judged at `now`. `waive_lead_time` skips only the packagers' lead time; `embargo_broken` also skips
    the weekday and holiday rules. A moment in the past is refused either way."""
    if release_at_local.tzinfo is None:
        raise ValueError("the release moment must be timezone-aware")
    day = release_at_local.date()
    if release_at_local < now:
        earliest = now if (waive_lead_time or embargo_broken) else now + dt.timedelta(days=policy.packager_lead_days)
        days = _suggestions(release_at_local, policy, earliest=earliest, after=None)
        raise ReleaseDateRefused(
            "release_in_past",
            f"The release moment {release_at_local:%Y-%m-%d %H:%M} ({_zone_name(release_at_local)}) has passed. "
            f"Allowed dates: {_dates(days)}.",
            days,
        )
    if embargo_broken:
        return
    lead = dt.timedelta(days=policy.packager_lead_days)
    earliest = now if waive_lead_time else now + lead
    if day.weekday() not in policy.release_weekdays:
        allowed = ", ".join(DAY_NAMES[d] for d in sorted(policy.release_weekdays))
        days = _suggestions(release_at_local, policy, earliest=earliest, after=day)
        raise ReleaseDateRefused(
            "release_not_weekday",
            f"{day.isoformat()} is a {DAY_NAMES[day.weekday()]}; releases fall on {allowed} "
            f"(in {_zone_name(release_at_local)}). The next allowed dates: {_dates(days)}.",
            days,
        )
    holiday = holiday_name(day, policy)
    if holiday is not None:
        days = _suggestions(release_at_local, policy, earliest=earliest, after=day)
        raise ReleaseDateRefused(
            "release_on_holiday",
            f"{day.isoformat()} is {holiday}, a holiday of the {policy.holiday_calendar} calendar. "
            f"The next allowed dates: {_dates(days)}.",
            days,
        )
    if not waive_lead_time and release_at_local - now < lead:
        days = _suggestions(release_at_local, policy, earliest=earliest, after=None)
        raise ReleaseDateRefused(
            "lead_time_too_short",
            f"Packagers must be told at least {policy.packager_lead_days} days before the release; "
            f"the earliest date that allows it at {release_at_local:%H:%M} is {_dates(days[:1])}.",
            days,
        )


def _zone_name(moment: dt.datetime) -> str:
    zone = moment.tzinfo
    return zone.key if isinstance(zone, ZoneInfo) else str(zone)


def confirmation_due_at(fix_ready_at: dt.datetime, policy: Policy) -> dt.datetime:
    return fix_ready_at + dt.timedelta(days=policy.reporter_confirmation_days)


def confirmation_pending(
    fix_ready_at: dt.datetime | None, confirmation_answered_at: dt.datetime | None, policy: Policy, now: dt.datetime
) -> bool:
    """Whether the notices must still wait for the reporter: they have not answered, and the policy's wait for
    their confirmation has not run out."""
    if confirmation_answered_at is not None:
        return False
    if fix_ready_at is None:
        return True
    return now < confirmation_due_at(fix_ready_at, policy)


def _count(severities: Sequence[str]) -> str:
    counts = Counter(s.strip().lower() or "unrated" for s in severities)
    rank = {name: i for i, name in enumerate(SEVERITY_ORDER)}
    ordered = sorted(counts, key=lambda s: (rank.get(s, len(rank)), s))
    return ", ".join(f"{counts[s]} {s}" for s in ordered)


def preannouncement_text(
    project_name: str, versions: Sequence[str], release_at_utc: dt.datetime, severities: Sequence[str]
) -> str:
    """The draft of the public pre-announcement: the versions, the moment in UTC, and how many issues of which
    severity. Nothing else: the details stay private until the release."""
    moment = release_at_utc.astimezone(dt.UTC)
    names = ", ".join(versions) if versions else "(versions to be announced)"
    several = "s" if len(versions) != 1 else ""
    issues = f"{len(severities)} issue{'s' if len(severities) != 1 else ''}"
    return (
        f"The {project_name} project will publish security release{several} {names} "
        f"on {DAY_NAMES[moment.weekday()]} {moment:%Y-%m-%d} at {moment:%H:%M} UTC.\n\n"
        f"{issues}{': ' + _count(severities) if severities else ''}.\n\n"
        "Details will be published with the release."
    )
