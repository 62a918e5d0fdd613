"""`embargo demo --walkthrough`: the whole story of one report of the demo project `requests`, from intake to
publication, replayed in seconds on a simulated clock.

Every write goes through the real actions (the same ones the API and the pages call); the worker's real pass
delivers the e-mails (as .eml files under the data dir's `mail/`, unless EMBARGO_SMTP_URL is set) and publishes at
the release moment. So that the release-day checks run for real without a network, the walkthrough sets up, for
its own duration:

- a small git repository under the data dir (`walkthrough/requests`), where the fix is "pushed": the fix's public
  commit names it, so `commits_public` asks it with git;
- a package index on 127.0.0.1 (PEP 691 JSON) that lists the fixed version once it is "uploaded", so
  `version_released` asks it over HTTP;

with EMBARGO_PACKAGE_INDEX_URL, EMBARGO_ALLOW_PRIVATE_NETWORK and EMBARGO_GIT_ALLOWED_PATHS overridden inside this
process only. The demo project's settings are left as they were, but for the UUID of its CNA (CVE records name it),
set once when it is empty.

Each run tells a new story: a second run sends a second report (with the next free CVE ID of the walkthrough's
range) and publishes a second advisory. The simulated clock starts on the first Monday at least a week after the
real date, 09:00 UTC, and never touches the real one outside this process. Because the worker's passes run at
those simulated moments, the walkthrough refuses an instance with other open reports (their reminders would come
early)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.test.utils import override_settings

from embargo import clock
from embargo.domain.policy import Policy
from embargo.errors import ActionError

REPORTER = "reporter@example.org"
REPORTER_NAME = "Ada Example"
FIXED_VERSION = "2.32.4"
RELEASE_TIME = dt.time(15, 0)
CVE_BASE = 90000  # the walkthrough's own CVE numbers: CVE-YYYY-90001, -90002… (never a real record)
PROOF_OF_CONCEPT = """\
import requests
# A redirect to another host must not carry the proxy's credentials along.
s = requests.Session()
r = s.get("http://a.example/redirect-to-b", proxies={"http": "http://user:secret@proxy.example:3128"})
assert "Proxy-Authorization" not in r.request.headers, "leaked"
"""
PATCH = b"""\
--- a/src/requests/sessions.py
+++ b/src/requests/sessions.py
@@ -1,1 +1,1 @@
-strip_proxy_auth = False
+strip_proxy_auth = True
"""
BRANCHES = ("main", "2.31.x")
DEMO_CNA_ORG_ID = "00000000-0000-4000-8000-000000000000"  # an example CNA: the IDs are entered by hand


class WalkthroughError(ActionError):
    pass


@dataclass
class Outcome:
    report_id: str = ""
    advisory_id: str = ""
    release_id: str = ""
    advisory_url: str = ""
    mail: str = ""
    steps: list[dict[str, str]] = field(default_factory=list)


def start_moment(today: dt.date) -> dt.datetime:
    """The first Monday at least seven days after `today`, 09:00 UTC: in the future, so that nothing the real clock
    does meanwhile (reminders, other releases) is disturbed."""
    day = today + dt.timedelta(days=7)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)


# --- the local stand-ins ------------------------------------------------------------------------------------------


class Index:
    """A PEP 691 JSON simple index on 127.0.0.1 serving the demo package with the versions in `versions`."""

    def __init__(self, package: str) -> None:
        self.versions: list[str] = ["2.32.3"]
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.rstrip("/") != f"/simple/{package}":
                    self.send_error(404)
                    return
                page = {
                    "meta": {"api-version": "1.1"},
                    "name": package,
                    "files": [
                        {"filename": f"{package}-{v}-py3-none-any.whl", "url": f"{v}.whl", "hashes": {}}
                        for v in list(index.versions)
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

    @contextmanager
    def running(self) -> Iterator[Index]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def _git(cwd: Path, *args: str) -> str:
    from embargo.fixes.git import run_git

    identity = ["-c", "user.name=Demo Owner", "-c", "user.email=owner@example.org", "-c", "commit.gpgsign=false"]
    return run_git([*identity, *args], cwd=cwd).strip()


def push_fix(repo: Path, n: int) -> str:
    """The "public repository": made on the first run, one more fixing commit on each run; returns its SHA."""
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "--quiet", "--initial-branch=main")
        (repo / "sessions.py").write_text("strip_proxy_auth = False\n")
        _git(repo, "add", ".")
        _git(repo, "commit", "--quiet", "-m", "Initial")
    (repo / "sessions.py").write_text(f"strip_proxy_auth = True  # walkthrough {n}\n")
    _git(repo, "commit", "--quiet", "-am", f"Strip Proxy-Authorization on redirects to another host (walkthrough {n})")
    return _git(repo, "rev-parse", "HEAD")


# --- the story ----------------------------------------------------------------------------------------------------


def _release_moment(now: dt.datetime, policy: Policy) -> dt.datetime:
    """The first release day of the policy at RELEASE_TIME (in its zone) at least the packagers' lead time ahead."""
    from embargo.domain.releases import next_allowed_dates

    earliest = now + dt.timedelta(days=policy.packager_lead_days)
    for day in next_allowed_dates(earliest.date() - dt.timedelta(days=1), policy, n=5):
        moment = dt.datetime.combine(day, RELEASE_TIME, tzinfo=ZoneInfo(policy.timezone))
        if moment >= earliest:
            return moment
    raise WalkthroughError("No allowed release date was found in the next weeks of the demo's policy.")


