"""A published advisory in public: its page, its records (OSV, CVE JSON 5, CSAF), the project's security page and
Atom feed, the zip of every OSV record; amendments and withdrawal; and an advisory under embargo absent from all.

The publish action belongs to the release-day work; here its outcome is set directly (advisory `published` with
its moment, report `published`), which is all the public side reads. Everything before it goes through the API."""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from embargo import clock
from embargo.advisories import index
from embargo.advisories.models import Advisory
from embargo.projects.models import Project
from embargo.reports.models import Report
from tests.formats.test_exports import GHSA_RECORD, schema_errors
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, submit

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"

ORG = "b3476cb9-2e3d-41a6-98d0-0f47421a65b6"
FIX_SHA = "8f3c2a1d9e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"
DRAFT: dict[str, Any] = {
    "summary": "Proxy credentials leak on cross-host redirects",
    "details": "The `Proxy-Authorization` header survives a redirect.\n\n<script>alert('x')</script>",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"}],
    "cwe_ids": ["CWE-200"],
    "affected": [{"ecosystem": "PyPI", "package": "requests", "ranges": [{"introduced": "2.3.0", "fixed": "2.32.0"}]}],
    "references": [{"type": "FIX", "url": "https://github.com/psf/requests/commit/a1b2c3d4"}],
    "credits": [{"name": "Example Security Team", "type": "COORDINATOR"}],
}


def advisory_for_report(team: dict[str, Api], *, consent: bool = True, cve: bool = True) -> tuple[str, str]:
    """(report ID, advisory ID) of a report at fix_ready, its fix landed in public, its advisory written."""
    maintainer = team["maintainer"]
    Project.objects.filter(slug="requests").update(cna_org_id=ORG)
    rid = submit(team["reporter"], credit_name="Ada L.", credit_consent=consent)["id"]
    base = f"/api/v1/reports/{rid}"
    assert maintainer.post(f"{base}/transitions", {"to": "confirmed", "comment": "Reproduced."}).status == 200
    fix = maintainer.post(f"{base}/fixes", {"kind": "patch", "description": "Strip it."})
    assert fix.status == 201, fix.text
    landed = maintainer.patch(
        f"{base}/fixes/{fix.json['id']}",
        {"public_commits": [{"repository": "https://example.org/psf/requests.git", "sha": FIX_SHA, "branch": "main"}]},
    )
    assert landed.status == 200, landed.text
    assert maintainer.post(f"{base}/transitions", {"to": "fix_ready"}).status == 200
    saved = maintainer.call("PUT", f"{base}/advisory", DRAFT)
    assert saved.status == 200, saved.text
    if cve:
        assert maintainer.post(f"{base}/cve", {"cve_id": "CVE-2026-4242"}).status == 201
    return rid, saved.json["id"]


def publish(report_id: str, moment: dt.datetime | None = None) -> None:
    """What the publish action leaves behind, for the public side to read."""
    moment = moment or clock.now()
    Advisory.objects.filter(report__public_id=report_id).update(
        state="published", published_at=moment, updated_at=moment
    )
    Report.objects.filter(public_id=report_id).update(state="published")
    # The publish action also writes the public record and the OSV package index in its transaction.
    for advisory in Advisory.objects.filter(report__public_id=report_id):
        index.refresh(advisory)


def import_records(api: Api, *records: dict[str, Any]) -> None:
    for record in records:
        upload = SimpleUploadedFile(f"{record['id']}.json", json.dumps(record).encode())
        response = api.post("/api/v1/projects/requests/advisories/import", files={"file": upload})
        assert response.status == 200, response.text
        assert response.json["imported"] == [record["id"]], response.text


def public_routes(advisory_id: str) -> list[str]:
    return [
        f"/advisories/{advisory_id}",
        f"/advisories/{advisory_id}.json",
        f"/advisories/{advisory_id}.cve.json",
        f"/advisories/{advisory_id}.csaf.json",
        f"/osv/v1/vulns/{advisory_id}",
        f"/osv/v1/vulns/x_{advisory_id}",
    ]


def zipped(api: Api) -> dict[str, dict[str, Any]]:
    response = api.get("/osv/all.zip")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.body)) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist()}


