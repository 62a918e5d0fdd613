"""The advisory as domain data: scores computed from vectors, the rules of a team's advisory, the OSV id rule."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest

from embargo.domain.advisory import (
    Advisory,
    AdvisoryError,
    Affected,
    Credit,
    Range,
    Reference,
    Severity,
    advisory_from_dict,
    cwe_name,
    osv_id,
    problems,
    purl,
    validate,
)

MODIFIED = dt.datetime(2026, 3, 11, 9, 30, tzinfo=dt.UTC)
FIX_COMMIT = "8f3c2a1d9e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"


def draft(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "summary": "Proxy credentials leak to the destination on HTTPS redirects",
        "details": "A redirect to an HTTPS URL keeps the `Proxy-Authorization` header.",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"}],
        "cwe_ids": ["CWE-200"],
        "affected": [
            {"ecosystem": "PyPI", "package": "quickhttp", "ranges": [{"introduced": "2.3.0", "fixed": "3.2.1"}]},
            {
                "ecosystem": "PyPI",
                "package": "quickhttp-socks",
                "ranges": [{"introduced": "0", "fixed": "1.4.3"}, {"introduced": "2.0", "fixed": "2.0.1"}],
            },
        ],
        "references": [{"type": "FIX", "url": f"https://github.com/example/quickhttp/commit/{FIX_COMMIT}"}],
        "credits": [{"name": "Ana Souza", "type": "FINDER", "contact": ["mailto:ana@example.org"]}],
    }
    data.update(changes)
    return data


def load(data: dict[str, Any], **meta: Any) -> Advisory:
    return advisory_from_dict(data, id=meta.pop("id", "EMB-2026-0042"), modified=MODIFIED, **meta)


def error_of(data: dict[str, Any], **meta: Any) -> AdvisoryError:
    with pytest.raises(AdvisoryError) as caught:
        load(data, **meta)
    return caught.value


def with_affected(index: int, **changes: Any) -> dict[str, Any]:
    data = draft()
    data["affected"][index] = {**data["affected"][index], **changes}
    return data


# Severity -------------------------------------------------------------------------------------------------------


def test_a_cvss_3_1_vector_gets_its_base_score_and_rating_from_the_cvss_package() -> None:
    # CVE-2023-32681 (requests), published with 6.1 MEDIUM.
    severity = Severity("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N")
    assert (severity.score, severity.rating, severity.version) == (6.1, "MEDIUM", "3.1")


def test_a_cvss_4_0_vector_is_scored_on_its_base_metrics() -> None:
    base = Severity("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N")
    assert (base.score, base.rating, base.version) == (8.7, "HIGH", "4.0")
    # A threat metric changes the CVSS-BT score, not the base score.
    with_threat = Severity("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N/E:U")
    assert (with_threat.score, with_threat.rating) == (8.7, "HIGH")


def test_a_vector_is_kept_in_the_canonical_order_without_undefined_metrics() -> None:
    severity = Severity("CVSS_V3", "CVSS:3.1/C:H/AV:N/AC:L/PR:N/UI:N/S:U/I:N/A:N/E:X")
    assert severity.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
    assert severity.score == 7.5


def test_a_malformed_vector_is_an_error_naming_it() -> None:
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"
    data = draft(severity=[{"type": "CVSS_V4", "score": v4}, {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L"}])
    error = error_of(data)
    assert error.field == "severity.1.score"
    assert "Missing mandatory metrics" in error.message


def test_a_vector_of_the_other_version_is_refused() -> None:
    error = error_of(draft(severity=[{"type": "CVSS_V4", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]))
    assert error.field == "severity.0.score"
    assert error_of(draft(severity=[{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:N/A:N"}])).field == (
        "severity.0.type"
    )


def test_one_vector_per_cvss_version() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
    error = error_of(draft(severity=[{"type": "CVSS_V3", "score": vector}] * 2))
    assert error.field == "severity.1.type"


# Affected versions ----------------------------------------------------------------------------------------------


def test_a_pypi_version_must_follow_pep_440() -> None:
    data = with_affected(
        1, ranges=[{"introduced": "0", "fixed": "1.4.3"}, {"introduced": "2.0", "fixed": "2.0.1-final!"}]
    )
    error = error_of(data)
    assert error.field == "affected.1.ranges.1.fixed"
    assert "PEP 440" in error.message


def test_introduced_must_come_before_fixed() -> None:
    error = error_of(with_affected(0, ranges=[{"introduced": "3.2.1", "fixed": "3.2.1"}]))
    assert (error.field, error.message) == (
        "affected.0.ranges.0.fixed",
        "3.2.1 is not later than the introducing version 3.2.1",
    )
    # PEP 440 order, not string order: 2.10 comes after 2.9.
    load(with_affected(0, ranges=[{"introduced": "2.9", "fixed": "2.10"}]))


def test_last_affected_may_equal_introduced_but_not_precede_it() -> None:
    load(with_affected(0, ranges=[{"introduced": "3.0", "last_affected": "3.0"}]))
    error = error_of(with_affected(0, ranges=[{"introduced": "3.0", "last_affected": "2.9"}]))
    assert error.field == "affected.0.ranges.0.last_affected"


def test_a_range_has_a_fixed_or_a_last_affected_version_not_both() -> None:
    error = error_of(with_affected(0, ranges=[{"introduced": "1.0", "fixed": "1.1", "last_affected": "1.0.9"}]))
    assert error.field == "affected.0.ranges.0.last_affected"


def test_git_ranges_name_a_repository_and_full_commits() -> None:
    good = {"type": "GIT", "repo": "https://github.com/example/quickhttp", "introduced": "0", "fixed": FIX_COMMIT}
    advisory = load(with_affected(0, ranges=[good]))
    assert advisory.affected[0].ranges[0] == Range("GIT", "0", FIX_COMMIT, None, "https://github.com/example/quickhttp")
    assert error_of(with_affected(0, ranges=[{**good, "fixed": FIX_COMMIT[:12]}])).field == "affected.0.ranges.0.fixed"
    assert error_of(with_affected(0, ranges=[{**good, "repo": ""}])).field == "affected.0.ranges.0.repo"


def test_other_ecosystems_are_not_held_to_pep_440() -> None:
    advisory = load(
        draft(affected=[{"ecosystem": "npm", "package": "@example/quickhttp", "ranges": [{"fixed": "3.2.1-rc.1"}]}])
    )
    assert advisory.affected[0].ranges[0].fixed == "3.2.1-rc.1"


def test_the_ecosystem_and_the_package_name_are_checked() -> None:
    assert error_of(with_affected(0, ecosystem="pypi")).field == "affected.0.ecosystem"
    assert error_of(with_affected(1, package="quick http")).field == "affected.1.package"
    assert error_of(with_affected(0, ranges=[])).field == "affected.0.ranges"


def test_fixed_versions_per_branch_are_versions_too() -> None:
    advisory = load(with_affected(0, fixed_by_branch={"3.2": "3.2.1", "2.28": "2.28.4"}))
    assert advisory.affected[0].fixed_versions == ("3.2.1", "2.28.4")
    error = error_of(with_affected(0, fixed_by_branch={"3.2": "three"}))
    assert error.field == "affected.0.fixed_by_branch.3.2"


def test_a_version_listed_as_affected_cannot_also_be_fixed() -> None:
    error = error_of(with_affected(0, versions=["3.0.0", "3.2.1"]))
    assert error.field == "affected.0.versions.1"


# Weaknesses, references, credits --------------------------------------------------------------------------------


def test_cwe_ids_must_be_in_the_catalogue_and_have_their_names() -> None:
    assert cwe_name("CWE-79") == "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"
    assert cwe_name("CWE-999999") is None
    assert error_of(draft(cwe_ids=["CWE-200", "CWE-999999"])).field == "cwe_ids.1"
    assert error_of(draft(cwe_ids=["79"])).field == "cwe_ids.0"


def test_a_deprecated_cwe_is_refused() -> None:
    error = error_of(draft(cwe_ids=["CWE-92"]))  # "DEPRECATED: Improper Sanitization of Custom Special Characters"
    assert (error.field, "deprecated" in error.message) == ("cwe_ids.0", True)


def test_references_and_credits_are_typed_and_addressed() -> None:
    assert error_of(draft(references=[{"type": "PATCH", "url": "https://example.org"}])).field == "references.0.type"
    assert error_of(draft(references=[{"type": "WEB", "url": "javascript:alert(1)"}])).field == "references.0.url"
    assert error_of(draft(credits=[{"name": "Ana", "type": "HACKER"}])).field == "credits.0.type"
    assert error_of(draft(credits=[{"name": "Ana", "contact": ["ana@example.org"]}])).field == "credits.0.contact.0"
    assert error_of(draft(credits=[{"name": "Ana\nSouza"}])).field == "credits.0.name"
    assert error_of(draft(credits=[{"name": "  "}])).field == "credits.0.name"


def test_the_summary_is_one_line() -> None:
    assert error_of(draft(summary="First line\u2028second line")).field == "summary"
    assert error_of(draft(summary="", details="")).field == "summary"


def test_the_input_shape_is_checked_with_the_field_named() -> None:
    assert error_of(draft(affected=[{"ecosystem": "PyPI", "package": "quickhttp", "ranges": "1.0"}])).field == (
        "affected.0.ranges"
    )
    assert error_of(draft(credits=[{"name": 42}])).field == "credits.0.name"
    assert error_of(draft(), cve_id="CVE-26-1").field == "cve_id"


# Identifiers ----------------------------------------------------------------------------------------------------


def test_the_osv_id_is_the_readable_id_when_its_prefix_is_registered_else_x_underscore() -> None:
    assert osv_id("EMB-2026-0001") == "x_EMB-2026-0001"
    assert osv_id("EMB-2026-0001", registered_prefixes=["EMB"]) == "EMB-2026-0001"
    assert osv_id("GHSA-j8r2-6x86-q33q") == "GHSA-j8r2-6x86-q33q"
    assert osv_id("PYSEC-2023-74") == "PYSEC-2023-74"
    assert osv_id("openSUSE-SU-2024:0001-1") == "openSUSE-SU-2024:0001-1"
    # A prefix only counts up to its dash, and an x_ record of ours keeps its id.
    assert osv_id("GHSAX-1") == "x_GHSAX-1"
    assert osv_id("x_EMB-2026-0001") == "x_EMB-2026-0001"


def test_the_cve_comes_first_among_the_aliases() -> None:
    advisory = load(draft(aliases=["GHSA-4x9r-8h2q-7mvw", "CVE-2026-41234"]), cve_id="CVE-2026-41234")
    assert advisory.aliases == ("CVE-2026-41234", "GHSA-4x9r-8h2q-7mvw")
    assert load(draft(aliases=["EMB-2026-0042"])).aliases == ()  # never an alias of itself


def test_package_urls() -> None:
    assert purl(Affected("PyPI", "Quick_HTTP")) == "pkg:pypi/quick-http"
    assert purl(Affected("PyPI", "quickhttp"), "3.2.1") == "pkg:pypi/quickhttp@3.2.1"
    assert purl(Affected("Maven", "org.example:quickhttp")) == "pkg:maven/org.example/quickhttp"
    assert purl(Affected("npm", "@example/quickhttp")) == "pkg:npm/%40example/quickhttp"
    assert purl(Affected("Debian:12", "quickhttp")) is None


# Dataclasses ----------------------------------------------------------------------------------------------------


def test_times_must_be_aware() -> None:
    with pytest.raises(AdvisoryError) as caught:
        Advisory(id="EMB-2026-0042", modified=dt.datetime(2026, 3, 11, 9, 30))  # noqa: DTZ001 - the point of the test
    assert caught.value.field == "modified"


def test_a_valid_advisory_has_no_problems_and_lists_become_tuples() -> None:
    advisory = load(draft(), cve_id="CVE-2026-41234", published=MODIFIED - dt.timedelta(hours=1))
    assert problems(advisory) == []
    assert validate(advisory) is advisory
    assert isinstance(advisory.affected, tuple)
    assert advisory.affected[0].ranges == (Range("ECOSYSTEM", "2.3.0", "3.2.1"),)
    assert advisory.references == (Reference("FIX", f"https://github.com/example/quickhttp/commit/{FIX_COMMIT}"),)
    assert advisory.credits == (Credit("Ana Souza", "FINDER", ("mailto:ana@example.org",)),)


def test_problems_lists_every_rule_broken() -> None:
    advisory = Advisory(
        id="EMB 42",
        modified=MODIFIED,
        summary="two\nlines",
        cwe_ids=["CWE-999999"],
        affected=[Affected("PyPI", "quickhttp", [Range(introduced="2.0", fixed="1.0")])],
    )
    assert [p.field for p in problems(advisory)] == ["id", "summary", "cwe_ids.0", "affected.0.ranges.0.fixed"]


def test_the_advisory_module_imports_no_django() -> None:
    code = "import sys, embargo.domain.advisory; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
