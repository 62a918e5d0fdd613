"""New report → team e-mail: reports sent at a steady pace to `embargo serve`, with `embargo worker` running (its
default interval) and a local SMTP server in the bench process; the latency is from the moment the report was
sent to the moment the last team member's "New report" notice was accepted by the SMTP server."""

from __future__ import annotations

import time

from bench.common import (
    Arrival,
    Context,
    Figure,
    SmtpSink,
    call,
    make_project,
    migrated_instance,
    percentile,
    server,
    worker,
)

TITLE = "new report → team e-mail"
SLUG = "mailbench"
TEAM = ("owner@example.org", "maint@example.org")
REPORTER = "reporter@example.net"
RATE = 5.0  # reports per second
TARGET_P99_S = 2.0


def _team_notices(arrivals: list[Arrival], report_id: str) -> list[Arrival]:
    return [a for a in arrivals if report_id in a.references and "New report" in a.subject and a.to in TEAM]


def run(ctx: Context) -> list[Figure]:
    count = 5 if ctx.small else 200
    with SmtpSink() as smtp:
        env = migrated_instance(ctx, "mail", smtp_port=smtp.port)
        people = [(TEAM[0], "owner"), (TEAM[1], "maintainer"), (REPORTER, "reporter")]
        token = make_project(env, SLUG, people)[REPORTER]
        sent: dict[str, float] = {}
        failures = 0
        with server(env) as base, worker(env):
            # One report first, not counted: the worker's first pass loads what it loads lazily.
            status, body = call("POST", f"{base}/api/v1/projects/{SLUG}/reports",
                                {"title": "Warm-up", "description": "Not counted."}, token=token)  # fmt: skip
            if status == 201:
                smtp.wait(lambda got: len(_team_notices(got, body["id"])) >= len(TEAM), timeout=60)
            ctx.say(f"{count} reports at {RATE:g}/s")
            start = time.monotonic()
            for n in range(count):
                time.sleep(max(0.0, start + n / RATE - time.monotonic()))
                at = time.monotonic()
                status, body = call(
                    "POST", f"{base}/api/v1/projects/{SLUG}/reports",
                    {"title": f"Mail bench {n}", "description": "The redirect keeps the header."}, token=token,
                )  # fmt: skip
                if status == 201:
                    sent[body["id"]] = at
                else:
                    failures += 1
            ctx.say("waiting for the team's notices")
            arrivals = smtp.wait(lambda got: all(len(_team_notices(got, rid)) >= len(TEAM) for rid in sent), timeout=60)
    latencies = []
    missing = 0
    for rid, at in sent.items():
        notices = _team_notices(arrivals, rid)
        if len(notices) < len(TEAM):
            missing += 1
            continue
        latencies.append(max(n.at for n in notices) - at)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    problems = []
    if failures:
        problems.append(f"{failures} reports refused")
    if missing:
        problems.append(f"{missing} reports without both team notices after 60 s")
    check = "; ".join(problems)
    met = p99 <= TARGET_P99_S and not problems
    name = "mail"
    return [
        Figure(name, "team notices arrived", float(len(latencies)), "reports", f"= {count}", not problems, check),
        Figure(name, "latency p50", p50 * 1000, "ms"),
        Figure(
            name,
            "latency p99",
            p99 * 1000,
            "ms",
            "≤ 2,000 ms",
            met,
            check or ("" if met else "the worker sleeps its interval (1 s) between idle passes"),
        ),
    ]
