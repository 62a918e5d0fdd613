"""An advisory as plain data: the record the world will read, before it is written in any format.

The dataclasses hold what a team writes (or what an imported OSV record says); `formats/` turns them into
CVE JSON 5, OSV and CSAF. Field names follow OSV, whose shape the API also uses, so a validation error names
the input the way the client sent it: `severity.0.score`, `affected.1.ranges.0.fixed`.

Two levels of checking:
- constructing a dataclass checks what makes it meaningless (an unknown type, a CVSS vector the `cvss` package
  cannot score); the error names the field relative to that object, and `advisory_from_dict` prefixes the path;
- `validate()` checks the rules a team's own advisory must follow (PEP 440 versions for PyPI, introduced before
  fixed, known CWE ids, one line of summary …). Imported records are kept as they are and are not held to it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError
from cwe2.mappings import xml_database_path
from packageurl import PackageURL
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version


class AdvisoryError(ValueError):
    """`field` is the dotted path of the input at fault (`affected.1.ranges.0.fixed`), `message` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message

    def within(self, prefix: str) -> AdvisoryError:
        return AdvisoryError(f"{prefix}.{self.field}" if self.field else prefix, self.message)


@contextmanager
def within(prefix: str) -> Iterator[None]:
    """Re-raises an AdvisoryError from the block with `prefix.` in front of its field."""
    try:
        yield
    except AdvisoryError as e:
        raise e.within(prefix) from None


SEVERITY_TYPES = ("CVSS_V3", "CVSS_V4")
RANGE_TYPES = ("ECOSYSTEM", "SEMVER", "GIT")
# OSV's reference and credit types (schema 1.7.5); every format maps from these.
REFERENCE_TYPES = (
    "ADVISORY", "ARTICLE", "DETECTION", "DISCUSSION", "REPORT", "FIX", "INTRODUCED", "GIT", "PACKAGE", "EVIDENCE",
    "WEB",
)  # fmt: skip
CREDIT_TYPES = (
    "FINDER", "REPORTER", "ANALYST", "COORDINATOR", "REMEDIATION_DEVELOPER", "REMEDIATION_REVIEWER",
    "REMEDIATION_VERIFIER", "TOOL", "SPONSOR", "OTHER",
)  # fmt: skip
# The ecosystems the OSV schema 1.7.5 knows; an ecosystem may carry a suffix (`Debian:12`).
ECOSYSTEMS = (
    "AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux", "BellSoft Hardened Containers", "Bioconductor",
    "Bitnami", "Chainguard", "CleanStart", "ConanCenter", "CRAN", "crates.io", "Debian", "Docker Hardened Images",
    "Echo", "FreeBSD", "GHC", "GitHub Actions", "Go", "Hackage", "Hex", "Julia", "Kubernetes", "Linux", "Mageia",
    "Maven", "MinimOS", "npm", "NuGet", "opam", "openEuler", "openSUSE", "OSS-Fuzz", "Packagist", "Photon OS", "Pub",
    "PyPI", "Red Hat", "Rocky Linux", "Root", "RubyGems", "SUSE", "SwiftURL", "TuxCare", "Ubuntu", "VSCode", "Wolfi",
)  # fmt: skip
# The home-database prefixes registered with OSV (schema 1.7.5). An ID with one of them is a valid OSV `id`;
# any other needs `x_` in front (DESIGN.md, "Identifiers").
OSV_PREFIXES = (
    "ASB-A", "PUB-A", "ALPINE", "ALSA", "ALBA", "ALEA", "AZL", "BELL", "BIT", "CGA", "CLEANSTART", "CLSA", "CURL",
    "CVE", "DEBIAN", "DHI", "DRUPAL", "DSA", "DLA", "ELA", "DTSA", "ECHO", "EEF", "FreeBSD", "GHSA", "GO", "GSD",
    "HSEC", "JLSEC", "KUBE", "LBSEC", "LSN", "MAL", "MINI", "MGASA", "OESA", "OSEC", "OSV", "openSUSE-SU", "PHSA",
    "PSF", "PYSEC", "RHBA", "RHEA", "RHSA", "RLSA", "RXSA", "RSEC", "ROOT", "RUSTSEC", "SUSE-SU", "SUSE-RU",
    "SUSE-FU", "SUSE-OU", "UBUNTU", "USN", "V8",
)  # fmt: skip
UNREGISTERED_PREFIX = "x_"

CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
CWE_ID = re.compile(r"CWE-[1-9][0-9]{0,5}")
GIT_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
ADVISORY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
SUMMARY_MAX = 256
DETAILS_MAX = 16384  # what a CVE record's supporting media can carry
NAME_MAX = 200
VERSION_MAX = 1024


def _aware(value: dt.datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise AdvisoryError(name, "needs a time zone (store UTC)")


@dataclass(frozen=True)
class Severity:
    """A CVSS vector; its base score and rating are computed by the `cvss` package, never typed by hand.

    The vector is kept in the canonical form `cvss` writes (metrics in the specification's order, `X` values
    dropped), which is the form the CVE and OSV schemas' patterns accept."""

    type: str
    vector: str

    def __post_init__(self) -> None:
        if self.type not in SEVERITY_TYPES:
            raise AdvisoryError("type", f"one of {', '.join(SEVERITY_TYPES)}")
        vector = self.vector.strip() if isinstance(self.vector, str) else ""
        prefixes = ("CVSS:3.0/", "CVSS:3.1/") if self.type == "CVSS_V3" else ("CVSS:4.0/",)
        if not vector.startswith(prefixes):
            raise AdvisoryError("score", f"a {self.type} vector starts with {' or '.join(prefixes)}")
        try:
            parsed = CVSS3(vector) if self.type == "CVSS_V3" else CVSS4(vector)
            clean = str(parsed.clean_vector())
        except CVSSError as e:
            raise AdvisoryError("score", f"not a valid CVSS vector: {e}") from None
        object.__setattr__(self, "vector", clean)

    @functools.cached_property
    def _parsed(self) -> CVSS3 | CVSS4:
        return CVSS3(self.vector) if self.type == "CVSS_V3" else CVSS4(self.vector)

    @functools.cached_property
    def _base(self) -> tuple[float, str]:
        parsed = self._parsed
        if isinstance(parsed, CVSS3):
            return float(parsed.scores()[0]), str(parsed.severities()[0]).upper()
        # `cvss` scores a CVSS 4.0 vector with every metric written in it (CVSS-BTE); the base score is the
        # score of the base metrics alone.
        base = CVSS4("CVSS:4.0/" + "/".join(f"{k}:{v}" for k, v in self.metrics.items() if k in CVSS4_BASE))
        return float(base.base_score), str(base.severity).upper()

    @property
    def version(self) -> str:
        """`3.0`, `3.1` or `4.0`, from the vector's prefix."""
        return self.vector[len("CVSS:") : self.vector.index("/")]

    @property
    def score(self) -> float:
        """The base score, computed by `cvss` from the base metrics of the vector."""
        return self._base[0]

    @property
    def rating(self) -> str:
        """The base score's rating: NONE, LOW, MEDIUM, HIGH or CRITICAL."""
        return self._base[1]

    @property
    def metrics(self) -> dict[str, str]:
        """The vector's metrics as abbreviations (`{"AV": "N", …}`), only those written in it."""
        return dict(self._parsed.original_metrics)


CVSS4_BASE = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")


@dataclass(frozen=True)
class Range:
    """Versions from `introduced` (inclusive; "0" means the first) to `fixed` (exclusive) or `last_affected`
    (inclusive), or open-ended when neither is known. GIT ranges name commits in `repo`."""

    type: str = "ECOSYSTEM"
    introduced: str = "0"
    fixed: str | None = None
    last_affected: str | None = None
    repo: str = ""

    def __post_init__(self) -> None:
        if self.type not in RANGE_TYPES:
            raise AdvisoryError("type", f"one of {', '.join(RANGE_TYPES)}")
        for name in ("introduced", "fixed", "last_affected"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise AdvisoryError(name, "give a version" if self.type != "GIT" else "give a commit")
        if self.fixed is not None and self.last_affected is not None:
            raise AdvisoryError("last_affected", "give either the fixed version or the last affected one, not both")
        if self.type == "GIT" and not self.repo:
            raise AdvisoryError("repo", "a GIT range names the repository its commits belong to")


@dataclass(frozen=True)
class Affected:
    """One package in one ecosystem: its vulnerable ranges, any versions listed one by one, and the fixed
    version per supported branch (e.g. {"4.2": "4.2.15", "5.0": "5.0.8"})."""

    ecosystem: str
    package: str
    ranges: Sequence[Range] = ()
    versions: Sequence[str] = ()
    fixed_by_branch: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranges", tuple(self.ranges))
        object.__setattr__(self, "versions", tuple(self.versions))
        object.__setattr__(self, "fixed_by_branch", dict(self.fixed_by_branch))
        if not isinstance(self.ecosystem, str) or not self.ecosystem.strip():
            raise AdvisoryError("ecosystem", "name the ecosystem (e.g. PyPI)")
        if not isinstance(self.package, str) or not self.package.strip():
            raise AdvisoryError("package", "name the package")

    @property
    def base_ecosystem(self) -> str:
        """The ecosystem without its suffix (`Debian:12` → `Debian`)."""
        return self.ecosystem.split(":", 1)[0]

    @property
    def fixed_versions(self) -> tuple[str, ...]:
        """Every fixed version the advisory names for this package, in order, without repeats."""
        found = [r.fixed for r in self.ranges if r.type != "GIT" and r.fixed is not None]
        found += list(self.fixed_by_branch.values())
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Reference:
    type: str
    url: str

    def __post_init__(self) -> None:
        if self.type not in REFERENCE_TYPES:
            raise AdvisoryError("type", f"one of {', '.join(REFERENCE_TYPES)}")
        if not isinstance(self.url, str) or not self.url.strip():
            raise AdvisoryError("url", "give the address")


@dataclass(frozen=True)
class Credit:
    """Someone thanked in the advisory. `type` is an OSV credit type, or "" when an imported record gave none;
    `contact` holds addresses as URLs (`https://…`, `mailto:…`)."""

    name: str
    type: str = ""
    contact: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "contact", tuple(self.contact))
        if not isinstance(self.name, str) or not self.name.strip():
            raise AdvisoryError("name", "give the name to credit")
        if self.type and self.type not in CREDIT_TYPES:
            raise AdvisoryError("type", f"one of {', '.join(CREDIT_TYPES)}")


@dataclass(frozen=True, kw_only=True)
class Advisory:
    """`id` is the readable ID (EMB-2026-0001) or, for an imported record, its own ID (GHSA-…, PYSEC-…).
    `aliases` always starts with `cve_id` when there is one; `cwe_ids` are `CWE-<n>` strings, the first being the
    main weakness (CSAF can only carry that one)."""

    id: str
    modified: dt.datetime
    summary: str = ""
    details: str = ""
    severity: Sequence[Severity] = ()
    cwe_ids: Sequence[str] = ()
    affected: Sequence[Affected] = ()
    references: Sequence[Reference] = ()
    credits: Sequence[Credit] = ()
    aliases: Sequence[str] = ()
    cve_id: str | None = None
    published: dt.datetime | None = None
    withdrawn: dt.datetime | None = None
    database_specific: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise AdvisoryError("id", "the advisory needs an ID")
        for name in ("severity", "cwe_ids", "affected", "references", "credits"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        aliases = [a for a in self.aliases if a not in (self.id, self.cve_id)]
        if self.cve_id:
            aliases.insert(0, self.cve_id)
        object.__setattr__(self, "aliases", tuple(dict.fromkeys(aliases)))
        object.__setattr__(self, "database_specific", dict(self.database_specific))
        _aware(self.modified, "modified")
        _aware(self.published, "published")
        _aware(self.withdrawn, "withdrawn")


# ---------------------------------------------------------------------------------------------------------------
# Identifiers


def osv_id(readable_id: str, registered_prefixes: Iterable[str] = OSV_PREFIXES) -> str:
    """The OSV `id` of an advisory: its readable ID when the prefix is registered with OSV, else `x_` + the ID.

    An ID that already starts with `x_` (an imported record of ours) is returned as it is."""
    if readable_id.startswith(UNREGISTERED_PREFIX):
        return readable_id
    if any(readable_id.startswith(f"{prefix}-") for prefix in registered_prefixes):
        return readable_id
    return UNREGISTERED_PREFIX + readable_id


def is_cve_id(value: str) -> bool:
    return bool(CVE_ID.fullmatch(value))


# ---------------------------------------------------------------------------------------------------------------
# Weaknesses


@functools.cache
def _cwe_catalogue() -> dict[int, tuple[str, str]]:
    """CWE number → (name, status) from the catalogue the `cwe2` package ships.

    `cwe2.database.Database.get` rescans 50 CSV files on every call and parses the whole 15 MB XML catalogue for
    an ID it does not know (about a second each time, through file handles shared by all threads); reading the
    XML once and keeping a dict makes a lookup free and an unknown ID cheap."""
    names: dict[int, tuple[str, str]] = {}
    for _event, element in ET.iterparse(xml_database_path):  # noqa: S314 - a file inside an installed package
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("Weakness", "Category", "View"):
            if element.get("ID", "").isdigit() and element.get("Name"):
                names[int(element.get("ID", ""))] = (element.get("Name", ""), element.get("Status", ""))
            element.clear()
    return names


def cwe_name(cwe_id: str) -> str | None:
    """The catalogue name of `CWE-<n>` (`CWE-79` → "Improper Neutralization of Input During Web Page
    Generation ('Cross-site Scripting')"), or None when the catalogue does not know it."""
    if not CWE_ID.fullmatch(cwe_id):
        return None
    entry = _cwe_catalogue().get(int(cwe_id.removeprefix("CWE-")))
    return entry[0] if entry else None


def _cwe_problem(cwe_id: str) -> str | None:
    if not isinstance(cwe_id, str) or not CWE_ID.fullmatch(cwe_id):
        return "a CWE identifier such as CWE-79"
    entry = _cwe_catalogue().get(int(cwe_id.removeprefix("CWE-")))
    if entry is None:
        return f"{cwe_id} is not in the CWE catalogue"
    if entry[1] == "Deprecated":
        return f"{cwe_id} is deprecated in the CWE catalogue ({entry[0]})"
    return None


# ---------------------------------------------------------------------------------------------------------------
# Packages and versions

# OSV ecosystem → Package URL type (purl-spec); an ecosystem not listed has no Package URL here.
PURL_TYPES = {
    "PyPI": "pypi", "npm": "npm", "crates.io": "cargo", "Go": "golang", "Maven": "maven", "RubyGems": "gem",
    "NuGet": "nuget", "Packagist": "composer", "Hex": "hex", "Pub": "pub", "Hackage": "hackage", "CRAN": "cran",
    "GitHub Actions": "github", "SwiftURL": "swift",
}  # fmt: skip


def purl(affected: Affected, version: str | None = None) -> str | None:
    """The Package URL of the affected package (`pkg:pypi/requests`), with `@version` when given; None for an
    ecosystem without a Package URL type."""
    kind = PURL_TYPES.get(affected.base_ecosystem)
    if kind is None:
        return None
    name, namespace = affected.package.strip(), None
    if kind == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif kind in ("npm", "golang", "composer", "github", "swift") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    try:
        return str(PackageURL(type=kind, namespace=namespace, name=name, version=version).to_string())
    except ValueError:
        return None


def version_problem(ecosystem: str, version: str) -> str | None:
    """Why `version` is not a version of `ecosystem`, or None. PyPI versions follow PEP 440; other ecosystems
    only need a non-blank string without spaces (their version rules are not checked here)."""
    if not isinstance(version, str) or not version.strip():
        return "give a version"
    if len(version) > VERSION_MAX or any(c.isspace() for c in version):
        return f"{version!r} is not a version"
    if ecosystem.split(":", 1)[0] == "PyPI":
        try:
            Version(version)
        except InvalidVersion:
            return f"{version!r} is not a PEP 440 version"
    return None


def _package_problem(ecosystem: str, package: str) -> str | None:
    if len(package) > NAME_MAX * 4 or not _one_line(package):
        return f"{package!r} is not a package name"
    if ecosystem.split(":", 1)[0] == "PyPI":
        try:
            canonicalize_name(package, validate=True)
        except InvalidName:
            return f"{package!r} is not a valid PyPI project name"
    return None


def _one_line(text: str) -> bool:
    return text == text.strip() and len(text.splitlines()) <= 1


def _is_web_url(value: str) -> bool:
    if not isinstance(value, str) or len(value) > 2048 or any(c.isspace() or ord(c) < 32 for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and bool(parts.hostname)


def _is_contact(value: str) -> bool:
    if _is_web_url(value):
        return True
    address = value.removeprefix("mailto:") if isinstance(value, str) else ""
    return (
        value.startswith("mailto:")
        and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address) is not None
        and len(value) <= 320
    )


# ---------------------------------------------------------------------------------------------------------------
# The rules of a team's own advisory


def problems(advisory: Advisory) -> list[AdvisoryError]:
    """Every rule the advisory breaks, in field order; empty when it can be kept."""
    found: list[AdvisoryError] = []

    def bad(field: str, message: str) -> None:
        found.append(AdvisoryError(field, message))

    if not ADVISORY_ID.fullmatch(advisory.id):
        bad("id", "letters, digits and . _ : - only")
    if not _one_line(advisory.summary):
        bad("summary", "one line, without leading or trailing spaces")
    elif len(advisory.summary) > SUMMARY_MAX:
        bad("summary", f"at most {SUMMARY_MAX} characters")
    if len(advisory.details) > DETAILS_MAX:
        bad("details", f"at most {DETAILS_MAX} characters")
    if not advisory.summary and not advisory.details.strip():
        bad("summary", "say in one line what the vulnerability is")
    seen_types: set[str] = set()
    for i, severity in enumerate(advisory.severity):
        if severity.type in seen_types:
            bad(f"severity.{i}.type", f"only one {severity.type} vector")
        seen_types.add(severity.type)
    for i, cwe in enumerate(advisory.cwe_ids):
        if (problem := _cwe_problem(cwe)) is not None:
            bad(f"cwe_ids.{i}", problem)
        elif cwe in advisory.cwe_ids[:i]:
            bad(f"cwe_ids.{i}", f"{cwe} is listed twice")
    for i, affected in enumerate(advisory.affected):
        found.extend(e.within(f"affected.{i}") for e in _affected_problems(affected))
    for i, reference in enumerate(advisory.references):
        if not _is_web_url(reference.url):
            bad(f"references.{i}.url", "an http:// or https:// address")
        elif reference in advisory.references[:i]:
            bad(f"references.{i}", "listed twice")
    for i, credit in enumerate(advisory.credits):
        if not _one_line(credit.name) or len(credit.name) > NAME_MAX:
            bad(f"credits.{i}.name", f"one line of at most {NAME_MAX} characters")
        for k, contact in enumerate(credit.contact):
            if not _is_contact(contact):
                bad(f"credits.{i}.contact.{k}", "an https:// or mailto: address")
        if any(c.name == credit.name and c.type == credit.type for c in advisory.credits[:i]):
            bad(f"credits.{i}", "listed twice")
    if advisory.cve_id is not None and not is_cve_id(advisory.cve_id):
        bad("cve_id", "a CVE ID such as CVE-2026-12345")
    for i, alias in enumerate(advisory.aliases):
        if not ADVISORY_ID.fullmatch(alias):
            bad(f"aliases.{i}", "an identifier such as CVE-2026-12345 or GHSA-xxxx-xxxx-xxxx")
    if advisory.published and advisory.published > advisory.modified:
        bad("modified", "cannot be earlier than the publication")
    if advisory.withdrawn and advisory.published and advisory.withdrawn < advisory.published:
        bad("withdrawn", "cannot be earlier than the publication")
    return found


def validate(advisory: Advisory) -> Advisory:
    """Raises the first of `problems(advisory)`; returns the advisory when it follows every rule."""
    for problem in problems(advisory):
        raise problem
    return advisory


def _affected_problems(affected: Affected) -> list[AdvisoryError]:
    found: list[AdvisoryError] = []
    ecosystem = affected.ecosystem
    if ecosystem.split(":", 1)[0] not in ECOSYSTEMS or ecosystem.endswith(":"):
        found.append(AdvisoryError("ecosystem", f"an OSV ecosystem such as PyPI (known: {', '.join(ECOSYSTEMS)})"))
        return found
    if (problem := _package_problem(ecosystem, affected.package)) is not None:
        found.append(AdvisoryError("package", problem))
    if not affected.ranges and not affected.versions:
        found.append(AdvisoryError("ranges", "give at least one range of affected versions"))
    for j, r in enumerate(affected.ranges):
        found.extend(e.within(f"ranges.{j}") for e in _range_problems(ecosystem, r))
    for k, version in enumerate(affected.versions):
        if (problem := version_problem(ecosystem, version)) is not None:
            found.append(AdvisoryError(f"versions.{k}", problem))
        elif version in affected.versions[:k]:
            found.append(AdvisoryError(f"versions.{k}", f"{version} is listed twice"))
        elif version in affected.fixed_versions:
            found.append(AdvisoryError(f"versions.{k}", f"{version} is also given as a fixed version"))
    for branch, version in affected.fixed_by_branch.items():
        if not isinstance(branch, str) or not branch.strip() or len(branch) > NAME_MAX:
            found.append(AdvisoryError("fixed_by_branch", f"{branch!r} is not a branch name"))
        elif (problem := version_problem(ecosystem, version)) is not None:
            found.append(AdvisoryError(f"fixed_by_branch.{branch}", problem))
    return found


def _range_problems(ecosystem: str, r: Range) -> list[AdvisoryError]:
    found: list[AdvisoryError] = []
    ends = [(name, value) for name in ("introduced", "fixed", "last_affected") if (value := getattr(r, name))]
    if r.type == "GIT":
        if not _is_web_url(r.repo):
            found.append(AdvisoryError("repo", "the repository's https:// address"))
        for name, value in ends:
            if not (GIT_COMMIT.fullmatch(value) or (name == "introduced" and value == "0")):
                found.append(AdvisoryError(name, "a full commit hash (40 or 64 hexadecimal digits)"))
        return found
    if r.repo and not _is_web_url(r.repo):
        found.append(AdvisoryError("repo", "the repository's https:// address"))
    for name, value in ends:
        if (problem := version_problem(ecosystem, value)) is not None:
            found.append(AdvisoryError(name, problem))
    if found or ecosystem.split(":", 1)[0] != "PyPI" or r.introduced == "0":
        return found  # only PEP 440 versions are put in order here
    if r.fixed is not None and Version(r.introduced) >= Version(r.fixed):
        found.append(AdvisoryError("fixed", f"{r.fixed} is not later than the introducing version {r.introduced}"))
    if r.last_affected is not None and Version(r.introduced) > Version(r.last_affected):
        found.append(
            AdvisoryError("last_affected", f"{r.last_affected} is earlier than the introducing version {r.introduced}")
        )
    return found


# ---------------------------------------------------------------------------------------------------------------
# From the API's JSON


def advisory_from_dict(
    data: Mapping[str, Any],
    *,
    id: str,
    modified: dt.datetime,
    cve_id: str | None = None,
    published: dt.datetime | None = None,
    withdrawn: dt.datetime | None = None,
) -> Advisory:
    """Builds and validates an advisory from the draft as the API receives it (OSV-shaped: `severity` as
    `[{"type", "score"}]`, `affected` as `[{"ecosystem", "package", "ranges": [{"type", "introduced", "fixed",
    "last_affected", "repo"}], "versions", "fixed_by_branch"}]`, `references`, `credits`, `cwe_ids`, `aliases`).
    The identifiers and dates are the server's, so they are arguments. Any error names the field."""

    def items(value: Any, name: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise AdvisoryError(name, "a list")
        return value

    def obj(value: Any, name: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise AdvisoryError(name, "an object")
        return value

    def text(value: Any, name: str, default: str = "") -> str:
        if value is None:
            return default
        if not isinstance(value, str):
            raise AdvisoryError(name, "a string")
        return value

    def optional_text(value: Any, name: str) -> str | None:
        return None if value is None else text(value, name)

    data = obj(data, "")
    severity = []
    for i, s in enumerate(items(data.get("severity"), "severity")):
        s = obj(s, f"severity.{i}")
        with within(f"severity.{i}"):
            severity.append(Severity(text(s.get("type"), "type"), text(s.get("score"), "score")))
    affected = []
    for i, a in enumerate(items(data.get("affected"), "affected")):
        a = obj(a, f"affected.{i}")
        with within(f"affected.{i}"):
            ranges = []
            for j, r in enumerate(items(a.get("ranges"), "ranges")):
                r = obj(r, f"ranges.{j}")
                with within(f"ranges.{j}"):
                    ranges.append(
                        Range(
                            type=text(r.get("type"), "type", "ECOSYSTEM"),
                            introduced=text(r.get("introduced"), "introduced", "0"),
                            fixed=optional_text(r.get("fixed"), "fixed"),
                            last_affected=optional_text(r.get("last_affected"), "last_affected"),
                            repo=text(r.get("repo"), "repo"),
                        )
                    )
            versions = [text(v, f"versions.{k}") for k, v in enumerate(items(a.get("versions"), "versions"))]
            branches = obj(a.get("fixed_by_branch") or {}, "fixed_by_branch")
            affected.append(
                Affected(
                    ecosystem=text(a.get("ecosystem"), "ecosystem"),
                    package=text(a.get("package"), "package"),
                    ranges=ranges,
                    versions=versions,
                    fixed_by_branch={str(k): text(v, f"fixed_by_branch.{k}") for k, v in branches.items()},
                )
            )
    references = []
    for i, r in enumerate(items(data.get("references"), "references")):
        r = obj(r, f"references.{i}")
        with within(f"references.{i}"):
            references.append(Reference(text(r.get("type"), "type"), text(r.get("url"), "url")))
    credits = []
    for i, c in enumerate(items(data.get("credits"), "credits")):
        c = obj(c, f"credits.{i}")
        with within(f"credits.{i}"):
            contact = [text(x, f"contact.{k}") for k, x in enumerate(items(c.get("contact"), "contact"))]
            credits.append(Credit(text(c.get("name"), "name"), text(c.get("type"), "type"), contact))
    cwe_ids = [text(c, f"cwe_ids.{i}") for i, c in enumerate(items(data.get("cwe_ids"), "cwe_ids"))]
    aliases = [text(a, f"aliases.{i}") for i, a in enumerate(items(data.get("aliases"), "aliases"))]
    advisory = Advisory(
        id=id,
        modified=modified,
        summary=text(data.get("summary"), "summary"),
        details=text(data.get("details"), "details"),
        severity=severity,
        cwe_ids=cwe_ids,
        affected=affected,
        references=references,
        credits=credits,
        aliases=aliases,
        cve_id=cve_id,
        published=published,
        withdrawn=withdrawn,
    )
    return validate(advisory)
