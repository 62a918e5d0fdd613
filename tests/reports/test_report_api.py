"""A report's life through the HTTP API, told as the reference policy tells it."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from embargo import clock
from embargo.audit.models import Event
from embargo.reports.models import Message, Report
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, make_user, submit

pytestmark = pytest.mark.django_db
MOMENT = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def _transition(api: Api, report_id: str, to: str, **extra: object):
    return api.post(f"/api/v1/reports/{report_id}/transitions", {"to": to, **extra})


def test_a_report_gets_the_policys_clocks_when_received(team: dict[str, Api]) -> None:
    clock.freeze(MOMENT)
    report = submit(team["reporter"], affected_versions="<= 2.31.0", credit_name="Ada", credit_consent=True)
    assert report["state"] == "received"
    assert report["created_at"] == "2026-11-30T08:00:00Z"
    assert report["response_target_at"] == "2026-11-30T20:00:00Z"
    assert report["response_due_at"] == "2026-12-02T08:00:00Z"
    assert report["fix_due_at"] == "2026-12-14T08:00:00Z"
    assert report["title"] == SECRET_TITLE
    assert report["credit_name"] == "Ada"
    assert report["credit_consent"] is True
    assert report["allowed_transitions"] == ["withdrawn"]


def test_acknowledging_needs_a_comment_that_reaches_the_reporter(team: dict[str, Api]) -> None:
    report = submit(team["reporter"])
    refused = _transition(team["maintainer"], report["id"], "acknowledged")
    assert refused.status == 422
    assert refused.json["error"]["code"] == "comment_required"
    answered = _transition(team["maintainer"], report["id"], "acknowledged", comment="Thank you, we are looking.")
    assert answered.status == 200, answered.text
    assert answered.json["state"] == "acknowledged"
    assert answered.json["first_response_at"] is not None
    thread = team["reporter"].get(f"/api/v1/reports/{report['id']}/messages").json["items"]
    assert [(m["body"], m["transition_to"], m["author"]["role"]) for m in thread] == [
        ("Thank you, we are looking.", "acknowledged", "team")
    ]


def test_a_refused_transition_is_409_naming_the_allowed_states(team: dict[str, Api]) -> None:
    report = submit(team["reporter"])
    response = _transition(team["maintainer"], report["id"], "fix_ready")
    assert response.status == 409
    error = response.json["error"]
    assert error["code"] == "transition_not_allowed"
    assert "acknowledged, confirmed, duplicate, needs_info, rejected" in error["message"]
    assert Report.objects.get(public_id=report["id"]).state == "received"


def test_scheduled_and_published_cannot_be_requested(team: dict[str, Api]) -> None:
    report = submit(team["reporter"])
    for state in ("scheduled", "published"):
        response = _transition(team["owner"], report["id"], state)
        assert response.status == 409
        assert response.json["error"]["code"] == "transition_not_allowed"


def test_an_unknown_state_is_a_validation_error(team: dict[str, Api]) -> None:
    report = submit(team["reporter"])
    response = _transition(team["owner"], report["id"], "fixed-ish")
    assert response.status == 422
    assert response.json["error"]["field"] == "to"


def test_a_reply_in_needs_info_returns_the_report_where_it_was(team: dict[str, Api]) -> None:
    report = submit(team["reporter"])
    rid = report["id"]
    assert _transition(team["maintainer"], rid, "acknowledged", comment="Got it.").status == 200
    asked = _transition(team["maintainer"], rid, "needs_info", comment="Which version of urllib3?")
    assert asked.json["state"] == "needs_info"
    # A note of the team's does not count as the reporter's answer.
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": "waiting", "internal": True})
    assert team["reporter"].get(f"/api/v1/reports/{rid}").json["state"] == "needs_info"
    reply = team["reporter"].post(f"/api/v1/reports/{rid}/messages", {"body": "urllib3 2.2.1"})
    assert reply.status == 201
    assert team["reporter"].get(f"/api/v1/reports/{rid}").json["state"] == "acknowledged"
    tags = [
        (e["tag"], e["data"].get("reason")) for e in team["owner"].get(f"/api/v1/reports/{rid}/events").json["items"]
    ]
    assert ("report:transitioned", "reporter_replied") in tags


def test_needs_info_from_received_returns_to_received(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    _transition(team["maintainer"], rid, "needs_info", comment="Can you share the proof of concept?")
    team["reporter"].post(f"/api/v1/reports/{rid}/messages", {"body": "attached"})
    assert team["reporter"].get(f"/api/v1/reports/{rid}").json["state"] == "received"


def test_the_reporter_may_withdraw_but_not_triage(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    assert _transition(team["reporter"], rid, "acknowledged", comment="self-ack").status == 409
    withdrawn = _transition(team["reporter"], rid, "withdrawn", comment="Not a bug after all.")
    assert withdrawn.status == 200
    assert withdrawn.json["state"] == "withdrawn"
    assert withdrawn.json["closed_at"] is not None
    assert withdrawn.json["next_due_at"] is None


def test_a_duplicate_points_to_a_report_of_the_same_project(team: dict[str, Api]) -> None:
    first = submit(team["reporter"])["id"]
    second = submit(team["reporter"])["id"]
    elsewhere = submit(team["reporter"], slug="other")["id"]
    missing = _transition(team["maintainer"], second, "duplicate")
    assert (missing.status, missing.json["error"]["code"]) == (422, "duplicate_of_required")
    foreign = _transition(team["maintainer"], second, "duplicate", duplicate_of=elsewhere)
    assert (foreign.status, foreign.json["error"]["code"]) == (422, "duplicate_of_invalid")
    unknown = _transition(team["maintainer"], second, "duplicate", duplicate_of="nosuchreport")
    assert unknown.status == 422
    done = _transition(team["maintainer"], second, "duplicate", duplicate_of=first)
    assert done.status == 200
    assert done.json["duplicate_of"] == first
    assert done.json["state"] == "duplicate"


def test_internal_notes_are_never_shown_to_the_reporter_or_collaborators(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    assert (
        team["owner"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"}).status == 201
    )
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": "Internal: CVE-worthy?", "internal": True})
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": "Public answer"})
    for viewer in ("reporter", "collaborator"):
        bodies = [m["body"] for m in team[viewer].get(f"/api/v1/reports/{rid}/messages").json["items"]]
        assert bodies == ["Public answer"]
        events = team[viewer].get(f"/api/v1/reports/{rid}/events").json["items"]
        assert all(not e["data"].get("internal") for e in events)
    team_bodies = [m["body"] for m in team["owner"].get(f"/api/v1/reports/{rid}/messages").json["items"]]
    assert team_bodies == ["Internal: CVE-worthy?", "Public answer"]


def test_only_the_team_writes_internal_notes(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    response = team["reporter"].post(f"/api/v1/reports/{rid}/messages", {"body": "psst", "internal": True})
    assert response.status == 403
    assert Message.objects.count() == 0


def test_the_reporter_changes_their_credit_and_the_team_assigns(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"], credit_name="A. Nonymous")["id"]
    changed = team["reporter"].patch(f"/api/v1/reports/{rid}", {"credit_name": "Ada L.", "credit_consent": True})
    assert changed.status == 200
    assert (changed.json["credit_name"], changed.json["credit_consent"]) == ("Ada L.", True)
    assert team["maintainer"].patch(f"/api/v1/reports/{rid}", {"credit_name": "Someone"}).status == 403
    assert team["reporter"].patch(f"/api/v1/reports/{rid}", {"assignee": "owner@example.org"}).status == 403
    assigned = team["owner"].patch(f"/api/v1/reports/{rid}", {"assignee": "maintainer@example.org"})
    assert assigned.json["assignee"]["email"] == "maintainer@example.org"
    not_team = team["owner"].patch(f"/api/v1/reports/{rid}", {"assignee": "outsider@example.org"})
    assert (not_team.status, not_team.json["error"]["field"]) == (422, "assignee")
    mine = team["maintainer"].get("/api/v1/projects/requests/reports?assignee=maintainer@example.org").json
    assert [r["id"] for r in mine["items"]] == [rid]
    unassigned = team["owner"].patch(f"/api/v1/reports/{rid}", {"assignee": None})
    assert unassigned.json["assignee"] is None


def test_a_refused_field_in_a_patch_changes_nothing(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"], credit_name="Before")["id"]
    response = team["reporter"].patch(
        f"/api/v1/reports/{rid}", {"credit_name": "After", "assignee": "owner@example.org"}
    )
    assert response.status == 403
    assert Report.objects.get(public_id=rid).credit_name == "Before"


def test_the_inbox_is_ordered_by_the_nearest_due_time_and_filters_by_state(team: dict[str, Api]) -> None:
    clock.freeze(MOMENT)
    older = submit(team["reporter"])["id"]
    clock.advance(dt.timedelta(hours=1))
    newer = submit(team["reporter"])["id"]
    clock.advance(dt.timedelta(hours=1))
    answered = submit(team["reporter"])["id"]
    _transition(team["maintainer"], answered, "acknowledged", comment="Seen.")
    inbox = team["maintainer"].get("/api/v1/projects/requests/reports").json
    assert [r["id"] for r in inbox["items"]] == [older, newer, answered]
    received = team["maintainer"].get("/api/v1/projects/requests/reports?state=received").json
    assert [r["id"] for r in received["items"]] == [older, newer]
    bad = team["maintainer"].get("/api/v1/projects/requests/reports?state=lost")
    assert (bad.status, bad.json["error"]["field"]) == (422, "state")


def test_lists_are_paged_with_a_cursor(team: dict[str, Api]) -> None:
    ids = [submit(team["reporter"])["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = team["owner"].get("/api/v1/projects/requests/reports" + query).json
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    assert team["owner"].get("/api/v1/projects/requests/reports?limit=101").status == 422
    assert team["owner"].get("/api/v1/projects/requests/reports?cursor=garbage").json["error"]["field"] == "cursor"


def test_my_reports_lists_only_mine_newest_first(team: dict[str, Api]) -> None:
    clock.freeze(MOMENT)
    first = submit(team["reporter"])["id"]
    clock.advance(dt.timedelta(minutes=5))
    second = submit(team["reporter"])["id"]
    submit(team["outsider"])
    mine = team["reporter"].get("/api/v1/reports/mine").json
    assert [r["id"] for r in mine["items"]] == [second, first]


def test_attachments_round_trip_as_downloads_only(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    content = b"<html><script>alert(1)</script></html>\n" * 10
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("../../poc.html", content, content_type="text/html")
    created = team["reporter"].post(f"/api/v1/reports/{rid}/attachments", files={"file": upload})
    assert created.status == 201, created.text
    meta = created.json
    assert meta["filename"] == "poc.html"
    assert meta["size"] == len(content)
    assert meta["sha256"] == hashlib.sha256(content).hexdigest()
    download = team["maintainer"].get(meta["download_url"])
    assert download.status == 200
    assert download.body == content
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    listed = team["reporter"].get(f"/api/v1/reports/{rid}/attachments").json["items"]
    assert [a["id"] for a in listed] == [meta["id"]]


def test_an_oversized_attachment_is_413_and_stores_nothing(team: dict[str, Api], settings) -> None:
    settings.EMBARGO_MAX_ATTACHMENT_BYTES = 1000
    rid = submit(team["reporter"])["id"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = team["reporter"].post(
        f"/api/v1/reports/{rid}/attachments", files={"file": SimpleUploadedFile("big.bin", b"x" * 1001)}
    )
    assert response.status == 413
    assert response.json["error"]["code"] == "too_large"
    assert team["reporter"].get(f"/api/v1/reports/{rid}/attachments").json["items"] == []


def test_an_attachment_of_another_report_is_not_found(team: dict[str, Api]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    mine = submit(team["reporter"])["id"]
    theirs = submit(team["outsider"])["id"]
    upload = (
        team["outsider"]
        .post(f"/api/v1/reports/{theirs}/attachments", files={"file": SimpleUploadedFile("a.txt", b"secret")})
        .json
    )
    response = team["reporter"].get(f"/api/v1/reports/{mine}/attachments/{upload['id']}")
    assert response.status == 404
    assert b"secret" not in response.body


def test_collaborators_are_invited_and_removed_by_the_team(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    assert team["collaborator"].get(f"/api/v1/reports/{rid}").status == 404
    added = team["maintainer"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"})
    assert added.status == 201
    assert team["collaborator"].get(f"/api/v1/reports/{rid}").json["viewer_roles"] == ["collaborator"]
    again = team["maintainer"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"})
    assert (again.status, again.json["error"]["code"]) == (409, "already_collaborator")
    invalid = team["maintainer"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "not-an-address"})
    assert (invalid.status, invalid.json["error"]["field"]) == (422, "email")
    user_id = added.json["user"]["id"]
    assert team["maintainer"].delete(f"/api/v1/reports/{rid}/collaborators/{user_id}").status == 204
    assert team["collaborator"].get(f"/api/v1/reports/{rid}").status == 404
    assert team["maintainer"].delete(f"/api/v1/reports/{rid}/collaborators/{user_id}").status == 404


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"title": "x", ', "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'{"title": "a", "title": "b", "description": "d"}', "invalid_json"),
        (b'{"title": NaN, "description": "d"}', "invalid_json"),
    ],
)
def test_malformed_bodies_are_400_and_write_nothing(team: dict[str, Api], raw: bytes, code: str) -> None:
    events = Event.objects.count()
    response = team["reporter"].post("/api/v1/projects/requests/reports", raw=raw)
    assert response.status == 400
    assert response.json["error"]["code"] == code
    assert Report.objects.count() == 0
    assert Event.objects.count() == events


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "d"}, "title"),
        ({"title": "t"}, "description"),
        ({"title": "x" * 201, "description": "d"}, "title"),
        ({"title": "t", "description": "d" * 100_001}, "description"),
        ({"title": "   ", "description": "d"}, "title"),
        ({"title": 5, "description": "d"}, "title"),
        ({"title": "t", "description": "d", "credit_consent": "yes"}, "credit_consent"),
        ({"title": "t", "description": "d", "severity_proposed": "CVSS:3.1/AV:X"}, "severity_proposed"),
        ({"title": "t", "description": "d", "severity_proposed": "apocalyptic"}, "severity_proposed"),
        ({"title": "t", "description": "d", "color": "blue"}, "color"),
    ],
)
def test_invalid_reports_are_422_naming_the_field(team: dict[str, Api], body: dict, field: str) -> None:
    response = team["reporter"].post("/api/v1/projects/requests/reports", body)
    assert response.status == 422, response.text
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["field"] == field
    assert Report.objects.count() == 0


def test_a_cvss_vector_or_a_word_is_accepted_as_proposed_severity(team: dict[str, Api]) -> None:
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"
    assert submit(team["reporter"], severity_proposed=vector)["severity_proposed"] == vector
    assert submit(team["reporter"], severity_proposed="High")["severity_proposed"] == "high"


def test_every_error_has_the_one_shape(team: dict[str, Api]) -> None:
    for response in (
        Api().get("/api/v1/reports/mine"),
        team["reporter"].get("/api/v1/no/such/route"),
        team["reporter"].call("PUT", "/api/v1/reports/mine", {}),
        team["reporter"].get("/api/v1/reports/abc"),
    ):
        assert response.status >= 400
        assert set(response.json) == {"error"}
        assert {"code", "message"} <= set(response.json["error"])


def test_report_text_is_sealed_in_the_database(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"], reproduction="import requests  # Wombat-5512")["id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT title, description, reproduction FROM reports_report WHERE public_id = %s", [rid])
        row = cursor.fetchone()
    stored = b"".join(bytes(v) for v in row)
    assert b"Zebra-7741" not in stored
    assert b"Quokka-3389" not in stored
    assert b"Wombat-5512" not in stored
    assert Report.objects.get(public_id=rid).reproduction.endswith("Wombat-5512")


def test_the_audit_log_holds_no_secret_text(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": "Kiwi-9001 is the root cause"})
    dump = repr(list(Event.objects.values_list("data", flat=True)))
    assert "Zebra-7741" not in dump
    assert "Quokka-3389" not in dump
    assert "Kiwi-9001" not in dump
    assert SECRET_TEXT not in dump


def _count_queries(api: Api, path: str) -> int:
    api.get(path)  # the first use of a token records it; count a steady request
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status == 200
    return len(queries)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/requests/reports?limit=100",
        "/api/v1/reports/mine?limit=100",
        "MESSAGES",
        "EVENTS",
        "ATTACHMENTS",
        "COLLABORATORS",
    ],
)
def test_lists_cost_the_same_queries_for_3_and_30_items(team: dict[str, Api], path: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    counts = []
    for n in (3, 30):
        rid = submit(team["reporter"])["id"]
        for i in range(n - 1):
            submit(team["reporter"])
            team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": f"note {i}", "internal": i % 2 == 0})
            team["reporter"].post(
                f"/api/v1/reports/{rid}/attachments", files={"file": SimpleUploadedFile(f"f{i}.txt", b"x")}
            )
        for i in range(n):
            email = f"guest{n}-{i}@example.org"
            make_user(email)
            team["maintainer"].post(f"/api/v1/reports/{rid}/collaborators", {"email": email})
        concrete = {
            "MESSAGES": f"/api/v1/reports/{rid}/messages?limit=100",
            "EVENTS": f"/api/v1/reports/{rid}/events?limit=100",
            "ATTACHMENTS": f"/api/v1/reports/{rid}/attachments?limit=100",
            "COLLABORATORS": f"/api/v1/reports/{rid}/collaborators?limit=100",
        }.get(path, path)
        viewer = team["reporter"] if "mine" in concrete else team["owner"]
        counts.append(_count_queries(viewer, concrete))
    assert counts[0] == counts[1]


def test_report_pages_are_never_cached(team: dict[str, Api]) -> None:
    from django.test import Client

    from embargo.accounts.models import User

    rid = submit(team["reporter"])["id"]
    client = Client()
    client.force_login(User.objects.get(email="maintainer@example.org"))
    for path in (f"/reports/{rid}/", "/projects/requests/inbox/", "/reports/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], path
