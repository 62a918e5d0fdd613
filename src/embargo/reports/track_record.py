"""From stored reports to the domain's track record (a project's public figures) and to the promises one report
is owed (its reporter's status page). See domain/track_record.py for what is counted."""

from __future__ import annotations

import datetime as dt

from embargo import clock
from embargo.domain import track_record
from embargo.domain.workflow import State
from embargo.projects.models import Project
from embargo.reports import timing
from embargo.reports.models import Report

_HOUR = dt.timedelta(hours=1)


def of_project(project: Project, moment: dt.datetime | None = None) -> track_record.TrackRecord:
    """The project's record over the 12 months before the start of this month (track_record.as_of), in one query.
    Spam and reports held for review are left out, and so are reports their reporter withdrew before any answer
    (nothing was owed to them any more)."""
    moment = track_record.as_of(moment or clock.now())
    rows = (
        Report.objects.filter(project=project, created_at__gt=moment - track_record.WINDOW, created_at__lte=moment)
        .filter(spam_at__isnull=True, held_at__isnull=True)
        .exclude(state=State.WITHDRAWN, first_response_at__isnull=True)
        .values_list("created_at", "first_response_at", "published_at", "response_target_at", "response_due_at")
    )
    handled = [
        # The response promise as the report was given it (the policy of the day), from its stored due moments.
        track_record.Handled(
            received_at=received,
            first_response_at=answered,
            published_at=published,
            response_target_hours=round((target - received) / _HOUR),
            response_limit_hours=round((limit - received) / _HOUR),
        )
        for received, answered, published, target, limit in rows
    ]
    return track_record.track_record(handled, now=moment)


def promises_of(report: Report, moment: dt.datetime | None = None) -> list[track_record.Promise]:
    """The promises of the policy that apply to `report`, and whether they are kept."""
    from embargo.releases.queries import release_of_report

    release = release_of_report(report)
    return track_record.promises(
        timing.report_times(report),
        timing.policy_of(report),
        moment or clock.now(),
        release_at=release.release_at if release is not None and release.embargo_broken_at is None else None,
        credit_consent=report.credit_consent,
    )
