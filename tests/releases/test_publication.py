"""Release day, with a frozen clock, a real git repository made here and a local PEP 691 package index: the checks,
publishing (and what blocks it), the worker at the release moment, and the changelog entry."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from embargo import clock
from embargo.advisories.models import Advisory
from embargo.audit.actions import fingerprint
from embargo.audit.models import Event
from embargo.notifications import worker
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Packager, Project
from embargo.releases.links import access_path
from embargo.releases.models import SecurityRelease
from embargo.reports.models import Report
from tests.advisories.test_cve_services import StandIn, stand_in  # noqa: F401 - the fixture
from tests.formats.test_exports import schema_errors
from tests.helpers import Api, submit
from tests.releases.planning import NOW, RELEASES, packagers

pytestmark = pytest.mark.django_db

RELEASE_AT = dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.UTC)  # Tuesday 15:00 in Berlin, eight days after NOW
MISSING_SHA = "0123456789abcdef0123456789abcdef01234567"
ADVISORY = {
    "summary": "Proxy credentials leak on redirects",
    "details": "The Proxy-Authorization header survived a redirect to another host.",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [{"ecosystem": "PyPI", "package": "requests", "ranges": [{"introduced": "0", "fixed": "2.32.4"}]}],
    "references": [{"type": "WEB", "url": "https://example.org/requests/security"}],
}


# --- a public repository and a package index ----------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path, settings: Settings) -> dict[str, str]:
    """The project's public repository: the fixing commit, then a later one on top (so the fix is no branch head
    and only a fetch of its SHA finds it)."""
    repo = tmp_path / "requests"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "sessions.py").write_text("strip = False\n")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "Initial")
    (repo / "sessions.py").write_text("strip = True\n")
    git(repo, "commit", "--quiet", "-am", "Strip Proxy-Authorization on redirects")
    fix = git(repo, "rev-parse", "HEAD")
    (repo / "README").write_text("requests\n")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "Docs")
    settings.EMBARGO_GIT_ALLOWED_PATHS = [tmp_path]
    Project.objects.filter(slug="requests").update(repository_url=str(repo))
    return {"url": str(repo), "fix": fix}


class Index:
    """A PEP 691 JSON simple index serving `requests` with the versions in `versions`."""

    def __init__(self) -> None:
        self.versions = ["2.32.3", "2.32.4"]
        self.asked: list[tuple[str, str]] = []
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                index.asked.append((self.path, self.headers.get("Accept", "")))
                if self.path != "/simple/requests/":
                    self.send_error(404)
                    return
                page = {
                    "meta": {"api-version": "1.1"},
                    "name": "requests",
                    "files": [
                        {"filename": f"requests-{v}-py3-none-any.whl", "url": f"x/{v}.whl", "hashes": {}}
                        for v in index.versions
                    ],
                }
                body = json.dumps(page).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"


@pytest.fixture
def index(settings: Settings) -> Iterator[Index]:
    served = Index()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    settings.EMBARGO_PACKAGE_INDEX_URL = served.url
    settings.EMBARGO_ALLOW_PRIVATE_NETWORK = True  # the index listens on this machine's loopback
    yield served
    served.server.shutdown()
    served.server.server_close()


# --- a scheduled release ------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _frozen() -> None:
    clock.freeze(NOW)


def fixed_report(team: dict[str, Api], n: int, *, consent: bool = True, cve: bool = True) -> str:
    """A report whose reporter asked to be credited (with or without consent to be named), fixed, with its advisory,
    its CVE ID, and the reporter's confirmation."""
    rid = submit(team["reporter"], credit_name="Ada Lovelace", credit_consent=consent)["id"]
    base = f"/api/v1/reports/{rid}"
    maintainer = team["maintainer"]
    assert maintainer.post(f"{base}/transitions", {"to": "confirmed", "comment": "Reproduced."}).status == 200
    assert maintainer.post(f"{base}/fixes", {"kind": "patch", "description": "Strip it."}).status == 201
    assert maintainer.post(f"{base}/transitions", {"to": "fix_ready"}).status == 200
    assert maintainer.call("PUT", f"{base}/advisory", ADVISORY).status == 200
    if cve:
        assert maintainer.post(f"{base}/cve", {"cve_id": f"CVE-2026-{4100 + n}"}).status == 201
    assert team["reporter"].post(f"{base}/fix-confirmation", {"fixed": True}).status == 200
    return rid


