"""A small run of every benchmark (`python -m bench.run --small`) as a smoke test of the harness: each one runs
to the end and gives its figures, with sane values, and the work it measured really happened (the reports were
created, every team notice and packager notice arrived, half of these encrypted). Timing is never asserted.

On the PostgreSQL pass of `make test` (EMBARGO_DATABASE_URL names a server) the run uses that server
(`--db postgres`), as `make bench DB=postgres` does with its own."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bench.run import BENCHMARKS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent
# Figures that are rates or times of work done: zero would mean nothing was measured.
POSITIVE_UNITS = {"req/s", "ms", "s", "notices/s", "queries/s"}


def _small_run(tmp_path: Path) -> tuple[list[dict[str, Any]], str]:
    out = tmp_path / "figures.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBARGO_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    db = "sqlite"
    server = os.environ.get("EMBARGO_DATABASE_URL", "")
    if urlsplit(server).scheme in ("postgres", "postgresql"):
        db = "postgres"
        env["EMBARGO_BENCH_POSTGRES_URL"] = server
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--small", "--db", db, "--json", str(out), "--keep"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    log = f"--- stdout\n{result.stdout}--- stderr\n{result.stderr[-20000:]}{_server_errors(result.stderr)}"
    assert result.returncode == 0, log
    return json.loads(out.read_text()), log


def _server_errors(stderr: str) -> str:
    """The tracebacks in the logs of the servers and workers the run started (its scratch directory is kept for
    this, then removed): a failed check then shows its cause."""
    kept = re.search(r"^scratch directory kept: (.+)$", stderr, re.MULTILINE)
    if not kept:
        return ""
    scratch = Path(kept.group(1).strip())
    found = []
    for path in sorted(scratch.rglob("*.log")):
        text = path.read_text(errors="replace")
        found += [f"--- {path.name}\n{text[m.start() : m.start() + 3000]}" for m in re.finditer("Traceback", text)]
    shutil.rmtree(scratch, ignore_errors=True)
    return "".join(f"\n{chunk}" for chunk in found[:5])


def test_every_benchmark_gives_sane_figures_in_a_small_run(tmp_path: Path) -> None:
    figures, log = _small_run(tmp_path)
    by_benchmark: dict[str, dict[str, dict[str, Any]]] = {}
    for figure in figures:
        by_benchmark.setdefault(figure["benchmark"], {})[figure["measure"]] = figure

    # Every benchmark module that exists ran (benchmark names are those of the figures, e.g. `osv` for osv_bench).
    present = {name for name in BENCHMARKS if (ROOT / "bench" / f"{name}.py").exists()}
    assert {"intake", "mail", "notices"} <= present
    assert {"intake", "mail", "notices"} <= set(by_benchmark), log
    assert len(by_benchmark) >= len(present), (sorted(by_benchmark), sorted(present), log)
    for figure in figures:
        assert figure["measure"] != "did not run", (figure, log)
        assert math.isfinite(figure["value"]), figure
        assert figure["value"] >= 0, figure
        if figure["unit"] in POSITIVE_UNITS:
            assert figure["value"] > 0, figure
        # Figures whose target is an equality are checks of the work done, not of speed: they must hold.
        if figure["target"].startswith("="):
            assert figure["met"] is True, (figure["benchmark"], figure["measure"], figure["note"], log)

    intake = by_benchmark["intake"]
    assert intake["reports created"]["value"] >= 1
    for measure in ("floor: trivial view", "floor: one insert", "intake", "intake / one-insert floor"):
        assert intake[measure]["value"] > 0, intake[measure]
    mail = by_benchmark["mail"]
    assert mail["team notices arrived"]["value"] == 5
    assert 0 < mail["latency p50"]["value"] <= mail["latency p99"]["value"]
    notices = by_benchmark["notices"]
    assert notices["notices arrived"]["value"] == 10
    assert notices["encrypted"]["value"] == 5
    assert notices["total time"]["value"] > 0
