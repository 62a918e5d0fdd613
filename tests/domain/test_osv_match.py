"""OSV version matching, by the OSV schema's evaluation rules, on realistic PYSEC and GHSA-like records."""

from __future__ import annotations

from typing import Any

import pytest

from embargo.domain import osv_match
from embargo.domain.osv_match import Package, affects

# A PYSEC-like record: one ECOSYSTEM range with two vulnerable spans and an explicit list of versions.
PYSEC: dict[str, Any] = {
    "id": "PYSEC-2023-74",
    "modified": "2023-06-05T17:15:00Z",
    "affected": [{
        "package": {"ecosystem": "PyPI", "name": "requests", "purl": "pkg:pypi/requests"},
        "ranges": [{"type": "ECOSYSTEM", "events": [
            {"introduced": "2.3.0"}, {"fixed": "2.31.0"}, {"introduced": "3.0.0a1"}, {"fixed": "3.0.0b2"},
        ]}],
        "versions": ["2.3.0", "2.30.0", "3.0.0a1"],
    }],
}  # fmt: skip
# A GHSA-like record closed by `last_affected`, for a package written with other capitals and dashes.
GHSA: dict[str, Any] = {
    "id": "GHSA-xxxx-yyyy-zzzz",
    "modified": "2024-01-01T00:00:00Z",
    "affected": [{
        "package": {"ecosystem": "PyPI", "name": "Flask_Cors"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "4.0.0"}]}],
    }],
}  # fmt: skip
NPM: dict[str, Any] = {
    "id": "GHSA-npm0-0000-0000",
    "modified": "2024-01-01T00:00:00Z",
    "affected": [{
        "package": {"ecosystem": "npm", "name": "@babel/traverse"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "7.23.2"}]},
                   {"type": "SEMVER", "events": [{"introduced": "8.0.0-alpha.0"}, {"fixed": "8.0.0-alpha.4"}]}],
    }],
}  # fmt: skip
DEBIAN: dict[str, Any] = {
    "id": "DSA-0000-1",
    "modified": "2024-01-01T00:00:00Z",
    "affected": [{
        "package": {"ecosystem": "Debian:12", "name": "python-requests"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.28.1+dfsg-1+deb12u1"}]}],
    }],
}  # fmt: skip
REQUESTS = Package("PyPI", "requests")


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("2.2.1", False),  # before the first span
        ("2.3.0", True),  # `introduced` is inclusive
        ("2.30.0", True),  # 2.30 sorts after 2.3 by PEP 440, not as text
        ("2.31.0", False),  # `fixed` is exclusive
        ("2.32.3", False),  # between the spans
        ("3.0.0a1", True),  # the second span, pre-releases ordered by PEP 440
        ("3.0.0b1", True),
        ("3.0.0b2", False),
        ("3.1.0", False),
        ("not a version", False),  # cannot be ordered, not listed
    ],
)
def test_ecosystem_ranges_by_pep_440(version: str, affected: bool) -> None:
    assert affects(PYSEC, REQUESTS, version) is affected


def test_last_affected_is_inclusive_and_pypi_names_compare_normalised() -> None:
    package = Package("PyPI", "flask-cors")
    assert affects(GHSA, package, "0.1")
    assert affects(GHSA, package, "4.0.0")
    assert not affects(GHSA, package, "4.0.1")


def test_an_explicit_version_list_counts_even_outside_the_ranges() -> None:
    record = {**PYSEC, "affected": [{**PYSEC["affected"][0], "ranges": [], "versions": ["2.0.0"]}]}
    assert affects(record, REQUESTS, "2.0.0")
    assert not affects(record, REQUESTS, "2.0.1")


def test_semver_ranges_order_pre_releases_before_the_release() -> None:
    package = Package("npm", "@babel/traverse")
    assert affects(NPM, package, "7.23.1")
    assert not affects(NPM, package, "7.23.2")
    assert not affects(NPM, package, "7.100.0")
    assert affects(NPM, package, "8.0.0-alpha.3")
    assert not affects(NPM, package, "8.0.0-alpha.4")
    assert not affects(NPM, package, "8.0.0-alpha.10")  # numeric pre-release parts compare as numbers
    assert not affects(NPM, package, "8.0.0")


def test_other_ecosystems_use_the_natural_order_and_the_base_ecosystem_matches_every_release() -> None:
    assert affects(DEBIAN, Package("Debian", "python-requests"), "2.28.1+dfsg-1")
    assert affects(DEBIAN, Package("Debian:12", "python-requests"), "2.25.1+dfsg-2")
    assert not affects(DEBIAN, Package("Debian:12", "python-requests"), "2.28.1+dfsg-1+deb12u1")
    assert not affects(DEBIAN, Package("Debian:11", "python-requests"), "2.25.1+dfsg-2")


def test_another_package_or_ecosystem_never_matches() -> None:
    assert not affects(PYSEC, Package("PyPI", "requests-toolbelt"), "2.30.0")
    assert not affects(PYSEC, Package("npm", "requests"), "2.30.0")


def test_without_a_version_every_record_of_the_package_matches() -> None:
    assert affects(PYSEC, REQUESTS, None)
    assert not affects(PYSEC, Package("PyPI", "urllib3"), None)


def test_git_ranges_are_not_matched_by_version() -> None:
    record = {"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"}, "ranges": [
        {"type": "GIT", "repo": "https://example.org/r.git", "events": [{"introduced": "0"}]}]}]}  # fmt: skip
    assert not affects(record, REQUESTS, "1.0")


@pytest.mark.parametrize(
    ("purl", "package", "version"),
    [
        ("pkg:pypi/requests@2.30.0", Package("PyPI", "requests"), "2.30.0"),
        ("pkg:npm/%40babel/traverse", Package("npm", "@babel/traverse"), None),
        ("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
         Package("Maven", "org.apache.logging.log4j:log4j-core"), "2.14.1"),
        ("pkg:golang/golang.org/x/net@v0.17.0", Package("Go", "golang.org/x/net"), "v0.17.0"),
    ],
)  # fmt: skip
def test_package_urls_name_the_package_and_the_version(purl: str, package: Package, version: str | None) -> None:
    assert osv_match.package_from_purl(purl) == (package, version)


@pytest.mark.parametrize("purl", ["pypi/requests", "pkg:unknowntype/x"])
def test_a_bad_or_unknown_package_url_is_refused(purl: str) -> None:
    with pytest.raises(osv_match.QueryError):
        osv_match.package_from_purl(purl)
