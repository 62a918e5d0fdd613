"""What every benchmark shares: the run's context, a figure, an Embargo instance (its environment and CLI), a
gunicorn server, `wrk`, and a throwaway PostgreSQL cluster.

A benchmark is a module `bench/<name>.py` with `TITLE: str` and `run(ctx: Context) -> list[Figure]`.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"
EMBARGO = Path(sys.executable).parent / "embargo"
CLI_TIMEOUT = 600
START_TIMEOUT = 60
# Direct connections only: a proxy from the environment must not stand between the bench and the server.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Gunicorn workers of every benchmark server (ENVIRONMENT.md measured the floors with 2 sync workers).
WEB_WORKERS = 2


@dataclass
class Context:
    """One run of the benchmarks. `database_url` is the PostgreSQL server (its maintenance database) when
    `db == "postgres"`; each instance gets a database of its own on it (`instance`)."""

    db: str = "sqlite"
    small: bool = False
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="embargo-bench-")))
    cache: Path = CACHE
    database_url: str | None = None
    # Names this run's databases apart from another run's on the same server (EMBARGO_BENCH_POSTGRES_URL).
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    databases: list[str] = field(default_factory=list)  # created by `instance`, dropped by `drop_databases`

    def say(self, line: str) -> None:
        """Progress on standard error (the table goes to standard output)."""
        print(f"  {line}", file=sys.stderr, flush=True)


@dataclass
class Figure:
    benchmark: str
    measure: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""


# --- the instance ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _create_database(server_url: str, name: str, template: str | None = None) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def drop_databases(ctx: Context) -> None:
    """Drops the databases this run created (a throwaway cluster goes anyway; a given server keeps nothing)."""
    if not ctx.databases or not ctx.database_url:
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(ctx.database_url, autocommit=True) as conn:
        for name in reversed(ctx.databases):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    ctx.databases.clear()


_TEMPLATE = "_migrated"


def migrated_instance(ctx: Context, name: str, **options: Any) -> dict[str, str]:
    """`instance(ctx, name, **options)` with its database already migrated: the first call of a run migrates a
    template instance once, every call copies it (its data dir, with its keys, and its SQLite file or its
    PostgreSQL database), which saves the minute of migrations that each benchmark would otherwise spend."""
    template_dir = ctx.work / _TEMPLATE
    template_db = f"bench_{ctx.tag}_{_TEMPLATE.strip('_')}"
    if not (template_dir / ".migrated").exists():
        env = instance(ctx, _TEMPLATE)
        embargo(env, "migrate", "--quiet")
        if ctx.db == "postgres":
            template_db = urlsplit(env["EMBARGO_DATABASE_URL"]).path.lstrip("/")
        (template_dir / ".migrated").write_text(template_db)
    template_db = (template_dir / ".migrated").read_text()
    data = options.pop("data_dir", None) or ctx.work / name
    shutil.copytree(template_dir, data, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".migrated", "*.log"))
    if ctx.db == "postgres":
        options.setdefault("template", template_db)
    return instance(ctx, name, data_dir=data, **options)


def instance(
    ctx: Context,
    name: str,
    *,
    smtp_port: int | None = None,
    data_dir: Path | None = None,
    database_url: str | None = None,
    fresh: bool = True,
    template: str | None = None,
) -> dict[str, str]:
    """The environment of an Embargo instance called `name`: its own data dir (under ctx.work unless given),
    its own database (SQLite in the data dir, or a database `bench_<name>` on ctx's PostgreSQL server, created
    anew when `fresh`), rate limits raised so that they do not shape the figures, mail to the SMTP server on
    `smtp_port` (else .eml files in the data dir), and the bench's settings (bench/settings.py: the floor
    views) with the repository root on PYTHONPATH. Run `embargo(env, "migrate")` before using it, or get one
    already migrated from `migrated_instance`. A fresh PostgreSQL database is `bench_<tag>_<name>`, copied from
    the database `template` if given; `fresh=False` names the existing `bench_<name>` (kept between runs)."""
    data = data_dir or ctx.work / name
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBARGO_")}
    env.update(
        EMBARGO_DATA_DIR=str(data),
        EMBARGO_WEB_WORKERS=str(WEB_WORKERS),
        # Raised rather than off: the limiter's own cost (one upsert per limited request) is part of intake.
        EMBARGO_RATE_LIMITS_FACTOR="1000000",
        EMBARGO_LOG_LEVEL="WARNING",
        # Each gunicorn worker keeps its database connection, as docs/deploy.md advises (the floors too).
        EMBARGO_DB_CONN_MAX_AGE="600",
        # One collection of the static files (fingerprinted, compressed) per run, not one per instance.
        EMBARGO_STATIC_ROOT=str(ctx.work / "static"),
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        PYTHONUNBUFFERED="1",
    )
    if smtp_port is not None:
        env["EMBARGO_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    if database_url:
        env["EMBARGO_DATABASE_URL"] = database_url
    elif ctx.db == "postgres":
        assert ctx.database_url, "the postgres run needs a server (postgres_server)"
        db_name = "bench_" + re.sub(r"[^a-z0-9_]", "_", name.lower())
        if fresh:
            db_name = f"bench_{ctx.tag}_" + re.sub(r"[^a-z0-9_]", "_", name.lower())
            env["EMBARGO_DATABASE_URL"] = _create_database(ctx.database_url, db_name, template)
            ctx.databases.append(db_name)
        else:
            env["EMBARGO_DATABASE_URL"] = urlunsplit(urlsplit(ctx.database_url)._replace(path="/" + db_name))
    return env


def embargo(env: Mapping[str, str], *args: str, stdin: str | None = None, timeout: float = CLI_TIMEOUT) -> str:
    """Runs `embargo ARGS` in the instance; returns its standard output; raises with its output on failure."""
    result = subprocess.run(
        [str(EMBARGO), *args],
        env=dict(env),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"`embargo {' '.join(args)}` exited {result.returncode}\n--- stdout\n{result.stdout}"
            f"--- stderr\n{result.stderr}"
        )
    return result.stdout


def django_shell(env: Mapping[str, str], code: str) -> str:
    """Runs Python `code` in the instance with Django set up (`embargo django shell -c`); returns what it
    printed. For set-up and counting only: benchmarks measure through HTTP, the worker and the CLI."""
    return embargo(env, "django", "shell", "-c", code)


TEAM_SCRIPT = """
import json
import math
from embargo.accounts.actions import do_create_token, do_create_user
from embargo.projects.actions import do_add_member, do_create_project
spec = json.loads(SPEC)
project = do_create_project(spec["slug"], name=spec["slug"], package=spec["package"], acting_user=None)
tokens = {}
for email, role in spec["people"]:
    user = do_create_user(email, name=email.split("@")[0], verified=True, acting_user=None)
    if role != "reporter":
        do_add_member(project, user, role, acting_user=None)
    tokens[email] = do_create_token(user, name="bench", scope="publish", acting_user=None)