def _refuse_on_a_busy_instance() -> None:
    """The worker's passes run at simulated moments up to two weeks ahead: the reminders (and releases) of anyone
    else's open reports would come early. So the walkthrough runs only where its own reports are the only ones."""
    from embargo.domain.workflow import OPEN
    from embargo.reports.models import Report

    others = Report.objects.filter(state__in=[str(s) for s in OPEN]).exclude(reporter__email=REPORTER).count()
    if others:
        raise WalkthroughError(
            f"This instance has {others} open report(s) besides the walkthrough's: its simulated clock would send "
            "their reminders early. Run it on a demo instance (a fresh EMBARGO_DATA_DIR)."
        )


def _next_cve(year: int) -> str:
    from embargo.advisories.models import Advisory

    n = CVE_BASE + 1
    while Advisory.objects.filter(cve_id=f"CVE-{year}-{n}").exists():
        n += 1
    return f"CVE-{year}-{n}"


def _eml_count() -> int:
    from embargo.notifications.delivery import mail_dir

    folder = mail_dir()
    return len(list(folder.glob("*.eml"))) if folder.exists() else 0


def run(say: Callable[[str], None] = print) -> Outcome:
    """Replays the story; raises ActionError (exit 1) when a step is refused or publication does not happen."""
    from embargo.projects.demo import load_demo

    load_demo()
    _refuse_on_a_busy_instance()
    data_dir = Path(settings.EMBARGO_DATA_DIR)
    workdir = data_dir / "walkthrough"
    workdir.mkdir(parents=True, exist_ok=True)
    index = Index("requests")
    allowed = [*settings.EMBARGO_GIT_ALLOWED_PATHS, workdir.resolve()]
    try:
        with (
            index.running(),
            override_settings(
                EMBARGO_PACKAGE_INDEX_URL=index.url,
                EMBARGO_ALLOW_PRIVATE_NETWORK=True,
                EMBARGO_GIT_ALLOWED_PATHS=allowed,
            ),
        ):
            return _story(index, workdir / "requests", say)
    finally:
        clock.freeze(None)


