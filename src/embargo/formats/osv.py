"""OSV (schema 1.7.5): export an advisory, and read OSV records (GHSA and PYSEC ones included) back into one.

Export: `id` follows DESIGN.md (the readable ID when its prefix is registered with OSV, else `x_` + it), the CVE
and other IDs are `aliases`, each domain range is one OSV range (GIT ones with their `repo`), and
`database_specific` holds only what the advisory carries there plus its CWE ids (where GHSA keeps them).

Import (`parse`) keeps the record's own id, aliases, summary, details, dates, affected packages, ranges and
versions, references, credits and `database_specific`. An OSV range with several introduced/fixed pairs
becomes one domain range per pair, which means the same versions. What the domain has no place for is
left out: `related`, `upstream`, severities other than CVSS v3/v4, and the per-package `severity`,
`ecosystem_specific` and `database_specific`. Records the domain cannot represent faithfully (`limit` events, an
ECOSYSTEM range with two ends for one start, an affected entry without a package) are refused with an
AdvisoryError naming the place.

Credits are written as the advisory holds them: the caller passes only those that may appear in public
(see `embargo.formats`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from embargo.domain.advisory import (
    CVE_ID,
    CWE_ID,
    OSV_PREFIXES,
    SEVERITY_TYPES,
    Advisory,
    AdvisoryError,
    Affected,
    Credit,
    Range,
    Reference,
    Severity,
    osv_id,
    purl,
    within,
)
from embargo.formats import dumps, timestamp

SCHEMA_VERSION = "1.7.5"


def build(advisory: Advisory, *, registered_prefixes: Iterable[str] = OSV_PREFIXES) -> dict[str, Any]:
    record_id = osv_id(advisory.id, registered_prefixes)
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": record_id,
        "modified": timestamp(advisory.modified),
    }
    if advisory.published is not None:
        record["published"] = timestamp(advisory.published)
    if advisory.withdrawn is not None:
        record["withdrawn"] = timestamp(advisory.withdrawn)
    if aliases := [a for a in advisory.aliases if a != record_id]:
        record["aliases"] = aliases
    if advisory.summary:
        record["summary"] = advisory.summary
    if advisory.details:
        record["details"] = advisory.details
    if advisory.severity:
        record["severity"] = [{"type": s.type, "score": s.vector} for s in advisory.severity]
    if advisory.affected:
        record["affected"] = [_affected(a) for a in advisory.affected]
    if advisory.references:
        record["references"] = [{"type": r.type, "url": r.url} for r in advisory.references]
    if advisory.credits:
        record["credits"] = [_credit(c) for c in advisory.credits]
    database_specific = dict(advisory.database_specific)
    if advisory.cwe_ids:
        database_specific["cwe_ids"] = list(advisory.cwe_ids)
    if database_specific:
        record["database_specific"] = database_specific
    return record


def to_json(advisory: Advisory, *, registered_prefixes: Iterable[str] = OSV_PREFIXES) -> str:
    return dumps(build(advisory, registered_prefixes=registered_prefixes))


def _affected(affected: Affected) -> dict[str, Any]:
    package = {"ecosystem": affected.ecosystem, "name": affected.package}
    if (package_url := purl(affected)) is not None:
        package["purl"] = package_url
    entry: dict[str, Any] = {"package": package}
    if affected.ranges:
        entry["ranges"] = [_range(r) for r in affected.ranges]
    if affected.versions:
        entry["versions"] = list(affected.versions)
    return entry


def _range(r: Range) -> dict[str, Any]:
    events: list[dict[str, str]] = [{"introduced": r.introduced}]
    if r.fixed is not None:
        events.append({"fixed": r.fixed})
    elif r.last_affected is not None:
        events.append({"last_affected": r.last_affected})
    entry: dict[str, Any] = {"type": r.type, "events": events}
    if r.repo:
        entry["repo"] = r.repo
    return entry


def _credit(credit: Credit) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": credit.name}
    if credit.type:
        entry["type"] = credit.type
    if credit.contact:
        entry["contact"] = list(credit.contact)
    return entry


# ---------------------------------------------------------------------------------------------------------------
# Import


def parse(record: Mapping[str, Any]) -> Advisory:
    """An advisory from an OSV record, keeping the record's own identity; AdvisoryError names what is wrong."""
    if not isinstance(record, Mapping):
        raise AdvisoryError("", "an OSV record is a JSON object")
    record_id = _text(record, "id", required=True)
    modified = _time(record, "modified")
    if modified is None:
        raise AdvisoryError("modified", "required")
    aliases = _strings(record, "aliases")
    cve_id = record_id if CVE_ID.fullmatch(record_id) else next((a for a in aliases if CVE_ID.fullmatch(a)), None)
    database_specific = record.get("database_specific") or {}
    if not isinstance(database_specific, Mapping):
        raise AdvisoryError("database_specific", "an object")
    cwe_ids = database_specific.get("cwe_ids") or []
    if not isinstance(cwe_ids, list):
        cwe_ids = []
    return Advisory(
        id=record_id,
        modified=modified,
        published=_time(record, "published"),
        withdrawn=_time(record, "withdrawn"),
        summary=_text(record, "summary"),
        details=_text(record, "details"),
        severity=_severities(record),
        cwe_ids=[c for c in cwe_ids if isinstance(c, str) and CWE_ID.fullmatch(c)],
        affected=[_parse_affected(a, f"affected.{i}") for i, a in enumerate(_list(record, "affected"))],
        references=[_parse_reference(r, f"references.{i}") for i, r in enumerate(_list(record, "references"))],
        credits=[_parse_credit(c, f"credits.{i}") for i, c in enumerate(_list(record, "credits"))],
        aliases=aliases,
        cve_id=cve_id,
        database_specific=database_specific,
    )


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdvisoryError(key, "a list")
    return value


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AdvisoryError(field, "an object")
    return value


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise AdvisoryError(key, "a string" if not required else "required")
    return value


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    values = _list(data, key)
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise AdvisoryError(f"{key}.{i}", "a string")
    return values


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _time(data: Mapping[str, Any], key: str) -> dt.datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AdvisoryError(key, "an RFC 3339 time such as 2026-01-31T12:00:00Z")
    try:
        # Go-made records carry nanoseconds; Python keeps microseconds.
        moment = dt.datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
    except ValueError:
        raise AdvisoryError(key, f"{value!r} is not an RFC 3339 time") from None
    if moment.utcoffset() is None:
        raise AdvisoryError(key, f"{value!r} has no time zone")
    return moment.astimezone(dt.UTC)


