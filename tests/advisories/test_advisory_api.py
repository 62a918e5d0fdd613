"""The advisory through the API: the draft and its readable ID, CVE identifiers at the moment the policy
allows (by hand, or through CVE Services against its local stand-in), exports, consent, and import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cvss import CVSS3
from django.core.files.uploadedfile import SimpleUploadedFile

from embargo.projects.models import Project
from tests.advisories.test_cve_services import StandIn, stand_in  # noqa: F401 - the fixture
from tests.formats.test_exports import GHSA_RECORD, schema_errors
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db
DRAFT: dict[str, Any] = {
    "summary": "Proxy credentials leak on cross-host redirects",
    "details": "The `Proxy-Authorization` header survives a redirect to another host.",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"}],
    "cwe_ids": ["CWE-200"],
    "affected": [{"ecosystem": "PyPI", "package": "requests", "ranges": [{"introduced": "2.3.0", "fixed": "2.32.0"}]}],
    "references": [{"type": "FIX", "url": "https://github.com/psf/requests/commit/a1b2c3d4"}],
    "credits": [{"name": "Example Security Team", "type": "COORDINATOR"}],
}
ORG = "b3476cb9-2e3d-41a6-98d0-0f47421a65b6"


def fix_ready(team: dict[str, Api], **fields: Any) -> str:
    rid = submit(team["reporter"], **fields)["id"]
    team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "confirmed", "comment": "Reproduced."})
    team["maintainer"].post(f"/api/v1/reports/{rid}/fixes", {"kind": "patch", "description": "Strip it."})
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "fix_ready"}).status == 200
    return rid


def test_the_draft_gets_its_readable_id_once_and_the_reporter_previews_it(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"], credit_name="Ada L.")["id"]
    url = f"/api/v1/reports/{rid}/advisory"
    assert team["maintainer"].get(url).status == 404  # nothing written yet
    saved = team["maintainer"].call("PUT", url, DRAFT)
    assert saved.status == 200, saved.text
    advisory_id = saved.json["id"]
    assert advisory_id.startswith("EMB-")
    again = team["maintainer"].call("PUT", url, {**DRAFT, "summary": "Proxy credentials leak"})
    assert again.json["id"] == advisory_id
    preview = team["reporter"].get(url).json
    assert preview["summary"] == "Proxy credentials leak"
    expected = CVSS3(DRAFT["severity"][0]["score"])
    assert preview["severity"][0]["base_score"] == float(expected.base_score) == 6.1
    assert preview["severity"][0]["rating"].lower() == expected.severities()[0].lower() == "medium"
    assert preview["cwe_names"]["CWE-200"].startswith("Exposure of Sensitive Information")
    assert preview["reporter_credit"] == {"name": "Ada L.", "type": "REPORTER", "contact": []}
    assert preview["reporter_credit_public"] is False
    assert team["reporter"].call("PUT", url, DRAFT).status == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:Q"}]}, "severity.0"),
        ({"affected": [{"ecosystem": "PyPI", "package": "requests", "ranges": [{"introduced": "0", "fixed": "two"}]}]},
         "affected.0.ranges.0.fixed"),
        ({"cwe_ids": ["CWE-999999"]}, "cwe_ids.0"),
        ({"references": [{"type": "FIX", "url": "javascript:alert(1)"}]}, "references.0.url"),
    ],
)  # fmt: skip
def test_a_bad_draft_is_422_naming_the_field(team: dict[str, Api], change: dict[str, Any], field: str) -> None:
    rid = submit(team["reporter"])["id"]
    response = team["maintainer"].call("PUT", f"/api/v1/reports/{rid}/advisory", {**DRAFT, **change})
    assert response.status == 422, response.text
    assert response.json["error"]["field"].startswith(field)


def test_a_cve_id_only_once_the_policy_allows_it(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    early = team["maintainer"].post(f"/api/v1/reports/{rid}/cve", {"cve_id": "CVE-2026-12345"})
    assert (early.status, early.json["error"]["code"]) == (409, "cve_too_early")
    assert "fix" in early.json["error"]["message"]
    rid = fix_ready(team)
    bad = team["maintainer"].post(f"/api/v1/reports/{rid}/cve", {"cve_id": "CVE-26-1"})
    assert (bad.status, bad.json["error"]["field"]) == (422, "cve_id")
    done = team["maintainer"].post(f"/api/v1/reports/{rid}/cve", {"cve_id": "cve-2026-12345"})
    assert done.status == 201, done.text
    assert done.json["cve_id"] == "CVE-2026-12345"
    other = fix_ready(team)
    taken = team["maintainer"].post(f"/api/v1/reports/{other}/cve", {"cve_id": "CVE-2026-12345"})
    assert (taken.status, taken.json["error"]["code"]) == (409, "cve_taken")
    events = team["reporter"].get(f"/api/v1/reports/{rid}/events").json["items"]
    assert any(e["tag"] == "advisory:cve_assigned" and e["data"]["cve_id"] == "CVE-2026-12345" for e in events)
    assert team["reporter"].post(f"/api/v1/reports/{rid}/cve", {"cve_id": "CVE-2026-1"}).status == 404


def test_cve_services_reserves_the_id_through_cvelib(team: dict[str, Api], stand_in: StandIn, settings) -> None:  # noqa: F811
    settings.EMBARGO_CVE_SERVICES_URL = stand_in.url
    owner = team["owner"]
    settings_change = {"cve_mode": "cve_services", "cna_org_id": ORG, "cna_short_name": stand_in.org,
                       "cna_user": stand_in.user, "cna_api_key": stand_in.api_key}  # fmt: skip
    changed = owner.patch("/api/v1/projects/requests", settings_change)
    assert changed.status == 200, changed.text
    assert changed.json["cna_api_key_set"] is True
    assert stand_in.api_key not in changed.text
    rid = fix_ready(team)
    reserved = team["maintainer"].post(f"/api/v1/reports/{rid}/cve", {})
    assert reserved.status == 201, reserved.text
    assert reserved.json["cve_id"].startswith("CVE-2026-")
    # Bad credentials come back as a clear error, with nothing assigned.
    owner.patch("/api/v1/projects/requests", {"cna_api_key": "wrong-key"})
    other = fix_ready(team)
    refused = team["maintainer"].post(f"/api/v1/reports/{other}/cve", {})
    assert (refused.status, refused.json["error"]["code"]) == (502, "cve_services_bad_credentials")
    assert "wrong-key" not in refused.text


def test_exports_need_their_identifiers_and_validate(team: dict[str, Api]) -> None:
    rid = fix_ready(team, credit_name="Ada L.", credit_consent=True)
    team["maintainer"].call("PUT", f"/api/v1/reports/{rid}/advisory", DRAFT)
    base = f"/api/v1/reports/{rid}/advisory"
    missing = team["maintainer"].get(f"{base}/cve.json")
    assert (missing.status, missing.json["error"]["code"]) == (409, "cve_id_missing")
    team["maintainer"].post(f"/api/v1/reports/{rid}/cve", {"cve_id": "CVE-2026-4242"})
    no_org = team["maintainer"].get(f"{base}/cve.json")
    assert (no_org.status, no_org.json["error"]["code"]) == (409, "cna_org_missing")
    Project.objects.filter(slug="requests").update(cna_org_id=ORG)
    for kind in ("cve", "osv", "csaf"):
        response = team["maintainer"].get(f"{base}/{kind}.json")
        assert response.status == 200, response.text
        assert schema_errors(kind, response.json) == []
    osv = team["maintainer"].get(f"{base}/osv.json").json
    assert osv["id"].startswith("x_EMB-")
    assert osv["aliases"] == ["CVE-2026-4242"]
    assert team["reporter"].get(f"{base}/osv.json").status == 404  # the records stay with the team until publication


def test_a_reporter_without_consent_appears_in_no_export(team: dict[str, Api]) -> None:
    Project.objects.filter(slug="requests").update(cna_org_id=ORG)
    rid = fix_ready(team, credit_name="Ada Secretname")
    team["maintainer"].call("PUT", f"/api/v1/reports/{rid}/advisory", DRAFT)
    team["maintainer"].post(f"/api/v1/reports/{rid}/cve", {"cve_id": "CVE-2026-5151"})
    base = f"/api/v1/reports/{rid}/advisory"
    for kind in ("cve", "osv", "csaf"):
        assert "Ada Secretname" not in team["maintainer"].get(f"{base}/{kind}.json").text
    team["reporter"].patch(f"/api/v1/reports/{rid}", {"credit_consent": True})
    for kind in ("cve", "osv", "csaf"):
        assert "Ada Secretname" in team["maintainer"].get(f"{base}/{kind}.json").text


def test_importing_osv_records_twice_changes_nothing(team: dict[str, Api], tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "ghsa.json").write_text(json.dumps(GHSA_RECORD))
    (folder / "broken.json").write_text('{"id": ')
    url = "/api/v1/projects/requests/advisories/import"
    first = team["owner"].post(url, files={"file": SimpleUploadedFile("ghsa.json", json.dumps(GHSA_RECORD).encode())})
    assert first.status == 200, first.text
    assert first.json["imported"] == [GHSA_RECORD["id"]]
    assert team["maintainer"].post(url, files={"file": SimpleUploadedFile("x.json", b"{}")}).status == 404


def test_the_import_command_reports_imported_present_and_rejected(tmp_path: Path) -> None:
    from embargo.advisories.importing import ImportResult, import_record, records_in
    from tests.helpers import make_project

    project = make_project("urllib9")
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "ghsa.json").write_text(json.dumps(GHSA_RECORD))
    (folder / "broken.json").write_text('{"id": ')
    (folder / "list.json").write_text("[1, 2]")
    for _ in range(2):
        result = ImportResult()
        for name, raw in records_in(folder):
            import_record(project, name, raw, result, acting_user=None)
        if _ == 0:
            assert result.imported == [GHSA_RECORD["id"]]
        else:
            assert (result.imported, result.present) == ([], [GHSA_RECORD["id"]])
        assert sorted(f for f, _r in result.rejected) == ["broken.json", "list.json"]


def test_the_team_edits_the_advisory_on_the_report_page_and_the_reporter_previews_it(team: dict[str, Api]) -> None:
    from django.test import Client

    from embargo.accounts.models import User

    rid = submit(team["reporter"], credit_name="Ada Quietly")["id"]
    maintainer, reporter = Client(), Client()
    maintainer.force_login(User.objects.get(email="maintainer@example.org"))
    reporter.force_login(User.objects.get(email="reporter@example.org"))
    form = {
        "action": "advisory",
        "summary": "Proxy credentials leak",
        "details": "The **header** survives.",
        "cvss_v3": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
        "cwe_ids": "CWE-200",
        "affected": json.dumps(DRAFT["affected"]),
        "references": "[]",
        "credits": "[]",
    }
    saved = maintainer.post(f"/reports/{rid}/", form)
    assert saved.status_code == 302
    bad = maintainer.post(f"/reports/{rid}/", {**form, "affected": "[{"})
    assert "`affected` is not valid JSON." in bad.content.decode()
    page = reporter.get(f"/reports/{rid}/").content.decode()
    assert "Proxy credentials leak" in page
    assert "<strong>header</strong>" in page
    assert "Exposure of Sensitive Information" in page
    assert "kept private until you consent" in page
    assert 'name="cvss_v3"' not in page  # the reporter previews, the team edits
