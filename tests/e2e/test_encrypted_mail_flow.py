"""Encrypted mail out with real processes: `embargo serve`, `embargo worker`, a real SMTP server and GnuPG. A
reporter who gave their OpenPGP key receives the team's message encrypted to it and signed with the project's
key; the team member without a key receives the content-free notice."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from embargo.vault import openpgp
from tests.e2e.conftest import EMBARGO, Instance, Server
from tests.e2e.test_mail_flow import urllib9_team
from tests.smtp import SmtpServer

pytestmark = pytest.mark.e2e

TITLE = "Marmot-6120 cookie jar leak across hosts"
TEXT = "Narwhal-4418: a cookie set for one host is sent to another."
ANSWER = "Ocelot-7731: reproduced on 2.31.0, a fix is on its way."


def test_a_reporter_with_a_key_receives_the_answer_encrypted(instance: Instance, serve: Callable[..., Server]) -> None:
    mine = openpgp.generate_key("Reporter", "reporter@example.net")
    owner, maint, reporter = urllib9_team(instance)
    with SmtpServer() as smtp:
        instance.env["EMBARGO_SMTP_URL"] = smtp.url
        server = serve("--no-worker")
        made = server.call("POST", "/api/v1/projects/urllib9/signing-key", {"generate": True}, token=owner)
        assert made.status == 201, made.text
        project_public = made.json["public_key"]
        given = server.call("PUT", "/api/v1/account/openpgp-key", {"public_key": mine.public_armored}, token=reporter)
        assert given.status == 200, given.text
        assert given.json["fingerprint"] == mine.fingerprint
        created = server.call(
            "POST", "/api/v1/projects/urllib9/reports", {"title": TITLE, "description": TEXT}, token=reporter
        )
        assert created.status == 201, created.text
        rid = created.json["id"]
        answered = server.call("POST", f"/api/v1/reports/{rid}/messages", {"body": ANSWER}, token=maint)
        assert answered.status == 201, answered.text
        worker = subprocess.Popen(
            [str(EMBARGO), "worker", "--interval", "0.2"], env=instance.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            # The receipt and the answer to the reporter; the new report to the owner and the maintainer.
            messages = smtp.mailbox.wait_for(4, timeout=60)
        finally:
            worker.send_signal(signal.SIGTERM)
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        assert worker.returncode == 0, output
    assert len(messages) == 4, [(m["To"], m["Subject"]) for m in messages]
    to_reporter = [m for m in messages if "reporter@example.net" in str(m["To"])]
    assert {m.get_content_type() for m in to_reporter} == {"multipart/encrypted"}
    answer = next(m for m in to_reporter if "message" in str(m["Subject"]).lower())
    assert b"Ocelot-7731" not in answer.as_bytes()
    inner, signer = openpgp.decrypt_mime(answer, secret_armored=mine.secret_armored, signer_armored=project_public)
    assert isinstance(inner, EmailMessage)
    body = inner.get_body(("plain",))
    assert body is not None
    assert ANSWER in body.get_content()
    assert signer == made.json["fingerprint"].replace(" ", "").upper()
    # The maintainer gave no key: the notice of the new report says nothing of it.
    [to_maint] = [m for m in messages if "maint@example.org" in str(m["To"])]
    assert to_maint.get_content_type() == "text/plain"
    for secret in (b"Marmot-6120", b"Narwhal-4418"):
        assert secret not in to_maint.as_bytes()
    assert server.stop() == 0
