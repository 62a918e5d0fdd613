"""A worker pass with nothing due (`embargo.notifications.worker.run_pass`) at 10,000 and 1,000,000 open reports:
median and p99 of 50 passes in one process with the instance's environment, after 3 warm-up passes. The pass
runs at the seeding moment (bench/seed.py computed every report's clocks then), so that nothing is due however
old the cached data set is; the figures would be meaningless if a pass did work, so that is checked too."""

from __future__ import annotations

import json

from bench.common import Context, Figure, django_shell, percentile
from bench.seed import prepared, sizes

TITLE = "idle worker pass"
PASSES = 50
WARM_UP = 3
TARGET_MS = 20.0

IDLE_PASSES = """
import datetime as dt, json, time
from embargo.notifications.worker import run_pass
from embargo.reports.models import Report
moment = dt.datetime.fromisoformat({moment!r})
for _ in range({warm_up}):
    run_pass(now=moment, run_jobs=True)
times, work = [], 0
for _ in range({passes}):
    started = time.perf_counter()
    result = run_pass(now=moment, run_jobs=True)
    times.append((time.perf_counter() - started) * 1000)
    work += result.reminders + result.claimed + result.jobs + result.language_jobs
open_reports = Report.objects.filter(closed_at__isnull=True).count()
print("IDLE", json.dumps({{"times": times, "work": work, "open": open_reports}}))
"""


def run(ctx: Context) -> list[Figure]:
    passes = 5 if ctx.small else PASSES
    figures: list[Figure] = []
    for size in sizes(ctx):
        env, seeded = prepared(ctx, size)
        ctx.say(f"idle worker pass at {size}: {passes} passes")
        output = django_shell(env, IDLE_PASSES.format(moment=seeded.seeded_at, warm_up=WARM_UP, passes=passes))
        data = json.loads(output.split("IDLE", 1)[1].strip().splitlines()[0])
        times = data["times"]
        note = f"{data['open']} open reports"
        if data["work"]:
            note += f"; the passes did {data['work']} things (nothing should be due)"
        median = percentile(times, 50)
        p99 = percentile(times, 99)
        figures.append(Figure("idle pass", f"median at {size}", median, "ms", note=note))
        met = (p99 <= TARGET_MS and not data["work"]) if size == "1m" else None
        figures.append(
            Figure("idle pass", f"p99 at {size}", p99, "ms", f"≤ {TARGET_MS:g} ms" if size == "1m" else "", met)
        )
    return figures
