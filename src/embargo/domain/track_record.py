"""A project's public record of keeping its policy, and the promises of the policy that one report is owed.

The record covers the reports received over the last 12 months (spam left out by the caller) and says, with
counts only, never a report's details:

- how many were answered within the response target, and within the limit, out of those whose answer is known:
  answered, or still unanswered when the limit passed (one still inside its limit counts nowhere yet);
- the median time from report to released fix (publication), over the reports published so far.

A figure resting on fewer than MINIMUM_REPORTS reports is not shown (None): with one or two reports it would
tell the timing of a particular report rather than the project's habit.

The public record is computed as of the start of the current month (`as_of`), not of the moment: a record that moved
with every report would tell anyone watching the page that a new, still embargoed report had just arrived (the count
goes up) or had just passed its limit unanswered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from embargo.domain.clocks import ClockState, ReportTimes, fix_clock, response_clock
from embargo.domain.policy import Policy

WINDOW = dt.timedelta(days=365)
MINIMUM_REPORTS = 3


@dataclass(frozen=True)
class Handled:
    """One report as the record sees it: when it came, was first answered and was published, and the response
    promise its project made it (the policy's numbers at the time it came)."""

    received_at: dt.datetime
    first_response_at: dt.datetime | None
    published_at: dt.datetime | None
    response_target_hours: int
    response_limit_hours: int


def as_of(now: dt.datetime) -> dt.datetime:
    """The moment the public record is computed at: the first instant of `now`'s month (UTC)."""
    return now.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class TrackRecord:
    since: dt.datetime
    until: dt.datetime  # the moment it was computed at (reports received in (since, until])
    received: int  # reports received in the window
    responses_counted: int  # those whose answer is known (answered, or past the limit)
    within_target: int | None  # None: fewer than MINIMUM_REPORTS responses counted
    within_limit: int | None
    fixes_counted: int  # those published
    median_time_to_fix: dt.timedelta | None  # None: fewer than MINIMUM_REPORTS published

    @property
    def within_target_percent(self) -> int | None:
        return _percent(self.within_target, self.responses_counted)

    @property
    def within_limit_percent(self) -> int | None:
        return _percent(self.within_limit, self.responses_counted)

    @property
    def median_days_to_fix(self) -> float | None:
        if self.median_time_to_fix is None:
            return None
        return round(self.median_time_to_fix / dt.timedelta(days=1), 1)


def _percent(part: int | None, whole: int) -> int | None:
    if part is None or whole == 0:
        return None
    return round(100 * part / whole)


def _median(values: list[dt.timedelta]) -> dt.timedelta:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def track_record(
    reports: Iterable[Handled], *, now: dt.datetime, minimum: int = MINIMUM_REPORTS, window: dt.timedelta = WINDOW
) -> TrackRecord:
    """The record over the reports received in (now - window, now]."""
    since = now - window
    recent = [r for r in reports if since < r.received_at <= now]
    counted = target_kept = limit_kept = 0
    for r in recent:
        target = r.received_at + dt.timedelta(hours=r.response_target_hours)
        limit = r.received_at + dt.timedelta(hours=r.response_limit_hours)
        answered = r.first_response_at if r.first_response_at is not None and r.first_response_at <= now else None
        if answered is None and now < limit:
            continue  # still inside its limit: neither kept nor broken yet
        counted += 1
        target_kept += answered is not None and answered <= target
        limit_kept += answered is not None and answered <= limit
    fixes = [r.published_at - r.received_at for r in recent if r.published_at is not None and r.published_at <= now]
    enough_responses = counted >= minimum
    return TrackRecord(
        since=since,
        until=now,
        received=len(recent),
        responses_counted=counted,
        within_target=target_kept if enough_responses else None,
        within_limit=limit_kept if enough_responses else None,
        fixes_counted=len(fixes),
        median_time_to_fix=_median(fixes) if len(fixes) >= minimum else None,
    )


# --- the promises one report is owed ------------------------------------------------------------------------------


class Kept(StrEnum):
    WITHIN_TARGET = "within_target"  # answered within the usual time
    WITHIN_LIMIT = "within_limit"  # answered after the usual time, within the limit
    LATE = "late"  # done, but after the limit
    ON_TRACK = "on_track"  # not due yet
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"  # not done, and past due
    RELEASED = "released"  # the fix is public, in time
    RELEASED_LATE = "released_late"
    CLOSED = "closed"  # the report was closed without it (rejected, duplicate, withdrawn)
    SENT = "sent"  # packagers were told, with the promised lead time
    SENT_SHORT = "sent_short"  # packagers were told, with less lead time than promised
    NAMED = "named"  # credit: named in public, by consent
    PRIVATE = "private"  # credit: kept private


@dataclass(frozen=True)
class Promise:
    name: str  # response, fix, packagers, credit
    kept: Kept
    due_at: dt.datetime | None = None  # the promised moment (for the response: the target)
    limit_at: dt.datetime | None = None  # the response's outside limit
    done_at: dt.datetime | None = None  # when it was done (answered, released, packagers told)


def _running(state: ClockState) -> Kept:
    return {ClockState.ON_TRACK: Kept.ON_TRACK, ClockState.DUE_SOON: Kept.DUE_SOON}.get(state, Kept.OVERDUE)


def promises(
    times: ReportTimes,
    policy: Policy,
    moment: dt.datetime,
    *,
    release_at: dt.datetime | None = None,
    credit_consent: bool = False,
) -> list[Promise]:
    """What the policy promises this report, and whether it is kept at `moment`: the answer, the released fix,
    the packagers' lead time (once a release moment is set) and the reporter's credit."""
    found: list[Promise] = []
    response = response_clock(times, policy, moment)
    if times.first_response_at is not None and times.first_response_at <= moment:
        answered = times.first_response_at
        kept = (
            Kept.WITHIN_TARGET
            if answered <= response.target_at
            else (Kept.WITHIN_LIMIT if answered <= response.due_at else Kept.LATE)
        )
        found.append(Promise("response", kept, response.target_at, response.due_at, answered))
    elif response.state is ClockState.STOPPED:
        found.append(Promise("response", Kept.CLOSED, response.target_at, response.due_at))
    else:
        found.append(Promise("response", _running(response.state), response.target_at, response.due_at))
    fix = fix_clock(times, policy, moment)
    if times.published_at is not None and times.published_at <= moment:
        kept = Kept.RELEASED if times.published_at <= fix.due_at else Kept.RELEASED_LATE
        found.append(Promise("fix", kept, fix.due_at, done_at=times.published_at))
    elif fix.state is ClockState.STOPPED:
        found.append(Promise("fix", Kept.CLOSED, fix.due_at))
    else:
        found.append(Promise("fix", _running(fix.state), fix.due_at))
    if release_at is not None:
        lead = dt.timedelta(days=policy.packager_lead_days)
        due = release_at - lead
        sent = times.notices_sent_at
        if sent is not None and sent <= moment:
            found.append(Promise("packagers", Kept.SENT if sent <= due else Kept.SENT_SHORT, due, done_at=sent))
        elif times.published_at is None:
            found.append(Promise("packagers", Kept.OVERDUE if moment >= due else Kept.ON_TRACK, due))
    found.append(Promise("credit", Kept.NAMED if credit_consent else Kept.PRIVATE))
    return found