def public_commits(team: dict[str, Api], rid: str, *commits: dict[str, str]) -> None:
    fix = team["maintainer"].get(f"/api/v1/reports/{rid}/fixes").json["items"][0]["id"]
    answer = team["maintainer"].patch(f"/api/v1/reports/{rid}/fixes/{fix}", {"public_commits": list(commits)})
    assert answer.status == 200, answer.text


def scheduled(team: dict[str, Api], *reports: str, notify: bool = True) -> str:
    """A release of `reports` on Tuesday 2026-12-08 15:00 Berlin time, its notices sent to two packagers."""
    Project.objects.filter(slug="requests").update(
        cna_org_id="b3476cb9-2e3d-41a6-98d0-0f47421a65b6", announce_lists=["oss-security@lists.example.org"]
    )
    packagers()
    made = team["maintainer"].post(
        RELEASES,
        {"reports": list(reports), "versions": ["2.32.4"], "date": "2026-12-08", "time": "15:00",
         "timezone": "Europe/Berlin"},
    )  # fmt: skip
    assert made.status == 201, made.text
    if notify:
        sent = team["maintainer"].post(f"{RELEASES}/{made.json['id']}/notify-packagers", {})
        assert sent.status == 200, sent.text
    return str(made.json["id"])


def statuses(answer: Any) -> dict[str, str]:
    assert answer.status == 200, answer.text
    return {c["id"]: c["status"] for c in answer.json["checks"]}


def evidence(answer: Any, check_id: str) -> str:
    return next(c["evidence"] for c in answer.json["checks"] if c["id"] == check_id)


def mails(template: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template).order_by("id"))


def rendered(message: OutboxMessage) -> str:
    from embargo.notifications.delivery import render

    email = render(message)
    return f"{email.subject}\n{email.body}"


# --- the checks ---------------------------------------------------------------------------------------------------


def test_on_release_day_every_check_passes_for_real(
    team: dict[str, Api], upstream: dict[str, str], index: Index
) -> None:
    rid = fixed_report(team, 1)
    public_commits(team, rid, {"repository": upstream["url"], "sha": upstream["fix"], "branch": "main"})
    release_id = scheduled(team, rid)

    before = team["maintainer"].get(f"/api/v1/reports/{rid}/publication-checks")
    assert statuses(before) == {
        "commits_public": "pass", "version_released": "pass", "release_moment": "fail", "records_valid": "pass",
    }  # fmt: skip
    assert "has not come yet" in evidence(before, "release_moment")
    assert upstream["fix"][:12] in evidence(before, "commits_public")
    assert "2.32.4 on the index" in evidence(before, "version_released")
    assert ("/simple/requests/", "application/vnd.pypi.simple.v1+json") in index.asked

    clock.freeze(RELEASE_AT)
    after = team["maintainer"].get(f"/api/v1/projects/requests/security-releases/{release_id}/publication-checks")
    assert set(statuses(after).values()) == {"pass"}
    assert after.json["publishable"] is True