print("TOKENS " + json.dumps(tokens))
"""


def make_project(
    env: Mapping[str, str], slug: str, people: list[tuple[str, str]], package: str = "", extra_code: str = ""
) -> dict[str, str]:
    """A project with its team and other people in one process (each `embargo` command costs a Django start-up),
    through the same actions as `embargo project create`, `user create`, `project add-member` and `token create`.
    `people`: (e-mail, "owner" | "maintainer" | "reporter"); returns each one's API token (scope publish).
    `extra_code` runs after, in the same process (more set-up of the benchmark's own)."""
    spec = json.dumps({"slug": slug, "package": package or f"PyPI:{slug}", "people": people})
    output = django_shell(env, f"SPEC = {spec!r}\n" + TEAM_SCRIPT + extra_code)
    line = next(line for line in output.splitlines() if line.startswith("TOKENS "))
    return dict(json.loads(line.removeprefix("TOKENS ")))


# --- processes ---------------------------------------------------------------------------------------


def _stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    # Gunicorn's workers, or anything else the process left behind in its group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def call(method: str, url: str, body: Any = None, *, token: str | None = None, timeout: float = 30) -> tuple[int, Any]:
    """One JSON API call; returns (status, decoded body or None)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with OPENER.open(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        with error:
            raw, status = error.read(), error.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


@contextlib.contextmanager
def server(
    env: Mapping[str, str], workers: int = WEB_WORKERS, extra_env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """`embargo serve --no-worker` (gunicorn, `workers` sync workers) on a free port, with the instance's
    environment (plus `extra_env`); yields its base URL once it answers, and stops it (and its workers) after.
    The access log is off: writing it would be part of the figures."""
    full_env = {**env, **(extra_env or {})}
    log_path = Path(full_env["EMBARGO_DATA_DIR"]) / f"serve-{time.monotonic_ns()}.log"
    for _attempt in range(3):  # another process may take the free port before gunicorn binds it
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [str(EMBARGO), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers)],
                env=full_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=ROOT, start_new_session=True,
            )  # fmt: skip
        try:
            if _wait_until_ready(base, process):
                yield base
                return
        finally:
            _stop(process)
    raise RuntimeError(f"embargo serve did not start\n--- output\n{log_path.read_text(errors='replace')}")


def _wait_until_ready(base: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            status, _ = get(base + "/", timeout=2)
        except OSError:
            time.sleep(0.1)
            continue
        if status == 200:
            return True
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def worker(env: Mapping[str, str], interval: float | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`embargo worker` running beside the benchmark (its default interval between idle passes unless given);
    stopped (SIGTERM) after."""
    log_path = Path(env["EMBARGO_DATA_DIR"]) / f"worker-{time.monotonic_ns()}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(EMBARGO), "worker", *(["--interval", str(interval)] if interval is not None else [])],
            env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    try:
        # Ready once it says so (after Django's start-up), so that its start is not part of the figures.
        deadline = time.monotonic() + START_TIMEOUT
        while b"delivering the outbox" not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embargo worker did not start\n{log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        yield process
    finally:
        _stop(process)


# --- load ----------------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> dict[str, float]:
    """The figures of `wrk --latency` output: rps, p50_ms, p99_ms, requests, errors (socket errors and
    non-2xx/3xx responses)."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(p50.group(1)),
        "p99_ms": _ms(p99.group(1)),
        "requests": float(total.group(1)),
        "errors": float(errors),
    }


def wrk(
    url: str, duration: float, connections: int = 4, script: str | None = None, threads: int = 1
) -> dict[str, float]:
    """`wrk --latency -tTHREADS -cCONNECTIONS -dDURATION URL [-s SCRIPT]` (a Lua script for POST bodies, e.g.
    from `lua_post`); returns parse_wrk's figures."""
    wrk_bin = shutil.which("wrk")
    if not wrk_bin:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    argv = [wrk_bin, "--latency", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s"]
    if script:
        argv += ["-s", script]
    result = subprocess.run([*argv, url], capture_output=True, text=True, timeout=duration + 60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"wrk exited {result.returncode}\n{result.stdout}{result.stderr}")
    return parse_wrk(result.stdout)


def lua_post(path: Path, body: Any, headers: Mapping[str, str] | None = None, method: str = "POST") -> str:
    """Writes a wrk Lua script that sends `body` (JSON) with `headers` on every request; returns its path. Any
    `{n}` in the body's JSON becomes a per-request counter, so that each request differs."""
    text = json.dumps(body)
    all_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    lines = [f'wrk.method = "{method}"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in all_headers.items()]
    lines += [
        "local n = 0",
        f"local template = {json.dumps(text)}",
        "request = function()",
        "  n = n + 1",
        '  local body = template:gsub("{n}", tostring(n) .. "-" .. tostring(math.random(1, 1000000000)))',
        "  return wrk.format(nil, nil, nil, body)",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0 to 100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered) / 100)))
    return ordered[rank - 1]


# --- mail --------------------------------------------------------------------------------------------------


@dataclass
class Arrival:
    at: float  # time.monotonic() when the message was accepted
    to: str
    subject: str
    references: str
    content_type: str


class _Collector:
    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.monotonic()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        arrival = Arrival(
            at=at,
            to=str(message.get("To", "")),
            subject=str(message.get("Subject", "")),
            references=str(message.get("References", "")),
            content_type=message.get_content_type(),
        )
        with self.lock:
            self.arrivals.append(arrival)
        return "250 OK"


class SmtpSink:
    """A local SMTP server (aiosmtpd, in a thread of the bench process) that accepts everything and records when
    each message arrived, to whom, its subject, References and content type. `with SmtpSink() as smtp:`."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.collector = _Collector()
        self.port = free_port()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def arrivals(self) -> list[Arrival]:
        with self.collector.lock:
            return list(self.collector.arrivals)

    def wait(self, done: Callable[[list[Arrival]], bool], timeout: float) -> list[Arrival]:
        """Waits until `done(arrivals)` or the timeout; returns the arrivals."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            arrivals = self.arrivals()
            if done(arrivals):
                return arrivals
            time.sleep(0.02)
        return self.arrivals()


# --- PostgreSQL --------------------------------------------------------------------------------------


def pg_bin() -> Path:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(re.findall(r"/(\d+)/", p)[0]))
    if not found:
        raise RuntimeError("PostgreSQL's server programs are missing under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the run, as `.ci/run` starts one: EMBARGO_BENCH_POSTGRES_URL if set (used as it
    is), else a throwaway cluster (initdb in a temp dir, fsync off, a free port) stopped and removed after.
    Yields the URL of its `postgres` database; instances create databases of their own on it."""
    given = os.environ.get("EMBARGO_BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    bin_dir = pg_bin()
    root_user = os.geteuid() == 0
    directory = Path(tempfile.mkdtemp(prefix="embargo-bench-pg."))
    directory.chmod(0o700)
    if root_user:  # PostgreSQL refuses to run as root
        shutil.chown(directory, "postgres", "postgres")

    def as_owner(argv: list[str]) -> subprocess.CompletedProcess[str]:
        if root_user:
            argv = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(_quote(a) for a in argv)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    data = directory / "data"
    result = as_owner([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
                       "-E", "UTF8", "--locale=C.UTF-8"])  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{result.stdout}{result.stderr}")
    started = False
    try:
        for _attempt in range(5):
            port = free_port()
            options = f"-h 127.0.0.1 -p {port} -k {directory} -c fsync=off -c max_connections=200"
            result = as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(directory / "log"), "-w",
                               "-t", "60", "-o", options, "start"])  # fmt: skip
            if result.returncode == 0:
                started = True
                break
        if not started:
            raise RuntimeError(f"PostgreSQL did not start:\n{(directory / 'log').read_text(errors='replace')}")
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"])
        shutil.rmtree(directory, ignore_errors=True)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
