"""The read audit: who saw which report, attachment, patch or advisory is recorded (never for a refused request)
and shown to the project's owners only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from embargo import clock
from embargo.accounts.models import User
from embargo.audit.models import Read
from embargo.projects.models import Packager, Project
from embargo.releases import links as release_links
from embargo.releases.models import PackagerNotice, SecurityRelease
from embargo.reports import links
from embargo.reports.models import Report
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, report_awaiting_confirmation, submit

pytestmark = pytest.mark.django_db


def reads() -> list[tuple[str, str, str, str]]:
    return [(r.who, r.kind, r.object_id, r.via) for r in Read.objects.order_by("id")]


def signed_in(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def test_the_team_reading_a_report_through_the_api_is_recorded(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    assert team["maintainer"].get(f"/api/v1/reports/{report_id}").status == 200
    assert reads() == [("maintainer@example.org", "report", report_id, "token")]
    read = Read.objects.get()
    assert read.report.public_id == report_id
    assert read.project.slug == "requests"


def test_a_refused_read_records_nothing(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    assert team["outsider"].get(f"/api/v1/reports/{report_id}").status == 404
    assert team["stranger"].get(f"/api/v1/reports/{report_id}").status == 404
    assert signed_in("outsider@example.org").get(f"/reports/{report_id}/").status_code == 404
    assert Client().get(f"/r/{report_id}/{'0' * 32}/").status_code == 404
    assert reads() == []


def test_pages_record_the_session_and_the_private_link(team: dict[str, Api]) -> None:
    made = report_awaiting_confirmation(team, internal_note="Note.", public_answer="Answer.", attachment=b"poc")
    report_id, attachment_id = made["report_id"], made["attachment_id"]
    owner = signed_in("owner@example.org")
    assert owner.get(f"/reports/{report_id}/").status_code == 200
    assert owner.get(f"/reports/{report_id}/attachments/{attachment_id}/").status_code == 200
    link = links.private_path(Report.objects.get(public_id=report_id))
    assert Client().get(link).status_code == 200
    assert Client().get(f"{link}attachments/{attachment_id}/").status_code == 200
    assert reads() == [
        ("owner@example.org", "report", report_id, "session"),
        ("owner@example.org", "attachment", attachment_id, "session"),
        ("reporter link", "report", report_id, "private_link"),
        ("reporter link", "attachment", attachment_id, "private_link"),
    ]
    assert Read.objects.filter(via="private_link").first().user.email == "reporter@example.org"  # type: ignore[union-attr]


def test_patch_and_advisory_reads_through_the_api_are_recorded(team: dict[str, Api]) -> None:
    made = report_awaiting_confirmation(team, internal_note="Note.", public_answer="Answer.", attachment=b"poc")
    base = f"/api/v1/reports/{made['report_id']}"
    patch = team["maintainer"].post(f"{base}/fixes/{made['fix_id']}/patches", files={
        "file": SimpleUploadedFile("fix.patch", b"--- a/x\n+++ b/x\n"), "branch": "main"})  # fmt: skip
    assert patch.status == 201, patch.text
    advisory = team["maintainer"].call("PUT", f"{base}/advisory", {"summary": "Proxy credentials leak"})
    assert advisory.status == 200, advisory.text
    Read.objects.all().delete()
    assert team["collaborator"].get(f"{base}/fixes/{made['fix_id']}/patches/{patch.json['id']}").status == 200
    assert team["reporter"].get(f"{base}/advisory").status == 200
    assert team["owner"].get(f"{base}/advisory/osv.json").status == 200
    assert team["reporter"].get(f"{base}/advisory/osv.json").status == 404  # refused: not recorded
    assert reads() == [
        ("collaborator@example.org", "patch", patch.json["id"], "token"),
        ("reporter@example.org", "advisory", advisory.json["id"], "token"),
        ("owner@example.org", "advisory", advisory.json["id"], "token"),
    ]


def packager_links(team: dict[str, Api], report_id: str, fix_id: str) -> tuple[str, str, str]:
    """A packager sent an embargo notice of a release holding the report (rows as tests/web/test_page_permissions
    builds them); returns its access path, the patch ID and the advisory's name."""
    from tests.vault import keys as test_keys

    project = Project.objects.get(slug="requests")
    test_keys.give_project_key(project)
    base = f"/api/v1/reports/{report_id}"
    patch = team["maintainer"].post(f"{base}/fixes/{fix_id}/patches", files={
        "file": SimpleUploadedFile("fix.patch", b"--- a/x\n+++ b/x\n"), "branch": "main"})  # fmt: skip
    assert patch.status == 201, patch.text
    advisory = team["maintainer"].call("PUT", f"{base}/advisory", {"summary": "Proxy credentials leak"})
    assert advisory.status == 200, advisory.text
    created = team["maintainer"].post(
        "/api/v1/projects/requests/security-releases", {"reports": [report_id], "versions": ["2.32.4"]}
    )
    assert created.status == 201, created.text
    release = SecurityRelease.objects.get(public_id=created.json["id"])
    release.release_at = clock.now() + dt.timedelta(days=10)
    release.save()
    packager = Packager.objects.create(
        project=project, organisation="Distro Security", emails=["security@distro.example.org"], created_at=clock.now()
    )
    PackagerNotice.objects.create(
        release=release, packager=packager, round=1, reason="first", report_ids=[report_id], created_at=clock.now()
    )
    return release_links.access_path(packager, release), patch.json["id"], advisory.json["id"]


