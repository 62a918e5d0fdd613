"""The changelog entry, ready to paste: written out in full for Markdown and reStructuredText."""

from __future__ import annotations

import datetime as dt

import pytest

from embargo.domain.advisory import advisory_from_dict
from embargo.formats import changelog

MODIFIED = dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.UTC)
DATA = {
    "summary": "Proxy credentials leak on redirects.",
    "affected": [
        {"ecosystem": "PyPI", "package": "requests",
         "ranges": [{"introduced": "0", "fixed": "2.31.1"}, {"introduced": "2.32.0", "fixed": "2.32.4"}]},
    ],
    "credits": [{"name": "Ada Lovelace", "type": "FINDER"}, {"name": "Grace Hopper"}],
}  # fmt: skip
COMMITS = [{"repository": "https://example.org/psf/requests", "sha": "a1b2c3d4e5f6a7b8c9d0", "branch": "main"}]


def test_a_markdown_entry_names_the_cve_versions_commits_and_credits() -> None:
    advisory = advisory_from_dict(DATA, id="EMB-2026-0001", modified=MODIFIED, cve_id="CVE-2026-4242")
    assert changelog.entry(advisory, COMMITS, "md") == (
        "### Security\n\n"
        "- **CVE-2026-4242** (EMB-2026-0001): Proxy credentials leak on redirects.\n"
        "  Affected: requests < 2.31.1, >= 2.32.0 and < 2.32.4.\n"
        "  Fixed in 2.31.1, 2.32.4.\n"
        "  Fixing commits: `a1b2c3d4e5f6` in https://example.org/psf/requests.\n"
        "  Thanks to Ada Lovelace and Grace Hopper for reporting the issue.\n"
    )


def test_a_restructuredtext_entry_without_cve_or_credits() -> None:
    advisory = advisory_from_dict({**DATA, "credits": []}, id="EMB-2026-0001", modified=MODIFIED)
    assert changelog.entry(advisory, [], "rst") == (
        "Security\n~~~~~~~~\n\n"
        "- **EMB-2026-0001**: Proxy credentials leak on redirects.\n"
        "  Affected: requests < 2.31.1, >= 2.32.0 and < 2.32.4.\n"
        "  Fixed in 2.31.1, 2.32.4.\n"
    )


def test_last_affected_and_listed_versions_read_as_such() -> None:
    data = {"summary": "x", "affected": [{"ecosystem": "PyPI", "package": "p",
            "ranges": [{"introduced": "1.0", "last_affected": "1.4"}], "versions": ["0.9"]}]}  # fmt: skip
    advisory = advisory_from_dict(data, id="EMB-2026-0002", modified=MODIFIED)
    assert changelog.affected_words(advisory.affected[0]) == "p >= 1.0 and <= 1.4, 0.9"


def test_an_unknown_format_is_refused() -> None:
    advisory = advisory_from_dict(DATA, id="EMB-2026-0001", modified=MODIFIED)
    with pytest.raises(ValueError, match="md, rst"):
        changelog.entry(advisory, [], "html")