def test_a_fixing_commit_missing_from_the_public_repository_fails(
    team: dict[str, Api], upstream: dict[str, str], index: Index
) -> None:
    rid = fixed_report(team, 1)
    public_commits(
        team, rid,
        {"repository": upstream["url"], "sha": upstream["fix"], "branch": "main"},
        {"repository": upstream["url"], "sha": MISSING_SHA, "branch": "main"},
    )  # fmt: skip
    scheduled(team, rid)
    answer = team["maintainer"].get(f"/api/v1/reports/{rid}/publication-checks")
    assert statuses(answer)["commits_public"] == "fail"
    assert f"{MISSING_SHA[:12]} is not in" in evidence(answer, "commits_public")
    assert f"{upstream['fix'][:12]} is reachable" in evidence(answer, "commits_public")


def test_the_fixed_version_must_be_on_the_package_index(team: dict[str, Api], index: Index) -> None:
    rid = fixed_report(team, 1)
    scheduled(team, rid)
    index.versions = ["2.32.3"]
    absent = team["maintainer"].get(f"/api/v1/reports/{rid}/publication-checks")
    assert statuses(absent)["version_released"] == "fail"
    assert "2.32.4 not on the index" in evidence(absent, "version_released")
    index.versions = ["2.32.3", "2.32.4"]
    assert statuses(team["maintainer"].get(f"/api/v1/reports/{rid}/publication-checks"))["version_released"] == "pass"


def test_without_public_commits_or_an_index_those_checks_are_skipped(team: dict[str, Api]) -> None:
    rid = fixed_report(team, 1)
    scheduled(team, rid)
    answer = team["maintainer"].get(f"/api/v1/reports/{rid}/publication-checks")
    assert statuses(answer)["commits_public"] == "skipped"
    assert statuses(answer)["version_released"] == "skipped"


def test_an_advisory_without_the_cve_id_the_policy_requires_fails_records_valid(team: dict[str, Api]) -> None:
    rid = fixed_report(team, 1, cve=False)
    Project.objects.filter(slug="requests").update(cna_org_id="b3476cb9-2e3d-41a6-98d0-0f47421a65b6")
    made = team["maintainer"].post(RELEASES, {"reports": [rid], "versions": ["2.32.4"]})
    answer = team["maintainer"].get(f"{RELEASES}/{made.json['id']}/publication-checks")
    assert statuses(answer)["records_valid"] == "fail"
    assert "no CVE ID, which the policy requires" in evidence(answer, "records_valid")


# --- publishing ---------------------------------------------------------------------------------------------------


def test_before_the_moment_publishing_is_refused_and_the_moment_cannot_be_overridden(team: dict[str, Api]) -> None:
    rid = fixed_report(team, 1)
    scheduled(team, rid)
    refused = team["maintainer"].post(f"/api/v1/reports/{rid}/publish", {})
    assert refused.status == 409
    assert refused.json["error"]["code"] == "publication_blocked"
    assert [f["id"] for f in refused.json["error"]["failures"]] == ["release_moment"]
    assert "record the embargo as broken" in refused.json["error"]["message"]

    overridden = team["maintainer"].post(f"/api/v1/reports/{rid}/publish", {"overrides": {"release_moment": "Now!"}})
    assert overridden.status == 409
    assert overridden.json["error"]["code"] == "release_moment_not_overridable"
    assert overridden.json["error"]["field"] == "overrides.release_moment"
    assert Report.objects.get(public_id=rid).state == "scheduled"
    assert SecurityRelease.objects.get().published_at is None


