"""E-mail intake and replies by e-mail, through the actions `embargo mail-in` calls for each recipient (and, at
the end, through its real SMTP and LMTP server with smtplib): reports from plain and encrypted mail, odd mail
kept without loss, automatic mail ignored, rate limits, reply addresses and who may use them."""

from __future__ import annotations

import email
import email.policy
import smtplib
import subprocess
import tempfile
from email.message import EmailMessage, Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from embargo.accounts.access import Permission, access_report_by_id
from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.mailin import actions, tokens
from embargo.mailin.models import InboundMail, Outcome, Signature
from embargo.mailin.receiver import Handler, server_factory
from embargo.notifications import delivery
from embargo.notifications.models import OutboxMessage
from embargo.projects.actions import do_change_project, do_remove_member
from embargo.projects.keys import do_generate_project_key
from embargo.projects.models import Project
from embargo.reports import links
from embargo.reports.actions import do_revoke_reporter_links, read_attachment
from embargo.reports.models import Report
from embargo.vault import openpgp
from tests.helpers import Api, submit
from tests.smtp import free_port

pytestmark = pytest.mark.django_db

INTAKE = "security@requests.example"
TITLE = "Ibex-3307 proxy credentials leak"
TEXT = "Jackal-8120: the Proxy-Authorization header survives a redirect."


@pytest.fixture
def project(team: dict[str, Api]) -> Project:
    project = Project.objects.get(slug="requests")
    do_change_project(project, {"intake_address": INTAKE}, acting_user=User.objects.get(email="owner@example.org"))
    return project


def _mail(
    body: str = TEXT, *, subject: str = TITLE, sender: str = "ada@example.net", to: str = INTAKE, **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Ada <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def deliver(raw: bytes | Message, to: str = INTAKE, mail_from: str = "ada@example.net") -> str:
    """What `embargo mail-in` does for one recipient: RCPT, then DATA."""
    refusal = actions.check_recipient(to)
    if refusal:
        return refusal
    data = raw.as_bytes() if isinstance(raw, Message) else raw
    return actions.receive(data, envelope_from=mail_from, recipient=to)


def _outbox(template: str, to: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template, to_email=to))


# --- intake ---------------------------------------------------------------------------------------------------


def test_a_plain_mail_becomes_a_report_and_the_sender_gets_the_receipt(project: Project) -> None:
    message = _mail()
    message.add_attachment(b"import sys\nsys.exit(1)\n", maintype="text", subtype="x-python", filename="poc.py")
    answer = deliver(message)
    assert answer.startswith("250 "), answer
    report = Report.objects.get(project=project)
    assert (report.title, report.description) == (TITLE, TEXT)
    assert report.reporter is not None
    assert report.reporter.email == "ada@example.net"
    assert [(a.filename, read_attachment(a)) for a in report.attachments.all()] == [
        ("poc.py", b"import sys\nsys.exit(1)\n")
    ]
    (receipt,) = _outbox("report_receipt", "ada@example.net")
    assert receipt.context["link"] == links.private_link(report)
    mail = InboundMail.objects.get()
    assert (mail.outcome, mail.report, mail.signature, mail.encrypted) == (Outcome.REPORT, report, "not_signed", False)
    assert actions.read_raw(mail) == message.as_bytes()
    assert Event.objects.filter(tag="report:created", report=report).exists()


def test_the_raw_mail_is_sealed_at_rest(project: Project, settings: Any) -> None:
    deliver(_mail())
    mail = InboundMail.objects.get()
    from embargo.vault.files import storage

    with storage().open(mail.storage_name, "rb") as f:
        stored = f.read()
    assert b"Jackal-8120" not in stored
    assert TEXT.encode() not in stored


def test_an_address_nobody_uses_is_refused_at_rcpt(project: Project) -> None:
    answer = actions.check_recipient("nobody@requests.example")
    assert answer is not None
    assert answer.startswith("550 5.1.1 <nobody@requests.example>: no such address here")


