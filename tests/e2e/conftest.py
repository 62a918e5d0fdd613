"""Real Embargo processes for end-to-end tests: the `embargo` command run as a subprocess on a fresh data
dir and a fresh database, and `embargo serve` on a free port.

The database is SQLite in the data dir, unless EMBARGO_DATABASE_URL names a PostgreSQL server (the
PostgreSQL pass of `make test`): then each test gets a database of its own on that server, dropped after.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

EMBARGO = Path(sys.executable).parent / "embargo"
CLI_TIMEOUT = 120
START_TIMEOUT = 30
STOP_TIMEOUT = 20
# Direct connections only: a proxy from the environment must not stand between the test and the server.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the database ----------------------------------------------------------------------------------


def pg_dump_command() -> str:
    found = shutil.which("pg_dump")
    if found:
        return found
    candidates = glob("/usr/lib/postgresql/*/bin/pg_dump")
    if not candidates:
        pytest.fail("pg_dump is neither on PATH nor under /usr/lib/postgresql/*/bin (install postgresql)")

    def major(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    return max(candidates, key=major)


@dataclass
class Database:
    """`url` is None for SQLite in the data dir."""

    url: str | None

    def dump(self) -> bytes:
        """Everything PostgreSQL holds for this database, as pg_dump writes it (SQLite: nothing, as its
        files are in the data dir)."""
        if self.url is None:
            return b""
        result = subprocess.run(
            [pg_dump_command(), "--no-owner", "--no-privileges", "--dbname", self.url],
            capture_output=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return result.stdout


@pytest.fixture
def database() -> Iterator[Database]:
    server_url = os.environ.get("EMBARGO_DATABASE_URL", "")
    if urlsplit(server_url).scheme not in ("postgres", "postgresql"):
        yield Database(None)
        return
    import psycopg
    from psycopg import sql

    name = f"embargo_e2e_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Database(urlunsplit(urlsplit(server_url)._replace(path="/" + name)))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- the command -----------------------------------------------------------------------------------


@dataclass
class Instance:
    """One Embargo installation: a data dir, a database and the environment its processes see."""

    data_dir: Path
    database: Database
    env: dict[str, str]

    def run(self, *args: str, expect: int = 0, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Runs `embargo ARGS` and checks its exit status."""
        result = subprocess.run(
            [str(EMBARGO), *args],
            env=self.env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        assert result.returncode == expect, (
            f"`embargo {shlex.join(args)}` exited {result.returncode}, expected {expect}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
        return result

    def run_together(self, *commands: tuple[str, ...]) -> list[str]:
        """Runs independent `embargo` commands at the same time (as a busy operator's scripts might),
        checks that each succeeded, and returns their outputs in order."""
        processes = [
            subprocess.Popen(
                [str(EMBARGO), *args], env=self.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for args in commands
        ]  # fmt: skip
        outputs = []
        try:
            results = [process.communicate(timeout=CLI_TIMEOUT) for process in processes]
        finally:
            for process in processes:
                process.kill()
        for args, process, (stdout, stderr) in zip(commands, processes, results, strict=True):
            command = f"`embargo {shlex.join(args)}` exited {process.returncode}"
            assert process.returncode == 0, f"{command}\n--- stdout\n{stdout}--- stderr\n{stderr}"
            outputs.append(stdout)
        return outputs

    def stored_files(self) -> dict[str, bytes]:
        """Every file of the data dir (SQLite's database, -wal and -shm, sealed files, keys) by path."""
        return {
            str(path.relative_to(self.data_dir)): path.read_bytes()
            for path in sorted(self.data_dir.rglob("*"))
            if path.is_file()
        }


@pytest.fixture
def instance(tmp_path: Path, database: Database) -> Instance:
    assert EMBARGO.exists(), f"{EMBARGO} is missing: install the project (make test does)"
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    # Nothing of the test run's own configuration leaks in: no EMBARGO_* but these.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBARGO_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(EMBARGO_DATA_DIR=str(data_dir), EMBARGO_WEB_WORKERS="2", PYTHONUNBUFFERED="1")
    if database.url:
        env["EMBARGO_DATABASE_URL"] = database.url
    return Instance(data_dir=data_dir, database=database, env=env)


# --- the server ------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Response:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with _OPENER.open(request, timeout=30) as response:
                return Response(response.status, response.read(), dict(response.headers.items()))
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, error.read(), dict(error.headers.items()))

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _kill_group(self.process)
                self.process.wait(timeout=STOP_TIMEOUT)
        return self.process.returncode


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(instance: Instance, log_path: Path, extra_args: tuple[str, ...]) -> Server:
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(EMBARGO), "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
            env=instance.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so that teardown reaches the workers too
        )
    return Server(base_url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)


def _wait_until_ready(server: Server) -> bool:
    """True once the home page answers; False if the server exits first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            response = server.call("GET", "/")
        except OSError:
            time.sleep(0.1)
            continue
        if response.status == 200:
            return True
        time.sleep(0.1)
    pytest.fail(f"embargo serve did not answer within {START_TIMEOUT} s\n--- server output\n{server.log()}")


@pytest.fixture
def serve(instance: Instance, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`serve(*extra_args)` starts `embargo serve --host 127.0.0.1 --port FREE_PORT EXTRA_ARGS` with the
    instance's environment (as it is at that moment) and returns it once it answers. Teardown stops
    it (SIGTERM, then SIGKILL to its whole process group) and prints its output, which pytest shows when
    the test failed."""
    started: list[Server] = []

    def start(*extra_args: str) -> Server:
        log_path = tmp_path / f"server-{len(started)}.log"
        for _attempt in range(3):  # another process may take the free port before the server binds it
            server = _start(instance, log_path, extra_args)
            started.append(server)
            if _wait_until_ready(server):
                return server
            server.stop()
        pytest.fail(f"embargo serve exited before answering\n--- server output\n{server.log()}")

    try:
        yield start
    finally:
        for server in started:
            server.stop()
            _kill_group(server.process)  # workers that a crashed master left behind
            print(f"--- embargo serve output ({server.log_path})\n{server.log()}")
