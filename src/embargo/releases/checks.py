"""The release-day checks of a security release, run for real: the public repository is asked for each fixing
commit (git, through the safe helpers of `embargo.fixes.git`), the package index for each fixed version (its PEP 691
JSON simple API at `EMBARGO_PACKAGE_INDEX_URL`), and every advisory is built in each format. The rules (ids,
statuses, what blocks) are in `embargo.domain.publication`."""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import requests
from django.conf import settings

from embargo.advisories import records
from embargo.advisories.models import Advisory
from embargo.domain import advisory as domain_advisory
from embargo.domain import publication as rules
from embargo.domain.publication import Check, Status
from embargo.errors import ActionError
from embargo.fixes import git
from embargo.fixes.models import Fix
from embargo.releases import queries
from embargo.releases.models import SecurityRelease
from embargo.reports.models import Report

SHA = re.compile(r"[0-9a-fA-F]{7,64}")
PEP_691 = "application/vnd.pypi.simple.v1+json"
INDEX_TIMEOUT = 15
INDEX_LIMIT = 8 * 1024 * 1024  # bytes of a project page read; a larger answer is refused
GIT_TIMEOUT = 60


def run(release: SecurityRelease, now: dt.datetime) -> list[Check]:
    """The four checks, in their fixed order."""
    reports = queries.reports_of(release)
    advisories = queries.advisories_of(reports)
    return [
        commits_public(release, reports),
        version_released(reports, advisories),
        rules.release_moment(release.release_at, now, embargo_broken=release.embargo_broken_at is not None),
        records_valid(release, reports, advisories),
    ]


def as_json(checks: list[Check]) -> list[dict[str, str]]:
    return [{"id": c.id, "status": str(c.status), "evidence": c.evidence} for c in checks]


# --- commits_public -----------------------------------------------------------------------------------------------


def _git_options() -> dict[str, Any]:
    return {
        "allowed_paths": settings.EMBARGO_GIT_ALLOWED_PATHS,
        "allow_private": settings.EMBARGO_ALLOW_PRIVATE_NETWORK,
    }


def commit_is_public(url: str, sha: str) -> tuple[bool, str]:
    """Whether `sha` is reachable in the repository at `url`: a branch or tag head (`git ls-remote`), or else a
    commit a shallow fetch of that one SHA brings (git's protocol v2 serves any reachable commit)."""
    if not SHA.fullmatch(sha):
        return False, f"{sha!r} is not a commit SHA"
    options = _git_options()
    try:
        remote = git._check(url, **options)
        heads = git.run_git(
            ["ls-remote", "--", remote.git_url], timeout=GIT_TIMEOUT, allow_file=remote.local,
            allow_private=options["allow_private"],
        )  # fmt: skip
        if any(line.split("\t", 1)[0].lower() == sha.lower() for line in heads.splitlines()):
            return True, f"{sha[:12]} is a head in {url}"
        with tempfile.TemporaryDirectory(prefix="embargo-check-") as work:
            git.run_git(["init", "--quiet", "--", work], timeout=GIT_TIMEOUT)
            git.run_git(
                ["fetch", "--quiet", "--depth=1", "--no-tags", "--", remote.git_url, sha], cwd=Path(work),
                timeout=GIT_TIMEOUT, allow_file=remote.local, allow_private=options["allow_private"],
            )  # fmt: skip
            found = git.run_git(["rev-parse", "--verify", "FETCH_HEAD^{commit}"], cwd=Path(work), timeout=10).strip()
    except git.GitError as error:
        return False, f"{sha[:12]} is not in {url} ({error.message})"
    if not found.lower().startswith(sha.lower()):
        return False, f"{url} answered {found[:12]} for {sha[:12]}"
    return True, f"{sha[:12]} is reachable in {url}"


def commits_public(release: SecurityRelease, reports: list[Report]) -> Check:
    commits = [
        (fix.report.public_id, c)
        for fix in Fix.objects.filter(report__in=reports).select_related("report").order_by("created_at", "id")
        for c in fix.public_commits
        if isinstance(c, dict) and c.get("sha")
    ]
    if not commits:
        return Check(rules.COMMITS_PUBLIC, Status.SKIPPED, "No public fixing commit is recorded on the fixes.")
    default = release.project.repository_url
    lines, ok = [], True
    for report_id, commit in commits:
        url = str(commit.get("repository") or default or "")
        if not url:
            ok = False
            lines.append(f"{report_id}: {commit['sha'][:12]} names no repository and the project has none")
            continue
        public, words = commit_is_public(url, str(commit["sha"]))
        ok &= public
        lines.append(f"{report_id}: {words}")
    return Check(rules.COMMITS_PUBLIC, Status.PASS if ok else Status.FAIL, "; ".join(lines) + ".")


# --- version_released ---------------------------------------------------------------------------------------------


