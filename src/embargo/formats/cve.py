"""CVE JSON 5 (record format 5.1.1): the full record, and the CNA container that CVE Services accepts.

Choices the schema leaves open:
- a package is named by `collectionURL` + `packageName` when the caller gives the collection address of its
  ecosystem (`collection_urls`: package-index addresses are the operator's configuration, never written here);
  `vendor` + `product` are added when the caller names the vendor, and are the only names otherwise;
- versions come from the ECOSYSTEM/SEMVER ranges (`version` … `lessThan` the fixed one, `lessThanOrEqual` the last
  affected one, `lessThan: "*"` when open-ended), or from the versions listed one by one when there is no such
  range; `defaultStatus` is `unaffected`, so a version not listed is not affected. GIT ranges stay out of the
  versions (the fix commits travel as `patch` references); their repository becomes `repo`;
- the description is the Markdown details as written (or the summary when there are none); when the details do
  not fit the 4,096 characters of a description, the summary is the description and the details go in
  `supportingMedia` as `text/markdown`.

Credits are written as the advisory holds them: the caller passes only those that may appear in public
(see `embargo.formats`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cvss import CVSS3

from embargo.domain.advisory import Advisory, AdvisoryError, Severity, cwe_name
from embargo.formats import CREDIT_WORDS, ExportError, dumps, timestamp, unique

DATA_VERSION = "5.1.1"
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
MEDIA_MAX = 16384
# The CVE schema wants a version-4 UUID for an organisation.
ORG_ID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}")

VERSION_TYPES = {"PyPI": "python", "npm": "semver", "crates.io": "semver", "Go": "semver", "Maven": "maven"}
REFERENCE_TAGS = {
    "ADVISORY": "vendor-advisory",
    "ARTICLE": "technical-description",
    "EVIDENCE": "exploit",
    "FIX": "patch",
    "PACKAGE": "product",
    "REPORT": "issue-tracking",
}  # DETECTION, DISCUSSION, GIT, INTRODUCED and WEB have no tag of their own


def is_org_id(value: str) -> bool:
    """Whether `value` can be a CNA's `orgId` (a version-4 UUID)."""
    return bool(ORG_ID.fullmatch(value))


