"""CVE JSON 5, OSV and CSAF records: valid against the official schemas, equal to the written-out records in
`golden/`, deterministic, and OSV records read back without loss."""

from __future__ import annotations

import ast
import copy
import dataclasses
import datetime as dt
import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker, ValidationError
from jsonschema.protocols import Validator
from packaging.version import Version
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

from embargo.domain import advisory as domain
from embargo.domain.advisory import Advisory, AdvisoryError, advisory_from_dict, problems
from embargo.formats import ExportError, csaf, cve, osv

SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "schemas"
GOLDEN = Path(__file__).parent / "golden"
FORMATS = Path(csaf.__file__).parent

# Schema validators ----------------------------------------------------------------------------------------------

# jsonschema checks `date-time` and `uri` only with extra packages installed, and otherwise lets anything
# through; these two stand-ins make the formats count.
FORMATS_CHECKED = FormatChecker()


@FORMATS_CHECKED.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return "T" in value and dt.datetime.fromisoformat(value).utcoffset() is not None


@FORMATS_CHECKED.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(urlsplit(value).scheme) and not any(c.isspace() for c in value)


def _load(name: str) -> Any:
    return json.loads((SCHEMAS / name).read_text())


@functools.cache
def validator(kind: str) -> Validator:
    if kind == "cve":
        return Draft7Validator(_load("cve-record-5.1.1.json"), format_checker=FORMATS_CHECKED)
    if kind == "osv":
        return Draft202012Validator(_load("osv-schema.json"), format_checker=FORMATS_CHECKED)
    # CSAF refers to the FIRST CVSS schemas by URL; cvss-v3.1.json's own $id has "?20211103" after it, so each
    # is registered under the URL the CSAF schema uses.
    resources = [
        (
            f"https://www.first.org/cvss/cvss-v{version}.json",
            Resource.from_contents(_load(f"csaf-2.0/cvss-v{version}.json"), default_specification=spec),
        )
        for version, spec in (("2.0", DRAFT4), ("3.0", DRAFT4), ("3.1", DRAFT7))
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft202012Validator(
        _load("csaf-2.0/csaf_json_schema.json"), registry=registry, format_checker=FORMATS_CHECKED
    )


def schema_errors(kind: str, record: dict[str, Any]) -> list[str]:
    """Each error as `path: message`; for a failed oneOf/anyOf, the errors inside it (the CVE schema is a oneOf
    of published and rejected records, so the top-level message alone says nothing)."""

    def leaves(error: ValidationError) -> list[ValidationError]:
        return [leaf for child in error.context for leaf in leaves(child)] if error.context else [error]

    found = [leaf for error in validator(kind).iter_errors(record) for leaf in leaves(error)]
    return sorted({f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in found})


def test_the_validators_refuse_what_they_should() -> None:
    # The published CSAF examples pass; a CVSS score of 42 fails (the FIRST sub-schema is really used).
    example = _load("csaf-2.0/examples/bsi-2022-0001.json")
    assert schema_errors("csaf", example) == []
    example["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = 42
    assert schema_errors("csaf", example)
    assert schema_errors("osv", {"id": "x_EMB-1", "modified": "yesterday"})
    assert schema_errors("osv", {"id": "x_EMB-1", "modified": "2026-13-01T00:00:00Z"})


# The advisories -------------------------------------------------------------------------------------------------

FIX_COMMIT = "8f3c2a1d9e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"
UTC = dt.UTC
RICH_DRAFT: dict[str, Any] = {
    "summary": "Proxy credentials leak to the destination on HTTPS redirects",
    "details": (
        "When a request goes through a proxy and is redirected to an `https://` URL, quickhttp keeps the\n"
        "`Proxy-Authorization` header and sends the proxy's credentials to the destination server.\n\n"
        "Upgrade to 3.2.1 or 2.28.4."
    ),
    "severity": [
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"},
        {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"},
    ],
    "cwe_ids": ["CWE-200", "CWE-601"],
    "affected": [
        {
            "ecosystem": "PyPI",
            "package": "quickhttp",
            "ranges": [
                {"type": "ECOSYSTEM", "introduced": "3.0.0", "fixed": "3.2.1"},
                {"type": "ECOSYSTEM", "introduced": "2.3.0", "fixed": "2.28.4"},
                {"type": "GIT", "repo": "https://github.com/example/quickhttp", "introduced": "0", "fixed": FIX_COMMIT},
            ],
            "fixed_by_branch": {"3.2": "3.2.1", "2.28": "2.28.4"},
        },
        {
            "ecosystem": "PyPI",
            "package": "quickhttp-socks",
            "ranges": [{"type": "ECOSYSTEM", "introduced": "0", "last_affected": "1.4.2"}],
        },
    ],
    "references": [
        {"type": "ADVISORY", "url": "https://example.org/advisories/EMB-2026-0042"},
        {"type": "FIX", "url": f"https://github.com/example/quickhttp/commit/{FIX_COMMIT}"},
        {"type": "REPORT", "url": "https://github.com/example/quickhttp/issues/6512"},
        {"type": "WEB", "url": "https://example.org/blog/2026/03/quickhttp-3-2-1"},
    ],
    "credits": [
        {"name": "Zoë Müller", "type": "FINDER", "contact": ["https://example.org/~zoe"]},
        {"name": "Kenji Watanabe", "type": "REMEDIATION_DEVELOPER"},
        {"name": "Example Security Team", "type": "COORDINATOR", "contact": ["mailto:security@example.org"]},
    ],
    "aliases": ["GHSA-4x9r-8h2q-7mvw"],
}
RICH = advisory_from_dict(
    RICH_DRAFT,
    id="EMB-2026-0042",
    cve_id="CVE-2026-41234",
    published=dt.datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
    modified=dt.datetime(2026, 3, 11, 9, 30, tzinfo=UTC),
)
MINIMAL = advisory_from_dict(
    {
        "summary": "Path traversal in the static file handler",
        "affected": [{"ecosystem": "PyPI", "package": "quickhttp", "ranges": [{"fixed": "1.0.1"}]}],
        "references": [{"type": "FIX", "url": "https://github.com/example/quickhttp/pull/12"}],
    },
    id="EMB-2026-0001",
    cve_id="CVE-2026-1001",
    modified=dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
)
# Package-index addresses are configuration; the tests use a stand-in.
COLLECTIONS = {"PyPI": "https://packages.example.org/pypi"}
CNA: dict[str, Any] = {
    "cna_org_id": "b3476cb9-2e3d-41a6-98d0-0f47421a65b6",
    "cna_short_name": "example",
    "collection_urls": COLLECTIONS,
}
CVE_RICH: dict[str, Any] = {
    **CNA,
    "date_reserved": dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
    "timeline": [
        (dt.datetime(2026, 3, 10, 14, 0, tzinfo=UTC), "Versions 3.2.1 and 2.28.4 released"),
        (dt.datetime(2026, 2, 20, 8, 15, tzinfo=UTC), "Reported to the quickhttp maintainers"),
    ],
}
PUBLISHER: dict[str, Any] = {"publisher_name": "QuickHTTP maintainers", "publisher_namespace": "https://example.org"}


def export(kind: str, advisory: Advisory, **options: Any) -> dict[str, Any]:
    if kind == "cve":
        return cve.build(advisory, **{**CNA, **options})
    if kind == "osv":
        return osv.build(advisory, **options)
    return csaf.build(advisory, **{**PUBLISHER, **options})


def export_json(kind: str, advisory: Advisory, **options: Any) -> str:
    if kind == "cve":
        return cve.to_json(advisory, **{**CNA, **options})
    if kind == "osv":
        return osv.to_json(advisory, **options)
    return csaf.to_json(advisory, **{**PUBLISHER, **options})


# Schemas and golden records -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["cve", "osv", "csaf"])
@pytest.mark.parametrize("advisory", [RICH, MINIMAL], ids=["rich", "minimal"])
def test_each_export_validates_against_its_official_schema(kind: str, advisory: Advisory) -> None:
    options = CVE_RICH if kind == "cve" and advisory is RICH else {}
    assert schema_errors(kind, export(kind, advisory, **options)) == []


@pytest.mark.parametrize(("kind", "options"), [("cve", CVE_RICH), ("osv", {}), ("csaf", {})])
def test_the_export_of_the_rich_advisory_is_the_record_written_out_in_golden(
    kind: str, options: dict[str, Any]
) -> None:
    expected_text = (GOLDEN / f"{kind}.json").read_text()
    assert export(kind, RICH, **options) == json.loads(expected_text)
    assert export_json(kind, RICH, **options) + "\n" == expected_text  # the exact bytes, too


@pytest.mark.parametrize("kind", ["cve", "osv", "csaf"])
def test_the_same_advisory_gives_the_same_bytes(kind: str) -> None:
    shuffled = dataclasses.replace(RICH, database_specific={"b": 1, "a": {"z": 2, "y": 3}})
    again = dataclasses.replace(RICH, database_specific={"a": {"y": 3, "z": 2}, "b": 1})
    assert export_json(kind, shuffled) == export_json(kind, again)
    assert export_json(kind, RICH) == export_json(kind, copy.deepcopy(RICH))


def test_the_minimal_records() -> None:
    record = cve.build(MINIMAL, **CNA)
    cna = record["containers"]["cna"]
    assert cna["descriptions"] == [{"lang": "en", "value": "Path traversal in the static file handler"}]
    assert cna["affected"] == [
        {
            "collectionURL": "https://packages.example.org/pypi",
            "packageName": "quickhttp",
            "defaultStatus": "unaffected",
            "versions": [{"version": "0", "lessThan": "1.0.1", "status": "affected", "versionType": "python"}],
        }
    ]
    assert "metrics" not in cna
    assert "credits" not in cna
    assert "datePublished" not in record["cveMetadata"]
    assert osv.build(MINIMAL) == {
        "schema_version": "1.7.5",
        "id": "x_EMB-2026-0001",
        "modified": "2026-01-05T12:00:00Z",
        "aliases": ["CVE-2026-1001"],
        "summary": "Path traversal in the static file handler",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "quickhttp", "purl": "pkg:pypi/quickhttp"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}],
            }
        ],
        "references": [{"type": "FIX", "url": "https://github.com/example/quickhttp/pull/12"}],
    }
    tracking = csaf.build(MINIMAL, **PUBLISHER)["document"]["tracking"]
    assert (tracking["status"], tracking["version"], tracking["initial_release_date"]) == (
        "draft", "1", "2026-01-05T12:00:00Z",
    )  # fmt: skip


