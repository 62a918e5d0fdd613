"""The team's inbox at 10,000 and at 1,000,000 reports (bench/seed.py: ~100 reports per project, so the
benchmarked project's page is the same page at both sizes): p50/p99 of the web page
`/projects/<slug>/inbox/` (a signed-in member's session, second factor passed) and of the API
`/api/v1/projects/<slug>/reports` (a bearer token), under `wrk --latency -t1 -c4`, and the ratio of the sizes."""

from __future__ import annotations

import json
from pathlib import Path

from bench.common import Context, Figure, server, wrk
from bench.seed import login, prepared, sizes

TITLE = "inbox at 10k and 1M reports"
CONNECTIONS = 4
TARGET_P99_MS = 30.0
TARGET_RATIO = 1.3


def lua_get(path: Path, headers: dict[str, str]) -> str:
    """A wrk script that sends `headers` with every GET; returns its path."""
    lines = [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _check(base: str, path: str, headers: dict[str, str], expect: str) -> None:
    """One request before the load: the answer is 200 and shows the seeded report's title (decrypted), so that
    a redirect to the log-in page or an empty list cannot pass for a fast inbox."""
    import urllib.request

    from bench.common import OPENER

    request = urllib.request.Request(base + path, headers=headers)
    with OPENER.open(request, timeout=30) as response:
        body = response.read().decode()
        if response.status != 200 or response.geturl() != base + path or expect not in body:
            raise RuntimeError(f"{path} did not show the seeded report (status {response.status})")


def run(ctx: Context) -> list[Figure]:
    duration = 1.0 if ctx.small else 10.0
    figures: list[Figure] = []
    p99s: dict[tuple[str, str], float] = {}
    for size in sizes(ctx):
        env, seeded = prepared(ctx, size)
        how = "restored from the cache" if seeded.cached else "seeded in this run"
        figures.append(
            Figure("inbox", f"seeding {size}", seeded.seconds, "s",
                   note=f"{seeded.reports} reports over {seeded.projects} projects, {how}")
        )  # fmt: skip
        credentials = login(env, seeded.member_email)
        routes = {
            "page": (f"/projects/{seeded.slug}/inbox/", {"Cookie": credentials["cookie"]}),
            "API": (f"/api/v1/projects/{seeded.slug}/reports?limit=50",
                    {"Authorization": f"Bearer {credentials['token']}", "Accept": "application/json"}),
        }  # fmt: skip
        with server(env) as base:
            for kind, (path, headers) in routes.items():
                _check(base, path, headers, seeded.title if kind == "page" else json.dumps(seeded.title)[1:-1])
                script = lua_get(ctx.work / f"inbox-{size}-{kind}.lua", headers)
                if not ctx.small:
                    wrk(base + path, 2, CONNECTIONS, script=script)  # warm-up: workers imported, caches filled
                ctx.say(f"inbox {kind} at {size}: {duration:g} s")
                result = wrk(base + path, duration, CONNECTIONS, script=script)
                p99s[(kind, size)] = result["p99_ms"]
                note = f"{result['rps']:.0f} req/s" + (f"; {result['errors']:.0f} errors" if result["errors"] else "")
                figures.append(Figure("inbox", f"{kind} p50 at {size}", result["p50_ms"], "ms", note=note))
                met = result["p99_ms"] <= TARGET_P99_MS and not result["errors"] if size == "1m" else None
                target = f"≤ {TARGET_P99_MS:g} ms" if size == "1m" else ""
                figures.append(Figure("inbox", f"{kind} p99 at {size}", result["p99_ms"], "ms", target, met))
    for kind in ("page", "API"):
        small, large = p99s.get((kind, "10k")), p99s.get((kind, "1m"))
        if small and large:
            ratio = large / small
            figures.append(
                Figure(
                    "inbox", f"{kind} p99 1M / 10k", ratio, "times", f"≤ {TARGET_RATIO:g} times", ratio <= TARGET_RATIO
                )
            )
    return figures