def test_a_failing_check_blocks_until_overridden_with_a_reason_the_timeline_keeps(
    team: dict[str, Api], index: Index
) -> None:
    rid = fixed_report(team, 1)
    release_id = scheduled(team, rid)
    index.versions = ["2.32.3"]
    clock.freeze(RELEASE_AT)
    url = f"{RELEASES}/{release_id}/publish"

    blocked = team["maintainer"].post(url, {})
    assert blocked.status == 409
    assert blocked.json["error"]["code"] == "publication_blocked"
    assert blocked.json["error"]["failures"] == [
        {"id": "version_released", "status": "fail", "evidence": "requests: 2.32.4 not on the index."}
    ]
    empty = team["maintainer"].post(url, {"overrides": {"version_released": "  "}})
    assert (empty.status, empty.json["error"]["field"]) == (422, "overrides.version_released")

    reason = "The index is slow to show uploads; the wheel is uploaded (checked by hand)."
    published = team["maintainer"].post(url, {"overrides": {"version_released": reason}})
    assert published.status == 200, published.text
    assert published.json["state"] == "published"
    release = SecurityRelease.objects.get(public_id=release_id)
    assert json.loads(release.publication_overrides) == {"version_released": reason}
    event = Event.objects.get(tag="release:published")
    assert event.data["overrides"] == {"version_released": fingerprint(reason)}
    assert event.data["checks"]["version_released"] == "fail"
    assert reason not in json.dumps(event.data)  # the reason is sealed on the release, its fingerprint logged
    shown = team["maintainer"].get(f"{RELEASES}/{release_id}/publication-checks")
    assert shown.json["overrides"] == {"version_released": reason}


def test_publishing_makes_every_report_and_advisory_public_and_tells_everyone(team: dict[str, Api]) -> None:
    first, second = fixed_report(team, 1), fixed_report(team, 2, consent=False)
    release_id = scheduled(team, first, second)
    packager = Packager.objects.get(organisation="Distro B")
    access = access_path(packager, SecurityRelease.objects.get(public_id=release_id))
    assert Client().get(access).status_code == 200
    clock.freeze(RELEASE_AT + dt.timedelta(minutes=1))

    answer = team["owner"].post(f"/api/v1/reports/{first}/publish", {"overrides": {}})
    assert answer.status == 200, answer.text

    now = clock.now()
    for rid in (first, second):
        report = Report.objects.get(public_id=rid)
        assert (report.state, report.published_at) == ("published", now)
        advisory = Advisory.objects.get(report=report)
        assert (advisory.state, advisory.published_at) == ("published", now)
    release = SecurityRelease.objects.get(public_id=release_id)
    assert release.published_at == now
    assert Event.objects.filter(tag="advisory:published").count() == 2
    # The reporters hear that their reports are public, the team that the release is, the packagers that the embargo
    # ended (at every address of each active one), the announcement list each advisory.
    assert {m.to_email for m in mails("report_state_changed") if "published" in rendered(m)} == {"reporter@example.org"}
    assert {m.to_email for m in mails("release_published")} == {"maintainer@example.org"}
    assert sorted(m.to_email for m in mails("embargo_ended")) == [
        "oncall@a.example.org", "sec@a.example.org", "sec@b.example.org",
    ]  # fmt: skip
    ended = rendered(mails("embargo_ended")[0])
    ids = sorted(Advisory.objects.values_list("readable_id", flat=True))
    assert all(f"/advisories/{i}" in ended for i in ids)
    announcements = [rendered(m) for m in mails("announcement")]
    assert len(announcements) == 2
    assert {m.to_email for m in mails("announcement")} == {"oss-security@lists.example.org"}
    consented = next(a for a in announcements if "CVE-2026-4101" in a)
    assert "Proxy credentials leak on redirects" in consented
    assert "requests < 2.32.4" in consented
    assert "Fixed versions\n  2.32.4" in consented
    assert "Ada Lovelace" in consented
    assert "Ada Lovelace" not in next(a for a in announcements if "CVE-2026-4102" in a)  # no consent, no name
    # The packagers' access links closed with the embargo.
    assert Client().get(access).status_code == 404
    # Published is final: a second publication is refused.
    again = team["owner"].post(f"/api/v1/reports/{first}/publish", {})
    assert (again.status, again.json["error"]["code"]) == (409, "release_published")