# CVE ------------------------------------------------------------------------------------------------------------


def test_a_cve_record_needs_the_cve_id_and_the_cna() -> None:
    with pytest.raises(ExportError) as caught:
        cve.build(dataclasses.replace(RICH, cve_id=None, aliases=["GHSA-4x9r-8h2q-7mvw"]), **CNA)
    assert caught.value.code == "cve_id_missing"
    with pytest.raises(ExportError) as caught:
        cve.build(RICH, cna_org_id=None)
    assert caught.value.code == "cna_org_missing"
    with pytest.raises(ExportError) as caught:
        cve.build(RICH, cna_org_id="not-a-uuid")
    assert caught.value.code == "cna_org_invalid"


def test_a_cve_record_needs_a_reference() -> None:
    with pytest.raises(AdvisoryError) as caught:
        cve.build(dataclasses.replace(MINIMAL, references=[]), **CNA)
    assert caught.value.field == "references"


def test_details_too_long_for_a_cve_description_go_in_supporting_media() -> None:
    details = "The handler joins the path without checking it.\n\n" * 100  # 5,000 characters
    record = cve.build(dataclasses.replace(MINIMAL, details=details), **CNA)
    assert record["containers"]["cna"]["descriptions"] == [
        {
            "lang": "en",
            "value": "Path traversal in the static file handler",
            "supportingMedia": [{"type": "text/markdown", "base64": False, "value": details.strip()}],
        }
    ]
    assert schema_errors("cve", record) == []


