"""Reading incoming mail, without a database: plain and multipart messages, charsets, malformed mail, automatic
mail, and replies without their quoted history."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from embargo.mailin import parsing

OWN = {"embargo@example.org"}


def _plain(body: str = "The proxy leaks the header.", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ada <ada@example.net>"
    message["To"] = "security@requests.example"
    message["Subject"] = "Header leak"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def test_a_plain_message_gives_subject_text_and_sender() -> None:
    message = parsing.parse(_plain())
    content = parsing.extract(message)
    assert (content.subject, content.text, content.attachments, content.problems) == (
        "Header leak",
        "The proxy leaks the header.",
        [],
        [],
    )
    assert parsing.from_address(message) == "ada@example.net"


def test_a_multipart_message_keeps_its_attachments_and_takes_the_text_part() -> None:
    message = EmailMessage()
    message["From"] = "ada@example.net"
    message["Subject"] = "PoC attached"
    message.set_content("See the script.")
    message.add_alternative("<p>See the <b>script</b>.</p>", subtype="html")
    message.add_attachment(b"import sys\nsys.exit(1)\n", maintype="text", subtype="x-python", filename="poc.py")
    message.add_attachment(b"\x89PNG\r\n", maintype="image", subtype="png", filename="screen.png")
    content = parsing.extract(parsing.parse(message.as_bytes()))
    assert content.text == "See the script."
    assert [(a.filename, a.content_type, a.content) for a in content.attachments] == [
        ("poc.py", "text/x-python", b"import sys\nsys.exit(1)\n"),
        ("screen.png", "image/png", b"\x89PNG\r\n"),
    ]


def test_an_html_only_message_is_read_as_plain_text() -> None:
    message = EmailMessage()
    message["Subject"] = "html"
    message.set_content("<p>First &amp; second</p><script>alert(1)</script><p>third</p>", subtype="html")
    content = parsing.extract(parsing.parse(message.as_bytes()))
    assert "First & second" in content.text
    assert "third" in content.text
    assert "<" not in content.text
    assert "alert" not in content.text


def test_a_declared_latin1_message_is_read_in_its_charset() -> None:
    raw = (
        b"From: ada@example.net\r\nSubject: =?iso-8859-1?q?Fen=EAtre?=\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"La fen\xeatre fuit.\r\n"
    )
    content = parsing.extract(parsing.parse(raw))
    assert (content.subject, content.text, content.problems) == ("Fenêtre", "La fenêtre fuit.", [])


def test_undeclared_8bit_text_that_is_not_utf8_is_read_and_flagged() -> None:
    raw = b"From: ada@example.net\r\nSubject: x\r\n\r\nLa fen\xeatre fuit.\r\n"
    content = parsing.extract(parsing.parse(raw))
    assert content.text == "La fenêtre fuit."
    assert content.problems == ["the text declares no character set and is not UTF-8: read as Latin-1"]


def test_a_wrong_or_unknown_charset_is_flagged_not_fatal() -> None:
    raw = b"From: ada@example.net\r\nSubject: x\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nCaf\xc3\xa9\r\n"
    content = parsing.extract(parsing.parse(raw))
    assert content.text == "Café"
    assert content.problems == ["the text is not valid x-klingon: some characters may be wrong"]


def test_malformed_mail_is_read_as_far_as_it_goes() -> None:
    raw = (
        b"From: ada@example.net\r\nSubject: broken\r\nContent-Type: multipart/mixed\r\n\r\n"  # no boundary
        b"Some text anyway.\r\n"
    )
    content = parsing.extract(parsing.parse(raw))
    assert content.subject == "broken"
    assert "Some text anyway." in content.text
    assert content.problems
    assert content.problems[0].startswith("the message is malformed")


def test_garbage_never_raises() -> None:
    for raw in (b"", b"\x00\xff\xfe", b"Subject: =?utf-8?b?!!!?=\r\n\r\n", b"From: <<<@@>>>\r\n\r\nx"):
        message = parsing.parse(raw)
        parsing.extract(message)
        parsing.from_address(message)
        parsing.auto_reply_reason(message, envelope_from="x@example.net", own_addresses=OWN)


@pytest.mark.parametrize(
    ("headers", "envelope_from", "expected"),
    [
        ({"Auto_Submitted": "auto-replied"}, "ada@example.net", "automatic (Auto-Submitted: auto-replied)"),
        ({"Auto_Submitted": "auto-generated"}, "ada@example.net", "automatic (Auto-Submitted: auto-generated)"),
        ({"Precedence": "bulk"}, "ada@example.net", "bulk (Precedence: bulk)"),
        ({"Precedence": "junk"}, "ada@example.net", "bulk (Precedence: junk)"),
        ({"Precedence": "list"}, "ada@example.net", "bulk (Precedence: list)"),
        ({"X_Auto_Response_Suppress": "All"}, "ada@example.net", "automatic (X-Auto-Response-Suppress)"),
        ({"List_Id": "<dev.example.org>"}, "ada@example.net", "mailing list (List-Id)"),
        ({}, "", "bounce (empty Return-Path)"),
        ({}, "<>", "bounce (empty Return-Path)"),
        ({"Return_Path": "<>"}, "ada@example.net", "bounce (empty Return-Path)"),
        ({}, "embargo@example.org", "loop (from our own address)"),
    ],
)
def test_automatic_mail_is_recognised(headers: dict[str, str], envelope_from: str, expected: str) -> None:
    message = parsing.parse(_plain(**headers))
    assert parsing.auto_reply_reason(message, envelope_from=envelope_from, own_addresses=OWN) == expected


def test_our_own_from_address_is_a_loop() -> None:
    raw = _plain().replace(b"Ada <ada@example.net>", b"Embargo <EMBARGO@example.org>")
    reason = parsing.auto_reply_reason(parsing.parse(raw), envelope_from="relay@example.net", own_addresses=OWN)
    assert reason == "loop (from our own address)"


def test_a_persons_message_is_not_automatic() -> None:
    message = parsing.parse(_plain(Auto_Submitted="no", Precedence="first-class"))
    assert parsing.auto_reply_reason(message, envelope_from="ada@example.net", own_addresses=OWN) is None


@pytest.mark.parametrize(
    "reply",
    [
        "Yes, squid 6.1.\n\nOn Mon, 7 Dec 2026 at 10:00, Embargo <embargo@example.org> wrote:\n> Which proxy?\n",
        "Yes, squid 6.1.\n\nOn Mon, 7 Dec 2026 at 10:00, Embargo\n<embargo@example.org> wrote:\n> Which proxy?\n",
        "Yes, squid 6.1.\n> Which proxy?\n> > earlier\n",
        "Yes, squid 6.1.\n\n-- \nAda Lovelace\nAnalytical Engines Ltd\n",
        "Yes, squid 6.1.\n\n-----Original Message-----\nFrom: Embargo\nWhich proxy?\n",
        "Yes, squid 6.1.\r\n\r\nAm 07.12.2026 um 10:00 schrieb Embargo <embargo@example.org>:\r\n> Which proxy?\r\n",
    ],
)
def test_a_reply_loses_its_quoted_history_and_signature(reply: str) -> None:
    assert parsing.strip_quoted(reply) == "Yes, squid 6.1."


def test_text_that_only_mentions_on_is_kept() -> None:
    text = "On second thought, the redirect is the culprit.\nIt keeps the header."
    assert parsing.strip_quoted(text) == text


def test_an_inline_pgp_block_is_found() -> None:
    text = "Hi\n-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\nbye"
    assert parsing.inline_pgp_block(text) == "-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----"
    assert parsing.inline_pgp_block("no block") is None