def test_a_broken_embargo_publishes_a_fixed_report_before_its_moment(team: dict[str, Api]) -> None:
    rid = fixed_report(team, 1)
    scheduled(team, rid, notify=False)
    broken = team["maintainer"].post(f"/api/v1/reports/{rid}/release/embargo-broken", {"reason": "On a tracker."})
    assert broken.status == 200, broken.text
    published = team["maintainer"].post(f"/api/v1/reports/{rid}/publish", {})
    assert published.status == 200, published.text
    assert Report.objects.get(public_id=rid).state == "published"
    assert mails("embargo_ended") == []  # no notice went out, so no packager waited


def test_only_the_team_publishes(team: dict[str, Api]) -> None:
    rid = fixed_report(team, 1)
    scheduled(team, rid)
    clock.freeze(RELEASE_AT)
    for role in ("reporter", "outsider", "stranger"):
        assert team[role].post(f"/api/v1/reports/{rid}/publish", {}).status == 404
    assert Report.objects.get(public_id=rid).state == "scheduled"


# --- the worker at the release moment -----------------------------------------------------------------------------


def test_the_worker_publishes_at_the_moment_when_every_check_passes(
    team: dict[str, Api], upstream: dict[str, str], index: Index
) -> None:
    rid = fixed_report(team, 1)
    public_commits(team, rid, {"repository": upstream["url"], "sha": upstream["fix"], "branch": "main"})
    release_id = scheduled(team, rid)

    worker.run_pass(RELEASE_AT - dt.timedelta(minutes=1))
    assert Report.objects.get(public_id=rid).state == "scheduled"

    clock.freeze(RELEASE_AT)
    worker.run_pass(RELEASE_AT)
    assert Report.objects.get(public_id=rid).state == "published"
    assert SecurityRelease.objects.get(public_id=release_id).published_at == RELEASE_AT
    event = Event.objects.get(tag="release:published")
    assert (event.actor_id, event.data["by"]) == (None, "worker")
    # The same pass delivered the news; a second pass publishes nothing twice.
    assert all(m.sent_at is not None for m in mails("release_published"))
    worker.run_pass(RELEASE_AT + dt.timedelta(minutes=5))
    assert Event.objects.filter(tag="release:published").count() == 1


def test_the_worker_alerts_the_team_once_when_a_check_fails_at_the_moment(team: dict[str, Api], index: Index) -> None:
    rid = fixed_report(team, 1)
    release_id = scheduled(team, rid)
    index.versions = ["2.32.3"]

    clock.freeze(RELEASE_AT)
    worker.run_pass(RELEASE_AT)
    clock.freeze(RELEASE_AT + dt.timedelta(minutes=10))
    worker.run_pass(RELEASE_AT + dt.timedelta(minutes=10))

    assert Report.objects.get(public_id=rid).state == "scheduled"
    alerts = mails("publication_alert")
    assert sorted(m.to_email for m in alerts) == ["maintainer@example.org", "owner@example.org"]
    assert "version_released: requests: 2.32.4 not on the index." in rendered(alerts[0])
    release = SecurityRelease.objects.get(public_id=release_id)
    assert release.published_at is None
    assert release.publication_alert_sent_at == RELEASE_AT

    # Once the version is on the index, the next pass publishes.
    index.versions = ["2.32.4"]
    worker.run_pass(RELEASE_AT + dt.timedelta(minutes=20))
    assert Report.objects.get(public_id=rid).state == "published"


# --- the changelog ------------------------------------------------------------------------------------------------


