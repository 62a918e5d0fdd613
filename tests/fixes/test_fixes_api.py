"""Fixes through the API: recorded by the team, seen by the participants unless team-only, required for
fix_ready; and the reporter's confirmation loop, with a frozen clock."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from embargo import clock
from embargo.audit.models import Event
from embargo.notifications import worker
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Project
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
PATCH = b"""diff --git a/requests/sessions.py b/requests/sessions.py
--- a/requests/sessions.py
+++ b/requests/sessions.py
@@ -1,3 +1,3 @@
 import os
-STRIP_AUTH = False  # Pelican-6610
+STRIP_AUTH = True  # Pelican-6610
 import sys
"""


def confirmed_report(team: dict[str, Api]) -> str:
    rid = submit(team["reporter"])["id"]
    answer = {"to": "confirmed", "comment": "Reproduced, working on it."}
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", answer).status == 200
    return rid


def add_fix(team: dict[str, Api], rid: str, **body: object) -> dict:
    response = team["maintainer"].post(f"/api/v1/reports/{rid}/fixes", {"kind": "patch", **body})
    assert response.status == 201, response.text
    return response.json


def test_fix_ready_needs_a_fix(team: dict[str, Api]) -> None:
    rid = confirmed_report(team)
    refused = team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "fix_ready"})
    assert (refused.status, refused.json["error"]["code"]) == (422, "fix_required")
    add_fix(team, rid, description="Strip the Authorization header on cross-host redirects.")
    OutboxMessage.objects.all().delete()
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "fix_ready"}).status == 200
    assert list(OutboxMessage.objects.values_list("template", "to_email")) == [
        ("fix_confirmation_request", "reporter@example.org")
    ]


def test_team_only_fixes_are_hidden_from_the_reporter_and_collaborators(team: dict[str, Api]) -> None:
    rid = confirmed_report(team)
    team["owner"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"})
    shared = add_fix(team, rid, kind="interim", description="Disable redirects to other hosts for now.")
    secret = add_fix(team, rid, description="The real fix, still rough.", team_only=True)
    for viewer, expected in (("reporter", [shared["id"]]), ("collaborator", [shared["id"]]),
                             ("owner", [shared["id"], secret["id"]])):  # fmt: skip
        assert [f["id"] for f in team[viewer].get(f"/api/v1/reports/{rid}/fixes").json["items"]] == expected
    assert team["reporter"].get(f"/api/v1/reports/{rid}/fixes/{secret['id']}").status == 404
    events = team["reporter"].get(f"/api/v1/reports/{rid}/events").json["items"]
    assert [e["object_id"] for e in events if e["tag"] == "fix:added"] == [shared["id"]]


def test_only_the_team_records_fixes(team: dict[str, Api]) -> None:
    rid = confirmed_report(team)
    for role in ("reporter", "collaborator", "outsider"):
        assert team[role].post(f"/api/v1/reports/{rid}/fixes", {"kind": "patch"}).status == 404
    bad = team["maintainer"].post(f"/api/v1/reports/{rid}/fixes", {"kind": "commit"})
    assert (bad.status, bad.json["error"]["field"]) == (422, "commits")
    bad_sha = team["maintainer"].post(
        f"/api/v1/reports/{rid}/fixes",
        {"kind": "commit", "commits": [{"repository": "https://example.org/r.git", "sha": "zz", "branch": "main"}]},
    )
    assert (bad_sha.status, bad_sha.json["error"]["field"]) == (422, "commits.0.sha")


def test_patches_are_stored_sealed_per_supported_branch(team: dict[str, Api]) -> None:
    Project.objects.filter(slug="requests").update(supported_branches=["main", "2.31.x"])
    rid = confirmed_report(team)
    fix = add_fix(team, rid)
    url = f"/api/v1/reports/{rid}/fixes/{fix['id']}/patches"
    wrong = team["maintainer"].post(url, files={"file": SimpleUploadedFile("a.patch", PATCH), "branch": "1.x"})
    assert (wrong.status, wrong.json["error"]["field"]) == (422, "branch")
    created = team["maintainer"].post(url, files={"file": SimpleUploadedFile("fix.patch", PATCH), "branch": "main"})
    assert created.status == 201, created.text
    patch = created.json
    assert patch["sha256"] == hashlib.sha256(PATCH).hexdigest()
    assert patch["branch"] == "main"
    download = team["reporter"].get(patch["download_url"])
    assert download.body == PATCH
    assert download.headers["Content-Disposition"].startswith("attachment")
    with connection.cursor() as cursor:
        cursor.execute("SELECT diffstat, filename FROM fixes_patch")
        stored = b"".join(bytes(v) for v in cursor.fetchone())
    assert b"fix.patch" not in stored
    from pathlib import Path

    from django.conf import settings

    files = list((Path(settings.EMBARGO_DATA_DIR) / "files" / "patches").glob("*"))
    assert files
    assert all(b"Pelican-6610" not in f.read_bytes() for f in files)


def test_public_commits_are_recorded_on_the_fix(team: dict[str, Api]) -> None:
    rid = confirmed_report(team)
    fix = add_fix(team, rid)
    commits = [{"repository": "https://github.com/psf/requests", "sha": "a1b2c3d4e5f6", "branch": "main"}]
    changed = team["maintainer"].patch(f"/api/v1/reports/{rid}/fixes/{fix['id']}", {"public_commits": commits})
    assert changed.status == 200, changed.text
    assert changed.json["public_commits"] == commits
    assert team["reporter"].patch(f"/api/v1/reports/{rid}/fixes/{fix['id']}", {"public_commits": []}).status == 404


def _fix_ready(team: dict[str, Api]) -> str:
    rid = confirmed_report(team)
    add_fix(team, rid, description="Strip the header.")
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "fix_ready"}).status == 200
    return rid


def test_still_vulnerable_returns_the_report_to_confirmed_and_tells_the_team(team: dict[str, Api]) -> None:
    clock.freeze(T0)
    rid = _fix_ready(team)
    OutboxMessage.objects.all().delete()
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/fix-confirmation", {"fixed": False}).status == 404
    answer = {"fixed": False, "comment": "Still leaks with a 308 redirect."}
    response = team["reporter"].post(f"/api/v1/reports/{rid}/fix-confirmation", answer)
    assert response.status == 200, response.text
    assert response.json["state"] == "confirmed"
    thread = [m["body"] for m in team["reporter"].get(f"/api/v1/reports/{rid}/messages").json["items"]]
    assert thread[-1] == "Still leaks with a 308 redirect."
    told = sorted(OutboxMessage.objects.filter(template="fix_confirmation_answered").values_list("to_email", flat=True))
    assert told == ["maintainer@example.org", "owner@example.org"]
    assert Event.objects.filter(tag="report:fix_disputed").count() == 1
    again = team["reporter"].post(f"/api/v1/reports/{rid}/fix-confirmation", {"fixed": True})
    assert (again.status, again.json["error"]["code"]) == (409, "not_fix_ready")


def test_a_confirmation_stops_the_clock(team: dict[str, Api]) -> None:
    clock.freeze(T0)
    rid = _fix_ready(team)
    clock.freeze(T0 + dt.timedelta(days=2))
    response = team["reporter"].post(f"/api/v1/reports/{rid}/fix-confirmation", {"fixed": True})
    assert response.status == 200
    clocks = {c["name"]: c for c in response.json["clocks"]}
    assert clocks["confirmation"]["state"] == "stopped"
    assert response.json["state"] == "fix_ready"
    clock.freeze(T0 + dt.timedelta(days=9))
    worker.run_pass(T0 + dt.timedelta(days=9), run_jobs=False)
    assert not Event.objects.filter(tag="report:confirmation_timed_out").exists()


def test_without_an_answer_the_team_may_proceed_and_the_timeline_says_so(team: dict[str, Api]) -> None:
    clock.freeze(T0)
    rid = _fix_ready(team)
    clock.freeze(T0 + dt.timedelta(days=6, hours=23))
    worker.run_pass(clock.now(), run_jobs=False)
    assert not Event.objects.filter(tag="report:confirmation_timed_out").exists()
    OutboxMessage.objects.all().delete()
    clock.freeze(T0 + dt.timedelta(days=7, minutes=1))
    worker.run_pass(clock.now(), run_jobs=False)
    timeline = [e["tag"] for e in team["reporter"].get(f"/api/v1/reports/{rid}/events").json["items"]]
    assert timeline.count("report:confirmation_timed_out") == 1
    to_team = OutboxMessage.objects.filter(template="clock_reminder", context__clock="confirmation").values_list(
        "to_email", flat=True
    )
    assert sorted(to_team) == ["maintainer@example.org", "owner@example.org"]
    worker.run_pass(clock.now() + dt.timedelta(days=1), run_jobs=False)
    assert Event.objects.filter(tag="report:confirmation_timed_out").count() == 1


def test_a_reproduction_needs_a_repository_and_a_proof_of_concept(team: dict[str, Api]) -> None:
    rid = confirmed_report(team)
    no_repo = team["maintainer"].post(f"/api/v1/reports/{rid}/reproductions", {"target": "affected"})
    assert (no_repo.status, no_repo.json["error"]["code"]) == (409, "no_repository")
    Project.objects.filter(slug="requests").update(repository_url="https://github.com/psf/requests")
    no_poc = team["maintainer"].post(f"/api/v1/reports/{rid}/reproductions", {"target": "affected"})
    assert (no_poc.status, no_poc.json["error"]["code"]) == (409, "no_proof_of_concept")
    assert team["reporter"].post(f"/api/v1/reports/{rid}/reproductions", {"target": "affected"}).status == 404
