"""The team's defences against reports that are not for it: "not a vulnerability — file a public issue", spam
(closed silently, out of the inbox, counted against the sender, who is stopped at the limit), and a project that
asks for a proof of concept with every report."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.notifications.models import OutboxMessage
from embargo.reports.models import Message, Report
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db


def test_not_a_vulnerability_tells_the_reporter_where_to_go(team: dict[str, Api]) -> None:
    issues = "https://github.com/psf/requests/issues"
    assert team["owner"].call("PATCH", "/api/v1/projects/requests", {"public_issues_url": issues}).status == 200
    report_id = submit(team["reporter"])["id"]
    response = team["maintainer"].post(f"/api/v1/reports/{report_id}/not-a-vulnerability", {"note": "See #4242."})
    assert response.status == 200, response.text
    assert response.json["state"] == "rejected"
    message = Message.objects.get(report__public_id=report_id, transition_to="rejected")
    assert "not a security vulnerability" in message.body
    assert issues in message.body
    assert message.body.endswith("See #4242.")
    event = Event.objects.get(report__public_id=report_id, tag="report:transitioned")
    assert event.data["reason"] == "not_a_vulnerability"
    # The reporter is told by e-mail, as for any state change.
    assert OutboxMessage.objects.filter(report__public_id=report_id, to_email="reporter@example.org").count() == 2
    # Not the reporter's to do.
    other = submit(team["reporter"])["id"]
    assert team["reporter"].post(f"/api/v1/reports/{other}/not-a-vulnerability", {}).status == 404


def test_a_bad_issue_tracker_address_is_refused(team: dict[str, Api]) -> None:
    response = team["owner"].call("PATCH", "/api/v1/projects/requests", {"public_issues_url": "javascript:alert(1)"})
    assert response.status == 422
    assert "https://" in response.json["error"]["message"]


def test_spam_is_closed_silently_hidden_and_counted(team: dict[str, Api], settings: Any) -> None:
    settings.EMBARGO_SPAM_LIMIT = 2
    first = submit(team["reporter"])["id"]
    mails_before = OutboxMessage.objects.filter(to_email="reporter@example.org").count()
    response = team["maintainer"].post(f"/api/v1/reports/{first}/spam", {})
    assert response.status == 200, response.text
    assert response.json["state"] == "rejected"
    assert OutboxMessage.objects.filter(to_email="reporter@example.org").count() == mails_before  # not told
    assert Report.objects.get(public_id=first).spam_at is not None
    assert User.objects.get(email="reporter@example.org").spam_reports == 1
    assert Event.objects.filter(report__public_id=first, tag="report:marked_spam").count() == 1
    # Out of the inbox, listed on its own.
    inbox = team["maintainer"].get("/api/v1/projects/requests/reports").json["items"]
    assert first not in [r["id"] for r in inbox]
    spam = team["maintainer"].get("/api/v1/projects/requests/reports?spam=true").json["items"]
    assert [r["id"] for r in spam] == [first]
    assert team["maintainer"].post(f"/api/v1/reports/{first}/spam", {}).status == 409  # once
    # The second spam report reaches the limit: the account may send no more.
    second = submit(team["reporter"])["id"]
    assert team["owner"].post(f"/api/v1/reports/{second}/spam", {}).status == 200
    refused = team["reporter"].post("/api/v1/projects/requests/reports", {"title": "Again", "description": "x"})
    assert refused.status == 403
    assert refused.json["error"]["code"] == "account_restricted"
    # Someone else is not affected.
    assert (
        team["outsider"].post("/api/v1/projects/requests/reports", {"title": "Mine", "description": "y"}).status == 201
    )


def test_the_page_offers_both_closes_to_the_team_only(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    client = Client()
    client.force_login(User.objects.get(email="reporter@example.org"))
    assert "Mark as spam" not in client.get(f"/reports/{report_id}/").content.decode()
    client.force_login(User.objects.get(email="maintainer@example.org"))
    page = client.get(f"/reports/{report_id}/").content.decode()
    assert "Not a vulnerability — file a public issue" in page
    assert "Mark as spam" in page
    assert client.post(f"/reports/{report_id}/", {"action": "spam"}).status_code == 302
    assert Report.objects.get(public_id=report_id).spam_at is not None
    inbox = client.get("/projects/requests/inbox/").content.decode()
    assert report_id not in inbox


def test_a_project_may_require_a_proof_of_concept(team: dict[str, Api]) -> None:
    assert team["owner"].call("PATCH", "/api/v1/projects/requests", {"require_poc": True}).status == 200
    refused = team["reporter"].post("/api/v1/projects/requests/reports", {"title": "t", "description": "d"})
    assert refused.status == 422
    assert refused.json["error"]["field"] == "reproduction"
    assert "proof of concept" in refused.json["error"]["message"]
    assert Report.objects.count() == 0
    accepted = team["reporter"].post(
        "/api/v1/projects/requests/reports", {"title": "t", "description": "d", "reproduction": "import requests"}
    )
    assert accepted.status == 201


def test_a_new_accounts_report_waits_for_an_owner(team: dict[str, Api], settings: Any) -> None:
    assert team["owner"].call("PATCH", "/api/v1/projects/requests", {"hold_new_accounts": True}).status == 200
    held = submit(team["reporter"])["id"]  # the reporter's account was made today and has no answered report
    report = Report.objects.get(public_id=held)
    assert report.held_at is not None
    # Only the owners are told, and the inbox leaves it out until an owner lets it in.
    told = set(
        OutboxMessage.objects.filter(report=report, template="report_received_team").values_list("to_email", flat=True)
    )
    assert told == {"owner@example.org"}
    assert held not in [r["id"] for r in team["maintainer"].get("/api/v1/projects/requests/reports").json["items"]]
    listed = team["maintainer"].get("/api/v1/projects/requests/reports?held=true").json["items"]
    assert [r["id"] for r in listed] == [held]
    assert team["reporter"].post(f"/api/v1/reports/{held}/release-hold", {}).status == 404
    let_in = team["owner"].post(f"/api/v1/reports/{held}/release-hold", {})
    assert let_in.status == 200, let_in.text
    assert Report.objects.get(public_id=held).held_at is None
    assert held in [r["id"] for r in team["maintainer"].get("/api/v1/projects/requests/reports").json["items"]]
    told = set(
        OutboxMessage.objects.filter(report=report, template="report_received_team").values_list("to_email", flat=True)
    )
    assert told == {"owner@example.org", "maintainer@example.org"}
    assert Event.objects.filter(report=report, tag="report:hold_released").count() == 1
    assert team["owner"].post(f"/api/v1/reports/{held}/release-hold", {}).status == 409
    # An older account, or one already answered, is not held.
    settings.EMBARGO_NEW_ACCOUNT_DAYS = 0
    assert Report.objects.get(public_id=submit(team["outsider"])["id"]).held_at is None
