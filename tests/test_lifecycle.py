"""A person's data over its lifetime: a removed team member loses every way in at once, a reporter downloads
everything Embargo holds about them and deletes their account, and their reports stay with the project."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.test import Client

from embargo.accounts.models import ApiToken, User
from embargo.audit.models import Event
from embargo.cli import main
from embargo.notifications.models import OutboxMessage
from embargo.reports.models import Report
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, report_awaiting_confirmation, submit

pytestmark = pytest.mark.django_db


def _signed_in(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def test_removing_a_member_ends_their_tokens_sessions_and_assignments(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    assert (
        team["owner"].call("PATCH", f"/api/v1/reports/{report_id}", {"assignee": "maintainer@example.org"}).status
        == 200
    )
    browser = _signed_in("maintainer@example.org")
    assert browser.get(f"/reports/{report_id}/").status_code == 200
    maintainer = User.objects.get(email="maintainer@example.org")

    response = team["owner"].call(
        "DELETE", f"/api/v1/projects/requests/members/{maintainer.public_id}?reassign_to=owner@example.org"
    )
    assert response.status == 204, response.text
    assert team["maintainer"].get(f"/api/v1/reports/{report_id}").status == 401  # the token is revoked
    assert browser.get(f"/reports/{report_id}/").status_code == 302  # the session is over: back to log-in
    assert Report.objects.get(public_id=report_id).assignee.email == "owner@example.org"
    event = Event.objects.get(tag="project:member_removed")
    assert event.data["tokens_revoked"] == 1
    assert event.data["reassigned"] == 1
    # Signed in again, they are an outsider to the project's reports.
    assert _signed_in("maintainer@example.org").get(f"/reports/{report_id}/").status_code == 404


def test_the_last_owner_stays_and_the_command_line_removes_members(
    team: dict[str, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    owner = User.objects.get(email="owner@example.org")
    refused = team["owner"].call("DELETE", f"/api/v1/projects/requests/members/{owner.public_id}")
    assert refused.status == 409
    assert "last owner" in refused.json["error"]["message"]
    assert main(["project", "remove-member", "requests", "maintainer@example.org"]) == 0
    assert "off the team of requests" in capsys.readouterr().out
    assert not User.objects.get(email="maintainer@example.org").memberships.exists()
    assert main(["project", "remove-member", "requests", "maintainer@example.org"]) == 1


def test_a_reporter_downloads_everything_embargo_holds_about_them(team: dict[str, Api]) -> None:
    made = report_awaiting_confirmation(
        team, internal_note="Kiwi team-only note", public_answer="We reproduced it.", attachment=b"poc bytes"
    )
    response = _signed_in("reporter@example.org").post("/account/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    account = json.loads(archive.read("account.json"))
    assert account["email"] == "reporter@example.org"
    report = json.loads(archive.read(f"reports/{made['report_id']}/report.json"))
    assert report["title"] == SECRET_TITLE
    assert report["description"] == SECRET_TEXT
    bodies = [m["body"] for m in report["messages"]]
    assert "We reproduced it." in bodies
    assert "Kiwi team-only note" not in json.dumps(report)  # internal notes are the team's
    (attachment,) = report["attachments"]
    assert hashlib.sha256(archive.read(attachment["file"])).hexdigest() == attachment["sha256"]
    assert Event.objects.filter(tag="user:exported").count() == 1
    # The API gives the same, to the token's owner only.
    api = team["reporter"].get("/api/v1/account/export")
    assert api.status == 200
    assert Api().get("/api/v1/account/export").status == 401


def test_a_reporter_deletes_their_account_and_their_reports_stay(team: dict[str, Api]) -> None:
    credited = submit(team["reporter"], credit_name="Ada L.", credit_consent=True)["id"]
    private = submit(team["reporter"], credit_name="Ada Lovelace", credit_consent=False)["id"]
    browser = _signed_in("reporter@example.org")
    wrong = browser.post("/account/delete/", {"password": "not it"})
    assert wrong.status_code == 200
    assert "The password is not right." in wrong.content.decode()
    reporter = User.objects.get(email="reporter@example.org")
    reporter.set_password("correct horse battery")
    reporter.save()
    browser = _signed_in("reporter@example.org")
    assert browser.post("/account/delete/", {"password": "correct horse battery"}).status_code == 302

    gone = User.objects.get(pk=reporter.pk)
    assert gone.email.startswith("deleted-")
    assert gone.name == ""
    assert not gone.is_active
    assert not gone.has_usable_password()
    assert not ApiToken.objects.filter(user=gone, revoked_at__isnull=True).exists()
    assert team["reporter"].get("/api/v1/reports/mine").status == 401
    assert browser.get("/account/").status_code == 302  # signed out
    # The reports stay with the project; the name stays only where public credit was agreed.
    assert Report.objects.get(public_id=credited).credit_name == "Ada L."
    assert Report.objects.get(public_id=private).credit_name == ""
    assert team["maintainer"].get(f"/api/v1/reports/{private}").status == 200
    assert not OutboxMessage.objects.filter(to_user=gone, sent_at__isnull=True, failed_at__isnull=True).exists()
    assert Event.objects.filter(tag="user:deleted").count() == 1


def test_a_team_member_cannot_delete_their_account_while_on_a_team(team: dict[str, Api]) -> None:
    maintainer = User.objects.get(email="maintainer@example.org")
    maintainer.set_password("correct horse battery")
    maintainer.save()
    browser = _signed_in("maintainer@example.org")
    page = browser.get("/account/delete/").content.decode()
    assert "ask one of its owners" in page
    response = browser.post("/account/delete/", {"password": "correct horse battery"})
    assert response.status_code == 200
    assert User.objects.get(pk=maintainer.pk).is_active