def test_a_cvss_4_vector_with_threat_and_environmental_metrics_keeps_the_base_score() -> None:
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N/E:U/CR:L/MSI:S/S:P/U:Amber"
    advisory = dataclasses.replace(MINIMAL, severity=[domain.Severity("CVSS_V4", vector)])
    record = cve.build(advisory, **CNA)
    metric = record["containers"]["cna"]["metrics"][0]["cvssV4_0"]
    assert (metric["baseScore"], metric["baseSeverity"]) == (8.7, "HIGH")
    assert metric["exploitMaturity"] == "UNREPORTED"
    assert (metric["modifiedSubIntegrityImpact"], metric["Safety"], metric["providerUrgency"]) == (
        "SAFETY", "PRESENT", "AMBER",
    )  # fmt: skip
    assert "threatScore" not in metric  # the 5.1.1 schema refuses it (see formats/cve.py)
    assert schema_errors("cve", record) == []


# CSAF -----------------------------------------------------------------------------------------------------------


def test_csaf_carries_the_cvss_3_score_the_first_cwe_and_the_cvss_4_vector_as_a_note() -> None:
    vulnerability = csaf.build(RICH, **PUBLISHER)["vulnerabilities"][0]
    assert [list(score) for score in vulnerability["scores"]] == [["cvss_v3", "products"]]
    assert vulnerability["cwe"] == {
        "id": "CWE-200",
        "name": "Exposure of Sensitive Information to an Unauthorized Actor",
    }
    assert {"category": "other", "title": "CVSS v4.0", "text": (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N (score 8.7, HIGH)"
    )} in vulnerability["notes"]  # fmt: skip


