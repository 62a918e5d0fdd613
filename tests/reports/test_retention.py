"""Retention: spam and rejected reports are purged when the project's rule says, by the worker's pass (or `embargo
retention run`), leaving a stub whose audit chain still verifies."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from embargo import clock
from embargo.accounts.models import User
from embargo.audit.chain import verify
from embargo.audit.models import Event
from embargo.cli import main
from embargo.domain import retention
from embargo.languages.models import Translation
from embargo.notifications.worker import run_pass
from embargo.reports.models import Attachment, Message, Report
from embargo.vault import files
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db

SECRET = "retention-marker-7f3a"
DAY = dt.timedelta(days=1)


# --- the rule, on its own ------------------------------------------------------------------------------------


def test_the_rule_takes_the_earlier_deadline_and_keeps_what_has_none() -> None:
    closed = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    rule = retention.Rule(spam_days=30, rejected_days=365)
    assert retention.purge_at(rule, rejected=True, closed_at=closed, spam_at=None) == closed + 365 * DAY
    assert retention.purge_at(rule, rejected=True, closed_at=closed, spam_at=closed + DAY) == closed + 31 * DAY
    assert retention.purge_at(rule, rejected=False, closed_at=closed, spam_at=None) is None  # e.g. published
    keep = retention.Rule(spam_days=None, rejected_days=None)
    assert retention.purge_at(keep, rejected=True, closed_at=closed, spam_at=closed) is None
    assert retention.reason(rule, spam=True) == "spam"
    assert retention.reason(retention.Rule(spam_days=None), spam=True) == "rejected"


@pytest.mark.parametrize("value", [0, -1, 3651, 1.5, True, "30"])
def test_the_days_are_checked(value: object) -> None:
    with pytest.raises(ValueError, match="from 1 to 3650"):
        retention.check_days(value, "purge_spam_after_days")
    assert retention.check_days(None, "x") is None
    assert retention.check_days(3650, "x") == 3650


# --- a purge, end to end -------------------------------------------------------------------------------------


def _report_with_everything(team: dict[str, Api]) -> Report:
    """A report whose title, description, messages, attachment and translation all hold the marker."""
    rid = submit(team["reporter"], title=f"Title {SECRET}", description=f"Description {SECRET}")["id"]
    assert team["reporter"].post(f"/api/v1/reports/{rid}/messages", {"body": f"More {SECRET}"}).status == 201
    upload = SimpleUploadedFile("poc.py", SECRET.encode(), content_type="text/x-python")
    assert team["reporter"].post(f"/api/v1/reports/{rid}/attachments", files={"file": upload}).status == 201
    report = Report.objects.get(public_id=rid)
    now = clock.now()
    Translation.objects.create(
        report=report, field="title", source_language="fr", target_language="en", text=f"T {SECRET}",
        created_at=now, updated_at=now, due_at=now,
    )  # fmt: skip
    return report


def test_spam_is_purged_when_its_time_is_up_and_leaves_a_stub(
    team: dict[str, Api], django_capture_on_commit_callbacks: Any
) -> None:
    report = _report_with_everything(team)
    stored = Attachment.objects.get(report=report).storage_name
    assert files.storage().exists(stored)
    assert team["maintainer"].post(f"/api/v1/reports/{report.public_id}/spam", {}).status == 200
    report.refresh_from_db()
    assert report.purge_at == report.spam_at + 30 * DAY  # the default rule for spam

    run_pass(report.purge_at - dt.timedelta(minutes=1))  # not yet
    report.refresh_from_db()
    assert report.purged_at is None
    assert Message.objects.filter(report=report).exists()

    with clock.frozen_at(report.purge_at + DAY), django_capture_on_commit_callbacks(execute=True):
        result = run_pass(clock.now())
    assert result.purged == 1
    report.refresh_from_db()
    assert report.purged_at is not None
    assert report.purge_at is None
    assert report.title == retention.PURGED_TITLE
    assert (report.description, report.reproduction, report.impact, report.credit_name) == ("", "", "", "")
    assert not Message.objects.filter(report=report).exists()
    assert not Attachment.objects.filter(report=report).exists()
    assert not Translation.objects.filter(report=report).exists()
    assert not files.storage().exists(stored)  # the sealed file is gone too
    event = Event.objects.get(report=report, tag="report:purged")
    assert event.data == {"rule": "spam", "messages": 1, "files": 1}
    assert event.actor is None
    # The stub keeps the report's chain: the earlier events are all there, and the chains verify.
    assert Event.objects.filter(report=report, tag="report:marked_spam").exists()
    assert verify().broken is None
    # Nothing of the text is left in any table of the report's (the marker is in no sealed field's plaintext).
    texts = [report.title, report.description, *Message.objects.values_list("body", flat=True)]
    assert not any(SECRET in t for t in texts)
    # A second pass has nothing left to do.
    with clock.frozen_at(report.purge_at or clock.now() + 2 * DAY):
        assert run_pass(clock.now() + 2 * DAY).purged == 0


def test_the_purged_report_shows_the_team_and_the_reporter_a_stub(team: dict[str, Api], client: Client) -> None:
    report = _report_with_everything(team)
    assert team["maintainer"].post(f"/api/v1/reports/{report.public_id}/spam", {}).status == 200
    report.refresh_from_db()
    run_pass(report.purge_at + DAY)
    for who in ("maintainer", "reporter"):
        client.force_login(User.objects.get(email=f"{who}@example.org"))
        page = client.get(f"/reports/{report.public_id}/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "under the project's retention rule" in text
        assert SECRET not in text
    # Outsiders still get nothing.
    client.force_login(User.objects.get(email="outsider@example.org"))
    assert client.get(f"/reports/{report.public_id}/").status_code == 404


def test_rejected_reports_follow_their_own_rule_and_open_ones_are_never_purged(team: dict[str, Api]) -> None:
    rejected = submit(team["reporter"])["id"]
    kept_open = submit(team["reporter"])["id"]
    assert team["maintainer"].post(f"/api/v1/reports/{rejected}/not-a-vulnerability", {}).status == 200
    report = Report.objects.get(public_id=rejected)
    assert report.purge_at == report.closed_at + 365 * DAY
    assert Report.objects.get(public_id=kept_open).purge_at is None
    result = run_pass(report.closed_at + 366 * DAY)
    assert result.purged == 1
    assert Event.objects.get(report=report, tag="report:purged").data["rule"] == "rejected"
    assert Report.objects.get(public_id=kept_open).purged_at is None
    assert Report.objects.get(public_id=kept_open).title != retention.PURGED_TITLE


def test_changing_the_rule_reschedules_the_project_s_reports(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/not-a-vulnerability", {}).status == 200
    owner = team["owner"]
    keep = owner.call("PATCH", "/api/v1/projects/requests", {"purge_rejected_after_days": None})
    assert keep.status == 200, keep.text
    assert keep.json["purge_rejected_after_days"] is None
    report = Report.objects.get(public_id=rid)
    assert report.purge_at is None
    assert run_pass(report.closed_at + 4000 * DAY).purged == 0  # kept, however long
    ten = owner.call("PATCH", "/api/v1/projects/requests", {"purge_rejected_after_days": 10})
    assert ten.status == 200
    report.refresh_from_db()
    assert report.purge_at == report.closed_at + 10 * DAY
    settings_event = Event.objects.filter(tag="project:settings_changed").last()
    assert settings_event is not None
    assert "purge_rejected_after_days" in settings_event.data


@pytest.mark.parametrize("value", [0, 3651, "soon"])
def test_a_bad_number_of_days_is_refused_and_changes_nothing(team: dict[str, Api], value: Any) -> None:
    response = team["owner"].call("PATCH", "/api/v1/projects/requests", {"purge_spam_after_days": value})
    assert response.status == 422, response.text
    assert "purge_spam_after_days" in json.dumps(response.json)
    assert team["owner"].get("/api/v1/projects/requests").json["purge_spam_after_days"] == 30


def test_only_owners_change_the_rule(team: dict[str, Api]) -> None:
    for who in ("maintainer", "reporter", "outsider"):
        response = team[who].call("PATCH", "/api/v1/projects/requests", {"purge_spam_after_days": 1})
        assert response.status in (403, 404), (who, response.status)
    client = Client()
    client.force_login(User.objects.get(email="maintainer@example.org"))
    page = client.post("/projects/requests/settings/", {"action": "retention", "purge_spam_after_days": "1"})
    assert page.status_code == 404
    assert team["owner"].get("/api/v1/projects/requests").json["purge_spam_after_days"] == 30


def test_the_settings_page_saves_the_rule(team: dict[str, Api], client: Client) -> None:
    client.force_login(User.objects.get(email="owner@example.org"))
    page = client.get("/projects/requests/settings/")
    assert 'name="purge_spam_after_days"' in page.content.decode()
    saved = client.post(
        "/projects/requests/settings/",
        {"action": "retention", "purge_spam_after_days": "7", "purge_rejected_after_days": ""},
    )
    assert saved.status_code == 302
    project = team["owner"].get("/api/v1/projects/requests").json
    assert (project["purge_spam_after_days"], project["purge_rejected_after_days"]) == (7, None)
    refused = client.post("/projects/requests/settings/", {"action": "retention", "purge_spam_after_days": "0"})
    assert refused.status_code == 200
    assert "greater than or equal to 1" in refused.content.decode()


def test_the_command_lists_then_purges(team: dict[str, Api], capsys: pytest.CaptureFixture[str]) -> None:
    rid = submit(team["reporter"])["id"]
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/spam", {}).status == 200
    report = Report.objects.get(public_id=rid)
    with clock.frozen_at(report.purge_at + DAY):
        assert main(["retention", "run", "--dry-run", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [d["report"] for d in listed["due"]] == [rid]
        assert Report.objects.get(public_id=rid).purged_at is None  # a dry run purges nothing
        assert main(["retention", "run", "--json"]) == 0
        done = json.loads(capsys.readouterr().out)
    assert done["purged"] == [{"report": rid, "rule": "spam", "messages": 0, "files": 0}]
    assert Report.objects.get(public_id=rid).purged_at is not None


def test_a_purged_report_takes_no_more_text(team: dict[str, Api], client: Client) -> None:
    report = _report_with_everything(team)
    assert team["maintainer"].post(f"/api/v1/reports/{report.public_id}/spam", {}).status == 200
    report.refresh_from_db()
    run_pass(report.purge_at + DAY)
    for who in ("maintainer", "reporter"):
        refused = team[who].post(f"/api/v1/reports/{report.public_id}/messages", {"body": "Still there?"})
        assert refused.status in (403, 404), (who, refused.status)
    client.force_login(User.objects.get(email="maintainer@example.org"))
    page = client.post(f"/reports/{report.public_id}/", {"action": "message", "body": "Still there?"})
    assert "it takes no more changes" in page.content.decode()
    assert not Message.objects.filter(report=report).exists()
    # Reading the stub and its timeline still works.
    assert team["maintainer"].get(f"/api/v1/reports/{report.public_id}").status == 200
    assert team["maintainer"].get(f"/api/v1/reports/{report.public_id}/events").status == 200