def test_the_changelog_names_the_cve_versions_commits_and_the_consenting_reporter(team: dict[str, Api]) -> None:
    rid = fixed_report(team, 1)
    sha = "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0"
    public_commits(team, rid, {"repository": "https://example.org/psf/requests", "sha": sha, "branch": "main"})
    md = team["maintainer"].get(f"/api/v1/reports/{rid}/changelog?format=md")
    assert md.status == 200
    assert md.headers["Content-Type"].startswith("text/markdown")
    text = md.body.decode()
    assert "**CVE-2026-4101**" in text
    assert "Affected: requests < 2.32.4." in text
    assert "Fixed in 2.32.4." in text
    assert "`a1b2c3d4e5f6` in https://example.org/psf/requests" in text
    assert "Thanks to Ada Lovelace" in text
    rst = team["maintainer"].get(f"/api/v1/reports/{rid}/changelog?format=rst").body.decode()
    assert rst.startswith("Security\n~~~~~~~~\n")
    assert "``a1b2c3d4e5f6``" in rst
    assert team["maintainer"].get(f"/api/v1/reports/{rid}/changelog?format=html").status == 422
    assert team["reporter"].get(f"/api/v1/reports/{rid}/changelog").status == 404


def test_the_changelog_leaves_out_a_reporter_who_did_not_consent(team: dict[str, Api]) -> None:
    rid = fixed_report(team, 1, consent=False)
    text = team["maintainer"].get(f"/api/v1/reports/{rid}/changelog").body.decode()
    assert "Ada Lovelace" not in text
    assert "**CVE-2026-4101**" in text


# --- the release page ---------------------------------------------------------------------------------------------


def test_the_release_page_shows_the_checks_and_publishes_with_a_written_override(
    team: dict[str, Api], index: Index, settings: Any
) -> None:
    from tests.releases.test_release_pages import browser, page

    # The clock jumps to release day after the log-in: the session's timeouts and the fresh log-in asked before
    # publishing would end it (tests/web/test_sessions.py and tests/accounts/test_tokens.py test those).
    a_year = 60 * 24 * 365
    settings.EMBARGO_REAUTH_MINUTES = settings.EMBARGO_SESSION_IDLE_MINUTES = a_year
    settings.EMBARGO_SESSION_MAX_HOURS = a_year // 60

    rid = fixed_report(team, 1)
    release_id = scheduled(team, rid)
    index.versions = ["2.32.3"]
    client = browser("maintainer")
    shown = client.get(page(release_id)).content.decode()
    assert "Release day" in shown
    assert '<code>version_released</code></td><td><span class="state">fail</span>' in shown
    assert 'name="override_version_released"' in shown
    assert 'name="override_release_moment"' not in shown  # the moment is never overridden

    early = client.post(page(release_id), {"action": "publish"})
    assert early.status_code == 200
    assert "cannot be overridden" in early.content.decode()

    clock.freeze(RELEASE_AT)
    assert browser("outsider").post(page(release_id), {"action": "publish"}).status_code == 404
    blocked = client.post(page(release_id), {"action": "publish"})
    assert "version_released" in blocked.content.decode()
    assert Report.objects.get(public_id=rid).state == "scheduled"

    done = client.post(page(release_id), {"action": "publish", "override_version_released": "Uploaded by hand."})
    assert done.status_code == 302
    assert Report.objects.get(public_id=rid).state == "published"
    after = client.get(page(release_id)).content.decode()
    assert "Uploaded by hand." in after
    advisory = Advisory.objects.get()
    assert f"/advisories/{advisory.readable_id}" in after


# --- CVE Services, after the commit ---------------------------------------------------------------------------------