def test_a_packagers_views_are_recorded_with_their_link(team: dict[str, Api]) -> None:
    made = report_awaiting_confirmation(team, internal_note="Note.", public_answer="Answer.", attachment=b"poc")
    access, patch_id, name = packager_links(team, made["report_id"], made["fix_id"])
    Read.objects.all().delete()
    packager = Client()
    assert packager.get(access).status_code == 200
    assert packager.get(f"{access}patches/{patch_id}/").status_code == 200
    assert packager.get(f"{access}advisories/{name}.osv.json").status_code == 200
    forged = access.rsplit("/", 2)[0] + "/" + "0" * 32 + "/"
    assert Client().get(forged).status_code == 404  # refused: not recorded
    who = "packager Distro Security"
    assert reads() == [
        (who, "advisory", name, "packager_link"),
        (who, "patch", patch_id, "packager_link"),
        (who, "advisory", name, "packager_link"),
    ]


def test_owners_see_the_reads_newest_first_and_others_get_404(team: dict[str, Api]) -> None:
    first = submit(team["reporter"])["id"]
    second = submit(team["reporter"])["id"]
    for report_id in (first, second, first):
        assert team["maintainer"].get(f"/api/v1/reports/{report_id}").status == 200
    page = team["owner"].get("/api/v1/projects/requests/reads?limit=2")
    assert page.status == 200, page.text
    assert [(i["report"], i["who"], i["via"]) for i in page.json["items"]] == [
        (first, "maintainer@example.org", "token"),
        (second, "maintainer@example.org", "token"),
    ]
    rest = team["owner"].get(f"/api/v1/projects/requests/reads?limit=2&cursor={page.json['next_cursor']}")
    assert [i["report"] for i in rest.json["items"]] == [first]
    assert rest.json["next_cursor"] is None
    only = team["owner"].get(f"/api/v1/projects/requests/reads?report={second}").json["items"]
    assert [i["report"] for i in only] == [second]
    for role in ("maintainer", "reporter", "outsider", "stranger"):
        assert team[role].get("/api/v1/projects/requests/reads").status == 404

    html = signed_in("owner@example.org").get("/projects/requests/settings/reads/")
    assert html.status_code == 200
    text = html.content.decode()
    assert first in text
    assert "maintainer@example.org" in text
    assert SECRET_TITLE not in text
    assert SECRET_TEXT not in text
    assert signed_in("maintainer@example.org").get("/projects/requests/settings/reads/").status_code == 404


def test_the_owners_page_filters_by_report(team: dict[str, Api]) -> None:
    first = submit(team["reporter"])["id"]
    second = submit(team["reporter"])["id"]
    for report_id in (first, second):
        assert team["maintainer"].get(f"/api/v1/reports/{report_id}").status == 200
    text = signed_in("owner@example.org").get(f"/projects/requests/settings/reads/?report={second}").content.decode()
    assert second in text
    assert f">{first}<" not in text
