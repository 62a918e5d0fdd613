"""Records built from domain data, in the formats the ecosystem reads: CVE JSON 5 (`cve`), OSV (`osv`) and
CSAF 2.0 (`csaf`). Plain Python, no Django.

Every module has `build(advisory, …) -> dict` and `to_json(advisory, …) -> str`. The output is deterministic: the
same advisory gives the same bytes (keys sorted, lists in the advisory's own order, no clock read here — every
date comes from the advisory or an argument).

Credits: a builder writes every credit the advisory holds. Whether a person agreed to be named is decided before
(the reporter's consent lives with the report); the caller passes an advisory whose `credits` are only those
that may appear in public.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

# OSV credit types in the words CVE records and CSAF acknowledgments use.
CREDIT_WORDS = {
    "FINDER": "finder",
    "REPORTER": "reporter",
    "ANALYST": "analyst",
    "COORDINATOR": "coordinator",
    "REMEDIATION_DEVELOPER": "remediation developer",
    "REMEDIATION_REVIEWER": "remediation reviewer",
    "REMEDIATION_VERIFIER": "remediation verifier",
    "TOOL": "tool",
    "SPONSOR": "sponsor",
    "OTHER": "other",
}


class ExportError(Exception):
    """The record cannot be built in the advisory's current state; `code` is the API's 409 error code
    (`cve_id_missing`, `cna_org_missing`, `cna_org_invalid`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def timestamp(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with a `Z`, microseconds only when there are any: the form every schema here accepts."""
    if moment.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False)


def unique(items: list[Any]) -> list[Any]:
    """The items in order without repeats (the CVE schema wants `uniqueItems` almost everywhere)."""
    kept: list[Any] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept
