"""The OSV-compatible API: an OSV client pointed at this instance gets the same shapes as from the public OSV
API — the advisory for an affected version, nothing for a fixed one — by the OSV rules, for our published
advisories and imported real-world records alike; an advisory under embargo is unknown to it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.advisories.test_public import advisory_for_report, import_records, publish
from tests.formats.test_exports import GHSA_RECORD, schema_errors
from tests.helpers import Api

pytestmark = pytest.mark.django_db

# A PYSEC-like record with two vulnerable spans and a `versions` list, as the PyPA advisory database writes them.
PYSEC_RECORD: dict[str, Any] = {
    "schema_version": "1.4.0",
    "id": "PYSEC-2014-14",
    "modified": "2021-07-05T00:01:19Z",
    "published": "2014-10-15T20:55:00Z",
    "aliases": ["CVE-2014-1829"],
    "details": "Requests before 2.3.0 exposes Authorization or Proxy-Authorization headers on redirect.",
    "affected": [{
        "package": {"ecosystem": "PyPI", "name": "requests", "purl": "pkg:pypi/requests"},
        "ranges": [{"type": "ECOSYSTEM", "events": [
            {"introduced": "0"}, {"fixed": "2.3.0"}, {"introduced": "3.0.0a1"}, {"fixed": "3.0.0a3"},
        ]}],
        "versions": ["0.10.0", "1.2.3", "2.0.0", "2.2.1"],
    }],
    "references": [{"type": "ADVISORY", "url": "https://example.org/advisories/CVE-2014-1829"}],
}  # fmt: skip
QUERY = "/osv/v1/query"


def ids(response: Any) -> list[str]:
    assert response.status == 200, response.text
    return [v["id"] for v in response.json.get("vulns", [])]


def pypi(version: str | None = None, name: str = "requests") -> dict[str, Any]:
    query: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": name}}
    if version is not None:
        query["version"] = version
    return query


@pytest.fixture
def history(team: dict[str, Api]) -> str:
    """Our published advisory (2.3.0 ≤ v < 2.32.0) and two imported records; the OSV ID of ours."""
    rid, advisory_id = advisory_for_report(team)
    publish(rid)
    import_records(team["owner"], GHSA_RECORD, PYSEC_RECORD)
    return f"x_{advisory_id}"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.2.1", {"PYSEC-2014-14"}),  # listed, and before 2.3.0
        ("2.3.0", {"GHSA", "ours"}),  # introduced is inclusive; PYSEC fixed at 2.3.0
        ("2.30.0", {"GHSA", "ours"}),  # PEP 440 order, not text order
        ("2.31.0", {"ours"}),  # GHSA fixed at 2.31.0
        ("2.32.0", set()),  # our fixed version: nothing
        ("3.0.0a2", {"PYSEC-2014-14"}),  # the second span, by pre-release order
        ("3.0.0a3", set()),
    ],
)
def test_a_query_by_version_answers_by_the_osv_rules(history: str, version: str, expected: set[str]) -> None:
    names = {"GHSA": GHSA_RECORD["id"], "ours": history}
    found = ids(Api().post(QUERY, pypi(version)))
    assert set(found) == {names.get(e, e) for e in expected}
    assert found == sorted(found)


def test_a_query_answers_full_osv_records_and_nothing_as_an_empty_object(history: str) -> None:
    response = Api().post(QUERY, pypi("2.31.0"))
    (record,) = response.json["vulns"]
    assert record["id"] == history
    assert schema_errors("osv", record) == []
    assert record == Api().get(f"/osv/v1/vulns/{history}").json
    assert Api().post(QUERY, pypi("2.32.0")).json == {}
    assert Api().post(QUERY, pypi("1.0", name="urllib3")).json == {}


def test_last_affected_and_normalised_names_from_an_imported_record(history: str) -> None:
    assert ids(Api().post(QUERY, pypi("1.3.1", name="Requests_OAuthlib"))) == [GHSA_RECORD["id"]]
    assert ids(Api().post(QUERY, pypi("1.3.2", name="requests-oauthlib"))) == []


def test_a_package_url_query_and_a_query_without_version(history: str) -> None:
    assert set(ids(Api().post(QUERY, {"package": {"purl": "pkg:pypi/requests@2.30.0"}}))) == {
        GHSA_RECORD["id"], history,
    }  # fmt: skip
    every = ids(Api().post(QUERY, {"package": {"purl": "pkg:pypi/requests"}}))
    assert set(every) == {GHSA_RECORD["id"], history, PYSEC_RECORD["id"]}


def test_a_batch_answers_ids_and_modified_in_the_order_asked(history: str) -> None:
    response = Api().post("/osv/v1/querybatch", {"queries": [pypi("2.31.0"), pypi("2.32.0"), pypi("2.2.1")]})
    assert response.status == 200, response.text
    ours = Api().get(f"/osv/v1/vulns/{history}").json
    assert response.json == {
        "results": [
            {"vulns": [{"id": history, "modified": ours["modified"]}]},
            {},
            {"vulns": [{"id": PYSEC_RECORD["id"], "modified": PYSEC_RECORD["modified"]}]},
        ]
    }


def test_vulns_by_id(history: str) -> None:
    assert Api().get(f"/osv/v1/vulns/{GHSA_RECORD['id']}").json["aliases"] == GHSA_RECORD["aliases"]
    missing = Api().get("/osv/v1/vulns/GHSA-0000-0000-0000")
    assert (missing.status, missing.json) == (404, {"code": 5, "message": "Bug not found."})


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[]", 400),
        (b'{"version": "1.0"}', 400),  # no package
        (b'{"package": {"ecosystem": "PyPI"}}', 400),
        (b'{"package": {"purl": "pkg:pypi/requests@1.0"}, "version": "1.0"}', 400),  # the version twice
        (b'{"package": {"purl": "not a purl"}}', 400),
        (b'{"package": {"ecosystem": "PyPI", "name": "requests"}, "extra": 1}', 400),
        (b'{"commit": "8f3c2a1d9e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"}', 501),  # needs commit history
    ],
)
def test_a_bad_query_gets_an_error_in_the_osv_shape(history: str, body: bytes, status: int) -> None:
    response = Api().call("POST", QUERY, raw=body)
    assert response.status == status, response.text
    assert set(response.json) == {"code", "message"}
    assert response.json["code"] == {400: 3, 501: 12}[status]
    batch = Api().call("POST", "/osv/v1/querybatch", raw=b'{"queries": [' + body + b"]}")
    assert batch.status in (400, 501)


def test_the_api_takes_no_get_for_queries_and_no_post_for_records(history: str) -> None:
    assert Api().get(QUERY).status == 405
    assert Api().post(f"/osv/v1/vulns/{history}", {}).status == 405


def test_an_advisory_under_embargo_is_unknown_to_the_osv_api(team: dict[str, Api]) -> None:
    _, advisory_id = advisory_for_report(team)
    assert Api().post(QUERY, pypi("2.31.0")).json == {}
    assert Api().post(QUERY, {"package": {"purl": "pkg:pypi/requests"}}).json == {}
    assert Api().get(f"/osv/v1/vulns/x_{advisory_id}").status == 404
    assert Api().get(f"/osv/v1/vulns/{advisory_id}").status == 404


def test_an_osv_client_needs_no_session_or_csrf_token(history: str) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(QUERY, pypi("2.31.0"), content_type="application/json")
    assert response.status_code == 200
    assert [v["id"] for v in response.json()["vulns"]] == [history]