def test_in_cve_services_mode_the_worker_publishes_the_cve_record_after_the_release(
    team: dict[str, Api],
    stand_in: StandIn,  # noqa: F811 - the fixture
    settings: Settings,
) -> None:
    settings.EMBARGO_CVE_SERVICES_URL = stand_in.url
    rid = fixed_report(team, 1)  # its CVE ID entered by hand before the switch: the stand-in knows any ID
    release_id = scheduled(team, rid)
    changed = team["owner"].patch(
        "/api/v1/projects/requests",
        {"cve_mode": "cve_services", "cna_short_name": stand_in.org, "cna_user": stand_in.user,
         "cna_api_key": stand_in.api_key},
    )  # fmt: skip
    assert changed.status == 200, changed.text
    stand_in.script(503, {"error": "SERVICE_UNAVAILABLE", "message": "Down for maintenance."})

    clock.freeze(RELEASE_AT)
    worker.run_pass(RELEASE_AT)
    release = SecurityRelease.objects.get(public_id=release_id)
    assert release.published_at == RELEASE_AT  # CVE Services being down does not hold the release back
    assert release.cve_records_pending == [Advisory.objects.get().readable_id]
    assert stand_in.published == {}

    worker.run_pass(RELEASE_AT + dt.timedelta(minutes=5))
    assert SecurityRelease.objects.get(public_id=release_id).cve_records_pending == []
    sent = stand_in.published["CVE-2026-4101"]
    assert sent["descriptions"][0]["value"].startswith("The Proxy-Authorization header")
    assert Event.objects.filter(tag="advisory:cve_record_published").count() == 1

    # Withdrawn later: the worker has CVE Services reject the record, with the public reason, retrying while down.
    withdrawn = team["maintainer"].post(f"/api/v1/reports/{rid}/advisory/withdraw", {"reason": "Not a vulnerability."})
    assert withdrawn.status == 200, withdrawn.text
    stand_in.script(503, {"error": "SERVICE_UNAVAILABLE", "message": "Down for maintenance."})
    worker.run_pass(RELEASE_AT + dt.timedelta(minutes=10))
    assert stand_in.rejected == {}
    worker.run_pass(RELEASE_AT + dt.timedelta(hours=1))
    assert stand_in.rejected["CVE-2026-4101"]["rejectedReasons"] == [{"lang": "en", "value": "Not a vulnerability."}]
    assert OutboxMessage.objects.get(template="cve_record_rejection").sent_at is not None


def test_the_published_records_validate_against_the_official_schemas(team: dict[str, Api]) -> None:
    rid = fixed_report(team, 1)
    scheduled(team, rid)
    clock.freeze(RELEASE_AT)
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/publish", {}).status == 200
    for kind in ("osv", "cve", "csaf"):
        record = team["maintainer"].get(f"/api/v1/reports/{rid}/advisory/{kind}.json").json
        assert schema_errors(kind, record) == [], kind
    osv = team["maintainer"].get(f"/api/v1/reports/{rid}/advisory/osv.json").json
    assert osv["published"] == "2026-12-08T14:00:00Z"


def test_publishing_announces_on_the_projects_mastodon_account_through_the_worker(team: dict[str, Api]) -> None:
    """The post goes through the outbox (written with the publication) and the worker, once, to the stand-in."""
    from django.test import override_settings

    from tests.projects.test_mastodon import TOKEN, Instance

    mastodon = Instance()
    try:
        with override_settings(EMBARGO_ALLOW_PRIVATE_NETWORK=True):
            changed = team["owner"].patch(
                "/api/v1/projects/requests", {"mastodon_instance_url": mastodon.url, "mastodon_access_token": TOKEN}
            )
            assert changed.status == 200, changed.text
            rid = fixed_report(team, 1)
            scheduled(team, rid)
            clock.freeze(RELEASE_AT)
            published = team["maintainer"].post(f"/api/v1/reports/{rid}/publish", {"overrides": {}})
            assert published.status == 200, published.text
            (row,) = mails("mastodon_announcement")
            assert row.sent_at is None  # written with the publication, posted by the worker
            worker.run_pass(RELEASE_AT)
            worker.run_pass(RELEASE_AT + dt.timedelta(minutes=5))
        assert len(mastodon.received) == 1
        status = mastodon.received[0]["form"]["status"][0]
        advisory = Report.objects.get(public_id=rid).advisory
        assert advisory.readable_id in status
        assert f"/advisories/{advisory.readable_id}" in status
        assert len(status) <= 500
        assert mastodon.received[0]["headers"]["Idempotency-Key"] == row.public_id
        row.refresh_from_db()
        assert row.sent_at is not None
    finally:
        mastodon.close()