def check_csaf_products(document: dict[str, Any]) -> None:
    """CSAF mandatory tests 6.1.1, 6.1.2 and 6.1.6, which the schema cannot express: every product ID used is
    defined once, and no product is both affected and fixed."""
    defined: list[str] = []

    def walk(branches: list[dict[str, Any]]) -> None:
        for branch in branches:
            if "product" in branch:
                defined.append(branch["product"]["product_id"])
            walk(branch.get("branches", []))

    walk(document["product_tree"]["branches"])
    assert len(defined) == len(set(defined))
    for vulnerability in document["vulnerabilities"]:
        status = vulnerability["product_status"]
        used = [pid for ids in status.values() for pid in ids]
        used += [pid for score in vulnerability.get("scores", []) for pid in score["products"]]
        used += [pid for r in vulnerability.get("remediations", []) for pid in r["product_ids"]]
        assert set(used) <= set(defined)
        assert not set(status.get("known_affected", [])) & set(status.get("fixed", []))


def test_the_rich_csaf_products_are_consistent() -> None:
    check_csaf_products(csaf.build(RICH, **PUBLISHER))


# OSV import and round trip --------------------------------------------------------------------------------------

# A record shaped like GitHub's advisory for CVE-2023-32681 in requests.
GHSA_RECORD: dict[str, Any] = {
    "schema_version": "1.4.0",
    "id": "GHSA-j8r2-6x86-q33q",
    "modified": "2024-11-19T18:53:58Z",
    "published": "2023-05-22T20:36:32Z",
    "aliases": ["CVE-2023-32681", "PYSEC-2023-74"],
    "summary": "Unintended leak of Proxy-Authorization header in requests",
    "details": (
        "### Impact\n\nSince Requests v2.3.0, Requests has been vulnerable to potentially leaking "
        "`Proxy-Authorization` headers to destination servers, specifically during redirects to an HTTPS origin."
        "\n\n### Remediation\n\nUpgrade to v2.31.0."
    ),
    "severity": [
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"},
        {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:P/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"},
    ],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "requests", "purl": "pkg:pypi/requests"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]}],
            "database_specific": {"source": "https://github.com/advisories/GHSA-j8r2-6x86-q33q"},
        },
        {
            "package": {"ecosystem": "PyPI", "name": "requests-oauthlib", "purl": "pkg:pypi/requests-oauthlib"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.3.1"}]}],
        },
    ],
    "references": [
        {"type": "WEB", "url": "https://github.com/psf/requests/security/advisories/GHSA-j8r2-6x86-q33q"},
        {"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2023-32681"},
        {"type": "WEB", "url": "https://github.com/psf/requests/commit/74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"},
        {"type": "PACKAGE", "url": "https://github.com/psf/requests"},
        {"type": "WEB", "url": "https://github.com/psf/requests/releases/tag/v2.31.0"},
    ],
    "credits": [
        {"name": "Dennis Brinkrolf", "type": "FINDER", "contact": ["https://github.com/dbrinkrolf"]},
        {"name": "Nate Prewitt", "type": "REMEDIATION_DEVELOPER"},
    ],
    "database_specific": {
        "cwe_ids": ["CWE-200"],
        "severity": "MODERATE",
        "github_reviewed": True,
        "github_reviewed_at": "2023-05-22T20:36:32Z",
        "nvd_published_at": "2023-05-26T18:15:14Z",
    },
}