def test_a_mail_that_is_not_utf8_becomes_a_report_with_the_original_attached(project: Project) -> None:
    raw = (
        b"From: ada@example.net\r\nTo: security@requests.example\r\nSubject: Fen\xeatre\r\n\r\nLa fen\xeatre fuit.\r\n"
    )
    assert deliver(raw).startswith("250 ")
    report = Report.objects.get(project=project)
    assert "La fenêtre fuit." in report.description
    assert "read as Latin-1" in report.description
    (original,) = report.attachments.all()
    assert (original.filename, read_attachment(original)) == ("original.eml", raw)
    (answer,) = _outbox("mail_in_answer", "ada@example.net")
    assert answer.context["problems"] == ["the text declares no character set and is not UTF-8: read as Latin-1"]
    rendered = delivery.render(answer)
    assert "Latin-1" in str(rendered.body)
    assert "fenêtre" not in str(rendered.body)


def test_a_malformed_mail_is_kept_whole(project: Project) -> None:
    raw = b"From: ada@example.net\r\nSubject: broken\r\nContent-Type: multipart/mixed\r\n\r\nSome text anyway.\r\n"
    assert deliver(raw).startswith("250 ")
    report = Report.objects.get(project=project)
    assert "Some text anyway." in report.description
    assert [read_attachment(a) for a in report.attachments.all()] == [raw]


@pytest.mark.parametrize(
    ("headers", "mail_from"),
    [
        ({"Auto_Submitted": "auto-replied"}, "ada@example.net"),
        ({"Precedence": "bulk"}, "ada@example.net"),
        ({"X_Auto_Response_Suppress": "All"}, "ada@example.net"),
        ({"List_Id": "<list.example.net>"}, "ada@example.net"),
        ({}, ""),
    ],
)
def test_automatic_mail_is_kept_but_makes_no_report_and_gets_no_answer(
    project: Project, headers: dict[str, str], mail_from: str
) -> None:
    assert deliver(_mail(**headers), mail_from=mail_from).startswith("250 ")
    assert not Report.objects.exists()
    assert not OutboxMessage.objects.filter(to_email="ada@example.net").exists()
    mail = InboundMail.objects.get()
    assert mail.outcome == Outcome.IGNORED
    assert mail.note
    assert Event.objects.filter(tag="mail:kept").count() == 1


def test_our_own_mail_coming_back_is_a_loop(project: Project, settings: Any) -> None:
    settings.EMBARGO_MAIL_FROM = "Embargo <embargo@requests.example>"
    assert deliver(_mail(sender="embargo@requests.example"), mail_from="embargo@requests.example").startswith("250")
    assert not Report.objects.exists()
    assert InboundMail.objects.get().note == "loop (from our own address)"


@pytest.mark.rate_limits
def test_intake_is_rate_limited_per_sender_like_the_report_form(project: Project, settings: Any) -> None:
    settings.EMBARGO_RATE_LIMITS = {**settings.EMBARGO_RATE_LIMITS, "report": {"account": "2/1h", "ip": "20/1h"}}
    assert deliver(_mail()).startswith("250 ")
    assert deliver(_mail()).startswith("250 ")
    answer = deliver(_mail())
    assert answer.startswith("451 4.7.1 Too many reports from <ada@example.net>")
    assert Report.objects.count() == 2
    assert deliver(_mail(sender="bob@example.net"), mail_from="bob@example.net").startswith("250 ")


def test_a_restricted_account_is_refused_with_the_reason(project: Project, settings: Any) -> None:
    deliver(_mail())
    User.objects.filter(email="ada@example.net").update(spam_reports=settings.EMBARGO_SPAM_LIMIT)
    answer = deliver(_mail())
    assert answer.startswith("550 5.7.1 This account may not send reports")
    assert Report.objects.count() == 1


# --- OpenPGP --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reporter_key() -> openpgp.GeneratedKey:
    return openpgp.generate_key("Ada", "ada@example.net")


def _project_public_key(project: Project) -> str:
    return do_generate_project_key(project, acting_user=User.objects.get(email="owner@example.org")).public_key


def _encrypted(inner: EmailMessage, *, to_key: str, signer: openpgp.GeneratedKey) -> Message:
    """`inner` signed and encrypted as a mail program does (RFC 3156), its subject hidden as "..."."""
    outer = openpgp.sign_and_encrypt_mime(inner, secret_armored=signer.secret_armored, recipients_armored=[to_key])
    for name in ("From", "To", "Message-ID"):
        outer[name] = str(inner[name])
    outer["Subject"] = "..."
    return outer


