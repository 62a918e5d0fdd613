"""Reading an incoming message: plain Python over the standard library's e-mail parser, no Django.

Whatever a sender's program did, reading never raises: what cannot be read is said in `problems`, and the
caller keeps the raw message (sealed) beside what could be read."""

from __future__ import annotations

import email
import email.errors
import email.parser
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

import nh3

MAX_TITLE = 200
PGP_MESSAGE = re.compile(r"-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", re.DOTALL)
# The parts of an OpenPGP message that are not content: read for verification, never kept as attachments.
PGP_MACHINERY = ("application/pgp-signature", "application/pgp-encrypted")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Content:
    """What a message says: its subject, its text and its files, and what could not be read."""

    subject: str = ""
    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # ASCII-armoured public keys the message carries (application/pgp-keys parts): candidates to verify its signature.
    keys: list[str] = field(default_factory=list)


class Unparsable(email.errors.MessageDefect):
    """The parser gave up on the message's structure (e.g. MIME parts nested too deeply): only its headers
    were read."""


def parse(raw: bytes) -> EmailMessage:
    """The message as the standard library reads it; never raises (a broken message has `defects`). A message
    whose structure the parser cannot follow (nesting deep enough to exhaust Python's recursion) comes back as its
    headers with an empty text body and the `Unparsable` defect."""
    try:
        return email.message_from_bytes(raw, policy=email.policy.default)
    except (RecursionError, MemoryError, ValueError, LookupError, TypeError, IndexError, AttributeError):
        pass
    headers = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw, headersonly=True)
    message = EmailMessage()
    for name, value in headers.raw_items():
        if name.lower() not in ("content-type", "content-transfer-encoding", "mime-version"):
            message[name] = value
    message.set_payload("")
    message.defects.append(Unparsable())
    return message