def test_a_ghsa_record_survives_import_and_export() -> None:
    assert schema_errors("osv", GHSA_RECORD) == []
    advisory = osv.parse(GHSA_RECORD)
    assert (advisory.id, advisory.cve_id, advisory.cwe_ids) == ("GHSA-j8r2-6x86-q33q", "CVE-2023-32681", ("CWE-200",))
    exported = osv.build(advisory)
    assert schema_errors("osv", exported) == []
    for key in ("id", "aliases", "summary", "details", "references", "credits", "modified", "published", "severity"):
        assert exported[key] == GHSA_RECORD[key], key
    assert [a["package"] for a in exported["affected"]] == [a["package"] for a in GHSA_RECORD["affected"]]
    assert [a["ranges"] for a in exported["affected"]] == [a["ranges"] for a in GHSA_RECORD["affected"]]
    assert exported["database_specific"] == GHSA_RECORD["database_specific"]
    assert osv.parse(exported) == advisory  # and again, unchanged


# A record shaped like the PyPI advisory database's (PYSEC) records: no summary, GIT and ECOSYSTEM ranges, the
# affected versions listed, and a range with two introduced/fixed pairs.
PYSEC_RECORD: dict[str, Any] = {
    "id": "PYSEC-2023-74",
    "modified": "2023-06-05T01:13:00.534973Z",
    "published": "2023-05-26T18:15:00Z",
    "aliases": ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
    "details": "Requests is a HTTP library. Since Requests 2.3.0, Requests has been leaking Proxy-Authorization "
    "headers to destination servers.",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "requests", "purl": "pkg:pypi/requests"},
            "ranges": [
                {
                    "type": "GIT",
                    "repo": "https://github.com/psf/requests",
                    "events": [{"introduced": "0"}, {"fixed": "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"}],
                },
                {"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]},
            ],
            "versions": ["2.3.0", "2.4.0", "2.30.0"],
        },
        {
            "package": {"ecosystem": "PyPI", "name": "django"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "5.0"}, {"fixed": "5.0.8"}, {"introduced": "4.2"}, {"fixed": "4.2.15"}],
                },
            ],
        },
    ],
    "references": [
        {"type": "ADVISORY", "url": "https://github.com/psf/requests/security/advisories/GHSA-j8r2-6x86-q33q"},
        {"type": "FIX", "url": "https://github.com/psf/requests/commit/74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"},
        {"type": "WEB", "url": "https://github.com/psf/requests/commit/74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"},
    ],
}