def build(
    advisory: Advisory,
    *,
    cna_org_id: str | None,
    cna_short_name: str | None = None,
    vendor: str | None = None,
    date_reserved: dt.datetime | None = None,
    timeline: Sequence[tuple[dt.datetime, str]] = (),
    collection_urls: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The full CVE record (state PUBLISHED) of an advisory that has its CVE ID.

    Raises ExportError `cve_id_missing` / `cna_org_missing` / `cna_org_invalid`, and AdvisoryError when the
    advisory lacks what every CVE record needs (a description, an affected package, a reference)."""
    if not advisory.cve_id:
        raise ExportError("cve_id_missing", "the advisory has no CVE ID yet")
    container = cna_container(
        advisory, cna_org_id=cna_org_id, cna_short_name=cna_short_name, vendor=vendor, timeline=timeline,
        collection_urls=collection_urls,
    )  # fmt: skip
    metadata: dict[str, Any] = {
        "cveId": advisory.cve_id,
        "assignerOrgId": container["providerMetadata"]["orgId"],
        "state": "PUBLISHED",
        "dateUpdated": timestamp(advisory.modified),
    }
    if cna_short_name:
        metadata["assignerShortName"] = cna_short_name
    if date_reserved is not None:
        metadata["dateReserved"] = timestamp(date_reserved)
    if advisory.published is not None:
        metadata["datePublished"] = timestamp(advisory.published)
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": DATA_VERSION,
        "cveMetadata": metadata,
        "containers": {"cna": container},
    }


def cna_container(
    advisory: Advisory,
    *,
    cna_org_id: str | None,
    cna_short_name: str | None = None,
    vendor: str | None = None,
    timeline: Sequence[tuple[dt.datetime, str]] = (),
    collection_urls: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The CNA container (`cnaPublishedContainer`), which is what CVE Services takes when publishing."""
    if not cna_org_id:
        raise ExportError("cna_org_missing", "the project has not set the UUID of the CNA that assigns its CVE IDs")
    if not is_org_id(cna_org_id):
        raise ExportError("cna_org_invalid", f"{cna_org_id!r} is not a CNA organisation UUID")
    provider: dict[str, Any] = {"orgId": cna_org_id.lower()}
    if cna_short_name:
        provider["shortName"] = cna_short_name
    container: dict[str, Any] = {
        "providerMetadata": provider,
        "descriptions": _descriptions(advisory),
        "affected": _affected(advisory, vendor, collection_urls or {}),
        "references": _references(advisory),
    }
    if advisory.published is not None:
        container["datePublic"] = timestamp(advisory.published)
    if advisory.summary and len(advisory.summary) <= TITLE_MAX:
        container["title"] = advisory.summary
    if problem_types := _problem_types(advisory):
        container["problemTypes"] = problem_types
    if metrics := [_metric(s) for s in advisory.severity]:
        container["metrics"] = unique(metrics)
    if credits := _credits(advisory):
        container["credits"] = credits
    if timeline:
        entries = [{"time": timestamp(t), "lang": "en", "value": v} for t, v in sorted(timeline) if v.strip()]
        if entries := unique(entries):
            container["timeline"] = entries
    return container


def to_json(
    advisory: Advisory,
    *,
    cna_org_id: str | None,
    cna_short_name: str | None = None,
    vendor: str | None = None,
    date_reserved: dt.datetime | None = None,
    timeline: Sequence[tuple[dt.datetime, str]] = (),
    collection_urls: Mapping[str, str] | None = None,
) -> str:
    return dumps(
        build(
            advisory,
            cna_org_id=cna_org_id,
            cna_short_name=cna_short_name,
            vendor=vendor,
            date_reserved=date_reserved,
            timeline=timeline,
            collection_urls=collection_urls,
        )
    )


def _descriptions(advisory: Advisory) -> list[dict[str, Any]]:
    details, summary = advisory.details.strip(), advisory.summary.strip()
    if not details and not summary:
        raise AdvisoryError("summary", "a CVE record needs a description")
    if details and len(details) <= DESCRIPTION_MAX:
        return [{"lang": "en", "value": details}]
    description: dict[str, Any] = {"lang": "en", "value": summary or details[: DESCRIPTION_MAX - 1] + "…"}
    if details and len(details) <= MEDIA_MAX:
        description["supportingMedia"] = [{"type": "text/markdown", "base64": False, "value": details}]
    return [description]


def _affected(advisory: Advisory, vendor: str | None, collection_urls: Mapping[str, str]) -> list[dict[str, Any]]:
    if not advisory.affected:
        raise AdvisoryError("affected", "a CVE record needs at least one affected package")
    products = []
    for affected in advisory.affected:
        ecosystem = affected.base_ecosystem
        product: dict[str, Any] = {}
        if ecosystem in collection_urls:
            product["collectionURL"] = collection_urls[ecosystem]
            product["packageName"] = affected.package
        if vendor or ecosystem not in collection_urls:
            product["vendor"] = vendor or "n/a"
            product["product"] = affected.package
        if repos := [r.repo for r in affected.ranges if r.type == "GIT" and r.repo]:
            product["repo"] = repos[0]
        version_type = VERSION_TYPES.get(ecosystem, "custom")
        versions: list[dict[str, Any]] = []
        for r in affected.ranges:
            if r.type == "GIT":
                continue
            entry = {"version": r.introduced, "status": "affected", "versionType": version_type}
            if r.fixed is not None:
                entry["lessThan"] = r.fixed
            elif r.last_affected is not None:
                entry["lessThanOrEqual"] = r.last_affected
            else:
                entry["lessThan"] = "*"
            versions.append(entry)
        if not versions:
            versions = [{"version": v, "status": "affected"} for v in affected.versions]
        if versions:
            product["versions"] = unique(versions)
            product["defaultStatus"] = "unaffected"
        else:
            product["defaultStatus"] = "unknown"  # only commits are known: no version can be said to be safe
        products.append(product)
    return unique(products)


def _references(advisory: Advisory) -> list[dict[str, Any]]:
    if not advisory.references:
        raise AdvisoryError("references", "a CVE record needs at least one reference (the fix, the advisory …)")
    by_url: dict[str, list[str]] = {}
    for reference in advisory.references:
        tags = by_url.setdefault(reference.url, [])
        if (tag := REFERENCE_TAGS.get(reference.type)) and tag not in tags:
            tags.append(tag)
    return [{"url": url, "tags": tags} if tags else {"url": url} for url, tags in by_url.items()]


def _problem_types(advisory: Advisory) -> list[dict[str, Any]]:
    found = []
    for cwe in advisory.cwe_ids:
        name = cwe_name(cwe)
        description = {"lang": "en", "cweId": cwe, "type": "CWE", "description": f"{cwe}: {name}" if name else cwe}
        found.append({"descriptions": [description]})
    return unique(found)


def _credits(advisory: Advisory) -> list[dict[str, Any]]:
    # An untyped credit is "other": the schema's default would make it a finder.
    return unique(
        [{"lang": "en", "value": c.name, "type": CREDIT_WORDS.get(c.type, "other")} for c in advisory.credits]
    )


def _metric(severity: Severity) -> dict[str, Any]:
    key = {"3.0": "cvssV3_0", "3.1": "cvssV3_1", "4.0": "cvssV4_0"}[severity.version]
    return {
        "format": "CVSS",
        "scenarios": [{"lang": "en", "value": "GENERAL"}],
        key: cvss_v3_json(severity) if severity.type == "CVSS_V3" else cvss_v4_json(severity),
    }


def cvss_v3_json(severity: Severity) -> dict[str, Any]:
    """The FIRST CVSS v3.x JSON object (the one both CVE JSON 5 and CSAF embed), made by the `cvss` package."""
    data: dict[str, Any] = CVSS3(severity.vector).as_json(minimal=True)
    return data


# CVSS v4.0 as CVE JSON 5 names it. The `cvss` package's own JSON uses other names (`attackRequirement`, version
# "4"), which the CVE schema refuses, so the object is written here from the vector's metrics.
_V4_NAMES = {
    "AV": "attackVector", "AC": "attackComplexity", "AT": "attackRequirements", "PR": "privilegesRequired",
    "UI": "userInteraction", "VC": "vulnConfidentialityImpact", "VI": "vulnIntegrityImpact",
    "VA": "vulnAvailabilityImpact", "SC": "subConfidentialityImpact", "SI": "subIntegrityImpact",
    "SA": "subAvailabilityImpact", "E": "exploitMaturity", "CR": "confidentialityRequirement",
    "IR": "integrityRequirement", "AR": "availabilityRequirement", "MAV": "modifiedAttackVector",
    "MAC": "modifiedAttackComplexity", "MAT": "modifiedAttackRequirements", "MPR": "modifiedPrivilegesRequired",
    "MUI": "modifiedUserInteraction", "MVC": "modifiedVulnConfidentialityImpact",
    "MVI": "modifiedVulnIntegrityImpact", "MVA": "modifiedVulnAvailabilityImpact",
    "MSC": "modifiedSubConfidentialityImpact", "MSI": "modifiedSubIntegrityImpact",
    "MSA": "modifiedSubAvailabilityImpact", "S": "Safety", "AU": "Automatable", "R": "Recovery",
    "V": "valueDensity", "RE": "vulnerabilityResponseEffort", "U": "providerUrgency",
}  # fmt: skip
_LEVELS = {"N": "NONE", "L": "LOW", "H": "HIGH"}
_V4_VALUES: dict[str, dict[str, str]] = {
    "AV": {"N": "NETWORK", "A": "ADJACENT", "L": "LOCAL", "P": "PHYSICAL"},
    "AC": {"L": "LOW", "H": "HIGH"},
    "AT": {"N": "NONE", "P": "PRESENT"},
    "PR": _LEVELS,
    "UI": {"N": "NONE", "P": "PASSIVE", "A": "ACTIVE"},
    "E": {"A": "ATTACKED", "P": "PROOF_OF_CONCEPT", "U": "UNREPORTED"},
    "CR": {"H": "HIGH", "M": "MEDIUM", "L": "LOW"},
    "S": {"N": "NEGLIGIBLE", "P": "PRESENT"},
    "AU": {"N": "NO", "Y": "YES"},
    "R": {"A": "AUTOMATIC", "U": "USER", "I": "IRRECOVERABLE"},
    "V": {"D": "DIFFUSE", "C": "CONCENTRATED"},
    "RE": {"L": "LOW", "M": "MODERATE", "H": "HIGH"},
    "U": {"Clear": "CLEAR", "Green": "GREEN", "Amber": "AMBER", "Red": "RED"},
}
for _metric_name in ("VC", "VI", "VA", "SC", "SI", "SA", "MVC", "MVI", "MVA", "MSC", "MPR"):
    _V4_VALUES[_metric_name] = _LEVELS
for _metric_name in ("MSI", "MSA"):
    _V4_VALUES[_metric_name] = {**_LEVELS, "S": "SAFETY"}
_V4_VALUES.update(IR=_V4_VALUES["CR"], AR=_V4_VALUES["CR"], MAV=_V4_VALUES["AV"], MAC=_V4_VALUES["AC"])
_V4_VALUES.update(MAT=_V4_VALUES["AT"], MUI=_V4_VALUES["UI"])


def cvss_v4_json(severity: Severity) -> dict[str, Any]:
    """The CVE JSON 5 `cvssV4_0` object: each metric the vector writes, and the base score and rating computed by
    `cvss` from the base metrics. (The 5.1.1 schema speaks of `threatScore` and `environmentalScore` in its
    conditions but leaves them out of the properties it allows, so a record that carries them is invalid.)"""
    data: dict[str, Any] = {
        "version": "4.0",
        "vectorString": severity.vector,
        "baseScore": severity.score,
        "baseSeverity": severity.rating,
    }
    for metric, value in severity.metrics.items():
        if value != "X":
            data[_V4_NAMES[metric]] = _V4_VALUES[metric][value]
    return data
