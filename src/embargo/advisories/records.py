"""From a stored advisory (its draft, its report's credit and consent, its project) to the domain's
Advisory and the exported records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from django.conf import settings

from embargo import clock
from embargo.advisories.models import Advisory
from embargo.domain import advisory as domain
from embargo.errors import ActionError
from embargo.formats import ExportError
from embargo.formats import csaf as csaf_format
from embargo.formats import cve as cve_format
from embargo.formats import osv as osv_format

FORMATS = ("cve", "osv", "csaf")


def validate(data: dict[str, Any]) -> None:
    """Checks a draft as the domain does (versions, vectors, CWEs, packages); a problem names its field."""
    try:
        domain.advisory_from_dict(data, id="DRAFT", modified=clock.now())
    except domain.AdvisoryError as e:
        raise ActionError(f"`{e.field}`: {e.message}.", field=e.field) from None


def reporter_credit(advisory: Advisory) -> dict[str, Any] | None:
    """The reporter's credit as they chose it (shown to them and the team before anything is public)."""
    report = advisory.report
    if report is None or not report.credit_name:
        return None
    return {"name": report.credit_name, "type": "REPORTER", "contact": []}


def public_credits(advisory: Advisory) -> list[dict[str, Any]]:
    """The credits that may appear in an export: the team's list, and the reporter only with their consent."""
    data = json.loads(advisory.draft or "{}")
    credits = list(data.get("credits", []))
    own = reporter_credit(advisory)
    if own is not None and advisory.report is not None and advisory.report.credit_consent:
        credits.insert(0, own)
    return credits


def to_domain(advisory: Advisory) -> domain.Advisory:
    if advisory.imported:
        # An imported advisory's draft is the OSV record itself (see importing.py), not the API's draft shape.
        imported = osv_format.parse(json.loads(advisory.draft))
        return dataclasses.replace(
            imported, modified=advisory.updated_at, published=advisory.published_at, withdrawn=advisory.withdrawn_at
        )
    data = json.loads(advisory.draft or "{}")
    data["credits"] = public_credits(advisory)
    data["aliases"] = list(advisory.aliases)
    return domain.advisory_from_dict(
        data,
        id=advisory.readable_id,
        modified=advisory.updated_at,
        cve_id=advisory.cve_id,
        published=advisory.published_at,
        withdrawn=advisory.withdrawn_at,
    )


def revision_history(advisory: Advisory) -> list[tuple[dt.datetime, str]]:
    """(moment, summary) of each revision since publication, for CSAF; empty before any amendment."""
    return [(dt.datetime.fromisoformat(at), summary) for at, summary in advisory.revisions]


def export(advisory: Advisory, fmt: str) -> str:
    """The record in `fmt` ("cve", "osv" or "csaf"); ActionError (409) when it cannot be built yet."""
    try:
        record = to_domain(advisory)
        project = advisory.project
        if fmt == "cve":
            return cve_format.to_json(
                record,
                cna_org_id=project.cna_org_id or None,
                vendor=project.name,
                collection_urls=settings.EMBARGO_PACKAGE_COLLECTION_URLS,
            )
        if fmt == "osv":
            # An imported record keeps its own ID (GHSA-…, PYSEC-…): its database is OSV's, not ours.
            prefixes = [advisory.readable_id.split("-", 1)[0]] if advisory.imported else []
            return osv_format.to_json(
                record, registered_prefixes=[*settings.EMBARGO_OSV_REGISTERED_PREFIXES, *prefixes]
            )
        return csaf_format.to_json(
            record,
            publisher_name=project.name,
            publisher_namespace=settings.EMBARGO_BASE_URL,
            vendor=project.name,
            revisions=revision_history(advisory),
        )
    except ExportError as e:
        raise ActionError(e.message, code=e.code, status=409) from None
    except domain.AdvisoryError as e:
        raise ActionError(
            f"The advisory is not complete enough for {fmt.upper()}: `{e.field}`: {e.message}.",
            field=e.field,
            code="advisory_incomplete",
            status=409,
        ) from None