def parts(message: Message) -> Iterator[Message]:
    """Every part of `message`, itself first, depth first as `Message.walk`, but without recursion (no depth
    of nesting exhausts the stack) and without looking inside a forwarded message (message/rfc822): that is one
    part, whole."""
    stack = [message]
    while stack:
        part = stack.pop()
        yield part
        if part.get_content_type() == "message/rfc822" or not part.is_multipart():
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def header(message: Message, name: str) -> str:
    """A header's text, decoded; empty when it is missing or cannot be decoded."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the parser chokes on counts as missing
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def from_address(message: Message) -> str:
    """The address in From, lower case; empty if there is none that looks like an address."""
    try:
        found = getaddresses([header(message, "From")])
    except Exception:  # noqa: BLE001 - a From the parser chokes on: no usable address
        return ""
    address = found[0][1] if found else ""
    return address.strip().lower() if address.count("@") == 1 and " " not in address else ""


def auto_reply_reason(message: Message, *, envelope_from: str | None, own_addresses: set[str]) -> str | None:
    """Why the message must not be answered nor turned into a report (RFC 3834, and what common programs send):
    an auto-reply, a list or bulk mail, a bounce, or our own mail coming back. None for a person's message."""
    auto = header(message, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"automatic (Auto-Submitted: {auto[:60]})"
    precedence = header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk (Precedence: {precedence})"
    if header(message, "X-Auto-Response-Suppress"):
        return "automatic (X-Auto-Response-Suppress)"
    if header(message, "List-Id"):
        return "mailing list (List-Id)"
    if envelope_from is not None and envelope_from.strip("<> ") == "":
        return "bounce (empty Return-Path)"
    if header(message, "Return-Path").strip() == "<>":
        return "bounce (empty Return-Path)"
    sender = from_address(message)
    if sender and sender in own_addresses:
        return "loop (from our own address)"
    if envelope_from and envelope_from.strip("<> ").lower() in own_addresses:
        return "loop (from our own address)"
    return None


def decode_text(part: Message, problems: list[str]) -> str:
    """A text part's payload as text: in its declared charset, else UTF-8, else Latin-1 (which reads any bytes),
    saying so in `problems` when the text may have come out wrong."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = (part.get_content_charset() or "").lower()
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            problems.append(f"the text is not valid {charset[:40]}: some characters may be wrong")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if not charset:
            problems.append("the text declares no character set and is not UTF-8: read as Latin-1")
        return data.decode("latin-1")


def html_to_text(html: str) -> str:
    """An HTML body as plain text: tags dropped (nh3 with no tag allowed), entities decoded, blank lines folded."""
    import html as html_module

    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>|</h\d>", "\n", html)
    text = html_module.unescape(nh3.clean(html, tags=set()))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - a malformed parameter: the file is kept under a made-up name
        name = None
    if name:
        return str(name)
    if part.get_content_type() == "message/rfc822":
        return f"forwarded-{index}.eml"
    subtype = part.get_content_subtype() if part.get_content_maintype() != "multipart" else "bin"
    return f"attachment-{index}.{subtype if subtype.isalnum() else 'bin'}"


def extract(message: Message) -> Content:
    """Subject, text and attachments of a (decrypted) message. The text is the first text/plain part that is not
    an attachment, else the first text/html one as plain text; every other leaf part is an attachment, and so is
    a forwarded message (message/rfc822), whole, as one `.eml` file."""
    content = Content(subject=header(message, "Subject")[:MAX_TITLE])
    if any(isinstance(d, Unparsable) for d in message.defects):
        content.problems.append("the message's structure could not be read (parts nested too deeply)")
    elif message.defects:
        content.problems.append(
            "the message is malformed (" + ", ".join(sorted({type(d).__name__ for d in message.defects}))[:200] + ")"
        )
    plain: str | None = None
    html: str | None = None
    index = 0
    for part in parts(message):
        content_type = part.get_content_type()
        if part.is_multipart() and content_type != "message/rfc822":
            continue
        if content_type in PGP_MACHINERY:
            continue
        disposition = (part.get_content_disposition() or "").lower()
        maintype = part.get_content_maintype()
        if content_type == "application/pgp-keys":
            key = decode_text(part, [])
            if "-----BEGIN PGP PUBLIC KEY BLOCK-----" in key:
                content.keys.append(key)
        if maintype == "multipart" and plain is None:
            # A multipart without a boundary (or with a broken one): its body is all there is to read.
            plain = decode_text(part, content.problems)
            continue
        if disposition != "attachment" and maintype == "text":
            if content_type == "text/plain" and plain is None:
                plain = decode_text(part, content.problems)
                continue
            if content_type == "text/html" and html is None:
                html = decode_text(part, content.problems)
                continue
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            try:
                data = inner.as_bytes() if isinstance(inner, Message) else b""
            except (RecursionError, LookupError, UnicodeError, ValueError):
                data = b""
                content.problems.append("a forwarded message could not be written out: see the original")
        else:
            decoded = part.get_payload(decode=True)
            data = decoded if isinstance(decoded, bytes) else b""
        index += 1
        content.attachments.append(Attachment(_filename(part, index), content_type[:200], data))
    if plain is not None:
        content.text = plain
    elif html is not None:
        content.text = html_to_text(html)
    content.text = content.text.replace("\r\n", "\n").strip()
    return content


def inline_pgp_block(text: str) -> str | None:
    """The first inline `-----BEGIN PGP MESSAGE-----` block of a text, if it has one."""
    match = PGP_MESSAGE.search(text)
    return match.group(0) if match else None


# --- replies -----------------------------------------------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^\s*(on\b.{0,300}\bwrote:|am\b.{0,300}\bschrieb.{0,100}:|le\b.{0,300}\ba écrit\s*:"
    r"|-+\s*original message\s*-+)\s*$",
    re.IGNORECASE,
)


def strip_quoted(text: str) -> str:
    """A reply without what it quotes: lines starting with `>`, an attribution ("On … wrote:", which mail
    programs may wrap over two lines) and everything after it, and a signature after the `-- ` separator."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if line == "-- " or line == "--":
            break
        joined = line + " " + lines[i + 1] if i + 1 < len(lines) else line
        if _ATTRIBUTION.match(line) or (line.strip().lower().startswith("on ") and _ATTRIBUTION.match(joined)):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def addresses_of(value: str) -> list[str]:
    """The addresses of a header such as To or Delivered-To, lower case."""
    return [parseaddr(a)[1].lower() for a in value.split(",") if parseaddr(a)[1]]
