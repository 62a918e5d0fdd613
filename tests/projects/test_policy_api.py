"""A project's policy as data: read by the team, changed by owners, validated, and applied to open reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from embargo import clock
from embargo.audit.models import Event
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db
POLICY = "/api/v1/projects/requests/policy"
REFERENCE = {
    "response_target_hours": 12,
    "response_limit_hours": 48,
    "fix_target_days": 14,
    "packager_lead_days": 7,
    "release_weekdays": ["mon", "tue", "wed", "thu", "fri"],
    "holiday_calendar": "",
    "cve_required": True,
    "cve_after_fix": True,
    "reporter_confirmation_days": 7,
    "timezone": "UTC",
}


def test_a_new_project_keeps_the_reference_policy(team: dict[str, Api]) -> None:
    assert team["maintainer"].get(POLICY).json == REFERENCE


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"response_target_hours": 0}, "response_target_hours"),
        ({"fix_target_days": -1}, "fix_target_days"),
        ({"response_target_hours": 50}, "response_target_hours"),
        ({"packager_lead_days": 14}, "packager_lead_days"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"holiday_calendar": "XX"}, "holiday_calendar"),
        ({"release_weekdays": []}, "release_weekdays"),
        ({"release_weekdays": ["someday"]}, "release_weekdays.0"),
        ({"response_limit_hours": "48"}, "response_limit_hours"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_policy_is_422_naming_the_field_and_changes_nothing(
    team: dict[str, Api], change: dict[str, Any], field: str
) -> None:
    response = team["owner"].call("PUT", POLICY, {**REFERENCE, **change})
    assert response.status == 422, response.text
    assert response.json["error"]["field"] == field
    assert team["owner"].get(POLICY).json == REFERENCE


def test_a_policy_change_recomputes_open_reports_and_is_recorded(team: dict[str, Api]) -> None:
    moment = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    clock.freeze(moment)
    open_report = submit(team["reporter"])["id"]
    closed = submit(team["reporter"])["id"]
    team["reporter"].post(f"/api/v1/reports/{closed}/transitions", {"to": "withdrawn"})
    stricter = {**REFERENCE, "response_target_hours": 4, "response_limit_hours": 24, "fix_target_days": 10,
                "holiday_calendar": "DE", "timezone": "Europe/Berlin", "release_weekdays": ["tue", "thu"]}  # fmt: skip
    response = team["owner"].call("PUT", POLICY, stricter)
    assert response.status == 200, response.text
    assert response.json == stricter
    report = team["owner"].get(f"/api/v1/reports/{open_report}").json
    assert report["response_target_at"] == "2026-12-01T13:00:00Z"
    assert report["response_due_at"] == "2026-12-02T09:00:00Z"
    assert report["fix_due_at"] == "2026-12-11T09:00:00Z"
    assert report["next_due_at"] == "2026-12-02T09:00:00Z"
    untouched = team["owner"].get(f"/api/v1/reports/{closed}").json
    assert untouched["response_due_at"] == "2026-12-03T09:00:00Z"
    event = Event.objects.filter(tag="project:policy_changed").get()
    assert event.data["changes"]["response_limit_hours"] == {"old": 48, "new": 24}
    assert event.data["reports_recomputed"] == 1


def test_the_report_shows_its_clocks(team: dict[str, Api]) -> None:
    moment = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    clock.freeze(moment)
    rid = submit(team["reporter"], reporter_deadline="2027-01-15")["id"]
    clock.freeze(moment + dt.timedelta(hours=13))
    report = team["maintainer"].get(f"/api/v1/reports/{rid}").json
    states = {c["name"]: c["state"] for c in report["clocks"]}
    assert states == {"response": "due_soon", "fix": "on_track", "packagers": "on_track", "disclosure": "on_track"}
    assert report["reporter_deadline"] == "2027-01-15"
    # The reporter does not see the team's packager milestone.
    mine = team["reporter"].get(f"/api/v1/reports/{rid}").json
    assert {c["name"] for c in mine["clocks"]} == {"response", "fix", "disclosure"}
    clock.freeze(moment + dt.timedelta(hours=49))
    overdue = team["maintainer"].get("/api/v1/projects/requests/reports?overdue=true").json["items"]
    assert [r["id"] for r in overdue] == [rid]
    assert overdue[0]["overdue"] is True


def test_time_waiting_for_the_reporter_is_counted_apart(team: dict[str, Api]) -> None:
    moment = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    clock.freeze(moment)
    rid = submit(team["reporter"])["id"]
    team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "needs_info", "comment": "Which version?"})
    clock.freeze(moment + dt.timedelta(hours=30))
    team["reporter"].post(f"/api/v1/reports/{rid}/messages", {"body": "2.31.0"})
    clock.freeze(moment + dt.timedelta(hours=40))
    assert team["maintainer"].get(f"/api/v1/reports/{rid}").json["needs_info_seconds"] == 30 * 3600
