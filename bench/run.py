"""Runs the benchmarks and prints one table: `python -m bench.run [--db sqlite|postgres] [--small] [--only NAME…]`
(`make bench`, `make bench DB=postgres`). Without --small it also writes the table, the machine and the commands to
bench/RESULTS.md (one section per database; the other database's section is kept).

Exit status: 0 when every benchmark ran (whether or not its targets were met: the table says), 1 when one failed
to run, 2 on usage errors."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import importlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

from bench.common import (
    BENCH,
    CACHE,
    WEB_WORKERS,
    Context,
    Figure,
    drop_databases,
    pg_bin,
    postgres_server,
    postgres_version,
)

# In this order: the set-up heavy ones (seeded databases) after the quick ones. Modules not there yet are skipped.
BENCHMARKS = ("intake", "mail", "notices", "inbox", "idle", "osv_bench")
RESULTS = BENCH / "RESULTS.md"
START_LOAD = os.getloadavg()[0]  # other work on the machine shapes the figures: RESULTS.md says how busy it was


def load(name: str) -> ModuleType | None:
    if not (BENCH / f"{name}.py").exists():
        return None
    return importlib.import_module(f"bench.{name}")


def fmt(value: float) -> str:
    if math.isnan(value):
        return "—"
    if value == int(value) and abs(value) < 1e12:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def met_mark(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: ""}[met]


def rows(figures: Sequence[Figure]) -> list[list[str]]:
    return [
        [
            f.benchmark,
            f.measure,
            fmt(f.value) if math.isnan(f.value) else f"{fmt(f.value)} {f.unit}".strip(),
            f.target,
            met_mark(f.met),
            f.note,
        ]
        for f in figures
    ]


HEADER = ["benchmark", "measure", "value", "target", "met", "note"]


def text_table(figures: Sequence[Figure]) -> str:
    table = [HEADER, *rows(figures)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER) - 1)]
    lines = []
    for n, row in enumerate(table):
        cells = [row[i].rjust(widths[i]) if i == 2 else row[i].ljust(widths[i]) for i in range(len(widths))]
        lines.append("  ".join(cells) + ("  " + row[-1] if row[-1] else ""))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ----")
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(figures: Sequence[Figure]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(HEADER) + " |", "| --- | --- | ---: | --- | --- | --- |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows(figures)]
    return "\n".join(lines)


# --- the machine ---------------------------------------------------------------------------------------------


def _first(path: str, pattern: str) -> str:
    with contextlib.suppress(OSError):
        match = re.search(pattern, Path(path).read_text(), re.MULTILINE)
        if match:
            return match.group(1).strip()
    return "?"


def _version(argv: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    return "?"


def machine(ctx: Context) -> dict[str, str]:
    mem_kb = _first("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    ram = f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb.isdigit() else "?"
    if ctx.db == "postgres" and ctx.database_url:
        pg = postgres_version(ctx.database_url)
    else:
        pg = "not used (" + _version([str(pg_bin() / "postgres"), "--version"]) + " installed)"
    import gunicorn

    return {
        "CPU": _first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$"),
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": _first("/etc/os-release", r'^PRETTY_NAME="?([^"\n]+)') + f" (kernel {platform.release()})",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": pg,
        "web server": f"gunicorn {gunicorn.__version__}, {WEB_WORKERS} sync workers (`embargo serve --workers`)",
        "load": "load average {:.2f} at the start of the run, {:.2f} {:.2f} {:.2f} (1, 5, 15 min) at its end".format(
            START_LOAD, *os.getloadavg()
        ),
        "wrk": _version(["wrk", "--version"]),
    }


def _previous(old: str, db: str) -> list[dict[str, str]]:
    """The figures of the database's section in RESULTS.md, as written (with the date of their run)."""
    found = re.search(rf"<!-- figures:{db} (.*?) -->", old)
    if not found:
        return []
    with contextlib.suppress(ValueError):
        return list(json.loads(found.group(1)))
    return []


