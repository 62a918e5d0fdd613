"""What the security review of `embargo mail-in` asked for: a ciphertext taken in once cannot be sent again (by
someone else, re-armoured, inline or PGP/MIME, at the intake or a reply address) to read it; decryption and parsing
have limits and a mail they fail on is kept and answered for good; mail attachments obey the web's limits; a
signature checked only with the key the mail carried is not "verified"; a forwarded message is one attachment."""

from __future__ import annotations

import re
import subprocess
import tempfile
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from typing import Any

import pytest

from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.mailin import actions, parsing
from embargo.mailin.models import InboundMail, Outcome, Signature
from embargo.notifications.models import OutboxMessage
from embargo.projects.actions import do_change_project
from embargo.projects.models import Project
from embargo.reports.actions import read_attachment
from embargo.reports.models import Report
from embargo.vault import openpgp
from tests.helpers import Api, submit
from tests.mailin.test_mail_in import (
    INTAKE,
    TEXT,
    TITLE,
    _encrypted,
    _inner,
    _mail,
    _project_public_key,
    _reply,
    _reply_to,
    deliver,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(team: dict[str, Api]) -> Project:
    project = Project.objects.get(slug="requests")
    do_change_project(project, {"intake_address": INTAKE}, acting_user=User.objects.get(email="owner@example.org"))
    return project


@pytest.fixture(scope="module")
def reporter_key() -> openpgp.GeneratedKey:
    return openpgp.generate_key("Ada", "ada@example.net")


def _ciphertext(message: Message) -> str:
    """The armoured OpenPGP message of a PGP/MIME encrypted mail."""
    body = message.get_payload()[1]  # type: ignore[index]
    return str(body.get_payload())


def _rearmoured(armored: str) -> str:
    """The same OpenPGP packets in other bytes: an armour header added, lines ending otherwise."""
    return re.sub(r"-----BEGIN PGP MESSAGE-----\r?\n", "-----BEGIN PGP MESSAGE-----\nComment: mine now\n", armored)


def _pgp_mime(armored: str, *, sender: str) -> Message:
    outer = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
    outer.attach(MIMEApplication(b"Version: 1\n", "pgp-encrypted", _encoder=lambda p: None))
    outer.attach(MIMEApplication(armored.encode(), "octet-stream", _encoder=lambda p: None))
    outer["From"] = sender
    outer["To"] = "security@requests.example"
    outer["Subject"] = "My own report"
    return outer


def _gpg_encrypt(public: str, fingerprint: str, data: bytes) -> str:
    with tempfile.TemporaryDirectory() as home:
        subprocess.run(["gpg", "--homedir", home, "--batch", "--import"], input=public.encode(), check=True,
                       capture_output=True)  # fmt: skip
        armored = subprocess.run(
            ["gpg", "--homedir", home, "--batch", "--trust-model", "always", "--armor", "--encrypt",
             "--recipient", fingerprint],
            input=data, check=True, capture_output=True,
        ).stdout.decode()  # fmt: skip
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)
    return armored


def _nothing_readable_reached(address: str) -> None:
    for row in OutboxMessage.objects.filter(to_email=address):
        assert TEXT not in str(row.context)
        assert row.report is None or row.report.reporter is None or row.report.reporter.email == address


# --- 1. a ciphertext sent again ----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["pgp_mime", "inline"])
def test_someone_elses_ciphertext_sent_again_is_refused_and_kept(
    project: Project, reporter_key: openpgp.GeneratedKey, form: str
) -> None:
    original = _encrypted(_inner(), to_key=_project_public_key(project), signer=reporter_key)
    assert deliver(original).startswith("250 ")
    (first,) = InboundMail.objects.all()
    assert len(first.session_key_sha256) == 64

    armored = _rearmoured(_ciphertext(original))
    assert armored not in original.as_string()
    if form == "pgp_mime":
        replay: Message = _pgp_mime(armored, sender="Mallory <mallory@example.com>")
    else:
        replay = _mail(f"Please look at this:\n\n{armored}\n", sender="mallory@example.com", subject="My report")
    answer = deliver(replay, mail_from="mallory@example.com")

    assert answer == actions.REPLAY_ANSWER
    assert Report.objects.count() == 1  # Ada's only
    assert not User.objects.filter(email="mallory@example.com").exists()
    assert not OutboxMessage.objects.filter(to_email="mallory@example.com").exists()
    kept = InboundMail.objects.exclude(pk=first.pk).get()
    assert (kept.outcome, kept.note, kept.report) == (Outcome.IGNORED, "encrypted content already received", None)
    assert kept.session_key_sha256 == first.session_key_sha256
    assert actions.read_raw(kept) == replay.as_bytes()
    event = Event.objects.get(tag="mail:kept")
    assert event.data["reason"] == "encrypted content already received"


