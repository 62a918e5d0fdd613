"""Whether an OSV record affects a package version, by the OSV schema's rules (ossf.github.io/osv-schema,
"Evaluation"). Plain Python over OSV records as dicts, so our own records and imported ones are matched alike.

- A version is affected when it is listed in `versions`, or falls in an ECOSYSTEM or SEMVER range: the range's
  events are sorted by version and walked in order — `introduced` (``"0"`` is the first version) opens the
  vulnerable span, `fixed` closes it at that version, `last_affected` closes it after that version.
- Ordering: PyPI versions by PEP 440 (`packaging`); SEMVER ranges, and the ecosystems whose versions are SemVer
  (npm, crates.io, Go, Hex, Pub, NuGet), by SemVer 2.0 precedence. Any other ecosystem (Debian, Maven,
  RubyGems, …) falls back to a conservative natural order (numbers as numbers, text as text); when a version
  cannot be ordered that way, a range can neither open nor close on it, so only the explicit `versions` list
  decides. GIT ranges need commit history and are not matched by version.
- A Package URL names the package (and the version, when it carries one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from embargo.domain.advisory import PURL_TYPES

# The ecosystems whose versions follow SemVer 2.0.
SEMVER_ECOSYSTEMS = frozenset({"npm", "crates.io", "Go", "Hex", "Pub", "NuGet"})
ECOSYSTEM_OF_PURL_TYPE = {kind: ecosystem for ecosystem, kind in PURL_TYPES.items()}
SEMVER = re.compile(
    r"v?(?P<core>\d+(?:\.\d+){0,2})(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?"
)  # a missing minor or patch reads as 0, as Go's and npm's tools accept "v1.2"


class QueryError(ValueError):
    """A query the OSV rules cannot answer (an unknown Package URL type, a malformed one)."""


@dataclass(frozen=True)
class Package:
    ecosystem: str
    name: str


Key = Callable[[str], Any]  # a version -> something ordered; raises ValueError when it cannot be ordered


def package_from_purl(purl: str) -> tuple[Package, str | None]:
    """(the package, the version or None) of a Package URL such as `pkg:pypi/requests@2.31.0`."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError as e:
        raise QueryError(f"not a Package URL: {e}") from None
    ecosystem = ECOSYSTEM_OF_PURL_TYPE.get(parsed.type)
    if ecosystem is None:
        raise QueryError(f"the Package URL type {parsed.type!r} has no OSV ecosystem here")
    name = parsed.name
    if parsed.namespace:
        name = f"{parsed.namespace}:{name}" if ecosystem == "Maven" else f"{parsed.namespace}/{name}"
    return Package(ecosystem, name), parsed.version


def same_package(affected: Mapping[str, Any], package: Package) -> bool:
    """Whether an `affected` entry names the package. An ecosystem without its suffix (`Debian`) matches every
    suffixed one (`Debian:12`); PyPI names compare normalised (PEP 503), others exactly."""
    named = affected.get("package") or {}
    ecosystem = str(named.get("ecosystem", ""))
    if package.ecosystem not in (ecosystem, ecosystem.split(":", 1)[0]):
        return False
    name = str(named.get("name", ""))
    if ecosystem.split(":", 1)[0] == "PyPI":
        return bool(canonicalize_name(name) == canonicalize_name(package.name))
    return name == package.name


def index_key(ecosystem: str, name: str) -> tuple[str, str]:
    """The (ecosystem, name) under which an `affected` entry is indexed and a query looks it up: the ecosystem
    without its `:suffix` (a query for `Debian` finds `Debian:12`), the name as `same_package` compares it
    (PEP 503 for PyPI). `same_package` still decides among the rows found."""
    base = ecosystem.split(":", 1)[0]
    return base, str(canonicalize_name(name)) if base == "PyPI" else name


def affects(record: Mapping[str, Any], package: Package, version: str | None) -> bool:
    """Whether the record affects the package; without a version, whether it names the package at all (the OSV
    API answers a query without a version with every record of the package)."""
    for affected in record.get("affected") or []:
        if not same_package(affected, package):
            continue
        if version is None or version_affected(affected, version):
            return True
    return False


def version_affected(affected: Mapping[str, Any], version: str) -> bool:
    if version in (affected.get("versions") or []):
        return True
    ecosystem = str((affected.get("package") or {}).get("ecosystem", "")).split(":", 1)[0]
    for entry in affected.get("ranges") or []:
        kind = entry.get("type")
        key: Key
        if kind == "SEMVER":
            key = semver_key
        elif kind == "ECOSYSTEM":
            key = key_for(ecosystem)
        else:
            continue  # GIT: commits, not versions
        if range_affects(entry.get("events") or [], version, key):
            return True
    return False


def range_affects(events: Iterable[Mapping[str, Any]], version: str, key: Key) -> bool:
    """The OSV evaluation of one range's events for one version."""
    try:
        wanted = key(version)
    except ValueError:
        return False
    ordered: list[tuple[Any, str, str]] = []
    for event in events:
        for kind in ("introduced", "fixed", "last_affected"):
            if kind in event:
                value = str(event[kind])
                if kind == "introduced" and value == "0":
                    ordered.append((None, kind, value))
                    continue
                try:
                    ordered.append((key(value), kind, value))
                except ValueError:
                    continue  # an event that cannot be ordered can neither open nor close the span
    # "0" comes first; then by version.
    ordered.sort(key=lambda item: (item[0] is not None, item[0] if item[0] is not None else 0))
    vulnerable = False
    for at, kind, _ in ordered:
        if kind == "introduced" and (at is None or wanted >= at):
            vulnerable = True
        elif (kind == "fixed" and wanted >= at) or (kind == "last_affected" and wanted > at):
            vulnerable = False
    return vulnerable


def key_for(ecosystem: str) -> Key:
    if ecosystem == "PyPI":
        return pep440_key
    if ecosystem in SEMVER_ECOSYSTEMS:
        return semver_key
    return natural_key


def pep440_key(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        raise ValueError(f"{version!r} is not a PEP 440 version") from None


def semver_key(version: str) -> tuple[Any, ...]:
    """SemVer 2.0 precedence: the core numerically, a release after its pre-releases, pre-release parts
    numbers before text; build metadata ignored."""
    match = SEMVER.fullmatch(version.strip())
    if match is None:
        raise ValueError(f"{version!r} is not a SemVer version")
    core = [int(part) for part in match["core"].split(".")]
    core += [0] * (3 - len(core))
    pre = match["pre"]
    if pre is None:
        return (*core, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*core, 0, parts)


NATURAL_PART = re.compile(r"\d+|[A-Za-z]+")


def natural_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """The fallback order: runs of digits compared as numbers, runs of letters as text, separators ignored.
    Refuses (ValueError) what has neither, so such a version orders nothing."""
    parts = NATURAL_PART.findall(version)
    if not parts:
        raise ValueError(f"{version!r} cannot be ordered")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts)
