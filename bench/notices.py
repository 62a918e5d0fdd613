"""Packager notices: a security release of one ready report, on a project with N packagers (1,000; half with an
OpenPGP key, so their notice is signed and encrypted, the other half signed in clear), one address each. The figure
is the time from the team's "notify packagers" request to the last notice accepted by the local SMTP server, with
one `embargo worker` (its default interval) delivering them."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from bench.common import (
    OPENER,
    Arrival,
    Context,
    Figure,
    SmtpSink,
    call,
    embargo,
    make_project,
    migrated_instance,
    server,
    worker,
)
from embargo.domain.policy import Policy
from embargo.domain.releases import next_allowed_dates

TITLE = "1,000 packager notices, half OpenPGP-encrypted"
SLUG = "noticebench"
OWNER, MAINT, REPORTER = "owner@example.org", "maint@example.org", "reporter@example.net"
BRANCHES = ("main", "1.x")
TARGET_S = 60.0
KEYS = 4  # distinct packager keys, shared round-robin (the cost is per notice, not per distinct key)

# Runs inside the instance (bench.common.make_project's extra_code): the packager list, through the action.
PACKAGERS = """
from embargo.accounts.models import User
from embargo.projects.actions import do_add_packager
from embargo.vault import openpgp
count, keyed = spec["packagers"], spec["packagers"] // 2
owner = User.objects.get(email=spec["owner"])
keys = [openpgp.generate_key(f"Distro {k}", f"keys{k}@distro.example.org").public_armored for k in range(spec["keys"])]
for n in range(count):
    do_add_packager(
        project, organisation=f"Packager {n:04d}", emails=[f"packager{n:04d}@pkg.example.org"],
        public_key=keys[n % len(keys)] if n < keyed else "", acting_user=owner,
    )
print("PACKAGERS", count)
"""


def _upload(url: str, token: str, branch: str, filename: str, content: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="branch"\r\n\r\n{branch}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    try:
        with OPENER.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code)


def _ok(result: tuple[int, Any], *expected: int) -> Any:
    status, body = result
    if status not in expected:
        raise RuntimeError(f"unexpected {status}: {body}")
    return body


def _release(base: str, tokens: dict[str, str]) -> str:
    """A ready report (confirmed, a fix with a patch per branch, fix_ready, advisory, CVE ID, the reporter's
    confirmation) in a new security release; returns the release's API path."""
    api = base + "/api/v1"
    owner, maint, reporter = tokens[OWNER], tokens[MAINT], tokens[REPORTER]
    _ok(call("PATCH", f"{api}/projects/{SLUG}", {"supported_branches": list(BRANCHES)}, token=owner), 200)
    _ok(call("POST", f"{api}/projects/{SLUG}/signing-key", {"generate": True}, token=owner), 200, 201)
    report = _ok(call("POST", f"{api}/projects/{SLUG}/reports",
                      {"title": "Proxy credentials leak", "description": "Secret."}, token=reporter), 201)  # fmt: skip
    rid = report["id"]
    _ok(call("POST", f"{api}/reports/{rid}/transitions", {"to": "confirmed", "comment": "Yes."}, token=maint), 200)
    fix = _ok(
        call("POST", f"{api}/reports/{rid}/fixes", {"kind": "patch", "description": "Strip it."}, token=maint), 201
    )
    for branch in BRANCHES:
        patch = f"--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-old\n+new on {branch}\n".encode() * 20
        status = _upload(f"{api}/reports/{rid}/fixes/{fix['id']}/patches", maint, branch, f"fix-{branch}.patch", patch)
        if status != 201:
            raise RuntimeError(f"patch upload: {status}")
    _ok(call("POST", f"{api}/reports/{rid}/transitions", {"to": "fix_ready"}, token=maint), 200)
    advisory = {
        "summary": "Proxy credentials leak on redirects",
        "details": "The Proxy-Authorization header survives a cross-host redirect. " * 10,
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
        "affected": [{"ecosystem": "PyPI", "package": SLUG, "ranges": [{"introduced": "0", "fixed": "2.0.1"}],
                      "fixed_by_branch": {"main": "2.0.1", "1.x": "1.9.9"}}],
    }  # fmt: skip
    _ok(call("PUT", f"{api}/reports/{rid}/advisory", advisory, token=maint), 200)
    _ok(call("POST", f"{api}/reports/{rid}/cve", {"cve_id": "CVE-2026-49999"}, token=maint), 201)
    _ok(call("POST", f"{api}/reports/{rid}/fix-confirmation", {"fixed": True, "comment": ""}, token=reporter), 200)
    policy = Policy()
    today = dt.datetime.now(dt.UTC).date()
    (date,) = next_allowed_dates(today + dt.timedelta(days=policy.packager_lead_days + 1), policy, 1)
    release = _ok(call("POST", f"{api}/projects/{SLUG}/security-releases",
                       {"reports": [rid], "versions": ["2.0.1", "1.9.9"], "date": date.isoformat(), "time": "15:00",
                        "timezone": "UTC"}, token=maint), 201)  # fmt: skip
    return f"{api}/projects/{SLUG}/security-releases/{release['id']}"


