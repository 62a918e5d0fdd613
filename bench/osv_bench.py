"""The OSV API with 100,000 published advisories (bench/seed.py `seed_advisories`: ten per PyPI package, with
their public records and package index rows as publication writes them): `POST /osv/v1/query` for one package
and version (one advisory of ten matches) under `wrk --latency -t1 -c4`, queries/s and p99; then `GET
/osv/all.zip` once: its time and the peak memory (VmHWM) of the one gunicorn worker that served it."""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

from bench.common import OPENER, Context, Figure, call, instance, lua_post, server, wrk
from bench.seed import seed_advisories

TITLE = "OSV API with 100k advisories"
COUNT = 100_000
CONNECTIONS = 4
TARGET_RPS = 2000.0
TARGET_P99_MS = 20.0


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _worker_pid() -> int:
    """The gunicorn worker of the server started by this process: the descendant without children."""
    ours = _descendants(os.getpid())
    leaves = [p for p in ours if not _descendants(p) and ("gunicorn" in _cmdline(p) or "embargo" in _cmdline(p))]
    if len(leaves) != 1:
        raise RuntimeError(f"expected one server worker, found {leaves}")
    return leaves[0]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run(ctx: Context) -> list[Figure]:
    count = 1000 if ctx.small else COUNT
    duration = 1.0 if ctx.small else 10.0
    env = instance(ctx, f"osv-{count}")
    seeded = seed_advisories(ctx, count, env)
    how = "restored from the cache" if seeded["cached"] else "seeded in this run"
    index = "" if seeded.get("package_index") else "; no package index table: records unsealed per query"
    figures = [Figure("osv", f"seeding {count} advisories", seeded["seconds"], "s", note=how + index)]
    ecosystem, name = seeded["package"]
    body = {"package": {"ecosystem": ecosystem, "name": name}, "version": seeded["version"]}
    script = lua_post(ctx.work / "osv-query.lua", body)
    with server(env, workers=2) as base:
        status, answer = call("POST", base + "/osv/v1/query", body)
        found = len((answer or {}).get("vulns", [])) if isinstance(answer, dict) else -1
        if status != 200 or found != seeded["matches"]:
            raise RuntimeError(f"the OSV query answered {status} with {found} records, not {seeded['matches']}")
        if not ctx.small:
            wrk(base + "/osv/v1/query", 2, CONNECTIONS, script=script)
        ctx.say(f"OSV query: {duration:g} s")
        result = wrk(base + "/osv/v1/query", duration, CONNECTIONS, script=script)
    note = f"p50 {result['p50_ms']:.1f} ms" + (f"; {result['errors']:.0f} errors" if result["errors"] else "")
    figures.append(
        Figure("osv", "query", result["rps"], "queries/s", f"≥ {TARGET_RPS:,.0f}/s", result["rps"] >= TARGET_RPS, note)
    )
    figures.append(
        Figure("osv", "query p99", result["p99_ms"], "ms", f"≤ {TARGET_P99_MS:g} ms", result["p99_ms"] <= TARGET_P99_MS)
    )
    # all.zip on a server of one worker, so that the worker whose peak memory is read is the one that served it.
    with server(env, workers=1) as base:
        call("GET", base + "/osv/v1/vulns/x_EMB-0000-0000")  # the worker has imported its views
        pid = _worker_pid()
        before = _kib(pid, "VmHWM")
        ctx.say("OSV all.zip")
        started = time.perf_counter()
        size = 0
        request = urllib.request.Request(base + "/osv/all.zip")
        with OPENER.open(request, timeout=600) as response:
            if response.status != 200:
                raise RuntimeError(f"all.zip answered {response.status}")
            while chunk := response.read(1 << 16):
                size += len(chunk)
        seconds = time.perf_counter() - started
        peak = _kib(pid, "VmHWM")
    figures.append(Figure("osv", "all.zip time", seconds, "s", note=f"{size / 1e6:.1f} MB, {count} records"))
    figures.append(
        Figure("osv", "all.zip worker peak memory", peak / 1024, "MiB",
               note=f"{(peak - before) / 1024:+.1f} MiB over the worker's peak before the download")
    )  # fmt: skip
    return figures
