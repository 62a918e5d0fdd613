"""The published-advisory index: the OSV API answers from (ecosystem, name) rows and the records kept in clear, with
the same answers as reading and matching every published record (the full scan it replaced), at a cost that does
not grow with the advisories of other packages; the rows follow publication, amendment, CVE ID, withdrawal and
import, and the migration backfills them; all.zip streams; the public lists stay O(page)."""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import io
import json
import zipfile
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from embargo import clock
from embargo.advisories import public, public_views, zipstream
from embargo.advisories.models import Advisory, PublishedPackage, PublishedRecord
from embargo.domain import osv_match
from tests.advisories.test_public import DRAFT, advisory_for_report, import_records, publish
from tests.formats.test_exports import GHSA_RECORD
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def imported(osv_id: str, ecosystem: str, name: str, events: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    """An OSV record as another database writes it, affecting one package."""
    return {
        "schema_version": "1.4.0",
        "id": osv_id,
        "modified": "2025-01-02T03:04:05Z",
        "published": "2025-01-01T00:00:00Z",
        "summary": f"A flaw in {name}",
        "details": f"Details of the flaw in {name}.",
        "affected": [
            {"package": {"ecosystem": ecosystem, "name": name}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}
        ],
        "references": [{"type": "WEB", "url": f"https://example.org/{osv_id}"}],
        **extra,
    }


# Several ecosystems and orders: SemVer (npm, Go), natural order (Debian with a suffix, Maven), PEP 440 with a
# name that only matches normalised, a `versions` list, last_affected, and a second affected entry.
OTHERS = [
    imported("GHSA-aaaa-bbbb-cccc", "npm", "left-pad", [{"introduced": "1.0.0"}, {"fixed": "1.3.1"}]),
    imported("GO-2025-0001", "Go", "example.org/mod", [{"introduced": "0"}, {"fixed": "1.4.0-rc.2"}]),
    imported("DSA-5001-1", "Debian:12", "openssl", [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]),
    imported("DSA-5002-1", "Debian:11", "openssl", [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u1"}]),
    imported("GHSA-mmmm-nnnn-pppp", "Maven", "org.example:lib", [{"introduced": "2.0"}, {"last_affected": "2.4"}]),
    imported(
        "PYSEC-2025-1",
        "PyPI",
        "Zope.Interface",
        [{"introduced": "4.0"}, {"fixed": "5.1"}],
        aliases=["CVE-2025-1111"],
    ),
]
OTHERS[0]["affected"][0]["versions"] = ["0.9.9"]
OTHERS[0]["affected"].append(
    {"package": {"ecosystem": "npm", "name": "right-pad"}, "ranges": [{"type": "SEMVER", "events": [
        {"introduced": "0"}, {"fixed": "2.0.0"}]}]}
)  # fmt: skip

QUERIES: list[tuple[str, str, str | None]] = [
    ("PyPI", "requests", None),
    ("PyPI", "requests", "2.3.0"),
    ("PyPI", "requests", "2.31.0"),
    ("PyPI", "Requests", "2.30.0"),  # normalised name
    ("PyPI", "requests", "2.32.0"),
    ("PyPI", "requests", "not a version"),
    ("PyPI", "requests-oauthlib", "1.3.1"),
    ("PyPI", "requests-oauthlib", "1.3.2"),
    ("PyPI", "zope-interface", "4.5"),
    ("PyPI", "zope_interface", "5.1"),
    ("npm", "left-pad", "0.9.9"),  # listed in `versions`
    ("npm", "left-pad", "1.2.0"),
    ("npm", "left-pad", "1.3.1"),
    ("npm", "right-pad", "1.9.9"),
    ("npm", "Left-Pad", "1.2.0"),  # npm names are not normalised
    ("Go", "example.org/mod", "v1.4.0-rc.1"),
    ("Go", "example.org/mod", "v1.4.0"),
    ("Debian", "openssl", None),  # an ecosystem without its suffix matches every suffix
    ("Debian", "openssl", "3.0.11-1~deb12u1"),
    ("Debian:12", "openssl", "3.0.11-1~deb12u1"),
    ("Debian:11", "openssl", "3.0.11-1~deb12u1"),
    ("Maven", "org.example:lib", "2.4"),
    ("Maven", "org.example:lib", "2.5"),
    ("crates.io", "nothing", "1.0.0"),
]


def full_scan(package: osv_match.Package, version: str | None) -> list[dict[str, Any]]:
    """The query as it was before the index: every published, not withdrawn record built and matched."""
    found = []
    for advisory in public.published().filter(withdrawn_at__isnull=True):
        try:
            data = public.osv(advisory)
        except public.NotPublished:
            continue
        if osv_match.affects(data, package, version):
            found.append(data)
    return sorted(found, key=lambda r: str(r["id"]))


@pytest.fixture
def history(team: dict[str, Api]) -> dict[str, str]:
    """Ours published (requests 2.3.0 ≤ v < 2.32.0), a second one of ours withdrawn, and imported records."""
    rid, ours = advisory_for_report(team)
    publish(rid)
    withdrawn = submit(team["reporter"])["id"]
    assert team["maintainer"].call("PUT", f"/api/v1/reports/{withdrawn}/advisory", DRAFT).status == 200
    publish(withdrawn)
    gone = team["maintainer"].post(f"/api/v1/reports/{withdrawn}/advisory/withdraw", {"reason": "Not a flaw."})
    assert gone.status == 200, gone.text
    import_records(team["owner"], GHSA_RECORD, *OTHERS)
    return {"ours": f"x_{ours}", "withdrawn": f"x_{Advisory.objects.get(report__public_id=withdrawn).readable_id}"}


def test_the_index_answers_as_the_full_scan_did(history: dict[str, str]) -> None:
    anyone = Api()
    matched: set[str] = set()
    batch = []
    for ecosystem, name, version in QUERIES:
        package = osv_match.Package(ecosystem, name)
        expected = full_scan(package, version)
        assert public.query(package, version) == expected, (ecosystem, name, version)
        body: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
        if version is not None:
            body["version"] = version
        batch.append(body)
        answer = anyone.post("/osv/v1/query", body)
        assert answer.status == 200
        assert answer.json == ({"vulns": expected} if expected else {})
        matched |= {r["id"] for r in expected}
    # The set is not trivial: every record matched some query, and the withdrawn one none.
    assert matched == {history["ours"], GHSA_RECORD["id"], *(r["id"] for r in OTHERS)}
    assert history["withdrawn"] not in matched
    results = anyone.post("/osv/v1/querybatch", {"queries": batch}).json["results"]
    for (ecosystem, name, version), result in zip(QUERIES, results, strict=True):
        expected = full_scan(osv_match.Package(ecosystem, name), version)
        assert result == ({"vulns": [{"id": r["id"], "modified": r["modified"]} for r in expected]} if expected else {})


def test_rows_follow_publication_amendment_cve_withdrawal_and_import(team: dict[str, Api]) -> None:
    clock.freeze(NOW)
    # A real publication (embargo broken, so it can happen at once) writes the record and the package row.
    from tests.releases.test_publication import fixed_report, scheduled

    rid = fixed_report(team, 1, cve=False)
    scheduled(team, rid, notify=False)
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/release/embargo-broken", {"reason": "Public."}).status == 200
    advisory = Advisory.objects.get(report__public_id=rid)
    assert not PublishedRecord.objects.filter(advisory=advisory).exists()  # under embargo: nothing in clear
    done = team["owner"].post(f"/api/v1/reports/{rid}/publish", {"overrides": {"records_valid": "CVE ID later."}})
    assert done.status == 200, done.json
    record = PublishedRecord.objects.get(advisory=advisory)
    assert json.loads(record.osv) == public.osv(Advisory.objects.get(pk=advisory.pk))
    assert list(PublishedPackage.objects.filter(record=record).values_list("ecosystem", "name")) == [
        ("PyPI", "requests")
    ]
    # An amendment changes the package: the old row goes, the new one comes.
    base = f"/api/v1/reports/{rid}/advisory"
    moved = copy.deepcopy(DRAFT)
    moved["affected"][0]["package"] = "Requests_Toolbelt"
    clock.freeze(NOW + dt.timedelta(hours=1))
    assert team["maintainer"].call("PUT", base, moved).status == 200
    assert list(PublishedPackage.objects.values_list("name", flat=True)) == ["requests-toolbelt"]
    assert json.loads(PublishedRecord.objects.get(advisory=advisory).osv)["modified"] == "2026-12-01T11:00:00Z"
    # A CVE ID given after publication reaches the public record's aliases.
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/cve", {"cve_id": "CVE-2026-7777"}).status == 201
    assert json.loads(PublishedRecord.objects.get(advisory=advisory).osv)["aliases"] == ["CVE-2026-7777"]
    # Withdrawal keeps the record (served by ID and in all.zip) but takes it out of every query.
    assert team["maintainer"].post(f"{base}/withdraw", {"reason": "Not a flaw."}).status == 200
    assert "withdrawn" in json.loads(PublishedRecord.objects.get(advisory=advisory).osv)
    assert not PublishedPackage.objects.exists()
    # An import indexes the imported record at once.
    import_records(team["owner"], GHSA_RECORD)
    names = set(PublishedPackage.objects.values_list("record__osv_id", "name"))
    assert names == {(GHSA_RECORD["id"], "requests"), (GHSA_RECORD["id"], "requests-oauthlib")}


def test_the_migration_backfills_the_index(history: dict[str, str]) -> None:
    before = {r.pk: (r.osv_id, r.osv) for r in PublishedRecord.objects.all()}
    packages = sorted(PublishedPackage.objects.values_list("record_id", "ecosystem", "name", "affected"))
    assert len(before) == 9  # ours, our withdrawn one, GHSA and the six others
    assert packages
    PublishedRecord.objects.all().delete()
    assert public.query(osv_match.Package("PyPI", "requests"), "2.31.0") == []
    backfill = importlib.import_module("embargo.advisories.migrations.0004_backfill")
    backfill.backfill(django_apps, None)
    assert {r.pk: (r.osv_id, r.osv) for r in PublishedRecord.objects.all()} == before
    assert sorted(PublishedPackage.objects.values_list("record_id", "ecosystem", "name", "affected")) == packages


def _import_more(api: Api, total: int) -> None:
    """Imported advisories of other packages (one each) until there are `total`."""
    n = Advisory.objects.filter(readable_id__startswith="OTHER-").count()
    records = [
        imported(f"OTHER-{i:04d}", "PyPI", f"other-{i}", [{"introduced": "0"}, {"fixed": "9"}]) for i in range(n, total)
    ]
    if records:
        import_records(api, *records)


def test_a_query_costs_the_same_whatever_the_advisories_of_other_packages(history: dict[str, str], team: Any) -> None:
    # Guards against a scan: the old query read and unsealed every published advisory (in one SQL query, so the
    # count alone would not show it; hence the check of the tables read as well).
    anyone = Api()
    single = {"package": {"ecosystem": "PyPI", "name": "requests"}, "version": "2.31.0"}
    batch = {"queries": [single, {"package": {"ecosystem": "npm", "name": "left-pad"}}]}
    counts: dict[tuple[int, str], int] = {}
    for total in (3, 30):
        _import_more(team["owner"], total)
        for path, body in (("/osv/v1/query", single), ("/osv/v1/querybatch", batch)):
            with CaptureQueriesContext(connection) as queries:
                answer = anyone.post(path, body)
            assert answer.status == 200
            counts[total, path] = len(queries)
            # Not one advisory row (sealed draft) is read: only the package rows and the records in clear.
            assert not [q["sql"] for q in queries if '"advisories_advisory"' in q["sql"]]
        assert [v["id"] for v in anyone.post("/osv/v1/query", single).json["vulns"]] == [history["ours"]]
    assert counts[3, "/osv/v1/query"] == counts[30, "/osv/v1/query"]
    assert counts[3, "/osv/v1/querybatch"] == counts[30, "/osv/v1/querybatch"]


def test_all_zip_streams_the_same_records(history: dict[str, str]) -> None:
    response = Client().get("/osv/all.zip")
    assert response.status_code == 200
    assert response.streaming  # a StreamingHttpResponse: never built whole in memory
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        got = {name: archive.read(name).decode() for name in names}
    expected = {}
    for advisory in public.published().order_by("readable_id"):
        text = public.record(advisory, "osv")
        expected[json.loads(text)["id"] + ".json"] = text
    assert got == expected  # byte for byte the records served by ID, withdrawn ones included
    assert names == [f"{json.loads(t)['id']}.json" for t in expected.values()]  # in readable-ID order
    assert f"{history['withdrawn']}.json" in got


def test_the_security_page_and_the_feed_cost_the_same_at_3_and_30_advisories(team: dict[str, Api]) -> None:
    anyone = Api()
    counts: dict[tuple[int, str], int] = {}
    for total in (3, 30):
        _import_more(team["owner"], total)
        for path in ("/projects/requests/security", "/projects/requests/advisories.atom"):
            with CaptureQueriesContext(connection) as queries:
                assert anyone.get(path).status == 200
            counts[total, path] = len(queries)
    assert counts[3, "/projects/requests/security"] == counts[30, "/projects/requests/security"]
    assert counts[3, "/projects/requests/advisories.atom"] == counts[30, "/projects/requests/advisories.atom"]


def test_the_security_page_pages_by_keyset(team: dict[str, Api], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public_views, "PROJECT_PAGE_LENGTH", 10)
    _import_more(team["owner"], 25)
    anyone = Api()
    seen: list[str] = []
    path = "/projects/requests/security"
    counts = []
    while True:
        with CaptureQueriesContext(connection) as queries:
            page = anyone.get(path)
        counts.append(len(queries))
        assert page.status == 200
        listed = [line.split('">', 1)[1].split("<", 1)[0] for line in page.text.split('<a href="/advisories/')[1:]]
        assert 0 < len(listed) <= 10
        seen += listed
        if 'rel="next"' not in page.text:
            break
        path = "/projects/requests/security?before=" + listed[-1]
    # Every advisory once, newest first (the imports share a moment: then the later one first).
    assert seen == [f"OTHER-{i:04d}" for i in reversed(range(25))]
    assert len(counts) == 3
    assert counts[1] == counts[2]  # a later page costs the same as another later page
    assert anyone.get("/projects/requests/security?before=NOPE-1").status == 404


@pytest.mark.django_db(False)
def test_the_zip_stream_reads_back_past_65535_entries_and_with_unicode_names() -> None:
    # Past 65,535 entries only the ZIP64 end records let a reader find them all (OSV's own all.zip is that big).
    entries = [(f"x_{i:06d}.json", b'{"id": %d}' % i) for i in range(70_000)] + [("é.json", b"{}")]
    body = b"".join(zipstream.stream(iter(entries)))
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert len(archive.infolist()) == len(entries)
        assert archive.read("x_069999.json") == b'{"id": 69999}'
        assert archive.read("é.json") == b"{}"
        assert archive.testzip() is None