def _inner(*, attach_key: str = "") -> EmailMessage:
    inner = _mail()
    inner.add_attachment(b"exploit()\n", maintype="text", subtype="x-python", filename="exploit.py")
    if attach_key:
        inner.add_attachment(attach_key.encode(), maintype="application", subtype="pgp-keys", filename="key.asc")
    return inner


def test_a_pgp_mime_encrypted_mail_is_decrypted_and_its_unknown_signer_noted(
    project: Project, reporter_key: openpgp.GeneratedKey
) -> None:
    message = _encrypted(_inner(), to_key=_project_public_key(project), signer=reporter_key)
    assert TEXT.encode() not in message.as_bytes()
    assert deliver(message).startswith("250 ")
    report = Report.objects.get(project=project)
    assert (report.title, report.description) == (TITLE, TEXT)
    assert [(a.filename, read_attachment(a)) for a in report.attachments.all()] == [("exploit.py", b"exploit()\n")]
    mail = InboundMail.objects.get()
    assert (mail.encrypted, mail.signature, mail.signer_fingerprint) == (True, Signature.UNVERIFIED, "")
    assert actions.signature_note(mail) == "Signed, not verified (unknown key)."


def test_a_signature_by_the_key_the_mail_carries_is_checked_but_not_called_verified(
    project: Project, reporter_key: openpgp.GeneratedKey
) -> None:
    inner = _inner(attach_key=reporter_key.public_armored)
    assert deliver(_encrypted(inner, to_key=_project_public_key(project), signer=reporter_key)).startswith("250 ")
    mail = InboundMail.objects.get()
    assert (mail.signature, mail.signer_fingerprint) == (Signature.SIGNED_BY_ENCLOSED_KEY, reporter_key.fingerprint)
    assert actions.signature_note(mail) == (
        f"Signed with the key the mail carried, {reporter_key.fingerprint} (identity not checked)."
    )
    report = Report.objects.get(project=project)
    assert [a.filename for a in report.attachments.all()] == ["exploit.py", "key.asc"]


def test_an_inline_encrypted_mail_is_decrypted(project: Project) -> None:
    public = _project_public_key(project)
    with tempfile.TemporaryDirectory() as home:
        subprocess.run(["gpg", "--homedir", home, "--batch", "--import"], input=public.encode(), check=True,
                       capture_output=True)  # fmt: skip
        armored = subprocess.run(
            ["gpg", "--homedir", home, "--batch", "--trust-model", "always", "--armor", "--encrypt",
             "--recipient", project.keys.get().fingerprint],
            input=TEXT.encode(), check=True, capture_output=True,
        ).stdout.decode()  # fmt: skip
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)
    assert deliver(_mail(f"Hello,\n\n{armored}\n")).startswith("250 ")
    report = Report.objects.get(project=project)
    assert report.description == f"Hello,\n\n{TEXT}"
    assert InboundMail.objects.get().encrypted


def test_mail_encrypted_to_another_key_is_kept_for_the_team(
    project: Project, reporter_key: openpgp.GeneratedKey
) -> None:
    _project_public_key(project)
    message = _encrypted(_inner(), to_key=reporter_key.public_armored, signer=reporter_key)
    assert deliver(message).startswith("250 ")
    report = Report.objects.get(project=project)
    assert "encrypted to a key the project does not hold" in report.description
    assert [a.filename for a in report.attachments.all()] == ["original.eml"]
    assert _outbox("mail_in_answer", "ada@example.net")


# --- replies --------------------------------------------------------------------------------------------------


def _reply(to: str, body: str, *, sender: str) -> EmailMessage:
    return _mail(f"{body}\n\nOn Mon, 7 Dec 2026, Embargo wrote:\n> {TEXT}\n", subject="Re: x", sender=sender, to=to)


def _reply_to(template: str, to: str) -> str:
    row = OutboxMessage.objects.filter(template=template, to_email=to).latest("id")
    return str(delivery.render(row).extra_headers["Reply-To"])