def feed_entries(api: Api) -> list[ET.Element]:
    response = api.get("/projects/requests/advisories.atom")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.body)  # noqa: S314 - our own feed, built by Django's feedgenerator
    assert root.tag == ATOM + "feed"
    return root.findall(ATOM + "entry")


def test_an_advisory_under_embargo_is_absent_from_every_public_route(team: dict[str, Api]) -> None:
    _, advisory_id = advisory_for_report(team)
    anyone = Api()
    for path in public_routes(advisory_id):
        response = anyone.get(path)
        assert response.status == 404, path
        assert DRAFT["summary"] not in response.text
    assert feed_entries(anyone) == []
    assert zipped(anyone) == {}
    security = anyone.get("/projects/requests/security")
    assert security.status == 200
    assert advisory_id not in security.text
    assert DRAFT["summary"] not in security.text
    query = {"package": {"ecosystem": "PyPI", "name": "requests"}, "version": "2.31.0"}
    assert anyone.post("/osv/v1/query", query).json == {}
    assert anyone.post("/osv/v1/querybatch", {"queries": [query]}).json == {"results": [{}]}
    # Even the team sees it in public only once published.
    assert team["maintainer"].get(f"/advisories/{advisory_id}").status == 404


def test_the_public_page_shows_the_advisory_its_fixing_commits_and_the_consented_credits(
    team: dict[str, Api],
) -> None:
    rid, advisory_id = advisory_for_report(team)
    publish(rid)
    page = Api().get(f"/advisories/{advisory_id}")
    assert page.status == 200, page.text
    text = page.text
    assert DRAFT["summary"] in text
    assert "<code>Proxy-Authorization</code>" in text  # the details as Markdown…
    assert "<script>alert" not in text  # …sanitised
    assert "Medium (6.1)" in text
    assert DRAFT["severity"][0]["score"] in text
    assert "CVE-2026-4242" in text
    assert "CWE-200" in text
    assert "from 2.3.0 before 2.32.0" in text
    assert "<td>2.32.0</td>" in text
    assert f'href="https://example.org/psf/requests/commit/{FIX_SHA}"' in text
    assert "Ada L." in text
    assert "(reporter)" in text
    assert "Example Security Team" in text
    assert "(coordinator)" in text
    assert DRAFT["references"][0]["url"] in text
    assert SECRET_TITLE not in text
    assert SECRET_TEXT not in text
    listed = Api().get("/projects/requests/security").text
    assert f'href="/advisories/{advisory_id}"' in listed
    assert DRAFT["summary"] in listed


def test_a_reporter_without_consent_is_named_nowhere_in_public(team: dict[str, Api]) -> None:
    rid, advisory_id = advisory_for_report(team, consent=False)
    publish(rid)
    anyone = Api()
    for path in public_routes(advisory_id)[:4]:
        response = anyone.get(path)
        assert response.status == 200, path
        assert "Ada L." not in response.text, path
    assert "Example Security Team" in anyone.get(f"/advisories/{advisory_id}").text


def test_every_public_record_of_a_published_advisory_validates(team: dict[str, Api]) -> None:
    rid, advisory_id = advisory_for_report(team)
    moment = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    publish(rid, moment)
    anyone = Api()
    osv = anyone.get(f"/advisories/{advisory_id}.json").json
    assert schema_errors("osv", osv) == []
    assert osv["id"] == f"x_{advisory_id}"
    assert osv["aliases"] == ["CVE-2026-4242"]
    assert osv["published"] == "2026-12-01T10:00:00Z"
    assert {"name": "Ada L.", "type": "REPORTER"} in osv["credits"]
    cve = anyone.get(f"/advisories/{advisory_id}.cve.json").json
    assert schema_errors("cve", cve) == []
    assert cve["cveMetadata"]["cveId"] == "CVE-2026-4242"
    assert cve["cveMetadata"]["datePublished"] == "2026-12-01T10:00:00Z"
    csaf = anyone.get(f"/advisories/{advisory_id}.csaf.json").json
    assert schema_errors("csaf", csaf) == []
    assert csaf["document"]["tracking"]["status"] == "final"
    assert anyone.get(f"/osv/v1/vulns/x_{advisory_id}").json == osv