def _story(index: Index, repo: Path, say: Callable[[str], None]) -> Outcome:
    from embargo.accounts.access import Permission, access_report_by_id
    from embargo.accounts.actions import do_create_user
    from embargo.accounts.models import User
    from embargo.advisories.actions import do_assign_cve, do_save_advisory
    from embargo.advisories.schemas import AdvisoryIn
    from embargo.fixes.actions import do_add_fix, do_add_patch, do_change_fix, do_confirm_fix
    from embargo.notifications.delivery import mail_dir
    from embargo.notifications.worker import run_pass
    from embargo.projects.actions import do_change_project
    from embargo.projects.demo import DEMO_OWNER
    from embargo.projects.models import Project
    from embargo.releases import checks, links
    from embargo.releases.actions import MomentIn, do_acknowledge_notice, do_create_release, do_notify_packagers
    from embargo.releases.models import PackagerNotice, SecurityRelease
    from embargo.releases.packagers import notice_by_ack_link
    from embargo.reports.actions import Submission, do_submit_report, do_transition
    from embargo.reports.models import Report

    project = Project.objects.select_related("policy").get(slug="requests")
    policy = project.policy.as_domain()
    owner = User.objects.get(email=DEMO_OWNER)
    reporter = User.objects.filter(email=REPORTER).first() or do_create_user(
        REPORTER, name=REPORTER_NAME, password=None, verified=True, acting_user=None
    )
    if not project.cna_org_id:
        # CVE JSON 5 names the CNA that assigned the ID (records_valid checks it): the demo's owner sets it once,
        # through the project settings' action, as a team entering IDs by hand would.
        do_change_project(project, {"cna_org_id": DEMO_CNA_ORG_ID}, acting_user=owner)
        say(f"The demo project's CNA is set to {DEMO_CNA_ORG_ID} (needed by CVE records; kept afterwards).")
    run_number = Report.objects.filter(project=project, reporter=reporter).count() + 1
    start = start_moment(clock.now().date())  # the real date: the clock is not frozen yet
    clock.freeze(start)
    outcome = Outcome()
    total = 16
    done = 0
    emails_before = _eml_count()

    def step(text: str) -> None:
        nonlocal done
        done += 1
        moment = clock.now()
        line = f"[{done:>2}/{total}] {moment:%a %Y-%m-%d %H:%M} UTC (day {(moment - start).days + 1:>2})  {text}"
        outcome.steps.append({"at": moment.isoformat(), "step": text})
        say(line)

    def at(delta: dt.timedelta) -> None:
        clock.freeze(start + delta)

    def worker() -> str:
        result = run_pass(clock.now(), run_jobs=False)
        if result.errors:
            raise WalkthroughError(f"The worker's pass failed: {result.errors}")
        return f"{result.sent} e-mail(s) delivered"

    def team() -> Any:
        return access_report_by_id(owner, outcome.report_id, Permission.VIEW_REPORT)

    say(f"Walkthrough {run_number} on project `requests`: a simulated clock from {start:%A %Y-%m-%d %H:%M} UTC.")
    # 1. Intake.
    report = do_submit_report(
        project,
        Submission(
            title="Proxy-Authorization leaks on a redirect to another host",
            description="A redirect to another host keeps the Proxy-Authorization header.",
            affected_versions="<= 2.32.3",
            reproduction=PROOF_OF_CONCEPT,
            impact="The proxy's credentials reach a third party.",
            credit_name=REPORTER_NAME,
            credit_consent=True,
        ),
        acting_user=reporter,
    )
    outcome.report_id = report.public_id
    step(f"{REPORTER} sends report {report.public_id} with a proof of concept; {worker()}")
    at(dt.timedelta(hours=2, minutes=30))
    do_transition(team(), "acknowledged", comment="Thank you: we are looking into it.", acting_user=owner)
    step(f"The team acknowledges it (policy: within {policy.response_target_hours} h); {worker()}")
    at(dt.timedelta(days=1, hours=1))
    do_transition(team(), "confirmed", comment="Reproduced with your proof of concept.", acting_user=owner)
    step(f"The team confirms it; {worker()}")
    at(dt.timedelta(days=2, hours=5))
    fix = do_add_fix(team(), kind="patch", description="Strip Proxy-Authorization on a redirect to another host.",
                     team_only=False, acting_user=owner)  # fmt: skip
    for branch in BRANCHES:
        do_add_patch(fix, team(), branch=branch, filename=f"0001-strip-proxy-auth-{branch}.patch", content=PATCH,
                     acting_user=owner)  # fmt: skip
    step(f"The team adds a fix with patches for {' and '.join(BRANCHES)}")
    at(dt.timedelta(days=2, hours=6))
    do_transition(team(), "fix_ready", comment="The fix is ready: does it work for you?", acting_user=owner)
    step(f"The report moves to fix_ready; {worker()}")
    at(dt.timedelta(days=2, hours=7))
    draft = AdvisoryIn.model_validate(
        {
            "summary": "Proxy-Authorization leaks on a redirect to another host",
            "details": "A redirect to another host kept the Proxy-Authorization header, sending the proxy's "
            "credentials to that host.",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
            "cwe_ids": ["CWE-200"],
            "affected": [
                {"ecosystem": "PyPI", "package": "requests", "ranges": [{"introduced": "0", "fixed": FIXED_VERSION}]}
            ],
            "references": [{"type": "WEB", "url": f"{settings.EMBARGO_BASE_URL}/projects/requests/security"}],
            "credits": [{"name": REPORTER_NAME, "type": "FINDER"}],
        }
    )
    advisory = do_save_advisory(team(), draft.dict(), acting_user=owner)
    outcome.advisory_id = advisory.readable_id
    step(f"The team writes advisory {advisory.readable_id}")
    at(dt.timedelta(days=3))
    cve_id = _next_cve(clock.now().year)
    do_assign_cve(team(), cve_id, acting_user=owner)
    step(f"The team enters {cve_id}, assigned by its CNA (manual mode)")
    at(dt.timedelta(days=3, hours=6))
    reporter_access = access_report_by_id(reporter, outcome.report_id, Permission.VIEW_REPORT)
    do_confirm_fix(reporter_access, fixed=True, comment="Confirmed: my proof of concept no longer works.",
                   acting_user=reporter)  # fmt: skip
    step(f"{REPORTER} confirms the fix; {worker()}")
    at(dt.timedelta(days=4, hours=1))
    moment = _release_moment(clock.now(), policy)
    release = do_create_release(
        project, report_ids=[outcome.report_id], versions=[FIXED_VERSION],
        moment=MomentIn(date=moment.date(), time=moment.time(), timezone=policy.timezone), acting_user=owner,
    )  # fmt: skip
    outcome.release_id = release.public_id
    step(
        f"The team plans release {release.public_id} of {FIXED_VERSION} for {moment:%A %Y-%m-%d %H:%M} "
        f"({policy.timezone}), at least {policy.packager_lead_days} days ahead on a release weekday"
    )
    at(dt.timedelta(days=4, hours=1, minutes=15))
    release = do_notify_packagers(release, acting_user=owner)
    notices = list(PackagerNotice.objects.filter(release=release).select_related("packager").order_by("id"))
    step(f"The embargo notices go to {len(notices)} packagers; the report is scheduled; {worker()}")
    at(dt.timedelta(days=4, hours=5))
    first = notices[0]
    notice_id, token = links.ack_path(first).strip("/").split("/")[-2:]
    do_acknowledge_notice(notice_by_ack_link(notice_id, token))
    step(f"{first.packager.organisation} acknowledges its notice through the link in it")
    release_at = release.release_at
    if release_at is None:  # do_create_release was given the moment
        raise WalkthroughError(f"Release {release.public_id} has no moment.")
    clock.freeze(release_at - dt.timedelta(hours=2))
    sha = push_fix(repo, run_number)
    do_change_fix(fix, team(), changes={"public_commits": [{"repository": str(repo), "sha": sha, "branch": "main"}]},
                  acting_user=owner)  # fmt: skip
    step(f"Release day: the fix is pushed ({sha[:12]} in {repo}) and recorded as public")
    clock.freeze(release_at - dt.timedelta(hours=1))
    index.versions.append(FIXED_VERSION)
    step(f"requests {FIXED_VERSION} is uploaded to the package index ({index.url})")
    clock.freeze(release_at - dt.timedelta(minutes=30))
    release = SecurityRelease.objects.select_related("project__policy").get(pk=release.pk)
    found = checks.run(release, clock.now())
    summary = ", ".join(f"{c.id} {'not yet' if c.id == 'release_moment' and c.failed else c.status}" for c in found)
    step(f"The team looks at the release-day checks: {summary}")
    clock.freeze(release_at)
    worker_words = worker()
    release.refresh_from_db()
    if release.published_at is None:
        failing = "; ".join(f"{c.id}: {c.evidence}" for c in checks.run(release, clock.now()) if c.failed)
        raise WalkthroughError(f"The worker did not publish release {release.public_id}: {failing}")
    step(f"The release moment: the worker publishes {outcome.advisory_id}; {worker_words}")
    report.refresh_from_db()
    step(f"Report {report.public_id} is {report.state}")
    outcome.advisory_url = f"{settings.EMBARGO_BASE_URL}/advisories/{outcome.advisory_id}"
    if settings.EMBARGO_SMTP_URL:
        outcome.mail = "the e-mails went through EMBARGO_SMTP_URL"
    else:
        outcome.mail = f"{_eml_count() - emails_before} new e-mails (.eml) in {mail_dir()}"
    return outcome


def text_of(outcome: Outcome) -> str:
    return "\n".join(
        [
            f"Published: {outcome.advisory_url}  (OSV: {outcome.advisory_url}.json)",
            f"E-mails:   {outcome.mail}",
            "Run `embargo serve` (or `make serve`) to read them on the site; a second run tells the story again with "
            "a new report.",
        ]
    )
