"""On PostgreSQL, several workers may drain one outbox side by side: rows are claimed with SELECT … FOR
UPDATE SKIP LOCKED and a lease, so that no message is delivered twice. Two real `embargo worker` processes,
a real SMTP server and 1,000 messages.

The workers are other processes, so the rows must be committed where they can see them: hence
`transaction=True`, and the workers are pointed at pytest-django's test database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from embargo.notifications.models import OutboxMessage
from embargo.notifications.outbox import queue_email
from tests.smtp import SmtpServer

pytestmark = pytest.mark.django_db(transaction=True)

EMBARGO = Path(sys.executable).parent / "embargo"
MESSAGES = 1000
START_TIMEOUT = 30
DRAIN_TIMEOUT = 40
STOP_TIMEOUT = 20


def _database_url() -> str:
    """The URL of the database this test runs on (pytest-django's `test_…` database)."""
    s = connection.settings_dict
    user = quote(s["USER"] or "", safe="")
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    host = s["HOST"] or "localhost"
    host = quote(host, safe="") if host.startswith("/") else host  # a socket directory
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(s['NAME'], safe='')}"


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(EMBARGO), "worker", "--interval", "0.1"], env=env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _wait_until_running(worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while "delivering the outbox" not in log.read_text(errors="replace"):
        assert worker.poll() is None, f"the worker exited {worker.returncode}:\n{log.read_text(errors='replace')}"
        assert time.monotonic() < deadline, f"the worker did not start:\n{log.read_text(errors='replace')}"
        time.sleep(0.05)


def test_two_workers_drain_one_outbox_without_double_delivery(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (SKIP LOCKED between concurrent workers): set EMBARGO_DATABASE_URL")
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    with SmtpServer() as smtp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EMBARGO_")}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.update(
            EMBARGO_DATA_DIR=str(data_dir),
            EMBARGO_DATABASE_URL=_database_url(),
            EMBARGO_SMTP_URL=smtp.url,
            PYTHONUNBUFFERED="1",
        )
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        workers = [_start_worker(env, log) for log in logs]
        try:
            for worker, log in zip(workers, logs, strict=True):
                _wait_until_running(worker, log)
            # Both workers poll an empty outbox; 1,000 messages appear at once.
            with transaction.atomic():
                for n in range(MESSAGES):
                    queue_email("password_reset", to=f"user{n}@example.org", context={"link": f"https://x.test/{n}"})
            received = smtp.mailbox.wait_for(MESSAGES, timeout=DRAIN_TIMEOUT)
            time.sleep(1)  # a few more passes: a message delivered twice would arrive now
            received = smtp.mailbox.wait_for(0)
        finally:
            for worker in workers:
                with contextlib.suppress(ProcessLookupError):
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(timeout=STOP_TIMEOUT)
    outputs = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in logs)
    assert [w.returncode for w in workers] == [0, 0], outputs

    times = Counter(str(m["Message-ID"]) for m in received)
    assert len(received) == MESSAGES, f"{len(received)} received\n{outputs}"
    assert [message_id for message_id, n in times.items() if n > 1] == []
    rows = OutboxMessage.objects.all()
    assert set(times) == {row.message_id for row in rows}
    assert rows.filter(sent_at__isnull=True).count() == 0
    assert sorted(set(rows.values_list("attempts", flat=True))) == [1]  # no row was claimed twice
    # Both workers delivered a share (a row keeps the name of the worker that sent it).
    owners = Counter(rows.values_list("lease_owner", flat=True))
    assert set(owners) == {f"{socket.gethostname()}:{w.pid}" for w in workers}, owners
