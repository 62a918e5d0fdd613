"""Reminders and escalation with real processes: `embargo serve`, a real SMTP server, and
`embargo worker --once --now …` stepped through the first two days of an unanswered report."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest

from tests.e2e.conftest import Instance, Server
from tests.smtp import SmtpServer, text_of

pytestmark = pytest.mark.e2e
TITLE = "Tapir-3321 silent downgrade to plain HTTP"


def _token(instance: Instance, email: str) -> str:
    return instance.run("token", "create", email).stdout.strip()


def test_an_unanswered_report_is_reminded_escalated_and_declared_late_once_each(
    instance: Instance, serve: Callable[..., Server]
) -> None:
    instance.run("migrate")
    instance.run("project", "create", "httpx9", "--name", "httpx9")
    for email in ("owner@example.org", "maint@example.org", "ada@example.net", "bob@example.net"):
        instance.run("user", "create", email)
    instance.run("project", "add-member", "httpx9", "owner@example.org", "--role", "owner")
    instance.run("project", "add-member", "httpx9", "maint@example.org", "--role", "maintainer")
    maint, ada, bob = (_token(instance, e) for e in ("maint@example.org", "ada@example.net", "bob@example.net"))

    with SmtpServer() as smtp:
        instance.env["EMBARGO_SMTP_URL"] = smtp.url
        server = serve("--no-worker")
        body = {"title": TITLE, "description": "Downgrade when the proxy answers 407."}
        unanswered = server.call("POST", "/api/v1/projects/httpx9/reports", body, token=ada).json
        answered = server.call("POST", "/api/v1/projects/httpx9/reports", body, token=bob).json
        ack = {"to": "acknowledged", "comment": "We are looking."}
        assert server.call("POST", f"/api/v1/reports/{answered['id']}/transitions", ack, token=maint).status == 200
        received_at = dt.datetime.fromisoformat(unanswered["created_at"])

        def step(hours: float) -> list[tuple[str, str]]:
            before = len(smtp.mailbox.messages)
            moment = (received_at + dt.timedelta(hours=hours)).isoformat()
            instance.run("worker", "--once", "--now", moment)
            new = smtp.mailbox.messages[before:]
            return sorted(
                (str(m["To"]), str(m["Subject"]).split("] ", 1)[1])
                for m in new
                if "Reminder" in str(m["Subject"])
                or "Escalation" in str(m["Subject"])
                or "Overdue" in str(m["Subject"])
                or "we are late" in str(m["Subject"])
            )

        assert step(11 + 50 / 60) == []
        ref = unanswered["id"]
        limit = dt.datetime.fromisoformat(unanswered["response_due_at"])
        reminder = f"Reminder: report {ref}, an answer to the reporter is due {limit:%Y-%m-%d %H:%M} UTC"
        assert step(13) == [("maint@example.org", reminder), ("owner@example.org", reminder)]
        assert step(13.5) == []
        escalation = step(43)
        assert [to for to, _ in escalation] == ["owner@example.org"]
        assert escalation[0][1].startswith(f"Escalation: report {ref}")
        late = step(49)
        assert [to for to, _ in late] == ["ada@example.net", "owner@example.org"]
        assert late[0][1] == f"Report {ref}: we are late"
        assert late[1][1].startswith(f"Overdue: report {ref}")
        assert step(60) == []

    everything = smtp.mailbox.messages
    reminders = [
        m for m in everything if "Report " + answered["id"] in str(m["Subject"]) and "Reminder" in str(m["Subject"])
    ]
    assert reminders == []  # the team answered that one
    counts = Counter((str(m["To"]), str(m["Subject"])) for m in everything)
    assert max(counts.values()) == 1  # every message arrived once
    for message in everything:
        assert "Tapir-3321" not in text_of(message)
    assert server.stop() == 0
