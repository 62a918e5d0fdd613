"""A worker SIGKILLed in the middle of a batch loses nothing: with real processes (`embargo serve`, `embargo
worker`) and a real SMTP server that answers slowly, the worker is killed after some but not all of its
messages arrived. Another worker takes the dead one's rows once their lease has expired (`--once --now`
past the lease, so that the test need not wait two minutes) and delivers the rest: every notification
arrives, at most one twice (the one in flight when the worker died), and a duplicate carries the
Message-ID of its original, so that mail clients show it once."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any

import pytest

from embargo.notifications.worker import LEASE
from tests.e2e.conftest import EMBARGO, Instance, Server
from tests.smtp import SmtpServer

pytestmark = pytest.mark.e2e

REPORTER = "ada@example.net"
REPORTS = 16  # each queues a receipt for the reporter and an e-mail to the team (the demo's owner)
ROWS = 2 * REPORTS
SMTP_DELAY = 0.2  # seconds per message: the batch of 32 takes about 6 s
KILL_AFTER = 5  # messages received before the kill
MESSAGE_ID = re.compile(r"^<([^@<>]+)@[^<>]+>$")


def _outbox(instance: Instance, *flags: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(
        instance.run("outbox", "list", "--json", "--limit", "1000", *flags).stdout
    )["items"]
    return items


def _public_id(message: EmailMessage) -> str:
    match = MESSAGE_ID.match(str(message["Message-ID"]).strip())
    assert match, f"not a Message-ID of the outbox: {message['Message-ID']!r}"
    return match.group(1)


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_at_most_one(
    instance: Instance, serve: Callable[..., Server]
) -> None:
    server = serve("--no-worker")  # it migrates the database
    instance.run_together(("demo",), ("user", "create", REPORTER))  # the project `requests` and its owner
    token = instance.run("token", "create", REPORTER).stdout.strip()
    body = {"title": "Redirect leak", "description": "The header survives a cross-host redirect."}
    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(
            pool.map(
                lambda _: server.call("POST", "/api/v1/projects/requests/reports", body, token=token), range(REPORTS)
            )
        )
    assert [r.status for r in created] == [201] * REPORTS, [r.text for r in created]
    server.stop()

    with SmtpServer(delay=SMTP_DELAY) as smtp:
        instance.env["EMBARGO_SMTP_URL"] = smtp.url
        worker = subprocess.Popen(
            [str(EMBARGO), "worker", "--interval", "0.2"], env=instance.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes all of it
        )  # fmt: skip
        try:
            smtp.mailbox.wait_for(KILL_AFTER, timeout=30)
            os.killpg(worker.pid, signal.SIGKILL)
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
        assert worker.returncode == -signal.SIGKILL, output
        time.sleep(2 * SMTP_DELAY)  # the message in flight, if any, is now received too
        before_restart = len(smtp.mailbox.wait_for(0))
        assert KILL_AFTER <= before_restart < ROWS, f"killed too late: {before_restart} received\n{output}"

        # The dead worker's rows are leased: a pass before the lease expires leaves them alone.
        early = json.loads(instance.run("worker", "--once", "--json").stdout)
        assert early["claimed"] == 0, early
        assert len(smtp.mailbox.wait_for(0)) == before_restart

        # Once the lease has expired, a new worker delivers the rest.
        past_lease = dt.datetime.now(dt.UTC) + LEASE + dt.timedelta(minutes=1)
        for attempt in range(3):
            moment = past_lease + attempt * dt.timedelta(minutes=10)
            instance.run("worker", "--once", "--now", moment.isoformat())
            outbox = _outbox(instance)
            if all(item["status"] in ("sent", "failed") for item in outbox):
                break
        time.sleep(2 * SMTP_DELAY)  # nothing else arrives late
        received = smtp.mailbox.wait_for(0)

    print(f"{ROWS} rows; {before_restart} received before the restart, {len(received)} in all")
    assert len(outbox) == ROWS  # the passes queued nothing new (no reminder was due)
    assert [item for item in outbox if item["status"] != "sent"] == []
    # Every notification arrived, and nothing arrived that the outbox does not hold.
    assert {_public_id(m) for m in received} == {item["id"] for item in outbox}
    # At most one arrived twice.
    times = Counter(str(m["Message-ID"]) for m in received)
    duplicates = {message_id: n for message_id, n in times.items() if n > 1}
    assert len(received) <= ROWS + 1, duplicates
    assert len(duplicates) <= 1, duplicates
    assert set(duplicates.values()) <= {2}, duplicates
    # A duplicate is the same e-mail with the same Message-ID: grouping by what a reader sees (recipient,
    # subject, text) gives one group per outbox row, each with one Message-ID.
    ids_by_content: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for m in received:
        ids_by_content[(str(m["To"]), str(m["Subject"]), m.get_content())].add(str(m["Message-ID"]))
    assert len(ids_by_content) == ROWS
    assert all(len(ids) == 1 for ids in ids_by_content.values()), ids_by_content
