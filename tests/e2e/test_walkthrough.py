"""`embargo demo --walkthrough` as a newcomer runs it: a real process on a fresh instance replays a report of the
demo project from intake to publication on a simulated clock, the release-day checks asked for real (a git repository
and a package index it sets up), and leaves the e-mails under the data dir's mail/ and the advisory on the site."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable

import pytest

from tests.e2e.conftest import Instance, Server

pytestmark = pytest.mark.e2e

STEP = re.compile(r"^\[\s*(\d+)/(\d+)\] (\w{3} \d{4}-\d\d-\d\d \d\d:\d\d) UTC \(day\s+(\d+)\)  (.*)$")
# The story in the order the policy tells it; each pattern is matched against its step's line.
STORY = [
    r"reporter@example\.org sends report (?P<report>\w+) with a proof of concept",
    r"The team acknowledges it \(policy: within 12 h\)",
    r"The team confirms it",
    r"The team adds a fix with patches for main and 2\.31\.x",
    r"The report moves to fix_ready",
    r"The team writes advisory (?P<advisory>EMB-\d{4}-\d{4})",
    r"The team enters (?P<cve>CVE-\d{4}-\d+), assigned by its CNA \(manual mode\)",
    r"reporter@example\.org confirms the fix",
    r"The team plans release \w+ of 2\.32\.4 for (?P<day>Mon|Tue|Wed|Thu|Fri)day ",
    r"The embargo notices go to 2 packagers; the report is scheduled",
    r"Debian Security Team acknowledges its notice through the link in it",
    r"Release day: the fix is pushed \([0-9a-f]{12} in .*\) and recorded as public",
    r"requests 2\.32\.4 is uploaded to the package index \(http://127\.0\.0\.1:\d+/simple/\)",
    r"The team looks at the release-day checks: commits_public pass, version_released pass, "
    r"release_moment not yet, records_valid pass",
    r"The release moment: the worker publishes (?P<published>EMB-\d{4}-\d{4})",
    r"Report (?P<final>\w+) is published",
]


def timeline(output: str) -> dict[str, str]:
    """Checks that every step was printed, in order, on a clock that only moves forward; returns what they named."""
    steps = [m for m in (STEP.match(line) for line in output.splitlines()) if m]
    assert [int(m.group(1)) for m in steps] == list(range(1, len(STORY) + 1)), output
    assert {int(m.group(2)) for m in steps} == {len(STORY)}
    moments = [m.group(3) for m in steps]
    assert moments == sorted(moments, key=lambda t: t[4:]), f"the clock went back:\n{output}"
    assert moments[0].startswith("Mon "), "the story starts on a Monday"
    found: dict[str, str] = {}
    for pattern, m in zip(STORY, steps, strict=True):
        matched = re.match(pattern, m.group(5))
        assert matched, f"step {m.group(1)}: {m.group(5)!r} does not match {pattern!r}"
        found.update({k: v for k, v in matched.groupdict().items() if v})
    # The release waited the packagers' lead time (7 days) and fell on a weekday.
    assert int(steps[11].group(4)) - int(steps[9].group(4)) >= 7, "notices at least the lead time before release"
    assert found["published"] == found["advisory"]
    assert found["final"] == found["report"]
    return found


def notices_sent_to(instance: Instance) -> set[str]:
    addresses = set()
    for path in (instance.data_dir / "mail").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if str(message["Subject"]).startswith("[EMBARGOED]"):
            addresses.add(str(message["To"]))
    return addresses


def test_the_walkthrough_takes_a_report_from_intake_to_publication(
    instance: Instance, serve: Callable[..., Server]
) -> None:
    instance.run("migrate", "--quiet")
    first = instance.run("demo", "--walkthrough")
    story = timeline(first.stdout)
    advisory = story["advisory"]
    assert f"Published: http://127.0.0.1:8000/advisories/{advisory}" in first.stdout
    assert f"in {instance.data_dir / 'mail'}" in first.stdout

    # The embargo notices reached both demo packagers, as files the worker wrote.
    assert notices_sent_to(instance) == {"security@debian.example.org", "packagers@fedora.example.org"}

    # Run again: a second story with a report, an advisory and a CVE ID of its own.
    second = timeline(instance.run("demo", "--walkthrough").stdout)
    assert second["report"] != story["report"]
    assert second["advisory"] != advisory
    assert second["cve"] != story["cve"]

    # On the running site: the report is published for its team, the advisory is public in every form.
    token = (instance.data_dir / "demo-owner.txt").read_text().splitlines()[2]
    server = serve()
    report = server.call("GET", f"/api/v1/reports/{story['report']}", token=token)
    assert report.status == 200, report.text
    assert report.json["state"] == "published"
    osv = server.call("GET", f"/advisories/{advisory}.json")
    assert osv.status == 200, osv.text
    # The OSV id is the advisory's, with OSV's prefix for a database of its own.
    assert osv.json["id"] in (advisory, f"x_{advisory}")
    assert story["cve"] in osv.json["aliases"]
    assert osv.json["affected"][0]["package"]["name"] == "requests"
    page = server.call("GET", f"/advisories/{advisory}")
    assert page.status == 200
    assert "Ada Example" in page.text
    assert story["cve"] in page.text

    # Once someone else's report is open, the walkthrough refuses (exit 1): its simulated clock would send that
    # report's reminders two weeks early.
    sent = server.call(
        "POST", "/api/v1/projects/requests/reports", {"title": "A real one", "description": "Not a story."}, token=token
    )
    assert sent.status == 201, sent.text
    refused = instance.run("demo", "--walkthrough", expect=1)
    assert "1 open report(s) besides the walkthrough's" in refused.stderr
    assert "Walkthrough" not in refused.stdout
