"""Set-up for the security release tests, through the real API: fixed reports, packagers, and a release date that
the date rules accept whatever day the real clock shows (for the permission matrices, which do not freeze it)."""

from __future__ import annotations

import datetime as dt

from embargo import clock
from embargo.domain.policy import Policy
from embargo.domain.releases import next_allowed_dates
from embargo.projects import keys
from embargo.projects.models import Packager, Project
from tests.helpers import Api, submit
from tests.vault import keys as test_keys

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # a Monday
RELEASES = "/api/v1/projects/requests/security-releases"
ADVISORY = {
    "summary": "Proxy credentials leak on redirects",
    "details": "Kept private until the release (Narwhal-5150).",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
}


def release_date(n: int = 0) -> str:
    """The n-th weekday that is more than the default lead time (7 days) after today, as YYYY-MM-DD."""
    today = clock.now().date()
    return next_allowed_dates(today + dt.timedelta(days=8), Policy(), n=n + 1)[n].isoformat()


def ready(team: dict[str, Api], n: int, *, cve: bool = True, advisory: bool = True, confirm: bool = True) -> str:
    """A report of the reporter, fixed (fix_ready), with its advisory and CVE ID, and the fix confirmed."""
    rid = submit(team["reporter"])["id"]
    base = f"/api/v1/reports/{rid}"
    assert team["maintainer"].post(f"{base}/transitions", {"to": "confirmed", "comment": "Reproduced."}).status == 200
    assert team["maintainer"].post(f"{base}/fixes", {"kind": "patch", "description": "Strip it."}).status == 201
    assert team["maintainer"].post(f"{base}/transitions", {"to": "fix_ready"}).status == 200
    if advisory:
        assert team["maintainer"].call("PUT", f"{base}/advisory", ADVISORY).status == 200
    if cve:
        assert team["maintainer"].post(f"{base}/cve", {"cve_id": f"CVE-2026-{4000 + n}"}).status == 201
    if confirm:
        assert team["reporter"].post(f"{base}/fix-confirmation", {"fixed": True}).status == 200
    return rid


def packagers() -> list[Packager]:
    """Three packagers (one removed) and the project's signing key, without which no notice goes out."""
    project = Project.objects.get(slug="requests")
    if not keys.has_active_key(project):
        test_keys.give_project_key(project)
    return [
        Packager.objects.create(
            project=project, organisation="Distro A", emails=["sec@a.example.org", "oncall@a.example.org"],
            public_key="(a key)", created_at=NOW,
        ),
        Packager.objects.create(project=project, organisation="Distro B", emails=["sec@b.example.org"], created_at=NOW),
        Packager.objects.create(
            project=project, organisation="Gone", emails=["gone@c.example.org"], created_at=NOW, removed_at=NOW
        ),
    ]  # fmt: skip
