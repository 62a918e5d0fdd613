"""Security releases through the API with a frozen clock: the date rules, the gates before the embargo notices, the
notices themselves, what a change after them re-sends, "still vulnerable", and a broken embargo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from embargo import clock
from embargo.audit.models import Event
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Packager, Policy, Project, ProjectKey
from embargo.releases.models import PackagerNotice, SecurityRelease
from embargo.reports.models import Report
from tests.helpers import Api, submit
from tests.releases.planning import NOW, RELEASES, packagers, ready

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> None:
    clock.freeze(NOW)


def create(team: dict[str, Api], reports: list[str], **body: Any) -> dict[str, Any]:
    response = team["maintainer"].post(RELEASES, {"reports": reports, "versions": ["2.32.4", "2.31.1"], **body})
    assert response.status == 201, response.text
    return response.json


def error(response: Any) -> tuple[int, str]:
    return response.status, response.json["error"]["code"]


def mails(template: str) -> list[str]:
    return sorted(OutboxMessage.objects.filter(template=template).values_list("to_email", flat=True))


def notify(team: dict[str, Api], release_id: str, body: Any = None, role: str = "maintainer") -> Any:
    return team[role].post(f"{RELEASES}/{release_id}/notify-packagers", body or {})


# --- planning --------------------------------------------------------------------------------------------------------


def test_the_team_plans_a_release_of_two_fixed_reports(team: dict[str, Api]) -> None:
    first, second = ready(team, 1), ready(team, 2)
    release = create(team, [first, second], date="2026-12-08", time="15:00", timezone="Europe/Berlin")
    assert [r["id"] for r in release["reports"]] == [first, second]
    assert release["versions"] == ["2.32.4", "2.31.1"]
    assert release["release_at"] == "2026-12-08T14:00:00Z"
    assert release["release_local"] == "2026-12-08T15:00:00+01:00"
    assert release["timezone"] == "Europe/Berlin"
    assert release["notify_by"] == "2026-12-01T14:00:00Z"
    assert release["state"] == "planned"
    assert all(r["cve_id"] and r["confirmed"] and r["state"] == "fix_ready" for r in release["reports"])
    listed = team["owner"].get(RELEASES).json
    assert [r["id"] for r in listed["items"]] == [release["id"]]
    assert Event.objects.filter(tag="release:created").count() == 1


def test_the_date_may_come_later_and_the_projects_zone_is_the_default(team: dict[str, Api]) -> None:
    release = create(team, [ready(team, 1)])
    assert (release["release_at"], release["timezone"]) == (None, "UTC")
    moved = team["maintainer"].patch(f"{RELEASES}/{release['id']}", {"date": "2026-12-09", "time": "10:00"})
    assert moved.json["release_at"] == "2026-12-09T10:00:00Z"


def test_a_release_takes_only_the_projects_fixed_reports_each_in_one_release(team: dict[str, Api]) -> None:
    fixed = ready(team, 1)
    open_report = submit(team["reporter"])["id"]
    refused = team["maintainer"].post(RELEASES, {"reports": [fixed, open_report]})
    assert error(refused) == (409, "report_not_fix_ready")
    assert refused.json["error"]["field"] == "reports.1"
    assert open_report in refused.json["error"]["message"]
    create(team, [fixed])
    again = team["maintainer"].post(RELEASES, {"reports": [fixed]})
    assert error(again) == (409, "report_in_release")
    assert SecurityRelease.objects.count() == 1


def test_versions_are_pep_440(team: dict[str, Api]) -> None:
    bad = team["maintainer"].post(RELEASES, {"reports": [ready(team, 1)], "versions": ["2.32.4", "two point one"]})
    assert error(bad) == (422, "validation_error")
    assert bad.json["error"]["field"] == "versions.1"


def test_only_the_team_sees_and_plans_releases(team: dict[str, Api]) -> None:
    rid = ready(team, 1)
    for role in ("reporter", "collaborator", "outsider", "stranger"):
        assert team[role].post(RELEASES, {"reports": [rid]}).status == 404
        assert team[role].get(RELEASES).status == 404
    assert Api().get(RELEASES).status == 401


# --- the date rules --------------------------------------------------------------------------------------------------


def test_a_release_on_a_saturday_is_refused_with_the_next_weekdays(team: dict[str, Api]) -> None:
    refused = team["maintainer"].post(RELEASES, {"reports": [ready(team, 1)], "date": "2026-12-12", "time": "10:00"})
    assert error(refused) == (422, "release_not_weekday")
    assert refused.json["error"]["field"] == "date"
    assert refused.json["error"]["suggestions"] == ["2026-12-14", "2026-12-15", "2026-12-16"]
    assert SecurityRelease.objects.count() == 0


def test_packagers_notified_six_days_and_23_hours_59_ahead_blocks_the_date(team: dict[str, Api]) -> None:
    release = create(team, [ready(team, 1)])
    url = f"{RELEASES}/{release['id']}"
    too_soon = team["maintainer"].patch(url, {"date": "2026-12-07", "time": "08:59"})
    assert error(too_soon) == (422, "lead_time_too_short")
    assert too_soon.json["error"]["suggestions"][0] == "2026-12-08"
    assert "2026-12-08" in too_soon.json["error"]["message"]
    exactly = team["maintainer"].patch(url, {"date": "2026-12-07", "time": "09:00"})
    assert exactly.status == 200, exactly.text
    assert exactly.json["release_at"] == "2026-12-07T09:00:00Z"


def test_a_holiday_of_the_policys_calendar_is_refused(team: dict[str, Api]) -> None:
    Policy.objects.filter(project__slug="requests").update(holiday_calendar="US")
    refused = team["maintainer"].post(RELEASES, {"reports": [ready(team, 1)], "date": "2026-12-25", "time": "10:00"})
    assert error(refused) == (422, "release_on_holiday")
    assert "Christmas Day" in refused.json["error"]["message"]
    assert refused.json["error"]["suggestions"][0] == "2026-12-28"


def test_an_unknown_time_zone_is_refused(team: dict[str, Api]) -> None:
    refused = team["maintainer"].post(
        RELEASES, {"reports": [ready(team, 1)], "date": "2026-12-08", "time": "10:00", "timezone": "Mars/Olympus"}
    )
    assert (refused.status, refused.json["error"]["field"]) == (422, "timezone")


def test_a_moment_that_cannot_be_planned_is_refused_as_input(team: dict[str, Api]) -> None:
    release = create(team, [ready(team, 1)])
    url = f"{RELEASES}/{release['id']}"
    ancient = team["maintainer"].patch(url, {"date": "0001-01-01", "time": "00:00", "timezone": "Pacific/Kiritimati"})
    assert (ancient.status, ancient.json["error"]["field"]) == (422, "date")
    # 02:30 on the night the clocks go forward does not exist in Berlin.
    gap = team["maintainer"].patch(url, {"date": "2027-03-28", "time": "02:30", "timezone": "Europe/Berlin"})
    assert (gap.status, gap.json["error"]["field"]) == (422, "time")
    zone_only = team["maintainer"].patch(url, {"timezone": "Asia/Tokyo"})
    assert (zone_only.status, zone_only.json["timezone"], zone_only.json["release_at"]) == (200, "Asia/Tokyo", None)


# --- the gates before the notices ------------------------------------------------------------------------------------


def planned(team: dict[str, Api], reports: list[str], date: str = "2026-12-08") -> str:
    return create(team, reports, date=date, time="15:00", timezone="Europe/Berlin")["id"]


def test_the_notices_need_a_release_moment(team: dict[str, Api]) -> None:
    release = create(team, [ready(team, 1)])
    assert error(notify(team, release["id"])) == (409, "release_moment_missing")


def test_the_notices_wait_for_the_reporters_confirmation(team: dict[str, Api]) -> None:
    confirmed, waiting = ready(team, 1), ready(team, 2, confirm=False)
    release = planned(team, [confirmed, waiting])
    refused = notify(team, release)
    assert error(refused) == (409, "confirmation_pending")
    assert waiting in refused.json["error"]["message"]
    assert confirmed not in refused.json["error"]["message"]
    assert not PackagerNotice.objects.exists()
    assert team["reporter"].post(f"/api/v1/reports/{waiting}/fix-confirmation", {"fixed": True}).status == 200
    assert notify(team, release).status == 200


def test_the_notices_go_out_once_the_confirmation_wait_has_run_out(team: dict[str, Api]) -> None:
    release = planned(team, [ready(team, 1, confirm=False)], date="2026-12-16")
    clock.freeze(NOW + dt.timedelta(days=7) - dt.timedelta(minutes=1))
    assert error(notify(team, release)) == (409, "confirmation_pending")
    clock.freeze(NOW + dt.timedelta(days=7))
    sent = notify(team, release)
    assert sent.status == 200, sent.text
    assert sent.json["confirmation_overridden"] is False


def test_a_maintainer_may_override_the_wait_with_a_written_reason(team: dict[str, Api]) -> None:
    release = planned(team, [ready(team, 1, confirm=False)])
    blank = notify(team, release, {"override_confirmation": "   "})
    assert (blank.status, blank.json["error"]["field"]) == (422, "override_confirmation")
    reason = "The reporter is travelling (Okapi-1212); our CI proves the fix."
    sent = notify(team, release, {"override_confirmation": reason})
    assert sent.status == 200, sent.text
    assert sent.json["confirmation_overridden"] is True
    assert SecurityRelease.objects.get(public_id=release).confirmation_override == reason
    event = Event.objects.get(tag="release:notices_sent")
    assert event.data["confirmation_overridden"] is True
    assert reason not in str(event.data)


def test_the_policy_may_require_a_cve_id_and_every_report_needs_its_advisory(team: dict[str, Api]) -> None:
    release = planned(team, [ready(team, 1), ready(team, 2, cve=False)])
    assert error(notify(team, release)) == (409, "cve_required")
    Policy.objects.filter(project__slug="requests").update(cve_required=False)
    assert notify(team, release).status == 200
    without_advisory = planned(team, [ready(team, 3, cve=False, advisory=False)])
    refused = notify(team, without_advisory)
    assert error(refused) == (409, "advisory_missing")


def test_the_notices_check_the_date_rules_again(team: dict[str, Api]) -> None:
    release = planned(team, [ready(team, 1)])
    clock.freeze(NOW + dt.timedelta(days=2))
    refused = notify(team, release)
    assert error(refused) == (422, "lead_time_too_short")
    # Seven days from Wednesday 09:00 UTC: 15:00 in Berlin on Wednesday the 9th is the earliest.
    assert refused.json["error"]["suggestions"][0] == "2026-12-09"


# --- the notices -----------------------------------------------------------------------------------------------------


def test_the_notices_go_to_every_packager_on_the_list_and_schedule_the_reports(team: dict[str, Api]) -> None:
    _, _, gone = packagers()
    first, second = ready(team, 1), ready(team, 2)
    release = planned(team, [first, second])
    OutboxMessage.objects.all().delete()
    sent = notify(team, release)
    assert sent.status == 200, sent.text
    assert sent.json["state"] == "scheduled"
    assert sent.json["notices_sent_at"] == "2026-11-30T09:00:00Z"
    notices = PackagerNotice.objects.order_by("packager__organisation")
    assert [(n.packager.organisation, n.round, n.reason, n.encrypted) for n in notices] == [
        ("Distro A", 1, "first", True), ("Distro B", 1, "first", False),
    ]  # fmt: skip
    assert all(n.report_ids == [first, second] for n in notices)
    assert mails("packager_notice") == ["oncall@a.example.org", "sec@a.example.org", "sec@b.example.org"]
    assert {r.state for r in Report.objects.filter(public_id__in=[first, second])} == {"scheduled"}
    assert mails("release_scheduled") == ["reporter@example.org", "reporter@example.org"]
    told = OutboxMessage.objects.filter(template="release_scheduled").first()
    assert told is not None
    assert told.context["release_utc"] == "2026-12-08 14:00 UTC"
    assert told.context["release_local"] == "2026-12-08 15:00 Europe/Berlin"
    assert "Narwhal" not in str(told.context)
    table = {p["organisation"]: p for p in sent.json["packagers"]}
    assert set(table) == {"Distro A", "Distro B"}
    assert table["Distro A"]["sent_at"] == "2026-11-30T09:00:00Z"
    assert table["Distro A"]["acknowledged_at"] is None
    assert error(notify(team, release)) == (409, "notices_already_sent")
    assert gone.notices.count() == 0


def test_a_project_without_packagers_still_takes_the_step(team: dict[str, Api]) -> None:
    rid = ready(team, 1)
    release = planned(team, [rid])
    sent = notify(team, release)
    assert sent.status == 200
    assert mails("packager_notice") == []
    assert Report.objects.get(public_id=rid).state == "scheduled"
    assert Event.objects.get(tag="release:notices_sent").data["packagers"] == 0


def test_a_moved_date_after_the_notices_sends_round_two_to_every_packager_and_tells_the_reporters(
    team: dict[str, Api],
) -> None:
    packagers()
    release = planned(team, [ready(team, 1), ready(team, 2)])
    assert notify(team, release).status == 200
    OutboxMessage.objects.all().delete()
    clock.freeze(NOW + dt.timedelta(days=1))
    url = f"{RELEASES}/{release}"
    too_soon = team["maintainer"].patch(url, {"date": "2026-12-07"})
    assert error(too_soon) == (422, "lead_time_too_short")  # counted from now, not from the first notices
    moved = team["maintainer"].patch(url, {"date": "2026-12-09"})
    assert moved.status == 200, moved.text
    assert moved.json["release_local"] == "2026-12-09T15:00:00+01:00"
    rounds = sorted(PackagerNotice.objects.filter(round=2).values_list("packager__organisation", "reason"))
    assert rounds == [("Distro A", "moved"), ("Distro B", "moved")]
    assert mails("packager_notice") == ["oncall@a.example.org", "sec@a.example.org", "sec@b.example.org"]
    assert mails("release_scheduled") == ["reporter@example.org", "reporter@example.org"]
    assert all(m.context["moved"] for m in OutboxMessage.objects.filter(template="release_scheduled"))
    assert {p["round"] for p in moved.json["packagers"]} == {2}


def test_a_report_added_after_the_notices_passes_the_gates_and_sends_a_new_round(team: dict[str, Api]) -> None:
    packagers()
    first = ready(team, 1)
    release = planned(team, [first])
    assert notify(team, release).status == 200
    waiting, later = ready(team, 2, confirm=False), ready(team, 3)
    url = f"{RELEASES}/{release}"
    assert error(team["maintainer"].patch(url, {"add_reports": [waiting]})) == (409, "confirmation_pending")
    added = team["maintainer"].patch(url, {"add_reports": [later]})
    assert added.status == 200, added.text
    assert Report.objects.get(public_id=later).state == "scheduled"
    second_round = PackagerNotice.objects.filter(round=2)
    assert {(n.reason, tuple(n.report_ids)) for n in second_round} == {("report_added", (first, later))}
    assert second_round.count() == 2


def test_a_report_removed_after_the_notices_returns_to_fix_ready_and_the_packagers_are_told(
    team: dict[str, Api],
) -> None:
    packagers()
    first, second = ready(team, 1), ready(team, 2)
    release = planned(team, [first, second])
    assert notify(team, release).status == 200
    answered = Report.objects.get(public_id=second).confirmation_answered_at
    removed = team["maintainer"].patch(f"{RELEASES}/{release}", {"remove_reports": [second]})
    assert removed.status == 200, removed.text
    assert [r["id"] for r in removed.json["reports"]] == [first]
    report = Report.objects.get(public_id=second)
    assert (report.state, report.confirmation_answered_at, report.notices_sent_at) == ("fix_ready", answered, None)
    assert {(n.reason, tuple(n.report_ids)) for n in PackagerNotice.objects.filter(round=2)} == {
        ("report_removed", (first,))
    }


def test_still_vulnerable_on_a_scheduled_report_takes_it_out_of_its_release(team: dict[str, Api]) -> None:
    packagers()
    first, second = ready(team, 1), ready(team, 2)
    release = planned(team, [first, second])
    assert notify(team, release).status == 200
    answer = {"fixed": False, "comment": "Still leaks with a 308."}
    disputed = team["reporter"].post(f"/api/v1/reports/{second}/fix-confirmation", answer)
    assert disputed.status == 200, disputed.text
    assert disputed.json["state"] == "confirmed"
    shown = team["maintainer"].get(f"{RELEASES}/{release}").json
    assert [r["id"] for r in shown["reports"]] == [first]
    assert team["reporter"].get(f"/api/v1/reports/{second}/release").status == 404
    round_two = PackagerNotice.objects.filter(round=2)
    assert {(n.reason, tuple(n.report_ids)) for n in round_two} == {("report_removed", (first,))}
    assert round_two.count() == 2
    assert Event.objects.filter(tag="release:report_removed", data__reason="still_vulnerable").count() == 1


def test_the_team_moving_a_scheduled_report_back_to_confirmed_takes_it_out_too(team: dict[str, Api]) -> None:
    first, second = ready(team, 1), ready(team, 2)
    release = planned(team, [first, second])
    assert notify(team, release).status == 200
    back = team["maintainer"].post(f"/api/v1/reports/{first}/transitions", {"to": "confirmed", "comment": "No."})
    assert back.status == 200, back.text
    assert [r["id"] for r in team["maintainer"].get(f"{RELEASES}/{release}").json["reports"]] == [second]


# --- a broken embargo ------------------------------------------------------------------------------------------------


def test_a_broken_embargo_is_recorded_told_and_waives_the_lead_time(team: dict[str, Api]) -> None:
    packagers()
    rid = ready(team, 1)
    release = planned(team, [rid])
    url = f"{RELEASES}/{release}"
    assert error(team["maintainer"].patch(url, {"date": "2026-12-02"})) == (422, "lead_time_too_short")
    assert team["maintainer"].post(f"{url}/embargo-broken", {"reason": "  "}).status == 422
    OutboxMessage.objects.all().delete()
    reason = "Posted on a public tracker (Tapir-7070)."
    broken = team["maintainer"].post(f"{url}/embargo-broken", {"reason": reason})
    assert broken.status == 200, broken.text
    assert broken.json["embargo_broken"]["reason"] == reason
    assert mails("embargo_broken") == ["owner@example.org", "reporter@example.org"]
    assert not any(reason in str(m.context) for m in OutboxMessage.objects.all())
    soon = team["maintainer"].patch(url, {"date": "2026-12-01", "time": "10:00"})
    assert soon.status == 200, soon.text
    sent = notify(team, release)
    assert sent.status == 200, sent.text
    assert error(team["maintainer"].post(f"{url}/embargo-broken", {"reason": reason})) == (
        409,
        "embargo_already_broken",
    )


def test_a_broken_embargo_after_the_notices_tells_the_packagers(team: dict[str, Api]) -> None:
    packagers()
    release = planned(team, [ready(team, 1)])
    assert notify(team, release).status == 200
    broken = team["owner"].post(f"{RELEASES}/{release}/embargo-broken", {"reason": "It leaked."})
    assert broken.status == 200
    assert sorted(PackagerNotice.objects.filter(round=2).values_list("reason", flat=True)) == ["embargo_broken"] * 2


# --- through one report ----------------------------------------------------------------------------------------------


def test_the_per_report_shortcut_plans_a_release_of_the_report_alone(team: dict[str, Api]) -> None:
    rid = ready(team, 1)
    url = f"/api/v1/reports/{rid}/release"
    assert team["maintainer"].get(url).status == 404  # no release yet
    assert team["reporter"].call("PUT", url, {"date": "2026-12-08", "time": "10:00"}).status == 404
    saturday = team["maintainer"].call("PUT", url, {"date": "2026-12-12", "time": "10:00"})
    assert error(saturday) == (422, "release_not_weekday")
    put = team["maintainer"].call("PUT", url, {"date": "2026-12-08", "time": "10:00", "timezone": "America/New_York"})
    assert put.status == 200, put.text
    assert (put.json["date"], put.json["time"], put.json["timezone"]) == ("2026-12-08", "10:00", "America/New_York")
    assert put.json["release"]["reports"][0]["id"] == rid
    moved = team["owner"].call("PUT", url, {"date": "2026-12-09", "time": "11:00"})
    assert (moved.json["date"], moved.json["timezone"]) == ("2026-12-09", "America/New_York")
    assert SecurityRelease.objects.count() == 1
    unnamed = team["maintainer"].post(f"{url}/notify-packagers", {})
    assert error(unnamed) == (409, "versions_missing")
    release_id = moved.json["release"]["id"]
    assert team["maintainer"].patch(f"{RELEASES}/{release_id}", {"versions": ["2.32.4"]}).status == 200
    sent = team["maintainer"].post(f"{url}/notify-packagers", {})
    assert sent.status == 200, sent.text
    assert sent.json["state"] == "scheduled"


def test_the_reporter_sees_the_date_of_their_report_and_nothing_more(team: dict[str, Api]) -> None:
    rid = ready(team, 1)
    team["owner"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"})
    planned(team, [rid])
    seen = team["reporter"].get(f"/api/v1/reports/{rid}/release")
    assert seen.status == 200, seen.text
    assert seen.json == {
        "date": "2026-12-08", "time": "15:00", "timezone": "Europe/Berlin", "release_at": "2026-12-08T14:00:00Z",
        "versions": ["2.32.4", "2.31.1"], "state": "planned", "embargo_broken_at": None, "release": None,
    }  # fmt: skip
    # Collaborators (an upstream author, say) see the report, not the release plan: like other team-only facts.
    assert team["collaborator"].get(f"/api/v1/reports/{rid}/release").status == 404


def test_the_per_report_shortcuts_need_a_release(team: dict[str, Api]) -> None:
    rid = ready(team, 1)
    assert error(team["maintainer"].post(f"/api/v1/reports/{rid}/release/notify-packagers", {})) == (
        409, "release_moment_missing",
    )  # fmt: skip
    broken = team["maintainer"].post(f"/api/v1/reports/{rid}/release/embargo-broken", {"reason": "Leaked."})
    assert broken.status == 200, broken.text
    assert broken.json["embargo_broken_at"] == "2026-11-30T09:00:00Z"
    assert broken.json["release"]["reports"][0]["id"] == rid


# --- the pre-announcement --------------------------------------------------------------------------------------------


def test_the_pre_announcement_is_drafted_edited_approved_sent_and_shown_in_public(team: dict[str, Api]) -> None:
    Project.objects.filter(slug="requests").update(preannounce_lists=["announce@lists.example.org"])
    release = planned(team, [ready(team, 1), ready(team, 2)])
    url = f"{RELEASES}/{release}/preannouncement"
    draft = team["maintainer"].get(url).json
    assert "2.32.4, 2.31.1" in draft["text"]
    assert "2026-12-08 at 14:00 UTC" in draft["text"]
    assert "2 issues: 2 high." in draft["text"]
    assert "Narwhal" not in draft["text"]
    assert draft["edited"] is False
    text = draft["text"] + "\n\nQuestions: security@requests.example.org"
    assert team["maintainer"].call("PUT", url, {"text": text}).json["edited"] is True
    assert Client().get("/projects/requests/").content.decode().count("Upcoming security releases") == 0
    approved = team["owner"].post(f"{url}/approve")
    assert approved.status == 200, approved.text
    assert approved.json["approved_at"] == "2026-11-30T09:00:00Z"
    sent = OutboxMessage.objects.get(template="preannouncement")
    assert (sent.to_email, sent.context["text"]) == ("announce@lists.example.org", text)
    page = Client().get("/projects/requests/").content.decode()
    assert "Upcoming security releases" in page
    assert "security@requests.example.org" in page
    assert error(team["maintainer"].call("PUT", url, {"text": "Other."})) == (409, "preannouncement_approved")


def test_the_reporters_and_teams_e_mails_carry_the_date_and_no_report_text(team: dict[str, Api]) -> None:
    from embargo.notifications.delivery import render

    rid = ready(team, 1)
    release = planned(team, [rid])
    assert notify(team, release).status == 200
    assert team["maintainer"].post(f"{RELEASES}/{release}/embargo-broken", {"reason": "Leaked (Tapir-7070)."}).status
    bodies = {}
    for row in OutboxMessage.objects.filter(template__in=["release_scheduled", "embargo_broken"]):
        message = render(row)
        bodies[(row.template, row.to_email)] = f"{message.subject}\n{message.body}"
    told = bodies[("release_scheduled", "reporter@example.org")]
    assert "2026-12-08 14:00 UTC" in told
    assert "2026-12-08 15:00 Europe/Berlin" in told
    assert "2.32.4, 2.31.1" in told
    assert rid in told
    assert "broken" in bodies[("embargo_broken", "reporter@example.org")]
    assert "broken" in bodies[("embargo_broken", "owner@example.org")]
    for body in bodies.values():
        for secret in ("Zebra-7741", "Quokka-3389", "Narwhal-5150", "Tapir-7070"):
            assert secret not in body


def test_no_notice_goes_out_unsigned(team: dict[str, Api]) -> None:
    """A project with packagers but no OpenPGP key cannot send its notices; one without packagers can."""
    rid = ready(team, 1)
    packagers()
    ProjectKey.objects.all().delete()
    release = create(team, [rid], date="2026-12-08", time="15:00")
    assert error(notify(team, release["id"], {})) == (409, "signing_key_missing")
    assert Report.objects.get(public_id=rid).state == "fix_ready"
    assert not PackagerNotice.objects.exists()
    Packager.objects.update(removed_at=NOW)
    assert notify(team, release["id"], {}).status == 200
    assert Report.objects.get(public_id=rid).state == "scheduled"


def test_changed_versions_after_the_notices_send_a_new_round(team: dict[str, Api]) -> None:
    packagers()
    release = planned(team, [ready(team, 1)])
    assert notify(team, release).status == 200
    changed = team["maintainer"].patch(f"{RELEASES}/{release}", {"versions": ["2.32.5", "2.31.2"]})
    assert changed.status == 200, changed.text
    rounds = sorted(PackagerNotice.objects.filter(round=2).values_list("packager__organisation", "reason"))
    assert rounds == [("Distro A", "versions_changed"), ("Distro B", "versions_changed")]


def test_a_packager_whose_key_expired_blocks_the_notices_until_it_is_updated(team: dict[str, Api]) -> None:
    distro_a = packagers()[0]
    Packager.objects.filter(pk=distro_a.pk).update(key_expires_at=NOW - dt.timedelta(days=1))
    release = planned(team, [ready(team, 1)])
    refused = notify(team, release)
    assert error(refused) == (409, "packager_key_expired")
    assert "Distro A" in refused.json["error"]["message"]
    assert not PackagerNotice.objects.exists()
    Packager.objects.filter(pk=distro_a.pk).update(public_key="", key_expires_at=None)  # now signed in clear
    assert notify(team, release).status == 200


def test_a_broken_embargo_is_recorded_on_a_report_not_fixed_yet(team: dict[str, Api]) -> None:
    """Leaks happen before fixes: the fact is recorded on a report in `confirmed` too."""
    rid = submit(team["reporter"])["id"]
    confirmed = team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "confirmed", "comment": "Yes."})
    assert confirmed.status == 200
    broken = team["maintainer"].post(f"/api/v1/reports/{rid}/release/embargo-broken", {"reason": "On a forum."})
    assert broken.status == 200, broken.text
    assert broken.json["embargo_broken_at"] == "2026-11-30T09:00:00Z"
    assert Report.objects.get(public_id=rid).state == "confirmed"


def test_the_release_keeps_showing_a_packager_removed_after_its_notice(team: dict[str, Api]) -> None:
    distro_a = packagers()[0]
    release = planned(team, [ready(team, 1)])
    assert notify(team, release).status == 200
    Packager.objects.filter(pk=distro_a.pk).update(removed_at=NOW)
    shown = team["maintainer"].get(f"{RELEASES}/{release}").json["packagers"]
    assert {(p["organisation"], p["removed"]) for p in shown} == {("Distro A", True), ("Distro B", False)}