def _severities(record: Mapping[str, Any]) -> list[Severity]:
    found = []
    for i, entry in enumerate(_list(record, "severity")):
        entry = _object(entry, f"severity.{i}")
        if entry.get("type") not in SEVERITY_TYPES:
            continue  # CVSS v2 and distribution ratings have no place in the domain
        with within(f"severity.{i}"):
            found.append(Severity(entry["type"], _text(entry, "score", required=True)))
    return found


def _parse_affected(value: Any, field: str) -> Affected:
    entry = _object(value, field)
    with within(field):
        package = entry.get("package")
        if not isinstance(package, Mapping):
            raise AdvisoryError("package", "an affected entry without a package is not supported")
        with within("package"):
            ecosystem, name = _text(package, "ecosystem", required=True), _text(package, "name", required=True)
        ranges = []
        for j, r in enumerate(_list(entry, "ranges")):
            with within(f"ranges.{j}"):
                ranges.extend(_parse_range(_object(r, "")))
        return Affected(ecosystem=ecosystem, package=name, ranges=ranges, versions=_strings(entry, "versions"))


def _parse_range(entry: Mapping[str, Any]) -> list[Range]:
    kind, repo = _text(entry, "type", required=True), _text(entry, "repo")
    ranges: list[Range] = []
    introduced: str | None = None
    open_range = False  # an introduced event still waiting for its end
    for k, event in enumerate(_list(entry, "events")):
        if not isinstance(event, Mapping) or len(event) != 1:
            raise AdvisoryError(f"events.{k}", "one of introduced, fixed, last_affected")
        ((name, version),) = event.items()
        if not isinstance(version, str):
            raise AdvisoryError(f"events.{k}.{name}", "a string")
        with within(f"events.{k}"):
            if name == "introduced":
                if open_range and introduced is not None:
                    ranges.append(Range(type=kind, introduced=introduced, repo=repo))
                introduced, open_range = version, True
            elif name in ("fixed", "last_affected"):
                if introduced is None:
                    raise AdvisoryError(name, "comes before any introduced event")
                if not open_range and kind != "GIT":
                    # In a version-ordered range a second end for one start changes nothing or means
                    # something the domain cannot hold; refuse rather than guess.
                    raise AdvisoryError(name, "a second end for one introduced version is not supported")
                # GIT: several fixes after one introduced commit are the fixes on several branches.
                ranges.append(Range(type=kind, introduced=introduced, repo=repo, **{name: version}))
                open_range = False
            else:
                raise AdvisoryError(name, "only introduced, fixed and last_affected events are supported")
    if introduced is None:
        raise AdvisoryError("events", "a range needs an introduced event")
    if open_range:
        ranges.append(Range(type=kind, introduced=introduced, repo=repo))
    return ranges


def _parse_reference(value: Any, field: str) -> Reference:
    entry = _object(value, field)
    with within(field):
        return Reference(_text(entry, "type", required=True), _text(entry, "url", required=True))


def _parse_credit(value: Any, field: str) -> Credit:
    entry = _object(value, field)
    with within(field):
        return Credit(_text(entry, "name", required=True), _text(entry, "type"), _strings(entry, "contact"))
