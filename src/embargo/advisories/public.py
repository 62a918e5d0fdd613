"""Reads of published advisories only: what the public pages, records, feed, zip and OSV API serve.

Every function here starts from `published()`, or from the records in clear that `index` writes only for
published advisories, so an advisory still under embargo cannot leak through any of them: it is simply absent
(404, or not listed). Imported records are published history and count as published.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import feedgenerator

from embargo.advisories import records, zipstream
from embargo.advisories.models import Advisory, AdvisoryState, PublishedPackage, PublishedRecord
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


def of_project(project: Project, limit: int, before: Advisory | None = None) -> list[Advisory]:
    """Up to `limit` of the project's published advisories, newest first, each with its public record (see
    `index`) in the same query; `before`, an advisory of the list, pages by keyset to the older ones."""
    found = published().filter(project=project).select_related("published").order_by("-published_at", "-id")
    if before is not None:
        found = found.filter(
            Q(published_at__lt=before.published_at) | Q(published_at=before.published_at, id__lt=before.pk)
        )
    return list(found[:limit])


def public_record(advisory: Advisory) -> PublishedRecord | None:
    """The advisory's record in clear, read with it by `of_project`; None when it cannot be built."""
    try:
        return advisory.published
    except PublishedRecord.DoesNotExist:
        return None


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
    # Bounded by FEED_LENGTH, and read from the records in clear: one query whatever the number of advisories.
    for advisory in of_project(project, FEED_LENGTH):
        stored = public_record(advisory)
        if stored is None:
            continue  # its OSV record cannot be built: absent from the feed, as from the OSV API
        link = absolute(reverse("advisory", args=[advisory.readable_id]))
        title = advisory.readable_id + (f" ({advisory.cve_id})" if advisory.cve_id else "")
        summary = stored.summary
        if advisory.withdrawn_at is not None:
            summary = f"Withdrawn: {advisory.withdrawn_reason}"
        feed.add_item(
            title=f"{title}: {stored.summary}".rstrip(": "),
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


ZIP_CHUNK = 500  # records read per query while streaming all.zip


def all_osv_zip() -> Iterator[bytes]:
    """Every published OSV record (ours and imported, withdrawn ones included, as OSV's own all.zip),
    one `<id>.json` each, in a stable order — streamed: the records in clear are read a chunk at a time and each
    entry leaves once compressed, so memory does not grow with the number of advisories (see `zipstream`)."""
    rows = (
        PublishedRecord.objects.order_by("advisory__readable_id")
        .values_list("osv_id", "osv")
        .iterator(chunk_size=ZIP_CHUNK)
    )
    return zipstream.stream((osv_id + ".json", text.encode("utf-8")) for osv_id, text in rows)


def _matches(affected_text: str, package: osv_match.Package, version: str | None) -> bool:
    affected = json.loads(affected_text)
    if not osv_match.same_package(affected, package):
        return False  # another suffix of the ecosystem (`Debian:11` for `Debian:12`)
    return version is None or osv_match.version_affected(affected, version)


BATCH_NAMES = 500  # names per SQL query in a batch: well under every database's parameter limit


def _candidates(ecosystem: str, names: list[str], column: str) -> list[tuple[str, str, str, str]]:
    """(name, affected entry, OSV ID, `column` of the record) of the package rows of `ecosystem` under `names`,
    through the (ecosystem, name) index.

    Plain SQL on purpose: this is the OSV API's hot path, and building the same query through the ORM costs ten
    times the SQL itself (about 0.4 ms against 0.04 ms here), a third of a request's whole budget at 2,000/s.
    The table and column names come from the models; every value is a parameter."""
    quote = connection.ops.quote_name
    package, record = PublishedPackage._meta, PublishedRecord._meta
    if column not in ("osv", "modified"):
        raise ValueError(f"no record column {column!r} here")
    found: list[tuple[str, str, str, str]] = []
    for start in range(0, len(names), BATCH_NAMES):
        chunk = names[start : start + BATCH_NAMES]
        sql = (
            f"SELECT p.{quote('name')}, p.{quote('affected')}, r.{quote('osv_id')}, r.{quote(column)} "  # noqa: S608
            f"FROM {quote(package.db_table)} p JOIN {quote(record.db_table)} r "
            f"ON r.{quote(record.get_field('advisory').column)} = p.{quote(package.get_field('record').column)} "
            f"WHERE p.{quote('ecosystem')} = %s AND p.{quote('name')} IN ({', '.join(['%s'] * len(chunk))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [ecosystem, *chunk])
            found += cursor.fetchall()
    return found


def query(package: osv_match.Package, version: str | None) -> list[dict[str, Any]]:
    """The published, not withdrawn, OSV records affecting the package (at `version`, when given), by OSV ID.

    The candidates are the package rows of the index under the package's (ecosystem, name); only those few are
    matched by the OSV rules, and the matching records are read in clear (see `index`)."""
    ecosystem, name = osv_match.index_key(package.ecosystem, package.name)
    rows = _candidates(ecosystem, [name], "osv")
    found = {osv_id: text for _, affected, osv_id, text in rows if _matches(affected, package, version)}
    return [json.loads(found[osv_id]) for osv_id in sorted(found)]


def query_batch(queries: list[tuple[osv_match.Package, str | None]]) -> list[list[dict[str, str]]]:
    """For each query in order, `{"id", "modified"}` of the records `query` would answer: the package rows of
    the whole batch are read at once, a few hundred packages per SQL query."""
    names: dict[str, set[str]] = {}
    for package, _ in queries:
        ecosystem, name = osv_match.index_key(package.ecosystem, package.name)
        names.setdefault(ecosystem, set()).add(name)
    by_key: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for ecosystem, wanted in sorted(names.items()):
        for name, affected, osv_id, modified in _candidates(ecosystem, sorted(wanted), "modified"):
            by_key.setdefault((ecosystem, name), []).append((affected, osv_id, modified))
    results = []
    for package, version in queries:
        rows = by_key.get(osv_match.index_key(package.ecosystem, package.name), [])
        found = {osv_id: modified for affected, osv_id, modified in rows if _matches(affected, package, version)}
        results.append([{"id": osv_id, "modified": found[osv_id]} for osv_id in sorted(found)])
    return results