def _notices(arrivals: list[Arrival]) -> list[Arrival]:
    return [a for a in arrivals if a.subject.startswith("[EMBARGOED]")]


def run(ctx: Context) -> list[Figure]:
    count = 10 if ctx.small else 1000
    with SmtpSink() as smtp:
        env = migrated_instance(ctx, "notices", smtp_port=smtp.port)
        ctx.say(f"{count} packagers ({count // 2} with a key), through do_add_packager")
        spec = json.dumps({"packagers": count, "keys": 1 if ctx.small else KEYS, "owner": OWNER})
        tokens = make_project(
            env, SLUG, [(OWNER, "owner"), (MAINT, "maintainer"), (REPORTER, "reporter")],
            extra_code=f"spec = json.loads({spec!r})\n" + PACKAGERS,
        )  # fmt: skip
        with server(env) as base:
            ctx.say("a ready report in a security release")
            release = _release(base, tokens)
            embargo(env, "worker", "--once")  # the set-up's own mail leaves before the clock starts
            with worker(env):
                ctx.say(f"notify packagers; waiting for {count} notices")
                start = time.monotonic()
                _ok(call("POST", f"{release}/notify-packagers", {}, token=tokens[MAINT], timeout=300), 200)
                requested = time.monotonic() - start
                arrivals = smtp.wait(lambda got: len(_notices(got)) >= count, timeout=max(300, count * 1.0))
        notices = _notices(arrivals)
        elapsed = (max(a.at for a in notices) - start) if notices else float("nan")
    encrypted = sum(a.content_type == "multipart/encrypted" for a in notices)
    signed = sum(a.content_type == "multipart/signed" for a in notices)
    problems = []
    if len(notices) != count:
        problems.append(f"{len(notices)} of {count} notices arrived")
    if encrypted != count // 2 or signed != count - count // 2:
        problems.append(f"{encrypted} encrypted and {signed} signed in clear")
    if len({a.to for a in notices}) != len(notices):
        problems.append("a packager got two notices")
    check = "; ".join(problems)
    met = not problems and elapsed <= TARGET_S
    cause = (
        ""
        if met or problems
        else "every notice is built, signed (and encrypted) by its own GnuPG process, one after another in one worker"
    )
    name = "notices"
    return [
        Figure(name, "notices arrived", float(len(notices)), "notices", f"= {count}", not problems, check),
        Figure(name, "encrypted", float(encrypted), "notices", f"= {count // 2}", encrypted == count // 2),
        Figure(name, "notify-packagers request", requested * 1000, "ms", note="queues the notices"),
        Figure(
            name,
            "total time",
            elapsed,
            "s",
            "≤ 60 s" if not ctx.small else "",
            met if not ctx.small else None,
            check or cause,
        ),
        Figure(name, "rate", len(notices) / elapsed if notices and elapsed else 0.0, "notices/s"),
    ]
