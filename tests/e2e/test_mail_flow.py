"""E-mail end to end with real processes: `embargo serve`, `embargo worker` and a real SMTP server.
The expected messages arrive once each, threaded per report, and none carries the report's text."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable

import pytest

from tests.e2e.conftest import EMBARGO, Instance, Server
from tests.smtp import SmtpServer, text_of

pytestmark = pytest.mark.e2e

TITLE = "Marmot-4471 credential leak through redirects"
TEXT = "Narwhal-9130: the Authorization header survives a cross-host redirect."
ANSWER = "Ocelot-2206: reproduced on 2.31.0, thank you."
QUESTION = "Pangolin-7785: which proxy do you use?"
REPLY = "Quetzal-5519: squid 6.1 on localhost."
NOTE = "Raccoon-8842: internal, probably CVE-worthy."
SECRETS = (TITLE, TEXT, ANSWER, QUESTION, REPLY, NOTE, "Marmot", "Narwhal", "Ocelot", "Pangolin", "Quetzal", "Raccoon")


def _token(instance: Instance, email: str) -> str:
    return instance.run("token", "create", email).stdout.strip()


def urllib9_team(instance: Instance) -> tuple[str, str, str]:
    """A migrated instance with the project `urllib9`, its owner and maintainer, and a reporter, all made with the
    command line; returns their API tokens (owner, maintainer, reporter)."""
    instance.run("migrate")
    instance.run("project", "create", "urllib9", "--name", "urllib9", "--package", "PyPI:urllib9")
    for email in ("owner@example.org", "maint@example.org", "reporter@example.net"):
        instance.run("user", "create", email)
    instance.run("project", "add-member", "urllib9", "owner@example.org", "--role", "owner")
    instance.run("project", "add-member", "urllib9", "maint@example.org", "--role", "maintainer")
    owner, maint, reporter = (
        _token(instance, e) for e in ("owner@example.org", "maint@example.org", "reporter@example.net")
    )
    return owner, maint, reporter


def test_the_right_people_get_one_safe_mail_each(instance: Instance, serve: Callable[..., Server]) -> None:
    owner, maint, reporter = urllib9_team(instance)

    with SmtpServer() as smtp:
        instance.env["EMBARGO_SMTP_URL"] = smtp.url
        server = serve("--no-worker")
        worker = subprocess.Popen(
            [str(EMBARGO), "worker", "--interval", "0.2"], env=instance.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            created = server.call(
                "POST", "/api/v1/projects/urllib9/reports", {"title": TITLE, "description": TEXT}, token=reporter
            )
            assert created.status == 201, created.text
            rid = created.json["id"]
            steps = [
                (maint, "transitions", {"to": "acknowledged", "comment": ANSWER}),
                (maint, "messages", {"body": NOTE, "internal": True}),
                (maint, "transitions", {"to": "needs_info", "comment": QUESTION}),
                (reporter, "messages", {"body": REPLY}),
            ]
            for token, route, body in steps:
                response = server.call("POST", f"/api/v1/reports/{rid}/{route}", body, token=token)
                assert response.status in (200, 201), response.text
            assigned = server.call("PATCH", f"/api/v1/reports/{rid}", {"assignee": "maint@example.org"}, token=owner)
            assert assigned.status == 200, assigned.text

            expected = Counter(
                {
                    ("reporter@example.net", "received"): 1,  # the receipt
                    ("owner@example.org", "New report"): 1,
                    ("maint@example.org", "New report"): 1,
                    ("reporter@example.net", "is acknowledged by the team"): 1,
                    ("reporter@example.net", "the team has a question"): 1,
                    ("owner@example.org", "new message"): 1,  # the reporter's reply
                    ("maint@example.org", "new message"): 1,
                    ("maint@example.org", "was assigned to you"): 1,
                }
            )
            messages = smtp.mailbox.wait_for(sum(expected.values()), timeout=30)
            time.sleep(1.5)  # a few more worker passes: anything extra would arrive now
            messages = smtp.mailbox.wait_for(0)
        finally:
            worker.send_signal(signal.SIGTERM)
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        assert worker.returncode == 0, output

    def kind(subject: str) -> str:
        return next(k for _, k in expected if subject.endswith(k) or k in subject)

    got = Counter((str(m["To"]), kind(str(m["Subject"]))) for m in messages)
    assert got == expected
    assert len({m["Message-ID"] for m in messages}) == len(messages)
    assert {m["References"] for m in messages} == {m["In-Reply-To"] for m in messages}
    assert len({m["References"] for m in messages}) == 1
    assert rid in str(messages[0]["References"])
    for message in messages:
        text = text_of(message)
        for secret in SECRETS:
            assert secret not in text, (secret, message["Subject"])
    assert server.stop() == 0