def test_without_a_cve_id_there_is_no_cve_record(team: dict[str, Api]) -> None:
    rid, advisory_id = advisory_for_report(team, cve=False)
    publish(rid)
    assert Api().get(f"/advisories/{advisory_id}.json").status == 200
    assert Api().get(f"/advisories/{advisory_id}.cve.json").status == 404
    assert "CVE JSON 5" not in Api().get(f"/advisories/{advisory_id}").text


def test_the_feed_lists_published_advisories_newest_first(team: dict[str, Api]) -> None:
    first_rid, first = advisory_for_report(team)
    publish(first_rid, dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC))
    second_rid = submit(team["reporter"])["id"]
    team["maintainer"].call("PUT", f"/api/v1/reports/{second_rid}/advisory", {**DRAFT, "summary": "Second one"})
    publish(second_rid, dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC))
    second = Advisory.objects.get(report__public_id=second_rid).readable_id
    entries = feed_entries(Api())
    links = [e.find(ATOM + "link").get("href") for e in entries]  # type: ignore[union-attr]
    assert [link.rsplit("/", 1)[1] for link in links] == [second, first]
    titles = [e.findtext(ATOM + "title") for e in entries]
    assert titles[1] == f"{first} (CVE-2026-4242): {DRAFT['summary']}"
    osv = Api().get(f"/advisories/{first}.json").json
    updated = entries[1].findtext(ATOM + "updated")
    assert updated is not None
    assert dt.datetime.fromisoformat(updated) == dt.datetime.fromisoformat(osv["modified"].replace("Z", "+00:00"))
    # What a feed reader sees (feedparser): a well-formed Atom feed with both entries and their links.
    import feedparser

    parsed = feedparser.parse(Api().get("/projects/requests/advisories.atom").body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.link.rsplit("/", 1)[1] for e in parsed.entries] == [second, first]


def test_the_zip_holds_every_published_osv_record_and_imported_ones(team: dict[str, Api]) -> None:
    rid, advisory_id = advisory_for_report(team)
    import_records(team["owner"], GHSA_RECORD)
    assert set(zipped(Api())) == {"GHSA-j8r2-6x86-q33q.json"}  # ours is still under embargo
    publish(rid)
    records = zipped(Api())
    assert set(records) == {"GHSA-j8r2-6x86-q33q.json", f"x_{advisory_id}.json"}
    for record in records.values():
        assert schema_errors("osv", record) == []
    assert records["GHSA-j8r2-6x86-q33q.json"]["id"] == "GHSA-j8r2-6x86-q33q"  # an imported ID is kept
    assert Api().get("/advisories/GHSA-j8r2-6x86-q33q").status == 200
    assert schema_errors("csaf", Api().get("/advisories/GHSA-j8r2-6x86-q33q.csaf.json").json) == []
    # Its CVE ID was assigned by another CNA: the CVE record is theirs to publish, not ours.
    assert Api().get("/advisories/GHSA-j8r2-6x86-q33q.cve.json").status == 404


def test_an_amendment_is_a_new_revision_modified_everywhere(team: dict[str, Api]) -> None:
    rid, advisory_id = advisory_for_report(team)
    clock.freeze(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC))
    publish(rid)
    anyone = Api()
    assert 'id="revision">1<' in anyone.get(f"/advisories/{advisory_id}").text
    clock.freeze(dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC))
    amended = team["maintainer"].call(
        "PUT", f"/api/v1/reports/{rid}/advisory", {**DRAFT, "summary": "Proxy credentials leak on redirects"}
    )
    assert amended.status == 200, amended.text
    assert anyone.get(f"/advisories/{advisory_id}.json").json["modified"] == "2026-12-03T09:30:00Z"
    assert anyone.get(f"/advisories/{advisory_id}.json").json["published"] == "2026-12-01T10:00:00Z"
    assert anyone.get(f"/advisories/{advisory_id}.cve.json").json["cveMetadata"]["dateUpdated"] == (
        "2026-12-03T09:30:00Z"
    )
    tracking = anyone.get(f"/advisories/{advisory_id}.csaf.json").json["document"]["tracking"]
    assert tracking["version"] == "2"
    assert [r["date"] for r in tracking["revision_history"]] == ["2026-12-01T10:00:00Z", "2026-12-03T09:30:00Z"]
    assert schema_errors("csaf", anyone.get(f"/advisories/{advisory_id}.csaf.json").json) == []
    page = anyone.get(f"/advisories/{advisory_id}").text
    assert 'id="revision">2<' in page
    assert "Proxy credentials leak on redirects" in page
    updated = feed_entries(anyone)[0].findtext(ATOM + "updated")
    assert updated is not None
    assert updated.startswith("2026-12-03T09:30:00")
    tags = [e["tag"] for e in team["maintainer"].get(f"/api/v1/reports/{rid}/events").json["items"]]
    assert "advisory:amended" in tags


