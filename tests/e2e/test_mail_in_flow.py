"""Reports and replies by e-mail with real processes: `embargo mail-in` on a free port, `embargo serve`, `embargo
worker` and a real SMTP server for what Embargo sends. A plain report and a PGP/MIME report encrypted to the
project's key (with GnuPG, in a temporary home) become reports; the senders get their receipts with private links;
a reply to a notification lands in the thread; a forged reply address is refused."""

from __future__ import annotations

import email.utils
import signal
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart

import pytest

from tests.e2e.conftest import EMBARGO, Instance, Server, free_port
from tests.smtp import SmtpServer

pytestmark = pytest.mark.e2e

INTAKE = "security@urllib9.example"
MAIL_DOMAIN = "mail.urllib9.example"
PLAIN_TITLE = "Koala-5120 cookie leak on redirect"
PLAIN_TEXT = "Lemur-7741: cookies for one host are sent to another after a 302."
SECRET_TITLE = "Mongoose-0933 TLS check skipped"
SECRET_TEXT = "Nighthawk-2218: verify=False is forced when a proxy is set."
REPLY = "Ocelot-6604: it also happens with 307."


def _mail(subject: str, body: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = INTAKE
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid()
    message.set_content(body)
    return message


def _encrypt_to(public_key: str, data: bytes) -> bytes:
    """`data` encrypted to `public_key` by the gpg command, as a reporter's mail program would."""
    with tempfile.TemporaryDirectory() as home:
        try:
            subprocess.run(["gpg", "--homedir", home, "--batch", "--import"], input=public_key.encode(),
                           capture_output=True, check=True, timeout=60)  # fmt: skip
            listed = subprocess.run(["gpg", "--homedir", home, "--batch", "--with-colons", "--list-keys"],
                                    capture_output=True, check=True, timeout=60, text=True).stdout  # fmt: skip
            fingerprint = next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))
            return subprocess.run(
                ["gpg", "--homedir", home, "--batch", "--trust-model", "always", "--armor", "--encrypt",
                 "--recipient", fingerprint],
                input=data, capture_output=True, check=True, timeout=60,
            ).stdout  # fmt: skip
        finally:
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False, capture_output=True)


def _pgp_mime(inner: EmailMessage, public_key: str) -> MIMEMultipart:
    """RFC 3156 multipart/encrypted around `inner`, the subject hidden as mail programs do."""
    outer = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
    outer.attach(MIMEApplication(b"Version: 1\n", "pgp-encrypted"))
    outer.attach(MIMEApplication(_encrypt_to(public_key, inner.as_bytes()), "octet-stream", name="encrypted.asc"))
    for name in ("From", "To", "Message-ID"):
        outer[name] = str(inner[name])
    outer["Subject"] = "..."
    return outer


@pytest.fixture
def mail_in(instance: Instance, tmp_path: object) -> Iterator[Callable[[], int]]:
    processes: list[subprocess.Popen[str]] = []

    def start() -> int:
        port = free_port()
        process = subprocess.Popen(
            [str(EMBARGO), "mail-in", "--host", "127.0.0.1", "--port", str(port)], env=instance.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("embargo mail-in: SMTP on 127.0.0.1:"), line + process.stdout.read()
        return port

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0]
        print(f"--- embargo mail-in output\n{output}")
        assert process.returncode == 0, output


def _wait_for(found: Callable[[], object], what: str, timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"no {what} within {timeout} s")


