"""CSAF 2.0 security advisory (profile `csaf_security_advisory`).

The product tree has one vendor branch; under it a `product_name` branch per package, holding a
`product_version_range` per vulnerable range (named in `vers` notation, e.g. `vers:pypi/>=2.3.0|<2.31.0`, as
CSAF 2.0 asks of ranges), a `product_version` per version listed one by one (only when no range says the same),
and a `product_version` per fixed version. Ranges and listed versions are `known_affected`, fixed versions are
`fixed`; product IDs are numbered in the advisory's order (`CSAFPID-0001` …), so the same advisory always gives
the same IDs. A package known only by commits is one product of its own.

CSAF 2.0 has a field for CVSS v2 and v3 only: the v3 vector is a score, a v4.0 vector is kept as a note. Only
the first CWE fits (`cwe` is a single object); the other CWEs stay in the CVE and OSV records.

Credits are written as the advisory holds them: the caller passes only those that may appear in public
(see `embargo.formats`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from embargo.domain.advisory import PURL_TYPES, Advisory, AdvisoryError, Affected, Credit, Range, cwe_name, purl
from embargo.formats import CREDIT_WORDS, dumps, timestamp, unique
from embargo.formats.cve import cvss_v3_json

PUBLISHER_CATEGORIES = ("coordinator", "discoverer", "other", "translator", "user", "vendor")
ALIAS_SYSTEMS = {"GHSA": "GitHub Security Advisory", "PYSEC": "PyPI Advisory Database", "OSV": "OSV"}
REFERENCE_SUMMARIES = {
    "ADVISORY": "Advisory",
    "ARTICLE": "Article",
    "DETECTION": "Detection",
    "DISCUSSION": "Discussion",
    "REPORT": "Report",
    "FIX": "Fix",
    "INTRODUCED": "Change that introduced the vulnerability",
    "GIT": "Repository",
    "PACKAGE": "Package",
    "EVIDENCE": "Evidence",
    "WEB": "Web page",
}


def build(
    advisory: Advisory,
    *,
    publisher_name: str,
    publisher_namespace: str,
    publisher_category: str = "vendor",
    vendor: str | None = None,
    revisions: Sequence[tuple[dt.datetime, str]] = (),
) -> dict[str, Any]:
    """The CSAF document. `vendor` names the vendor branch (the publisher by default). `revisions` are the
    (date, summary) entries of the revision history; without them there is one, at the publication (or, for a
    draft, at the last change). The document is `final` once published and a `draft` before."""
    if publisher_category not in PUBLISHER_CATEGORIES:
        raise ValueError(f"publisher_category is one of {', '.join(PUBLISHER_CATEGORIES)}")
    if not advisory.affected:
        raise AdvisoryError("affected", "a CSAF security advisory needs at least one affected package")
    tree = _ProductTree(vendor or publisher_name, advisory.affected)
    return {
        "document": _document(advisory, publisher_name, publisher_namespace, publisher_category, revisions),
        "product_tree": {"branches": [tree.tree]},
        "vulnerabilities": [_vulnerability(advisory, tree)],
    }


def to_json(
    advisory: Advisory,
    *,
    publisher_name: str,
    publisher_namespace: str,
    publisher_category: str = "vendor",
    vendor: str | None = None,
    revisions: Sequence[tuple[dt.datetime, str]] = (),
) -> str:
    return dumps(
        build(
            advisory,
            publisher_name=publisher_name,
            publisher_namespace=publisher_namespace,
            publisher_category=publisher_category,
            vendor=vendor,
            revisions=revisions,
        )
    )


def _document(
    advisory: Advisory,
    publisher_name: str,
    publisher_namespace: str,
    publisher_category: str,
    revisions: Sequence[tuple[dt.datetime, str]],
) -> dict[str, Any]:
    first = advisory.published or advisory.modified
    history = sorted(revisions) or [(first, "Initial release" if advisory.published else "Draft")]
    document: dict[str, Any] = {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "lang": "en",
        "publisher": {"category": publisher_category, "name": publisher_name, "namespace": publisher_namespace},
        "title": advisory.summary or advisory.id,
        "tracking": {
            "id": advisory.id,
            "status": "final" if advisory.published else "draft",
            "version": str(len(history)),
            "revision_history": [
                {"date": timestamp(date), "number": str(n), "summary": summary or "Revision"}
                for n, (date, summary) in enumerate(history, start=1)
            ],
            "initial_release_date": timestamp(first),
            "current_release_date": timestamp(max(advisory.modified, history[-1][0])),
            "generator": {"engine": {"name": "Embargo"}},
        },
    }
    notes = []
    if advisory.summary:
        notes.append({"category": "summary", "title": "Summary", "text": advisory.summary})
    if advisory.withdrawn is not None:
        withdrawn = f"This advisory was withdrawn on {timestamp(advisory.withdrawn)}."
        notes.append({"category": "general", "title": "Withdrawn", "text": withdrawn})
    if notes:
        document["notes"] = notes
    if advisories := [r for r in advisory.references if r.type == "ADVISORY"]:
        document["references"] = unique(
            [{"category": "external", "summary": "Advisory", "url": r.url} for r in advisories]
        )
    return document


@dataclass
class _Package:
    """What the advisory says of one package (several `affected` entries may name the same one)."""

    affected: Affected
    ranges: list[tuple[str, str]] = field(default_factory=list)  # (vers, short text)
    versions: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # fixed versions with their branch, for the remediation
    affected_ids: list[str] = field(default_factory=list)
    fixed_ids: list[str] = field(default_factory=list)


class _ProductTree:
    """The products of every package, numbered in the order the advisory names them."""

    def __init__(self, vendor: str, affected: Sequence[Affected]) -> None:
        self.packages: dict[tuple[str, str], _Package] = {}
        for entry in affected:
            package = self.packages.setdefault((entry.ecosystem, entry.package), _Package(entry))
            ranges = [_vers(entry, r) for r in entry.ranges if r.type != "GIT"]
            package.ranges += [r for r in ranges if r not in package.ranges]
            if not ranges:
                package.versions += [v for v in entry.versions if v not in package.versions]
            branch_of = {version: branch for branch, version in entry.fixed_by_branch.items()}
            for version in entry.fixed_versions:
                if version not in package.fixed:
                    package.fixed.append(version)
                    package.labels.append(
                        f"{version} ({branch_of[version]} branch)" if version in branch_of else version
                    )
        self.count = 0
        self.tree = {
            "category": "vendor",
            "name": vendor,
            "branches": [self._branch(p) for p in self.packages.values()],
        }

    def _product(self, name: str, helper: str | None) -> dict[str, Any]:
        self.count += 1
        product: dict[str, Any] = {"name": name, "product_id": f"CSAFPID-{self.count:04d}"}
        if helper:
            product["product_identification_helper"] = {"purl": helper}
        return product

    def _branch(self, package: _Package) -> dict[str, Any]:
        entry, name = package.affected, package.affected.package
        if not package.ranges and not package.versions:
            # Known only by commits: the package as a whole is the affected product, and the fixed versions
            # are left to the remediation's text (a fixed version beside "all versions" would contradict it).
            product = self._product(name, purl(entry))
            package.affected_ids.append(product["product_id"])
            return {"category": "product_name", "name": name, "product": product}
        branches = []
        for vers, text in package.ranges:
            product = self._product(f"{name} {text}", None)
            package.affected_ids.append(product["product_id"])
            branches.append({"category": "product_version_range", "name": vers, "product": product})
        for status, versions in (("affected", package.versions), ("fixed", package.fixed)):
            for version in versions:
                product = self._product(f"{name} {version}", purl(entry, version))
                (package.affected_ids if status == "affected" else package.fixed_ids).append(product["product_id"])
                branches.append({"category": "product_version", "name": version, "product": product})
        return {"category": "product_name", "name": name, "branches": branches}

    def known_affected(self) -> list[str]:
        return [pid for package in self.packages.values() for pid in package.affected_ids]

    def fixed(self) -> list[str]:
        return [pid for package in self.packages.values() for pid in package.fixed_ids]


def _vers(affected: Affected, r: Range) -> tuple[str, str]:
    """The range in `vers` notation, and as short text for a product name."""
    constraints = []
    if r.introduced != "0":
        constraints.append(f">={r.introduced}")
    if r.fixed is not None:
        constraints.append(f"<{r.fixed}")
    elif r.last_affected is not None:
        constraints.append(f"<={r.last_affected}")
    scheme = PURL_TYPES.get(affected.base_ecosystem, "generic")
    if not constraints:
        return f"vers:{scheme}/*", "(all versions)"
    return f"vers:{scheme}/{'|'.join(constraints)}", ",".join(constraints)


def _vulnerability(advisory: Advisory, tree: _ProductTree) -> dict[str, Any]:
    known_affected = tree.known_affected()
    vulnerability: dict[str, Any] = {}
    if advisory.cve_id:
        vulnerability["cve"] = advisory.cve_id
    if advisory.cwe_ids and (name := cwe_name(advisory.cwe_ids[0])):
        vulnerability["cwe"] = {"id": advisory.cwe_ids[0], "name": name}
    if advisory.summary:
        vulnerability["title"] = advisory.summary
    if ids := [a for a in advisory.aliases if a != advisory.cve_id]:
        vulnerability["ids"] = unique(
            [{"system_name": ALIAS_SYSTEMS.get(a.split("-", 1)[0], a.split("-", 1)[0]), "text": a} for a in ids]
        )
    notes = [{"category": "description", "title": "Details", "text": advisory.details or advisory.summary}]
    if advisory.summary and advisory.details:
        notes.insert(0, {"category": "summary", "title": "Summary", "text": advisory.summary})
    if not notes[-1]["text"]:
        notes[-1]["text"] = advisory.id
    for severity in advisory.severity:
        if severity.type == "CVSS_V4":
            text = f"{severity.vector} (score {severity.score}, {severity.rating})"
            notes.append({"category": "other", "title": "CVSS v4.0", "text": text})
    vulnerability["notes"] = notes
    status: dict[str, Any] = {"known_affected": known_affected}
    if fixed := tree.fixed():
        status["fixed"] = fixed
    vulnerability["product_status"] = status
    if advisory.published is not None:
        vulnerability["release_date"] = timestamp(advisory.published)
    if scores := [
        {"cvss_v3": cvss_v3_json(s), "products": known_affected} for s in advisory.severity if s.type == "CVSS_V3"
    ]:
        vulnerability["scores"] = scores
    if advisory.references:
        vulnerability["references"] = unique(
            [
                {"category": "external", "summary": REFERENCE_SUMMARIES[r.type], "url": r.url}
                for r in advisory.references
            ]
        )
    if advisory.credits:
        vulnerability["acknowledgments"] = unique([_acknowledgment(c) for c in advisory.credits])
    vulnerability["remediations"] = _remediations(advisory, tree)
    return vulnerability


def _acknowledgment(credit: Credit) -> dict[str, Any]:
    entry: dict[str, Any] = {"names": [credit.name]}
    if credit.type:
        entry["summary"] = CREDIT_WORDS[credit.type]
    if urls := [c for c in credit.contact if c.startswith(("https://", "http://", "mailto:"))]:
        entry["urls"] = urls
    return entry


def _remediations(advisory: Advisory, tree: _ProductTree) -> list[dict[str, Any]]:
    fix_urls = [r.url for r in advisory.references if r.type == "FIX"]
    remediations = []
    for package in tree.packages.values():
        name = package.affected.package
        remediation: dict[str, Any]
        if package.labels:
            remediation = {
                "category": "vendor_fix",
                "details": f"Upgrade {name} to a fixed version: {', '.join(package.labels)}.",
                "product_ids": package.affected_ids,
            }
            if fix_urls:
                remediation["url"] = fix_urls[0]
        else:
            remediation = {
                "category": "none_available",
                "details": f"No fixed version of {name} is available yet.",
                "product_ids": package.affected_ids,
            }
        remediations.append(remediation)
    return remediations
