"""Reads of published advisories only: what the public pages, records, feed, zip and OSV API serve.

Every function here starts from `published()`, so an advisory still under embargo cannot leak through any of
them: it is simply absent (404, or not listed). Imported records are published history and count as published.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import feedgenerator

from embargo.advisories import records
from embargo.advisories.models import Advisory, AdvisoryState
from embargo.domain import advisory as domain
from embargo.domain import osv_match
from embargo.errors import ActionError
from embargo.fixes.models import Fix
from embargo.formats import CREDIT_WORDS
from embargo.projects.models import Project

FEED_LENGTH = 50


class NotPublished(Exception):
    """No published advisory by that ID (or the record cannot be built): answered as 404."""


def published() -> QuerySet[Advisory]:
    return Advisory.objects.filter(state=AdvisoryState.PUBLISHED, published_at__isnull=False).select_related(
        "project", "report", "data_key"
    )


def get(advisory_id: str) -> Advisory:
    """The published advisory by its readable ID or its OSV ID (`x_` + the readable ID)."""
    candidates = {advisory_id}
    if advisory_id.startswith(domain.UNREGISTERED_PREFIX):
        candidates.add(advisory_id.removeprefix(domain.UNREGISTERED_PREFIX))
    advisory = published().filter(readable_id__in=candidates).first()
    if advisory is None:
        raise NotPublished(advisory_id)
    return advisory


def of_project(project: Project, limit: int | None = None) -> list[Advisory]:
    """The project's published advisories, newest first."""
    found = published().filter(project=project).order_by("-published_at", "-id")
    return list(found[:limit] if limit else found)


def record(advisory: Advisory, fmt: str) -> str:
    """The public record in `fmt` ("osv", "cve", "csaf"); NotPublished when it cannot be built (e.g. no CVE ID)."""
    # An imported record's CVE belongs to whichever CNA assigned it: we publish CVE records only for our own.
    if fmt == "cve" and (not advisory.cve_id or advisory.imported):
        raise NotPublished(advisory.readable_id)
    try:
        return records.export(advisory, fmt)
    except ActionError:
        raise NotPublished(advisory.readable_id) from None


def osv(advisory: Advisory) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(record(advisory, "osv"))
    return loaded


@dataclass(frozen=True)
class Commit:
    sha: str
    repository: str
    url: str  # "" when the repository is not a web address


def fixing_commits(advisory: Advisory) -> list[Commit]:
    """The public commits of the report's fixes, linked when the repository is an https address (the
    `/commit/<sha>` form that the common forges answer)."""
    if advisory.report_id is None:
        return []
    found: list[Commit] = []
    fixes = Fix.objects.filter(report_id=advisory.report_id).order_by("created_at", "id")
    for fix in fixes:
        for commit in fix.public_commits:
            sha = str(commit.get("sha", ""))
            repository = str(commit.get("repository", "")) or advisory.project.repository_url
            url = ""
            if repository.startswith("https://") and sha:
                url = f"{repository.removesuffix('/').removesuffix('.git')}/commit/{sha}"
            if sha and all(c.sha != sha for c in found):
                found.append(Commit(sha=sha, repository=repository, url=url))
    return found


def page(advisory: Advisory) -> dict[str, Any]:
    """What the public advisory page shows, from the same domain record the exports are built from."""
    try:
        data = records.to_domain(advisory)
    except domain.AdvisoryError:
        raise NotPublished(advisory.readable_id) from None
    return {
        "advisory": advisory,
        "record": data,
        "osv_id": osv(advisory)["id"],
        "severity": [{"type": s.type, "vector": s.vector, "score": s.score, "rating": s.rating} for s in data.severity],
        "affected": [
            {
                "ecosystem": a.ecosystem,
                "package": a.package,
                "ranges": [r for r in a.ranges if r.type != "GIT"],
                "versions": list(a.versions),
                "fixed": list(a.fixed_versions),
            }
            for a in data.affected
        ],
        "commits": fixing_commits(advisory),
        "credits": [{"name": c.name, "type": CREDIT_WORDS.get(c.type, "")} for c in data.credits],
        "has_cve": bool(advisory.cve_id) and not advisory.imported,
    }


def absolute(path: str) -> str:
    return settings.EMBARGO_BASE_URL + path


def atom_feed(project: Project) -> bytes:
    """The project's advisories as Atom, newest first; an entry's `updated` is the record's `modified`."""
    feed_url = absolute(reverse("advisories-feed", args=[project.slug]))
    feed = feedgenerator.Atom1Feed(
        title=f"{project.name} security advisories",
        link=absolute(reverse("project-security", args=[project.slug])),
        description=f"Security advisories published by the {project.name} security team.",
        feed_url=feed_url,
        feed_guid=feed_url,
        language="en",
    )
    for advisory in of_project(project, FEED_LENGTH):
        try:
            data = osv(advisory)
        except NotPublished:
            continue
        link = absolute(reverse("advisory", args=[advisory.readable_id]))
        title = advisory.readable_id + (f" ({advisory.cve_id})" if advisory.cve_id else "")
        summary = data.get("summary", "")
        if advisory.withdrawn_at is not None:
            summary = f"Withdrawn: {advisory.withdrawn_reason}"
        feed.add_item(
            title=f"{title}: {data.get('summary', '')}".rstrip(": "),
            link=link,
            description=summary,
            unique_id=link,
            pubdate=advisory.published_at,
            updateddate=advisory.updated_at,
            categories=list(advisory.aliases),
        )
    out = io.StringIO()
    feed.write(out, "utf-8")
    return out.getvalue().encode("utf-8")


def all_osv_zip() -> bytes:
    """Every published OSV record (ours and imported, withdrawn ones included, as OSV's own all.zip),
    one `<id>.json` each, in a stable order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for advisory in published().order_by("readable_id"):
            try:
                text = record(advisory, "osv")
            except NotPublished:
                continue
            info = zipfile.ZipInfo(json.loads(text)["id"] + ".json", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def query(package: osv_match.Package, version: str | None) -> list[dict[str, Any]]:
    """The published, not withdrawn, OSV records affecting the package (at `version`, when given), by OSV ID.

    The drafts are sealed, so the package cannot be filtered in the database: every published record is read
    and matched. Fine at one instance's size; a package index table is the next step if it grows."""
    found = []
    for advisory in published().filter(withdrawn_at__isnull=True).order_by("readable_id"):
        try:
            data = osv(advisory)
        except NotPublished:
            continue
        if osv_match.affects(data, package, version):
            found.append(data)
    return sorted(found, key=lambda r: str(r["id"]))
