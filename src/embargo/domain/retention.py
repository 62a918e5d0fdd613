"""Retention of reports that never became vulnerabilities: when spam and rejected reports lose their text.

A purge keeps the report's row (its ID, project, dates and state) and its audit chain, and drops everything the
reporter or the team wrote: the text, the messages, the files, the translations. Which reports, and when, is
decided here; reports/retention.py carries it out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MAX_DAYS = 3650


@dataclass(frozen=True)
class Rule:
    """Days after which a report is purged; None keeps it."""

    spam_days: int | None = 30
    rejected_days: int | None = 365


def check_days(value: object, field: str) -> int | None:
    """A number of days for a rule (1 to 3650), or None: keep. Raises ValueError with a message naming `field`."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise ValueError(f"`{field}`: a whole number of days from 1 to {MAX_DAYS}, or empty to keep the reports.")
    return value


def purge_at(
    rule: Rule, *, rejected: bool, closed_at: dt.datetime | None, spam_at: dt.datetime | None
) -> dt.datetime | None:
    """The moment the report is purged: the earlier of its spam and rejection deadlines, or None."""
    moments = []
    if spam_at is not None and rule.spam_days is not None:
        moments.append(spam_at + dt.timedelta(days=rule.spam_days))
    if rejected and closed_at is not None and rule.rejected_days is not None:
        moments.append(closed_at + dt.timedelta(days=rule.rejected_days))
    return min(moments) if moments else None


def reason(rule: Rule, *, spam: bool) -> str:
    """Which rule purged the report, for its audit event."""
    return "spam" if spam and rule.spam_days is not None else "rejected"


PURGED_TITLE = "(purged)"
