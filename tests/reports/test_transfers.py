"""Handing a report to another project: the whole case moves, the sending team keeps a stub without content and
loses the report (unless the receiving team invites some of its people), the reporter is told and their link keeps
working, the receiving team hears of a new report, and the audit chains still verify.

`team`: the project `requests` (owner, maintainer) sends; the project `other` (stranger, maintainer) receives."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from embargo.accounts.models import User
from embargo.advisories.models import Advisory
from embargo.audit import chain
from embargo.audit.models import Event
from embargo.domain import transfers as domain
from embargo.domain.workflow import State
from embargo.notifications import delivery
from embargo.notifications.models import OutboxMessage
from embargo.releases.models import ReleaseEntry
from embargo.reports import links
from embargo.reports.actions import read_attachment
from embargo.reports.models import Attachment, Message, Report, ReportTransfer
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, submit

pytestmark = pytest.mark.django_db

NOTE = "Wombat-5512: the parsing happens in the tokenizer of Other."
POC = b"Platypus-9921 proof of concept"


def web(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def a_busy_report(team: dict[str, Api]) -> dict[str, Any]:
    """A report of `requests` with a public answer, an internal note, the reporter's reply, two files and an
    assignee — everything that must move or be cut."""
    report_id = submit(team["reporter"])["id"]
    base = f"/api/v1/reports/{report_id}"
    bodies = ["Thanks, we are looking.", "Internal: looks like it's upstream.", "Here is more detail."]
    assert team["maintainer"].post(f"{base}/transitions", {"to": "acknowledged", "comment": bodies[0]}).status == 200
    assert team["maintainer"].post(f"{base}/messages", {"body": bodies[1], "internal": True}).status == 201
    assert team["reporter"].post(f"{base}/messages", {"body": bodies[2]}).status == 201
    files = []
    for who, name, content in (("reporter", "poc.txt", POC), ("maintainer", "trace.log", b"trace")):
        attached = team[who].post(f"{base}/attachments", files={"file": SimpleUploadedFile(name, content)})
        assert attached.status == 201, attached.text
        files.append((attached.json["id"], content))
    assert team["maintainer"].patch(base, {"assignee": "maintainer@example.org"}).status == 200
    return {"id": report_id, "base": base, "bodies": bodies, "files": files}


def transfer(api: Api, report_id: str, **body: Any) -> Any:
    return api.post(f"/api/v1/reports/{report_id}/transfer", {"project": "other", **body})


def test_a_transfer_moves_every_message_and_file_to_the_receiving_team(team: dict[str, Api]) -> None:
    case = a_busy_report(team)
    report = Report.objects.get(public_id=case["id"])
    messages_before = Message.objects.filter(report=report).count()

    response = transfer(team["maintainer"], case["id"], note=NOTE, keep_informed=True)
    assert response.status == 201, response.text
    body = response.json
    assert body["report"] == case["id"]
    assert (body["from_project"], body["to_project"], body["to_project_name"]) == ("requests", "other", "Other")
    assert body["by"]["email"] == "maintainer@example.org"
    assert body["note"] == NOTE
    assert body["keep_informed"] is True
    assert body["informing"] is True
    assert body["report_state"] == "acknowledged"

    # Every message and file is there, and still opens.
    report = Report.objects.select_related("project").get(public_id=case["id"])
    assert report.project.slug == "other"
    assert report.assignee is None  # the sending team's member cannot stay assigned
    messages = Message.objects.filter(report=report).select_related("data_key")
    assert messages.count() == messages_before
    assert set(case["bodies"]) <= {m.body for m in messages}
    attachments = Attachment.objects.filter(report=report).select_related("data_key")
    assert sorted(read_attachment(a) for a in attachments) == sorted(content for _, content in case["files"])
    assert report.title == SECRET_TITLE
    assert report.description == SECRET_TEXT

    # The receiving team sees all of it, internal notes included; a file downloads.
    receiving = team["stranger"]
    seen = receiving.get(case["base"])
    assert seen.status == 200, seen.text
    assert seen.json["project"] == "other"
    thread = receiving.get(f"{case['base']}/messages").json["items"]
    assert {m["body"] for m in thread} >= set(case["bodies"])
    poc_id = case["files"][0][0]
    download = receiving.get(f"{case['base']}/attachments/{poc_id}")
    assert download.status == 200
    assert download.body == POC
    assert web("stranger@example.org").get(f"/reports/{case['id']}/").status_code == 200


def test_the_sending_team_loses_the_report_and_keeps_a_stub_without_content(team: dict[str, Api]) -> None:
    case = a_busy_report(team)
    assert transfer(team["maintainer"], case["id"], note=NOTE).status == 201
    poc_id = case["files"][0][0]

    for role in ("owner", "maintainer"):
        api = team[role]
        for path in ("", "/messages", "/attachments", f"/attachments/{poc_id}", "/events"):
            refused = api.get(case["base"] + path)
            assert refused.status == 404, (role, path)
            assert refused.json["error"]["code"] == "not_found"
        assert api.post(f"{case['base']}/messages", {"body": "still here?"}).status == 404
        client = web(f"{role}@example.org")
        assert client.get(f"/reports/{case['id']}/").status_code == 404
        assert client.get(f"/reports/{case['id']}/attachments/{poc_id}/").status_code == 404
        assert case["id"] not in [r["id"] for r in api.get("/api/v1/projects/requests/reports").json["items"]]

    # The stub: in the API, the inbox, the list of transfers and a page of its own — and no report text.
    stubs = team["owner"].get("/api/v1/projects/requests/transfers")
    assert stubs.status == 200, stubs.text
    [stub] = stubs.json["items"]
    assert (stub["report"], stub["to_project"], stub["note"]) == (case["id"], "other", NOTE)
    assert stub["report_state"] is None  # not informed: the state is not theirs to see
    assert stubs.json["next_cursor"] is None
    client = web("maintainer@example.org")
    pages = [
        client.get("/projects/requests/inbox/"),
        client.get("/projects/requests/transfers/"),
        client.get(f"/projects/requests/transfers/{stub['id']}/"),
    ]
    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert case["id"] in text
        assert "Other" in text
        for secret in (SECRET_TITLE, SECRET_TEXT, *case["bodies"], "poc.txt"):
            assert secret not in text
    assert "transferred to Other on" in pages[0].content.decode()
    assert NOTE in pages[2].content.decode()

    # The stubs are the sending team's: not the receiving team's, not the reporter's.
    assert team["stranger"].get("/api/v1/projects/requests/transfers").status == 404
    assert team["reporter"].get("/api/v1/projects/requests/transfers").status == 404
    assert web("stranger@example.org").get(f"/projects/requests/transfers/{stub['id']}/").status_code == 404
    assert web("reporter@example.org").get("/projects/requests/transfers/").status_code == 404
    assert web("maintainer@example.org").get(f"/projects/other/transfers/{stub['id']}/").status_code == 404


def test_the_reporter_is_told_and_their_private_link_shows_the_new_project(team: dict[str, Api]) -> None:
    case = a_busy_report(team)
    assert transfer(team["owner"], case["id"], note=NOTE).status == 201
    report = Report.objects.get(public_id=case["id"])

    [told] = OutboxMessage.objects.filter(template="report_transferred")
    assert told.to_email == "reporter@example.org"
    mail = delivery.render(told)
    assert "Other" in mail.subject
    assert case["id"] in mail.subject
    # The reporter has no password: the e-mail carries their private link, which keeps working.
    assert "Requests" in mail.body
    assert links.private_link(report) in mail.body
    for secret in (SECRET_TITLE, SECRET_TEXT, NOTE, *case["bodies"]):
        assert secret not in mail.subject
        assert secret not in mail.body

    # The link is bound to the report, not the project.
    page = Client().get(links.private_path(report))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Other · report" in text
    assert "transferred it to another project" in text  # the timeline says so
    assert SECRET_TITLE in text
    assert team["reporter"].get(case["base"]).json["project"] == "other"

    # The receiving team gets the usual notice of a new report; the team that sent it, nothing.
    news = OutboxMessage.objects.filter(template="report_received_team", report=report)
    assert {n.to_email for n in news if n.created_at >= told.created_at} == {"stranger@example.org"}
    received = delivery.render(news.get(to_email="stranger@example.org"))
    assert SECRET_TITLE not in received.body
    assert NOTE not in received.body


def test_the_audit_chains_record_it_and_verify(team: dict[str, Api]) -> None:
    case = a_busy_report(team)
    response = transfer(team["maintainer"], case["id"], note=NOTE, keep_informed=True)
    report = Report.objects.get(public_id=case["id"])
    on_report = Event.objects.get(report=report, tag="report:transferred")
    assert on_report.data["from"] == "requests"
    assert on_report.data["to"] == "other"
    assert on_report.data["note"].startswith("sha256:")  # never the note itself
    sent = Event.objects.get(tag="project:report_transferred_out")
    received = Event.objects.get(tag="project:report_transferred_in")
    assert (sent.project.slug, sent.report_id, sent.chain) == ("requests", None, f"project:{sent.project_id}")
    assert (received.project.slug, received.chain) == ("other", f"project:{received.project_id}")
    assert sent.data["report"] == received.data["report"] == case["id"]
    assert sent.object_id == received.object_id == response.json["id"]
    # The report's chain runs on across the move (its earlier links name the old project, as they were).
    assert on_report.chain == f"report:{report.pk}"
    assert Event.objects.filter(chain=on_report.chain).count() == on_report.seq
    # The reporter sees the transfer in the report's timeline.
    tags = [e["tag"] for e in team["reporter"].get(f"{case['base']}/events").json["items"]]
    assert "report:transferred" in tags
    outcome = chain.verify()
    assert outcome.broken is None, outcome.where


def test_a_team_that_stays_informed_hears_the_state_only_until_the_receiving_team_stops_it(
    team: dict[str, Api],
) -> None:
    case = a_busy_report(team)
    stub = transfer(team["maintainer"], case["id"], keep_informed=True).json
    receiving = team["stranger"]
    confirmed = receiving.post(f"{case['base']}/transitions", {"to": "confirmed"})
    assert confirmed.status == 200, confirmed.text

    notices = OutboxMessage.objects.filter(template="transfer_state_changed")
    assert sorted(n.to_email for n in notices) == ["maintainer@example.org", "owner@example.org"]
    mail = delivery.render(notices.first())  # type: ignore[arg-type]
    assert "confirmed" in mail.subject
    assert case["id"] in mail.subject
    assert f"/projects/requests/transfers/{stub['id']}/" in mail.body
    for secret in (SECRET_TITLE, SECRET_TEXT, *case["bodies"]):
        assert secret not in mail.body
    # The stub shows the state; the report stays out of reach.
    assert team["owner"].get("/api/v1/projects/requests/transfers").json["items"][0]["report_state"] == "confirmed"
    assert team["owner"].get(case["base"]).status == 404

    # The receiving team stops it: no more notices, the stub no longer shows the state.
    stop = f"{case['base']}/transfers/{stub['id']}/stop-informing"
    assert team["maintainer"].post(stop).status == 404  # not the sending team's to decide
    assert team["reporter"].post(stop).status == 404
    stopped = receiving.post(stop)
    assert stopped.status == 200, stopped.text
    assert stopped.json["informing"] is False
    assert receiving.post(stop).status == 409
    assert receiving.post(f"{case['base']}/transitions", {"to": "rejected"}).status == 200
    assert OutboxMessage.objects.filter(template="transfer_state_changed").count() == 2
    assert team["owner"].get("/api/v1/projects/requests/transfers").json["items"][0]["report_state"] is None
    assert Event.objects.filter(report__public_id=case["id"], tag="report:transfer_informing_stopped").count() == 1


def test_without_keep_informed_the_sending_team_hears_nothing_more(team: dict[str, Api]) -> None:
    case = a_busy_report(team)
    assert transfer(team["maintainer"], case["id"]).status == 201
    assert team["stranger"].post(f"{case['base']}/transitions", {"to": "confirmed"}).status == 200
    assert not OutboxMessage.objects.filter(template="transfer_state_changed").exists()


def test_the_receiving_team_may_grant_access_to_chosen_people_of_the_sending_team(team: dict[str, Api]) -> None:
    case = a_busy_report(team)
    assert transfer(team["maintainer"], case["id"]).status == 201
    assert team["maintainer"].get(case["base"]).status == 404
    granted = team["stranger"].post(f"{case['base']}/collaborators", {"email": "maintainer@example.org"})
    assert granted.status == 201, granted.text
    seen = team["maintainer"].get(case["base"])
    assert seen.status == 200
    assert seen.json["viewer_roles"] == ["collaborator"]
    poc_id = case["files"][0][0]
    assert team["maintainer"].get(f"{case['base']}/attachments/{poc_id}").body == POC
    # Still not the owner's, who was not invited.
    assert team["owner"].get(case["base"]).status == 404


def test_the_sending_teams_collaborators_lose_the_report_until_the_receiving_team_invites_them(
    team: dict[str, Api],
) -> None:
    report_id = submit(team["reporter"])["id"]
    base = f"/api/v1/reports/{report_id}"
    assert team["owner"].post(f"{base}/collaborators", {"email": "collaborator@example.org"}).status == 201
    assert team["collaborator"].get(base).status == 200
    assert transfer(team["maintainer"], report_id).status == 201
    assert team["collaborator"].get(base).status == 404
    assert team["collaborator"].get(f"{base}/messages").status == 404
    arrived = Event.objects.get(tag="project:report_transferred_in")
    assert arrived.data["collaborators_ended"] == 1
    # The receiving team may let them in again.
    assert team["stranger"].post(f"{base}/collaborators", {"email": "collaborator@example.org"}).status == 201
    assert team["collaborator"].get(base).status == 200


def test_who_may_transfer(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    base = f"/api/v1/reports/{report_id}"
    assert team["owner"].post(f"{base}/collaborators", {"email": "collaborator@example.org"}).status == 201
    # The reporter, a collaborator, an outsider and a maintainer of the receiving project only: 404, as for a
    # report they cannot see.
    for role in ("reporter", "collaborator", "outsider", "stranger"):
        refused = transfer(team[role], report_id)
        assert refused.status == 404, role
        assert refused.json["error"]["code"] == "not_found"
    assert transfer(Api(), report_id).status == 401
    assert transfer(team["maintainer"], "nosuchreport").status == 404
    # The page's form, likewise.
    for role in ("reporter", "collaborator", "outsider", "stranger"):
        response = web(f"{role}@example.org").post(f"/reports/{report_id}/transfer/", {"project": "other"})
        assert response.status_code == 404, role
    assert Client().post(f"/reports/{report_id}/transfer/", {"project": "other"}).status_code == 302  # log in first
    assert Report.objects.get(public_id=report_id).project.slug == "requests"
    assert not ReportTransfer.objects.exists()
    # Only the team sees the form.
    assert (
        "Transfer to another project" not in web("reporter@example.org").get(f"/reports/{report_id}/").content.decode()
    )
    assert "Transfer to another project" in web("maintainer@example.org").get(f"/reports/{report_id}/").content.decode()


def test_refused_transfers_say_what_to_fix_and_change_nothing(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    api = team["maintainer"]
    itself = api.post(f"/api/v1/reports/{report_id}/transfer", {"project": "requests"})
    assert itself.status == 422
    assert (itself.json["error"]["code"], itself.json["error"]["field"]) == ("transfer_to_same_project", "project")
    unknown = api.post(f"/api/v1/reports/{report_id}/transfer", {"project": "no-such-project"})
    assert unknown.status == 422
    assert unknown.json["error"]["field"] == "project"
    assert "slug" in unknown.json["error"]["message"]
    missing = api.post(f"/api/v1/reports/{report_id}/transfer", {"note": "x"})
    assert missing.status == 422
    assert missing.json["error"]["field"] == "project"
    extra = api.post(f"/api/v1/reports/{report_id}/transfer", {"project": "other", "keep": True})
    assert extra.status == 422
    wrong_type = api.post(f"/api/v1/reports/{report_id}/transfer", {"project": "other", "keep_informed": "yes"})
    assert wrong_type.status == 422
    assert wrong_type.json["error"]["field"] == "keep_informed"
    too_long = api.post(f"/api/v1/reports/{report_id}/transfer", {"project": "other", "note": "x" * 10_001})
    assert too_long.status == 422
    assert too_long.json["error"]["field"] == "note"
    assert api.post(f"/api/v1/reports/{report_id}/transfer", raw=b"{").status == 400

    # A closed report stays where it ended.
    assert api.post(f"/api/v1/reports/{report_id}/transitions", {"to": "rejected"}).status == 200
    closed = transfer(api, report_id)
    assert closed.status == 409
    assert closed.json["error"]["code"] == "transfer_not_allowed"
    assert "closed" in closed.json["error"]["message"]
    assert Report.objects.get(public_id=report_id).project.slug == "requests"
    assert not ReportTransfer.objects.exists()
    assert not Event.objects.filter(tag__contains="transferred").exists()
    assert not OutboxMessage.objects.filter(template="report_transferred").exists()

    # The page shows the refusal on the report's page, the typed text kept.
    other_id = submit(team["reporter"])["id"]
    page = web("maintainer@example.org").post(f"/reports/{other_id}/transfer/", {"project": "requests", "note": NOTE})
    assert page.status_code == 200
    assert "already in this project" in page.content.decode()
    assert NOTE in page.content.decode()


def test_the_page_form_transfers_and_lands_on_the_stub(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    client = web("owner@example.org")
    response = client.post(
        f"/reports/{report_id}/transfer/", {"project": " Other ", "note": NOTE, "keep_informed": "on"}
    )
    stub = ReportTransfer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/projects/requests/transfers/{stub.public_id}/"
    assert stub.keep_informed
    assert stub.note == NOTE
    assert stub.by.email == "owner@example.org"
    assert "Other" in client.get(response["Location"]).content.decode()
    # The receiving team sees where it came from and may stop the notices from the page.
    page = web("stranger@example.org").get(f"/reports/{report_id}/")
    assert "from Requests to Other" in page.content.decode()
    assert "Stop telling them" in page.content.decode()
    stop = web("stranger@example.org").post(f"/reports/{report_id}/transfers/{stub.public_id}/stop-informing/")
    assert stop.status_code == 302
    stub.refresh_from_db()
    assert stub.informing_stopped_at is not None
    assert (
        web("owner@example.org").post(f"/reports/{report_id}/transfers/{stub.public_id}/stop-informing/").status_code
        == 404
    )


def test_a_fix_ready_report_leaves_its_security_release_and_takes_its_advisory_draft(team: dict[str, Api]) -> None:
    from embargo.releases.actions import do_create_release

    report_id = submit(team["reporter"])["id"]
    base = f"/api/v1/reports/{report_id}"
    api = team["maintainer"]
    assert api.post(f"{base}/transitions", {"to": "confirmed", "comment": "Reproduced."}).status == 200
    assert api.post(f"{base}/fixes", {"kind": "patch", "description": "Strip the header."}).status == 201
    assert api.post(f"{base}/transitions", {"to": "fix_ready"}).status == 200
    report = Report.objects.select_related("project").get(public_id=report_id)
    maintainer = User.objects.get(email="maintainer@example.org")
    do_create_release(report.project, report_ids=[report_id], acting_user=maintainer)
    assert ReleaseEntry.objects.filter(report=report).exists()

    summary = "Proxy credentials leak on redirects (Numbat-6630)"
    assert api.call("PUT", f"{base}/advisory", {"summary": summary}).status == 200

    assert transfer(api, report_id).status == 201
    assert not ReleaseEntry.objects.filter(report=report).exists()
    # The advisory draft moves with its report.
    assert Advisory.objects.get(report=report).project.slug == "other"
    assert team["stranger"].get(f"{base}/advisory").json["summary"] == summary
    assert api.get(f"{base}/advisory").status == 404
    report.refresh_from_db()
    assert report.state == State.FIX_READY
    assert team["stranger"].get(f"{base}/fixes").json["items"][0]["description"] == "Strip the header."


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (domain.TransferFacts(State.RECEIVED, same_project=True), "transfer_to_same_project"),
        (domain.TransferFacts(State.PUBLISHED, same_project=False), "transfer_not_allowed"),
        (domain.TransferFacts(State.WITHDRAWN, same_project=False), "transfer_not_allowed"),
        (domain.TransferFacts(State.SCHEDULED, same_project=False), "transfer_not_allowed"),
        (domain.TransferFacts(State.RECEIVED, same_project=False, held=True), "transfer_not_allowed"),
        (domain.TransferFacts(State.REJECTED, same_project=False, spam=True), "transfer_not_allowed"),
        (domain.TransferFacts(State.REJECTED, same_project=False, purged=True), "transfer_not_allowed"),
    ],
)
def test_the_rule_refuses(facts: domain.TransferFacts, code: str) -> None:
    with pytest.raises(domain.TransferRefused) as refused:
        domain.check_transfer(facts)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "state", [State.RECEIVED, State.ACKNOWLEDGED, State.NEEDS_INFO, State.CONFIRMED, State.FIX_READY]
)
def test_the_rule_allows_open_reports_not_yet_scheduled(state: State) -> None:
    domain.check_transfer(domain.TransferFacts(state, same_project=False))
