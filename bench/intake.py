"""Report intake against the floor: `POST /api/v1/projects/<slug>/reports` (token check, rate limit, the
report's text encrypted under a fresh data key, the audit event, the team's and the reporter's notifications
queued in the outbox, all in one transaction) under `wrk -t1 -c4`, beside the floors of the same server and
database in the same run (bench/floor.py)."""

from __future__ import annotations

import json

from bench import floor
from bench.common import Context, Figure, django_shell, lua_post, make_project, migrated_instance, server, wrk

TITLE = "report intake vs the floor"
SLUG = "intake"
CONNECTIONS = 4
TARGET_RATIO = 0.60

# Counts what wrk made, then sends one more report in-process to count the SQL it costs (for the note on the ratio).
COUNT = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from embargo.reports.models import Report
print("REPORTS", Report.objects.filter(project__slug="intake").count())
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM bench_floor_row")
    print("ROWS", cursor.fetchone()[0])
client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION="Bearer " + TOKEN)
with CaptureQueriesContext(connection) as captured:
    response = client.post("/api/v1/projects/intake/reports", {"title": "Counted", "description": "One more."},
                           content_type="application/json")
sql = [q["sql"].lstrip().split()[0].upper() for q in captured.captured_queries]
print("SQL", json.dumps({"status": response.status_code, "queries": len(sql), "inserts": sql.count("INSERT"),
                         "commits": sql.count("COMMIT")}))
"""


def _counts(env: dict[str, str], token: str) -> tuple[int, int, dict[str, int]]:
    """(reports of the project, rows of the floor's table, what one more report costs in SQL), in one process."""
    lines = django_shell(env, f"TOKEN = {token!r}\n" + COUNT).splitlines()
    found = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in lines if " " in line}
    return int(found["REPORTS"]), int(found["ROWS"]), json.loads(found["SQL"])


def run(ctx: Context) -> list[Figure]:
    duration = 1.0 if ctx.small else 10.0
    env = migrated_instance(ctx, "intake")
    people = [("owner@example.org", "owner"), ("maint@example.org", "maintainer"), ("reporter@example.net", "reporter")]
    token = make_project(env, SLUG, people, extra_code=floor.CREATE_TABLE)["reporter@example.net"]
    body = {
        "title": "Bench report {n}: the session cookie survives a cross-host redirect",
        "description": "Steps: log in, follow a redirect to another host, see the cookie sent along. " * 8,
    }
    script = lua_post(ctx.work / "intake.lua", body, {"Authorization": f"Bearer {token}"})
    url_intake = f"/api/v1/projects/{SLUG}/reports"

    with server(env) as base:
        if not ctx.small:
            wrk(base + "/bench/ok", 2, CONNECTIONS)  # warm-up: every worker has imported and connected
        ctx.say(f"floor: trivial view, {duration:g} s")
        ok = floor.measure_ok(base, duration, CONNECTIONS)
        ctx.say(f"floor: one insert, {duration:g} s")
        insert = floor.measure_insert(base, ctx.work, duration, CONNECTIONS)
        ctx.say(f"intake: POST {url_intake}, {duration:g} s")
        intake = wrk(base + url_intake, duration, CONNECTIONS, script=script)
    # The instance is fresh: everything counted now was sent by wrk.
    created, rows_inserted, cost = _counts(env, token)

    ratio = intake["rps"] / insert["rps"] if insert["rps"] else 0.0
    # Django logs transaction control too (BEGIN on SQLite, COMMIT on both engines): commits count transactions.
    commits = f" in {cost['commits']} committed transactions" if cost["commits"] else ""
    problems = []
    if intake["errors"]:
        problems.append(f"{intake['errors']:.0f} intake responses were errors")
    # wrk counts the responses that came back within its duration; the requests still in flight when it stops
    # (at most one per connection) are served too.
    if not intake["requests"] <= created <= intake["requests"] + CONNECTIONS:
        problems.append(f"{created} reports created for {intake['requests']:.0f} requests")
    if insert["errors"] or not insert["requests"] <= rows_inserted <= insert["requests"] + CONNECTIONS:
        problems.append(f"floor insert: {insert['errors']:.0f} errors, {rows_inserted} rows")
    check = "; ".join(problems)
    name = "intake"
    ratio_note = check or (
        ""
        if ratio >= TARGET_RATIO
        else f"a report costs {cost['queries']} SQL statements and {cost['inserts']} inserts{commits} (rate-limit "
        "counters, report, data key, audit event, outbox rows, language detection) against the floor's one insert"
    )
    return [
        Figure(name, "floor: trivial view", ok["rps"], "req/s", note=f"p99 {ok['p99_ms']:.1f} ms"),
        Figure(name, "floor: one insert", insert["rps"], "req/s", note=f"p99 {insert['p99_ms']:.1f} ms"),
        Figure(name, "intake", intake["rps"], "req/s", note=check),
        Figure(name, "intake p99", intake["p99_ms"], "ms"),
        Figure(
            name, "intake / one-insert floor", ratio * 100, "%", "≥ 60 % of floor", ratio >= TARGET_RATIO, ratio_note
        ),
        Figure(
            name,
            "SQL per report",
            float(cost["queries"]),
            "statements",
            note=f"{cost['inserts']} inserts{commits}",
        ),
        Figure(name, "reports created", float(created), "reports", "= requests, no errors", not problems, check),
    ]