def test_a_pysec_record_keeps_its_ranges_versions_and_references() -> None:
    assert schema_errors("osv", PYSEC_RECORD) == []
    advisory = osv.parse(PYSEC_RECORD)
    exported = osv.build(advisory)
    assert schema_errors("osv", exported) == []
    assert (exported["id"], exported["aliases"], exported["details"]) == (
        "PYSEC-2023-74", PYSEC_RECORD["aliases"], PYSEC_RECORD["details"],
    )  # fmt: skip
    assert "summary" not in exported
    assert exported["modified"] == "2023-06-05T01:13:00.534973Z"
    assert exported["references"] == PYSEC_RECORD["references"]
    requests, django = exported["affected"]
    assert requests["ranges"] == PYSEC_RECORD["affected"][0]["ranges"]
    assert requests["versions"] == ["2.3.0", "2.4.0", "2.30.0"]
    # Two pairs in one range become two ranges: the same versions are affected.
    assert django["ranges"] == [
        {"type": "ECOSYSTEM", "events": [{"introduced": "5.0"}, {"fixed": "5.0.8"}]},
        {"type": "ECOSYSTEM", "events": [{"introduced": "4.2"}, {"fixed": "4.2.15"}]},
    ]


def test_fixes_on_several_branches_after_one_introduced_commit_are_kept() -> None:
    second = "0" * 39 + "1"
    events = [{"introduced": "0"}, {"fixed": FIX_COMMIT}, {"fixed": second}]
    record = {**PYSEC_RECORD, "affected": [{**PYSEC_RECORD["affected"][0], "ranges": [
        {"type": "GIT", "repo": "https://github.com/psf/requests", "events": events}]}]}  # fmt: skip
    ranges = osv.parse(record).affected[0].ranges
    assert [(r.introduced, r.fixed) for r in ranges] == [("0", FIX_COMMIT), ("0", second)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "id"),
        ({"modified": "last tuesday"}, "modified"),
        ({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:X"}]}, "severity.0.score"),
        ({"references": [{"type": "LINK", "url": "https://example.org"}]}, "references.0.type"),
        ({"credits": [{"name": ""}]}, "credits.0.name"),
        ({"affected": [{"ranges": []}]}, "affected.0.package"),
        (
            {"affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1.0"}]}]}]},
            "affected.0.ranges.0.events.0.fixed",
        ),
        (
            {"affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"limit": "2.0"}]}]}]},
            "affected.0.ranges.0.events.1.limit",
        ),
    ],
)  # fmt: skip
def test_an_osv_record_that_cannot_be_read_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(AdvisoryError) as caught:
        osv.parse({**GHSA_RECORD, **change})
    assert caught.value.field == field


def test_severities_without_a_domain_type_are_left_out_on_import() -> None:
    record = {**GHSA_RECORD, "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:N/A:N"}]}
    assert osv.parse(record).severity == ()


# Generated advisories -------------------------------------------------------------------------------------------

ONE_LINE = st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"))
PYPI_NAMES = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6})?", fullmatch=True)
NAMES = {
    "PyPI": PYPI_NAMES,
    "npm": st.one_of(PYPI_NAMES, PYPI_NAMES.map(lambda n: f"@example/{n}")),
    "crates.io": PYPI_NAMES.map(lambda n: n.replace("-", "_")),
    "Maven": PYPI_NAMES.map(lambda n: f"org.example:{n}"),
    "Go": PYPI_NAMES.map(lambda n: f"github.com/example/{n}"),
}
COMMITS = st.text("0123456789abcdef", min_size=40, max_size=40)
MOMENTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds and adds the time zone
    max_value=dt.datetime(2098, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from(
        [UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8))]
    ),
)


@st.composite
def version_pool(draw: st.DrawFn, ecosystem: str, size: int) -> list[str]:
    """`size` distinct versions of the ecosystem, in ascending order."""
    parts = st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
    if ecosystem == "PyPI":
        tails = st.sampled_from(["", "", "a1", "rc2", ".post1", ".dev3"])
        versions = draw(st.lists(st.tuples(parts, tails).map(lambda p: "{}.{}.{}".format(*p[0]) + p[1]),
                                 min_size=size, max_size=size, unique_by=Version))  # fmt: skip
        return sorted(versions, key=Version)
    triples = draw(st.lists(parts, min_size=size, max_size=size, unique=True))
    return ["{}.{}.{}".format(*t) for t in sorted(triples)]


