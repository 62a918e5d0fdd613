"""Release day, as plain rules: the checks that run before a security release goes public, which failures an
override may wave through, and how a package index's answer is read.

Each check has a stable `id` (`commits_public`, `version_released`, `release_moment`, `records_valid`), a status
(`pass`, `fail` or `skipped`) and its evidence in words. A failing check blocks publication unless the team
overrides it with a written reason; `release_moment` never yields to an override: the embargo is recorded as
broken instead, which is a fact the packagers are told of, not a button.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

COMMITS_PUBLIC = "commits_public"
VERSION_RELEASED = "version_released"
RELEASE_MOMENT = "release_moment"
RECORDS_VALID = "records_valid"
CHECK_IDS = (COMMITS_PUBLIC, VERSION_RELEASED, RELEASE_MOMENT, RECORDS_VALID)
# The moment is a promise to the packagers: only a broken embargo (a recorded fact) brings it forward.
NOT_OVERRIDABLE = frozenset({RELEASE_MOMENT})
MAX_REASON = 2000


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check's status, not a password
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    id: str
    status: Status
    evidence: str

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL


class OverrideRefused(ValueError):
    """An override that cannot be accepted; `field` names it (`overrides.<check id>`)."""

    def __init__(self, field: str, message: str, *, code: str = "validation_error") -> None:
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


class PublicationBlocked(ValueError):
    """Failing checks that no valid override covers; `message` says what to do about each."""

    def __init__(self, failures: Sequence[Check], message: str, *, code: str = "publication_blocked") -> None:
        super().__init__(message)
        self.failures, self.message, self.code = list(failures), message, code


def release_moment(release_at: dt.datetime | None, now: dt.datetime, *, embargo_broken: bool) -> Check:
    """The moment has come, or the embargo was broken (which waives it)."""
    if embargo_broken:
        return Check(RELEASE_MOMENT, Status.PASS, "The embargo is recorded as broken: publication may happen now.")
    if release_at is None:
        return Check(RELEASE_MOMENT, Status.FAIL, "The release has no moment set.")
    stamp = f"{release_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    if now >= release_at:
        return Check(RELEASE_MOMENT, Status.PASS, f"The release moment ({stamp}) has come.")
    return Check(RELEASE_MOMENT, Status.FAIL, f"The release moment is {stamp}; it has not come yet.")


def clean_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    """The overrides as given, each reason stripped; raises OverrideRefused naming a bad one (an unknown check,
    an empty or overlong reason, or the release moment)."""
    cleaned: dict[str, str] = {}
    for check_id, reason in overrides.items():
        if check_id not in CHECK_IDS:
            raise OverrideRefused(
                f"overrides.{check_id}", f"There is no check {check_id!r} (one of {', '.join(CHECK_IDS)})."
            )
        if check_id in NOT_OVERRIDABLE:
            raise OverrideRefused(
                f"overrides.{check_id}",
                "The release moment cannot be overridden: if the issue became public, record the embargo as broken, "
                "then publish.",
                code="release_moment_not_overridable",
            )
        text = (reason or "").strip()
        if not text:
            raise OverrideRefused(f"overrides.{check_id}", "Write why the release goes out despite this check.")
        if len(text) > MAX_REASON:
            raise OverrideRefused(f"overrides.{check_id}", f"A reason is at most {MAX_REASON} characters.")
        cleaned[check_id] = text
    return cleaned


def blocking(checks: Iterable[Check], overrides: Mapping[str, str]) -> list[Check]:
    """The failing checks that still block publication once `overrides` (cleaned) are applied."""
    return [c for c in checks if c.failed and (c.id in NOT_OVERRIDABLE or c.id not in overrides)]


def require_publishable(checks: Sequence[Check], overrides: Mapping[str, str]) -> dict[str, str]:
    """Raises PublicationBlocked unless every failing check is overridden; returns the overrides that were
    needed (an override of a passing check is not kept: nothing was waved through)."""
    left = blocking(checks, overrides)
    if left:
        moment = [c for c in left if c.id in NOT_OVERRIDABLE]
        if moment:
            message = (
                f"{moment[0].evidence} The release moment cannot be overridden: if the issue became public, "
                "record the embargo as broken, then publish."
            )
        else:
            listed = "; ".join(f"{c.id}: {c.evidence}" for c in left)
            message = (
                f"Failing checks block publication: {listed} To publish anyway, give a written reason for each "
                'in `overrides` (e.g. {"overrides": {"' + left[0].id + '": "why"}}).'
            )
        raise PublicationBlocked(left, message)
    failed = {c.id for c in checks if c.failed}
    return {k: v for k, v in overrides.items() if k in failed}


# --- the package index (PEP 691) ----------------------------------------------------------------------------------


def normalized_name(name: str) -> str:
    """The index's name for a project (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _version_of(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def index_versions(page: Mapping[str, object]) -> set[Version]:
    """The versions a PEP 691 project page lists: its `versions` key (PEP 700) and its files' names."""
    found: set[Version] = set()
    versions = page.get("versions")
    if isinstance(versions, list):
        for v in versions:
            try:
                found.add(Version(str(v)))
            except InvalidVersion:
                continue
    files = page.get("files")
    if isinstance(files, list):
        for f in files:
            name = f.get("filename") if isinstance(f, dict) else None
            if isinstance(name, str) and (version := _version_of(name)) is not None:
                found.add(version)
    return found


def missing_versions(wanted: Iterable[str], listed: set[Version]) -> list[str]:
    """The wanted versions the index does not list (PEP 440 equality: 2.32.4 is 2.32.4.0)."""
    missing = []
    for text in wanted:
        try:
            version = Version(text)
        except InvalidVersion:
            missing.append(text)
            continue
        if version not in listed:
            missing.append(text)
    return missing