def test_a_ciphertext_sent_again_through_a_reply_address_is_refused(
    project: Project, team: dict[str, Api], reporter_key: openpgp.GeneratedKey
) -> None:
    # Ada's encrypted report; then the reporter of another report answers a notice with Ada's ciphertext inline.
    original = _encrypted(_inner(), to_key=_project_public_key(project), signer=reporter_key)
    assert deliver(original).startswith("250 ")
    report_id = submit(team["reporter"])["id"]
    assert team["maintainer"].post(f"/api/v1/reports/{report_id}/messages", {"body": "Which proxy?"}).status == 201
    address = _reply_to("report_message", "reporter@example.org")
    reply = _reply(address, f"See:\n\n{_rearmoured(_ciphertext(original))}", sender="reporter@example.org")

    assert deliver(reply, to=address, mail_from="reporter@example.org") == actions.REPLAY_ANSWER

    thread = team["reporter"].get(f"/api/v1/reports/{report_id}/messages").json["items"]
    assert all(TEXT not in m["body"] for m in thread)
    assert all("See:" not in m["body"] for m in thread)
    kept = InboundMail.objects.get(recipient=address)
    assert (kept.outcome, kept.note) == (Outcome.IGNORED, "encrypted content already received")
    assert Event.objects.filter(tag="mail:kept", data__reason="encrypted content already received").exists()


def test_the_same_encrypted_mail_delivered_again_is_taken_once(
    project: Project, reporter_key: openpgp.GeneratedKey
) -> None:
    message = _encrypted(_inner(), to_key=_project_public_key(project), signer=reporter_key)
    assert deliver(message).startswith("250 2.0.0 Received as report")
    assert deliver(message) == "250 2.0.0 Already received."
    assert Report.objects.count() == 1


# --- 2. limits --------------------------------------------------------------------------------------------------


def test_a_message_that_decrypts_to_too_much_is_kept_unread(project: Project, settings: Any) -> None:
    settings.EMBARGO_MAIL_IN_MAX_BYTES = 20_000
    public = _project_public_key(project)
    # 400 kB of the same letter compresses to a few hundred bytes: a small mail, a big clear text.
    armored = _gpg_encrypt(public, project.keys.get().fingerprint, b"A" * 400_000)
    assert len(armored) < 5_000
    assert deliver(_mail(f"Hello,\n\n{armored}\n")).startswith("250 ")
    report = Report.objects.get(project=project)
    assert "decrypts to more than 40,000 bytes" in report.description
    assert "AAAA" not in report.description
    assert [a.filename for a in report.attachments.all()] == ["original.eml"]


def _deeply_nested(depth: int) -> bytes:
    raw = b"From: ada@example.net\r\nTo: security@requests.example\r\nSubject: Russian dolls\r\nMIME-Version: 1.0\r\n"
    for i in range(depth):
        raw += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
    raw += b"Content-Type: text/plain\r\n\r\nThe innermost doll.\r\n"
    for i in reversed(range(depth)):
        raw += b"--b%d--\r\n" % i
    return raw


def test_deeply_nested_mime_is_kept_and_answered_for_good(project: Project) -> None:
    raw = _deeply_nested(2000)
    answer = deliver(raw)
    assert answer.startswith("250 "), answer
    report = Report.objects.get(project=project)
    assert report.title == "Russian dolls"
    assert "the message's structure could not be read (parts nested too deeply)" in report.description
    (original,) = report.attachments.all()
    assert read_attachment(original) == raw
    mail = InboundMail.objects.get()
    assert actions.read_raw(mail) == raw
    assert "nested too deeply" in mail.note


def test_parse_never_raises_on_deep_nesting() -> None:
    message = parsing.parse(_deeply_nested(3000))
    assert parsing.header(message, "Subject") == "Russian dolls"
    content = parsing.extract(message)
    assert content.problems == ["the message's structure could not be read (parts nested too deeply)"]
    assert (content.text, content.attachments) == ("", [])


def test_attachments_obey_the_size_limit_and_the_count(project: Project, settings: Any) -> None:
    settings.EMBARGO_MAX_ATTACHMENT_BYTES = 50_000
    message = _mail()
    message.add_attachment(b"x" * 60_000, maintype="application", subtype="octet-stream", filename="core.dump")
    for i in range(22):
        message.add_attachment(f"file {i}\n".encode(), maintype="text", subtype="plain", filename=f"f{i:02}.txt")
    assert deliver(message).startswith("250 ")
    report = Report.objects.get(project=project)
    names = [a.filename for a in report.attachments.order_by("id")]
    assert names == [f"f{i:02}.txt" for i in range(20)]  # the raw mail is larger than the limit: not attached
    assert "files larger than 50,000 bytes were not attached: core.dump" in report.description
    assert "only 20 files are attached from one e-mail; not attached: f20.txt, f21.txt" in report.description
    assert "kept by the server" in report.description
    mail = InboundMail.objects.get()
    assert actions.read_raw(mail) == message.as_bytes()
    assert "core.dump" in mail.note
    (answer,) = OutboxMessage.objects.filter(template="mail_in_answer", to_email="ada@example.net")
    assert any("core.dump" in p for p in answer.context["problems"])