def test_a_withdrawn_advisory_stays_public_with_its_reason_and_matches_no_query(team: dict[str, Api]) -> None:
    rid, advisory_id = advisory_for_report(team)
    url = f"/api/v1/reports/{rid}/advisory/withdraw"
    assert team["maintainer"].post(url, {"reason": "Not yet"}).status == 409  # not published yet
    publish(rid)
    query = {"package": {"ecosystem": "PyPI", "name": "requests"}, "version": "2.31.0"}
    assert Api().post("/osv/v1/query", query).json["vulns"][0]["id"] == f"x_{advisory_id}"
    assert team["reporter"].post(url, {"reason": "No."}).status == 404
    assert team["maintainer"].post(url, {"reason": "   "}).status == 422
    reason = "The behaviour is documented and intended; this was not a vulnerability."
    # A moment after the publication (which happened at the real now): the day after, at 08:00 UTC.
    withdrawn_at = (clock.now() + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    clock.freeze(withdrawn_at)
    stamp = withdrawn_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    withdrawn = team["maintainer"].post(url, {"reason": reason})
    assert withdrawn.status == 200, withdrawn.text
    anyone = Api()
    osv = anyone.get(f"/advisories/{advisory_id}.json").json
    assert osv["withdrawn"] == stamp
    assert osv["modified"] == stamp
    assert schema_errors("osv", osv) == []
    page = anyone.get(f"/advisories/{advisory_id}").text
    assert 'id="withdrawn"' in page
    assert reason in page
    assert f"x_{advisory_id}.json" in zipped(anyone)  # never deleted
    assert anyone.get(f"/osv/v1/vulns/x_{advisory_id}").json["withdrawn"] == stamp
    assert anyone.post("/osv/v1/query", query).json == {}
    assert Advisory.objects.filter(readable_id=advisory_id).exists()
    again = team["maintainer"].post(url, {"reason": reason})
    assert (again.status, again.json["error"]["code"]) == (409, "advisory_withdrawn")
    amend = team["maintainer"].call("PUT", f"/api/v1/reports/{rid}/advisory", DRAFT)
    assert (amend.status, amend.json["error"]["code"]) == (409, "advisory_withdrawn")


def test_the_security_page_and_the_feed_stay_o_page_as_advisories_accumulate(team: dict[str, Api]) -> None:
    rid, _ = advisory_for_report(team)
    publish(rid)
    anyone = Api()
    counts = {}
    for n in (1, 4):
        while Advisory.objects.filter(state="published").count() < n:
            more = submit(team["reporter"])["id"]
            team["maintainer"].call("PUT", f"/api/v1/reports/{more}/advisory", DRAFT)
            publish(more)
        for path in ("/projects/requests/security", "/projects/requests/advisories.atom"):
            with CaptureQueriesContext(connection) as queries:
                assert anyone.get(path).status == 200
            counts[n, path] = len(queries)
    assert counts[1, "/projects/requests/security"] == counts[4, "/projects/requests/security"]
    assert counts[1, "/projects/requests/advisories.atom"] == counts[4, "/projects/requests/advisories.atom"]


def test_the_security_page_states_the_policy_in_words(team: dict[str, Api]) -> None:
    page = Api().get("/projects/requests/security").text
    assert "within 12 hours" in page
    assert "releases fall on Monday to Friday." in page
    assert "/projects/requests/packagers/join/" in page