def check_index_url(url: str) -> None:
    """An index URL is an outgoing request like a repository's: https to a host with public addresses only;
    plain http and private addresses only where the operator allowed the private network (tests, a local
    index)."""
    allow_private = settings.EMBARGO_ALLOW_PRIVATE_NETWORK
    if allow_private and url[:7].lower() == "http://":
        return
    if url[:8].lower() != "https://":
        raise git.RepositoryRefused(f"the package index must be an https:// URL, not {url[:80]!r}")
    git.check_repository(url, allowed_paths=[], allow_private=allow_private)


def fetch_index_page(package: str) -> dict[str, Any]:
    """The PEP 691 JSON page of `package` on the configured index; raises LookupError for a project the index
    does not know and OSError (with words) for anything else that goes wrong."""
    base = settings.EMBARGO_PACKAGE_INDEX_URL.rstrip("/")
    url = f"{base}/{rules.normalized_name(package)}/"
    try:
        check_index_url(url)
    except git.GitError as error:
        raise OSError(error.message) from None
    try:
        with requests.get(
            url, headers={"Accept": PEP_691}, timeout=INDEX_TIMEOUT, allow_redirects=False, stream=True
        ) as response:
            if response.status_code == 404:
                raise LookupError(f"the index does not know {package}")
            if response.status_code != 200:
                raise OSError(f"the index answered {response.status_code} for {package}")
            body = response.raw.read(INDEX_LIMIT + 1, decode_content=True)
    except requests.RequestException as error:
        raise OSError(f"the index could not be reached ({type(error).__name__})") from None
    if len(body) > INDEX_LIMIT:
        raise OSError(f"the index's page for {package} is too large")
    try:
        page = json.loads(body)
    except ValueError:
        raise OSError(f"the index's page for {package} is not JSON (PEP 691)") from None
    if not isinstance(page, dict):
        raise OSError(f"the index's page for {package} is not a PEP 691 project page")
    return page


def _wanted(advisories: dict[int, Advisory]) -> dict[str, list[str]]:
    """The fixed versions per PyPI package named by the advisories (the first fixed version of each range, and
    each branch's fixed version)."""
    wanted: dict[str, list[str]] = {}
    for advisory in advisories.values():
        try:
            record = records.to_domain(advisory)
        except domain_advisory.AdvisoryError:
            continue  # records_valid says what is wrong with it
        for affected in record.affected:
            if affected.base_ecosystem != "PyPI":
                continue
            versions = wanted.setdefault(affected.package, [])
            versions += [v for v in affected.fixed_versions if v not in versions]
    return wanted


def version_released(reports: list[Report], advisories: dict[int, Advisory]) -> Check:
    if not settings.EMBARGO_PACKAGE_INDEX_URL:
        return Check(
            rules.VERSION_RELEASED, Status.SKIPPED, "No package index is configured (EMBARGO_PACKAGE_INDEX_URL)."
        )
    wanted = {p: v for p, v in _wanted(advisories).items() if v}
    if not wanted:
        return Check(rules.VERSION_RELEASED, Status.SKIPPED, "The advisories name no fixed version of a PyPI package.")
    lines, ok = [], True
    for package, versions in sorted(wanted.items()):
        try:
            listed = rules.index_versions(fetch_index_page(package))
        except (LookupError, OSError) as error:
            ok = False
            lines.append(f"{package}: {error}")
            continue
        missing = rules.missing_versions(versions, listed)
        if missing:
            ok = False
            lines.append(f"{package}: {', '.join(missing)} not on the index")
        else:
            lines.append(f"{package}: {', '.join(versions)} on the index")
    return Check(rules.VERSION_RELEASED, Status.PASS if ok else Status.FAIL, "; ".join(lines) + ".")


# --- records_valid ------------------------------------------------------------------------------------------------


def records_valid(release: SecurityRelease, reports: list[Report], advisories: dict[int, Advisory]) -> Check:
    """Every report's advisory builds as OSV and CSAF, and as CVE JSON 5 when it has a CVE ID (the builders refuse
    what their schemas would: missing fields, bad vectors, unknown CWEs); a CVE ID where the policy wants one."""
    if not reports:
        return Check(rules.RECORDS_VALID, Status.FAIL, "The release has no report.")
    cve_required = release.project.policy.as_domain().cve_required
    lines, ok = [], True
    for report in reports:
        advisory = advisories.get(report.pk)
        if advisory is None:
            ok = False
            lines.append(f"{report.public_id}: no advisory written")
            continue
        problems = []
        formats = ["osv", "csaf"] + (["cve"] if advisory.cve_id else [])
        for fmt in formats:
            try:
                records.export(advisory, fmt)
            except ActionError as error:
                problems.append(f"{fmt.upper()}: {error.message}")
        if not advisory.cve_id and cve_required:
            problems.append("no CVE ID, which the policy requires")
        if problems:
            ok = False
            lines.append(f"{advisory.readable_id}: {'; '.join(problems)}")
        else:
            lines.append(f"{advisory.readable_id}: valid as {', '.join(f.upper() for f in formats)}")
    return Check(rules.RECORDS_VALID, Status.PASS if ok else Status.FAIL, "; ".join(lines) + ".")