def test_reports_and_replies_by_email(
    instance: Instance, serve: Callable[..., Server], mail_in: Callable[[], int]
) -> None:
    instance.env["EMBARGO_MAIL_IN_DOMAIN"] = MAIL_DOMAIN
    instance.run("migrate")
    instance.run("project", "create", "urllib9", "--name", "urllib9")
    instance.run("user", "create", "owner@example.org")
    instance.run("project", "add-member", "urllib9", "owner@example.org", "--role", "owner")
    owner = instance.run("token", "create", "owner@example.org").stdout.strip()

    with SmtpServer() as smtp:
        instance.env["EMBARGO_SMTP_URL"] = smtp.url
        server = serve("--no-worker")
        changed = server.call("PATCH", "/api/v1/projects/urllib9", {"intake_address": INTAKE}, token=owner)
        assert changed.status == 200, changed.text
        key = server.call("POST", "/api/v1/projects/urllib9/signing-key", {"generate": True}, token=owner)
        assert key.status == 201, key.text
        port = mail_in()
        worker = subprocess.Popen(
            [str(EMBARGO), "worker", "--interval", "0.2"], env=instance.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            plain = _mail(PLAIN_TITLE, PLAIN_TEXT, "Ada <ada@example.net>")
            plain.add_attachment(b"requests.get(url)\n", maintype="text", subtype="x-python", filename="poc.py")
            secret = _mail(SECRET_TITLE, SECRET_TEXT, "Bob <bob@example.net>")
            secret.add_attachment(b"session.verify\n", maintype="text", subtype="x-python", filename="check.py")
            encrypted = _pgp_mime(secret, key.json["public_key"])
            assert SECRET_TEXT.encode() not in encrypted.as_bytes()
            with smtplib.SMTP("127.0.0.1", port) as client:
                assert client.sendmail("ada@example.net", [INTAKE], plain.as_bytes()) == {}
                assert client.sendmail("bob@example.net", [INTAKE], encrypted.as_bytes()) == {}

            inbox = server.call("GET", "/api/v1/projects/urllib9/reports", token=owner)
            assert inbox.status == 200, inbox.text
            reports = {}
            for item in inbox.json["items"]:
                report = server.call("GET", f"/api/v1/reports/{item['id']}", token=owner).json
                files = server.call("GET", f"/api/v1/reports/{item['id']}/attachments", token=owner).json["items"]
                reports[report["title"]] = (report["id"], report["description"], [f["filename"] for f in files])
            assert {title: (text, names) for title, (_, text, names) in reports.items()} == {
                PLAIN_TITLE: (PLAIN_TEXT, ["poc.py"]),
                SECRET_TITLE: (SECRET_TEXT, ["check.py"]),
            }

            # The receipts, with private links, reach the senders at the real SMTP server; the owner hears of both.
            messages = smtp.mailbox.wait_for(4, timeout=30)
            receipts = {str(m["To"]): m for m in messages if "received" in str(m["Subject"]).lower()}
            for sender, title in (("ada@example.net", PLAIN_TITLE), ("bob@example.net", SECRET_TITLE)):
                body = receipts[sender].get_body(("plain",)).get_content()  # type: ignore[union-attr]
                assert f"/r/{reports[title][0]}/" in body
            assert len(smtp.mailbox.to("owner@example.org")) == 2

            # Ada answers her receipt: her reply, without the quoted text, is in the thread.
            reply_to = str(receipts["ada@example.net"]["Reply-To"])
            assert reply_to.startswith("reply+")
            assert reply_to.endswith("@" + MAIL_DOMAIN)
            answer = EmailMessage()
            answer["From"] = "Ada <ada@example.net>"
            answer["To"] = reply_to
            answer["Subject"] = "Re: " + str(receipts["ada@example.net"]["Subject"])
            answer["In-Reply-To"] = str(receipts["ada@example.net"]["Message-ID"])
            answer.set_content(f"{REPLY}\n\nOn Mon, 7 Dec 2026, Embargo wrote:\n> thank you\n")
            forged = reply_to.replace("reply+", "reply+x", 1)
            with smtplib.SMTP("127.0.0.1", port) as client:
                assert client.sendmail("ada@example.net", [reply_to], answer.as_bytes()) == {}
                with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                    client.sendmail("ada@example.net", [forged], answer.as_bytes())
            code, text = refused.value.recipients[forged]
            assert code == 550
            assert b"reply address is not valid" in text
            thread = server.call("GET", f"/api/v1/reports/{reports[PLAIN_TITLE][0]}/messages", token=owner).json
            assert [m["body"] for m in thread["items"]] == [REPLY]
            # The team hears of the reply as of one from the web.
            _wait_for(lambda: len(smtp.mailbox.to("owner@example.org")) == 3, "notice of the reply")
        finally:
            worker.send_signal(signal.SIGTERM)
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        assert worker.returncode == 0, output
    assert server.stop() == 0
