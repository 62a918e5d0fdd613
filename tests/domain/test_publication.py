"""The release-day rules without a database: what blocks publication, what an override may wave through, and how a
package index's PEP 691 page is read."""

from __future__ import annotations

import datetime as dt

import pytest
from packaging.version import Version

from embargo.domain import publication as rules
from embargo.domain.publication import Check, Status

MOMENT = dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.UTC)
PASSING = [Check(i, Status.PASS, "ok") for i in rules.CHECK_IDS]


def with_failing(*ids: str) -> list[Check]:
    return [Check(c.id, Status.FAIL, f"{c.id} is wrong.") if c.id in ids else c for c in PASSING]


def test_the_moment_has_come_at_the_moment_and_not_a_second_before() -> None:
    assert rules.release_moment(MOMENT, MOMENT, embargo_broken=False).status is Status.PASS
    early = rules.release_moment(MOMENT, MOMENT - dt.timedelta(seconds=1), embargo_broken=False)
    assert early.status is Status.FAIL
    assert "2026-12-08 14:00 UTC" in early.evidence


def test_a_broken_embargo_waives_the_moment_and_a_release_without_one_fails() -> None:
    assert rules.release_moment(MOMENT, MOMENT - dt.timedelta(days=5), embargo_broken=True).status is Status.PASS
    assert rules.release_moment(None, MOMENT, embargo_broken=False).status is Status.FAIL


def test_every_check_passing_publishes_without_overrides() -> None:
    assert rules.require_publishable(PASSING, {}) == {}


def test_a_failing_check_blocks_and_names_itself() -> None:
    with pytest.raises(rules.PublicationBlocked) as blocked:
        rules.require_publishable(with_failing("version_released", "commits_public"), {})
    assert [c.id for c in blocked.value.failures] == ["commits_public", "version_released"]
    assert blocked.value.code == "publication_blocked"
    assert "overrides" in blocked.value.message


def test_an_override_with_a_reason_waves_its_check_through_and_only_needed_ones_are_kept() -> None:
    overrides = {"version_released": "Uploaded.", "records_valid": "Not needed."}
    assert rules.require_publishable(with_failing("version_released"), overrides) == {"version_released": "Uploaded."}


def test_an_override_of_one_check_does_not_cover_another() -> None:
    with pytest.raises(rules.PublicationBlocked) as blocked:
        rules.require_publishable(with_failing("version_released", "commits_public"), {"version_released": "x"})
    assert [c.id for c in blocked.value.failures] == ["commits_public"]


def test_the_release_moment_is_never_overridden() -> None:
    with pytest.raises(rules.OverrideRefused) as refused:
        rules.clean_overrides({"release_moment": "We are in a hurry."})
    assert refused.value.code == "release_moment_not_overridable"
    assert "record the embargo as broken" in refused.value.message
    # Even if an override slipped past the cleaning, the moment still blocks.
    with pytest.raises(rules.PublicationBlocked) as blocked:
        rules.require_publishable(with_failing("release_moment"), {"release_moment": "x"})
    assert "cannot be overridden" in blocked.value.message


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"version_released": "   "}, "overrides.version_released"), ({"tests_pass": "Yes."}, "overrides.tests_pass"),
     ({"records_valid": "x" * (rules.MAX_REASON + 1)}, "overrides.records_valid")],
)  # fmt: skip
def test_an_override_needs_a_known_check_and_a_written_reason(overrides: dict[str, str], field: str) -> None:
    with pytest.raises(rules.OverrideRefused) as refused:
        rules.clean_overrides(overrides)
    assert refused.value.field == field


def test_reasons_are_kept_stripped() -> None:
    assert rules.clean_overrides({"commits_public": "  Pushed to the mirror.\n"}) == {
        "commits_public": "Pushed to the mirror."
    }


def test_the_index_page_lists_versions_from_file_names_and_the_versions_key() -> None:
    page = {
        "name": "requests",
        "versions": ["2.31.0"],
        "files": [
            {"filename": "requests-2.32.4-py3-none-any.whl"},
            {"filename": "requests-2.32.3.tar.gz"},
            {"filename": "not a distribution"},
        ],
    }
    assert rules.index_versions(page) == {Version("2.31.0"), Version("2.32.4"), Version("2.32.3")}


def test_a_version_counts_as_released_by_pep_440_equality() -> None:
    listed = {Version("2.32.4"), Version("2.31.1")}
    assert rules.missing_versions(["2.32.4.0", "2.31.1", "2.30.9"], listed) == ["2.30.9"]


def test_package_names_are_normalized_for_the_index() -> None:
    assert rules.normalized_name("Zope.Interface_Extra") == "zope-interface-extra"