def test_a_surplus_of_files_leaves_the_original_attached(project: Project) -> None:
    message = _mail()
    for i in range(21):
        message.add_attachment(b"x\n", maintype="text", subtype="plain", filename=f"f{i:02}.txt")
    assert deliver(message).startswith("250 ")
    report = Report.objects.get(project=project)
    names = [a.filename for a in report.attachments.order_by("id")]
    assert names == [*(f"f{i:02}.txt" for i in range(20)), "original.eml"]
    assert "not attached: f20.txt" in report.description


# --- 3. whose signature -----------------------------------------------------------------------------------------


def test_a_signature_by_the_senders_key_on_file_is_verified(
    project: Project, team: dict[str, Api], reporter_key: openpgp.GeneratedKey
) -> None:
    User.objects.filter(email="reporter@example.org").update(openpgp_key=reporter_key.public_armored)
    inner = _inner(attach_key=reporter_key.public_armored)
    inner.replace_header("From", "reporter@example.org")
    message = _encrypted(inner, to_key=_project_public_key(project), signer=reporter_key)
    assert deliver(message, mail_from="reporter@example.org").startswith("250 ")
    mail = InboundMail.objects.get()
    assert (mail.signature, mail.signer_fingerprint) == (Signature.VERIFIED, reporter_key.fingerprint)
    assert actions.signature_note(mail) == f"Signed, verified with key {reporter_key.fingerprint}."
    assert mail.proposed_key == ""  # a key on file: nothing to offer


def test_the_key_the_mail_carried_is_still_offered(project: Project, reporter_key: openpgp.GeneratedKey) -> None:
    inner = _inner(attach_key=reporter_key.public_armored)
    assert deliver(_encrypted(inner, to_key=_project_public_key(project), signer=reporter_key)).startswith("250 ")
    mail = InboundMail.objects.get()
    assert mail.signature == Signature.SIGNED_BY_ENCLOSED_KEY
    assert mail.proposed_fingerprint == reporter_key.fingerprint


# --- 4. a forwarded message -------------------------------------------------------------------------------------


def _forwarding(inner: EmailMessage, text: str = "") -> EmailMessage:
    outer = EmailMessage()
    outer["From"] = "ada@example.net"
    outer["To"] = INTAKE
    outer["Subject"] = "Fwd: what I got"
    if text:
        outer.set_content(text)
        outer.add_attachment(inner)
    else:
        outer.set_content(inner)
    return outer


def test_a_forwarded_message_is_one_eml_attachment() -> None:
    forwarded = _mail("Inner text, not the report's.", subject="Inner")
    forwarded.add_attachment(b"inner()\n", maintype="text", subtype="x-python", filename="inner.py")
    outer = _forwarding(forwarded, "Look at the mail below.")
    content = parsing.extract(parsing.parse(outer.as_bytes()))
    assert content.text == "Look at the mail below."
    (attachment,) = content.attachments
    assert (attachment.filename, attachment.content_type) == ("forwarded-1.eml", "message/rfc822")
    assert b'filename="inner.py"' in attachment.content  # the forwarded mail whole, its file inside
    assert parsing.parse(attachment.content)["Subject"] == "Inner"

    # Only a forwarded message: its text does not become the report's.
    content = parsing.extract(parsing.parse(_forwarding(forwarded).as_bytes()))
    assert content.text == ""
    assert [a.filename for a in content.attachments] == ["forwarded-1.eml"]


def test_a_failure_while_reading_keeps_the_mail_and_answers_for_good(project: Project, monkeypatch: Any) -> None:
    # Whatever else a sender's program can make the parser or GnuPG stumble on (a bug of ours, say).
    def stumble(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("unexpected")

    monkeypatch.setattr(actions.pgp, "open_message", stumble)
    message = _mail()
    assert deliver(message).startswith("250 ")
    report = Report.objects.get(project=project)
    assert report.title == TITLE
    assert "the message could not be read (ValueError)" in report.description
    assert [read_attachment(a) for a in report.attachments.all()] == [message.as_bytes()]
    assert actions.read_raw(InboundMail.objects.get()) == message.as_bytes()


def test_a_forwarded_signed_mail_does_not_make_the_forwarder_signed(
    project: Project, reporter_key: openpgp.GeneratedKey
) -> None:
    # Ada's signed mail, forwarded by Mallory with Ada's public key beside it.
    signed = openpgp.sign_mime(_mail("I, Ada, confirm."), secret_armored=reporter_key.secret_armored)
    forwarded = parsing.parse(signed.as_bytes())
    outer = _forwarding(forwarded, "Ada vouches for me.")  # type: ignore[arg-type]
    outer.replace_header("From", "mallory@example.com")
    outer.add_attachment(reporter_key.public_armored.encode(), maintype="application", subtype="pgp-keys")
    assert deliver(outer, mail_from="mallory@example.com").startswith("250 ")
    mail = InboundMail.objects.get()
    assert (mail.signature, mail.signer_fingerprint) == (Signature.NOT_SIGNED, "")
    assert Report.objects.get().attachments.order_by("id").first().filename == "forwarded-1.eml"  # type: ignore[union-attr]