def test_the_reporter_answers_by_replying_to_a_notification(project: Project, team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    posted = team["maintainer"].post(f"/api/v1/reports/{report_id}/messages", {"body": "Which proxy?"})
    assert posted.status == 201
    address = _reply_to("report_message", "reporter@example.org")
    assert address.startswith("reply+")
    assert address.endswith("@" + tokens.domain())
    assert actions.check_recipient(address) is None
    answer = deliver(_reply(address, "Squid 6.1.", sender="reporter@example.org"), to=address)
    assert answer.startswith("250 "), answer
    thread = team["reporter"].get(f"/api/v1/reports/{report_id}/messages").json["items"]
    assert thread[-1]["body"] == "Squid 6.1."
    assert InboundMail.objects.get().outcome == Outcome.MESSAGE
    # The team hears of it as of any reply from the web.
    assert _outbox("report_message", "maintainer@example.org")


def test_a_team_member_answers_by_mail_too(project: Project, team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    assert team["reporter"].post(f"/api/v1/reports/{report_id}/messages", {"body": "Any news?"}).status == 201
    # An answer to the notice of the reporter's message reaches the reporter (tests/mailin/test_mail_in_security.py:
    # answers to the team's own notices are internal notes).
    address = _reply_to("report_message", "maintainer@example.org")
    notice = OutboxMessage.objects.filter(template="report_message", to_email="maintainer@example.org").latest("id")
    reply = _reply(address, "Reproduced.", sender="maintainer@example.org")
    reply["In-Reply-To"] = notice.message_id
    answer = deliver(reply, to=address)
    assert answer.startswith("250 2.0.0 Your reply is in the report's thread."), answer
    report = Report.objects.get(public_id=report_id)
    assert report.first_response_at is not None  # the team's first answer stops the response clock


def test_a_reply_from_another_address_is_refused(project: Project, team: dict[str, Api]) -> None:
    submit(team["reporter"])
    address = _reply_to("report_received_team", "maintainer@example.org")
    answer = deliver(_reply(address, "Hi", sender="mallory@example.net"), to=address)
    assert answer.startswith("550 5.7.1 This reply address belongs to another e-mail address")


def test_a_forged_reply_address_is_refused_at_rcpt(project: Project, team: dict[str, Api]) -> None:
    submit(team["reporter"])
    address = _reply_to("report_received_team", "maintainer@example.org")
    local, domain = address.split("@")
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    assert tokens.resolve(forged) is None
    assert (actions.check_recipient(forged) or "").startswith("550 5.1.1 This reply address is not valid")
    # Another report's ID with a valid signature of the first does not pass either.
    other = submit(team["reporter"])["id"]
    swapped = f"reply+{other}{local[26:]}@{domain}"
    assert tokens.resolve(swapped) is None


def test_revoking_the_reporters_links_revokes_their_reply_addresses(project: Project, team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    report = Report.objects.get(public_id=report_id)
    reporter = User.objects.get(email="reporter@example.org")
    address = tokens.reply_address(report, reporter)
    assert address is not None
    assert tokens.resolve(address) is not None
    owner = User.objects.get(email="owner@example.org")
    do_revoke_reporter_links(access_report_by_id(owner, report_id, Permission.VIEW_REPORT), acting_user=owner)
    assert tokens.resolve(address) is None


def test_a_member_taken_off_the_team_loses_their_reply_address(project: Project, team: dict[str, Api]) -> None:
    report = Report.objects.get(public_id=submit(team["reporter"])["id"])
    maintainer = User.objects.get(email="maintainer@example.org")
    address = tokens.reply_address(report, maintainer)
    assert address is not None
    do_remove_member(project, maintainer, reassign_to=None, acting_user=User.objects.get(email="owner@example.org"))
    assert (actions.check_recipient(address) or "").startswith("550 5.1.1")
    assert deliver(_reply(address, "Hi", sender="maintainer@example.org"), to=address).startswith("550")


def test_outsiders_get_no_reply_address(project: Project, team: dict[str, Api]) -> None:
    report = Report.objects.get(public_id=submit(team["reporter"])["id"])
    assert tokens.reply_address(report, User.objects.get(email="outsider@example.org")) is None
    assert tokens.reply_address(report, User.objects.get(email="stranger@example.org")) is None


def test_a_reply_of_only_quoted_text_posts_nothing(project: Project, team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    address = _reply_to("report_received_team", "maintainer@example.org")
    answer = deliver(_reply(address, "", sender="maintainer@example.org"), to=address)
    assert answer.startswith("550 5.6.0")
    assert team["maintainer"].get(f"/api/v1/reports/{report_id}/messages").json["items"] == []


# --- the project's intake address -----------------------------------------------------------------------------


def test_owners_set_the_intake_address_through_the_api(team: dict[str, Api]) -> None:
    changed = team["owner"].patch("/api/v1/projects/requests", {"intake_address": " Security@Requests.Example "})
    assert changed.status == 200, changed.text
    assert changed.json["intake_address"] == "security@requests.example"
    bad = team["owner"].patch("/api/v1/projects/requests", {"intake_address": "not an address"})
    assert (bad.status, bad.json["error"]["field"]) == (422, "intake_address")
    reply_form = team["owner"].patch("/api/v1/projects/requests", {"intake_address": "reply+x@example.org"})
    assert reply_form.status == 422
    Project.objects.filter(slug="other").update(intake_address="taken@example.org")
    taken = team["owner"].patch("/api/v1/projects/requests", {"intake_address": "taken@example.org"})
    assert (taken.status, taken.json["error"]["code"]) == (409, "intake_address_taken")


@pytest.mark.parametrize("role", ["maintainer", "reporter", "outsider", "stranger"])
def test_only_owners_change_the_intake_address(team: dict[str, Api], role: str) -> None:
    response = team[role].patch("/api/v1/projects/requests", {"intake_address": "security@requests.example"})
    assert response.status in (403, 404)
    assert Project.objects.get(slug="requests").intake_address == ""


# --- the real server ------------------------------------------------------------------------------------------


class _Server(Controller):
    def __init__(self, handler: Handler) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=free_port())
        self._make = server_factory(handler)

    def factory(self) -> Any:
        return self._make()


@pytest.fixture
def mail_in(settings: Any) -> Any:
    settings.EMBARGO_MAIL_IN_MAX_BYTES = 20_000
    started: list[_Server] = []

    def start(*, lmtp: bool = False) -> _Server:
        server = _Server(Handler(lmtp=lmtp))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        server.handler.executor.shutdown(wait=True)


@pytest.mark.django_db(transaction=True)
def test_the_smtp_server_refuses_unknown_and_oversized_mail_and_takes_the_rest(
    team: dict[str, Api], mail_in: Any
) -> None:
    Project.objects.filter(slug="requests").update(intake_address=INTAKE)
    server = mail_in()
    with smtplib.SMTP(server.hostname, server.port) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("ada@example.net", ["nobody@requests.example"], _mail().as_bytes())
        code, text = refused.value.recipients["nobody@requests.example"]
        assert code == 550
        assert b"no such address here" in text
        # A client that announces the size is refused at MAIL, one that does not at the end of DATA.
        with pytest.raises(smtplib.SMTPSenderRefused) as announced:
            client.sendmail("ada@example.net", [INTAKE], _mail("x" * 30_000).as_bytes())
        assert announced.value.smtp_code == 552
        assert b"larger than the 20,000 bytes" in announced.value.smtp_error
        client.rset()
        client.mail("ada@example.net")
        client.rcpt(INTAKE)
        code, text = client.data(_mail("x" * 30_000).as_bytes())
        assert code == 552
        assert b"larger than the 20,000 bytes" in text
        client.sendmail("ada@example.net", [INTAKE], _mail().as_bytes())
    assert Report.objects.get().title == TITLE


def _lmtp(port: int, commands: list[bytes], body: bytes, recipients: int) -> list[bytes]:
    """A raw LMTP conversation (smtplib reads one answer after DATA; LMTP gives one per recipient)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        stream = sock.makefile("rwb")

        def answer() -> bytes:
            line = stream.readline()
            while line[3:4] == b"-":
                line = stream.readline()
            return line

        answers = [answer()]
        for command in commands:
            stream.write(command + b"\r\n")
            stream.flush()
            answers.append(answer())
        stream.write(body + b"\r\n.\r\n")
        stream.flush()
        answers += [answer() for _ in range(recipients)]
        return answers


@pytest.mark.django_db(transaction=True)
def test_the_lmtp_server_answers_per_recipient(team: dict[str, Api], mail_in: Any) -> None:
    Project.objects.filter(slug="requests").update(intake_address=INTAKE)
    Project.objects.filter(slug="other").update(intake_address="security@other.example")
    server = mail_in(lmtp=True)
    commands = [b"LHLO test", b"MAIL FROM:<ada@example.net>", f"RCPT TO:<{INTAKE}>".encode(),
                b"RCPT TO:<nobody@other.example>", b"RCPT TO:<security@other.example>", b"DATA"]  # fmt: skip
    body = _mail().as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    answers = [a[:3] for a in _lmtp(server.port, commands, body, recipients=2)]
    assert answers == [b"220", b"250", b"250", b"250", b"550", b"250", b"354", b"250", b"250"]
    assert sorted(Report.objects.values_list("project__slug", flat=True)) == ["other", "requests"]


def test_the_team_sees_how_a_report_came_by_mail_and_the_reporter_does_not(project: Project) -> None:
    from django.test import Client

    deliver(_mail())
    report = Report.objects.get(project=project)
    owner = Client()
    owner.force_login(User.objects.get(email="owner@example.org"))
    page = owner.get(f"/reports/{report.public_id}/")
    assert page.status_code == 200
    assert "By e-mail. Not signed." in page.content.decode()
    reporter_page = Client().get(links.private_path(report))
    assert reporter_page.status_code == 200
    assert "By e-mail." not in reporter_page.content.decode()


def test_the_same_message_delivered_twice_makes_one_report(project: Project) -> None:
    message = _mail()
    assert deliver(message).startswith("250 2.0.0 Received as report")
    assert deliver(message) == "250 2.0.0 Already received."
    assert Report.objects.count() == 1


def test_a_clear_signed_mail_is_unwrapped_and_its_signature_checked(
    project: Project, reporter_key: openpgp.GeneratedKey
) -> None:
    with tempfile.TemporaryDirectory() as home:
        subprocess.run(["gpg", "--homedir", home, "--batch", "--import"], input=reporter_key.secret_armored.encode(),
                       check=True, capture_output=True)  # fmt: skip
        signed = subprocess.run(
            ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--clearsign"],
            input=f"{TEXT}\n- a dashed line\n".encode(), check=True, capture_output=True,
        ).stdout.decode()  # fmt: skip
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)
    unknown = _mail(signed)
    assert deliver(unknown).startswith("250 ")
    report = Report.objects.get(project=project)
    assert report.description == f"{TEXT}\n- a dashed line"
    assert InboundMail.objects.get().signature == Signature.UNVERIFIED
    known = _mail(signed, sender="bob@example.net")
    known.add_attachment(reporter_key.public_armored.encode(), maintype="application", subtype="pgp-keys")
    assert deliver(known, mail_from="bob@example.net").startswith("250 ")
    mail = InboundMail.objects.get(from_address="bob@example.net")
    assert (mail.signature, mail.signer_fingerprint) == (Signature.SIGNED_BY_ENCLOSED_KEY, reporter_key.fingerprint)


def test_owners_set_the_intake_address_on_the_settings_page(team: dict[str, Api]) -> None:
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(email="owner@example.org"))
    page = client.get("/projects/requests/settings/")
    assert 'name="intake_address"' in page.content.decode()
    saved = client.post(
        "/projects/requests/settings/", {"action": "intake", "intake_address": "Security@Requests.Example"}
    )
    assert saved.status_code == 302
    assert Project.objects.get(slug="requests").intake_address == "security@requests.example"
    refused = client.post("/projects/requests/settings/", {"action": "intake", "intake_address": "reply+x@example.org"})
    assert refused.status_code == 200
    assert "are Embargo&#x27;s reply addresses" in refused.content.decode()
    maintainer = Client()
    maintainer.force_login(User.objects.get(email="maintainer@example.org"))
    assert (
        maintainer.post("/projects/requests/settings/", {"action": "intake", "intake_address": ""}).status_code == 404
    )
    assert Project.objects.get(slug="requests").intake_address == "security@requests.example"


def test_purging_a_spam_report_purges_the_mail_it_came_in(
    project: Project, django_capture_on_commit_callbacks: Any
) -> None:
    import datetime as dt

    from embargo import clock
    from embargo.reports import retention
    from embargo.reports.actions import do_mark_spam
    from embargo.vault.files import storage

    deliver(_mail())
    report = Report.objects.get(project=project)
    name = InboundMail.objects.get().storage_name
    owner = User.objects.get(email="owner@example.org")
    do_mark_spam(access_report_by_id(owner, report.public_id, Permission.VIEW_REPORT), acting_user=owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.purge(report.pk, clock.now() + dt.timedelta(days=400)) is not None
    assert not InboundMail.objects.exists()
    assert not storage().exists(name)