@st.composite
def affected_entries(draw: st.DrawFn) -> dict[str, Any]:
    ecosystem = draw(st.sampled_from(["PyPI", "PyPI", "PyPI", "npm", "crates.io", "Maven", "Go"]))
    count = draw(st.integers(0, 3))
    pool = draw(version_pool(ecosystem, 2 * count + 3))
    ranges: list[dict[str, Any]] = []
    for i in range(count):
        start, end = pool[2 * i], pool[2 * i + 1]
        entry: dict[str, Any] = {"introduced": draw(st.sampled_from(["0", start]))}
        kind = draw(st.sampled_from(["fixed", "fixed", "last_affected", "open"]))
        if kind != "open":
            entry[kind] = end
        ranges.append(entry)
    if draw(st.booleans()):
        fixed = draw(COMMITS)
        git = {"type": "GIT", "repo": "https://github.com/example/project", "introduced": "0", "fixed": fixed}
        ranges.append(git)
    fixed_versions = [r["fixed"] for r in ranges if "fixed" in r and r.get("type") != "GIT"]
    spare = [v for v in pool[2 * count :] if v not in fixed_versions]
    versions = draw(st.lists(st.sampled_from(spare), unique=True, max_size=3)) if spare else []
    if not ranges and not versions:
        ranges = [{"introduced": "0", "fixed": pool[-1]}]
        fixed_versions = [pool[-1]]
    branches = {f"{i}.x": v for i, v in enumerate(fixed_versions) if draw(st.booleans())}
    return {
        "ecosystem": ecosystem,
        "package": draw(NAMES[ecosystem]),
        "ranges": ranges,
        "versions": versions,
        "fixed_by_branch": branches,
    }


V3_BASE = {"AV": "NALP", "AC": "LH", "PR": "NLH", "UI": "NR", "S": "UC", "C": "NLH", "I": "NLH", "A": "NLH"}
V3_MORE = {"E": "XUPFH", "RL": "XOTWU", "RC": "XURC", "MAV": "XNALP", "CR": "XLMH"}
V4_BASE = {"AV": "NALP", "AC": "LH", "AT": "NP", "PR": "NLH", "UI": "NPA", "VC": "HLN", "VI": "HLN", "VA": "HLN",
           "SC": "HLN", "SI": "HLN", "SA": "HLN"}  # fmt: skip
V4_MORE = {"E": "XAPU", "CR": "XHML", "MAV": "XNALP", "MSI": "XNLHS", "S": "XNP", "AU": "XNY", "R": "XAUI",
           "RE": "XLMH", "U": ["X", "Clear", "Green", "Amber", "Red"]}  # fmt: skip


@st.composite
def cvss_vectors(draw: st.DrawFn, version: str) -> str:
    """A vector with every base metric and a few others, in any order for v3 (`cvss` puts them in order)."""
    base, more = (V4_BASE, V4_MORE) if version == "4.0" else (V3_BASE, V3_MORE)
    metrics = [f"{k}:{draw(st.sampled_from(list(values)))}" for k, values in base.items()]
    for k in draw(st.lists(st.sampled_from(sorted(more)), unique=True, max_size=4)):
        metrics.append(f"{k}:{draw(st.sampled_from(list(more[k])))}")
    if version != "4.0":
        metrics = draw(st.permutations(metrics))
    return f"CVSS:{version}/" + "/".join(metrics)