def write_results(ctx: Context, figures: Sequence[Figure], commands: list[str], started: dt.datetime) -> None:
    """Replaces the database's section of RESULTS.md. A run of some benchmarks (--only) keeps the others' figures
    from the earlier run, and says so."""
    label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[ctx.db]
    facts = machine(ctx)
    # Two runs ending at once (SQLite and PostgreSQL side by side) must not lose each other's section.
    with (RESULTS.parent / ".RESULTS.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _write_section(ctx, figures, commands, started, label, facts)


def _write_section(
    ctx: Context,
    figures: Sequence[Figure],
    commands: list[str],
    started: dt.datetime,
    label: str,
    facts: dict[str, str],
) -> None:
    old = RESULTS.read_text() if RESULTS.exists() else ""
    when = f"{started:%Y-%m-%d %H:%M} UTC"
    ran = {f.benchmark for f in figures}
    kept = [f for f in _previous(old, ctx.db) if f["benchmark"] not in ran]
    stored = [{**asdict(f), "run": when} for f in figures] + kept
    merged = [Figure(**{k: v for k, v in f.items() if k != "run"}) for f in stored]
    earlier = sorted({f"{f['benchmark']} ({f['run']})" for f in kept})
    minutes = (dt.datetime.now(dt.UTC) - started).total_seconds() / 60
    section = "\n".join(
        [
            f"<!-- db:{ctx.db} -->",
            f"## {label}",
            "",
            f"Run on {when}, {minutes:.0f} min."
            + (f" Kept from earlier runs: {', '.join(earlier)}." if earlier else ""),
            "",
            markdown_table(merged),
            "",
            "Machine:",
            "",
            *[f"- {k}: {v}" for k, v in facts.items()],
            "",
            "Commands:",
            "",
            "```sh",
            *commands,
            "```",
            f"<!-- figures:{ctx.db} {json.dumps(stored, default=str, ensure_ascii=False).replace('--', '- -')} -->",
            f"<!-- /db:{ctx.db} -->",
        ]
    )
    sections: dict[str, str] = {}
    for db in ("sqlite", "postgres"):
        found = re.search(rf"<!-- db:{db} -->\n.*?<!-- /db:{db} -->", old, re.DOTALL)
        if found:
            sections[db] = found.group(0)
    sections[ctx.db] = section
    head = (
        "# Benchmark results\n\n"
        "Written by `python -m bench.run` (`make bench`, `make bench DB=postgres`); what each figure means is in "
        "docs/performance.md. Each section is replaced by the next run on its database.\n"
    )
    body = "\n\n".join(sections[db] for db in ("sqlite", "postgres") if db in sections)
    RESULTS.write_text(head + "\n" + body + "\n")


# --- the run ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(ctx: Context) -> Iterator[None]:
    if ctx.db != "postgres":
        yield
        return
    print("starting PostgreSQL", file=sys.stderr, flush=True)
    with postgres_server() as url:
        ctx.database_url = url
        try:
            yield
        finally:
            drop_databases(ctx)


def run_one(ctx: Context, name: str, module: ModuleType) -> list[Figure]:
    try:
        figures = list(module.run(ctx))
    except Exception as e:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
        traceback.print_exc()
        return [Figure(name, "did not run", math.nan, "", "", False, f"{type(e).__name__}: {str(e)[:200]}")]
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--small", action="store_true", help="smoke sizes (seconds, not minutes); no RESULTS.md")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (instances, logs)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON (a list of objects)")
    args = parser.parse_args(argv)

    started = dt.datetime.now(dt.UTC)
    work = Path(tempfile.mkdtemp(prefix="embargo-bench-"))
    CACHE.mkdir(parents=True, exist_ok=True)
    ctx = Context(db=args.db, small=args.small, work=work, cache=CACHE)
    chosen = [n for n in BENCHMARKS if not args.only or n in args.only]
    figures: list[Figure] = []
    failed = False
    try:
        with database(ctx):
            for number, name in enumerate(chosen, 1):
                module = load(name)
                if module is None:
                    print(f"[{number}/{len(chosen)}] {name}: not written yet, skipped", file=sys.stderr)
                    continue
                print(f"[{number}/{len(chosen)}] {name}: {module.TITLE}", file=sys.stderr, flush=True)
                began = time.monotonic()
                got = run_one(ctx, name, module)
                failed = failed or any(f.measure == "did not run" for f in got)
                figures += got
                print(f"  done in {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
            print(f"\nEmbargo benchmarks on {args.db}{' (small)' if args.small else ''}\n")
            print(text_table(figures), flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps([asdict(f) for f in figures], indent=2, default=str) + "\n")
            if not args.small:
                command = "python -m bench.run " + shlex.join(argv if argv is not None else sys.argv[1:])
                make = "make bench" + (" DB=postgres" if args.db == "postgres" else "")
                write_results(ctx, figures, [make, f"# which runs: .venv/bin/{command.strip()}"], started)
                print(f"\nwritten to {RESULTS.relative_to(BENCH.parent)}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"scratch directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