@st.composite
def advisories(draw: st.DrawFn) -> Advisory:
    severity = []
    if draw(st.booleans()):
        severity.append({"type": "CVSS_V3", "score": draw(cvss_vectors(draw(st.sampled_from(["3.0", "3.1"]))))})
    if draw(st.booleans()):
        severity.append({"type": "CVSS_V4", "score": draw(cvss_vectors("4.0"))})
    summary = draw(st.one_of(st.just(""), st.text(ONE_LINE, min_size=1, max_size=80).map(str.strip)))
    details = draw(
        st.one_of(
            st.text(max_size=300).filter(lambda d: summary or d.strip()),
            st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=20), st.integers(1, 800)).filter(
                lambda d: (summary or d.strip()) and len(d) <= domain.DETAILS_MAX
            ),
        )
    )
    summary = summary or ("" if details.strip() else "Summary")
    paths = st.from_regex(r"[a-z0-9]{1,10}(/[a-z0-9-]{1,10}){0,2}", fullmatch=True)
    references = draw(
        st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(domain.REFERENCE_TYPES), "url": paths.map(lambda p: f"https://example.org/{p}")}
            ),
            min_size=1, max_size=4, unique_by=lambda r: (r["type"], r["url"]),
        )
    )  # fmt: skip
    contacts = st.lists(
        st.sampled_from(["https://example.org/~someone", "mailto:someone@example.org", "https://example.com/x"]),
        unique=True, max_size=2,
    )  # fmt: skip
    credits = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(ONE_LINE, min_size=1, max_size=40).map(str.strip).filter(bool),
                    "type": st.sampled_from(("", *domain.CREDIT_TYPES)),
                    "contact": contacts,
                }
            ),
            max_size=3, unique_by=lambda c: (c["name"], c["type"]),
        )
    )  # fmt: skip
    published = draw(st.none() | MOMENTS)
    modified = (
        draw(MOMENTS) if published is None else published + draw(st.timedeltas(dt.timedelta(0), dt.timedelta(days=900)))
    )
    withdrawn = None
    if published is not None and draw(st.booleans()):
        withdrawn = modified
    data = {
        "summary": summary,
        "details": details,
        "severity": severity,
        "cwe_ids": draw(st.lists(st.sampled_from(["CWE-79", "CWE-89", "CWE-200", "CWE-22", "CWE-601", "CWE-1333"]),
                                 unique=True, max_size=3)),
        "affected": draw(st.lists(affected_entries(), min_size=1, max_size=3)),
        "references": references,
        "credits": credits,
        "aliases": draw(st.lists(st.sampled_from(["GHSA-4x9r-8h2q-7mvw", "PYSEC-2026-12"]), unique=True)),
    }  # fmt: skip
    year = draw(st.integers(2000, 2099))
    return advisory_from_dict(
        data,
        id=draw(st.sampled_from([f"EMB-{year}-{draw(st.integers(1, 99999)):04d}", "GHSA-4x9r-8h2q-7mvw"])),
        cve_id=draw(st.none() | st.from_regex(r"CVE-20[0-9]{2}-[0-9]{4,7}", fullmatch=True)),
        published=published,
        modified=modified,
        withdrawn=withdrawn,
    )


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(advisories())
def test_every_generated_advisory_exports_valid_records(advisory: Advisory) -> None:
    assert problems(advisory) == []
    if advisory.cve_id is None:
        with pytest.raises(ExportError):
            cve.build(advisory, **CNA)
        advisory = dataclasses.replace(advisory, cve_id="CVE-2026-0001")
    for kind in ("cve", "osv", "csaf"):
        record = export(kind, advisory)
        assert schema_errors(kind, record) == [], kind
        assert json.loads(export_json(kind, advisory)) == record
    check_csaf_products(export("csaf", advisory))
    # What OSV writes, OSV reads back: exporting the import again gives the same record.
    record = osv.build(advisory)
    assert osv.build(osv.parse(record)) == record


# No Django ------------------------------------------------------------------------------------------------------


def test_the_formats_import_no_django() -> None:
    for source in [*FORMATS.glob("*.py"), Path(domain.__file__)]:
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "django" for n in names), f"{source.name} imports {names}"
    # Nor through what they import.
    code = "import sys, embargo.formats.cve, embargo.formats.osv, embargo.formats.csaf; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"  # noqa: E501
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
