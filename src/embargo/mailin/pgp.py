"""Opening OpenPGP mail sent to a project: PGP/MIME (RFC 3156) encrypted or signed, and inline
`-----BEGIN PGP MESSAGE-----` blocks, with the project's secret keys (the active one and the retired ones, as
a reporter may still use an older public key).

GnuPG runs in the throwaway homes of `embargo.vault.openpgp`; the ciphertext goes in on a pipe and the clear text
comes back on one, so nothing decrypted is written to disk here (the caller seals it like any report)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.message import Message

from django.conf import settings

from embargo.mailin import parsing
from embargo.mailin.models import Signature
from embargo.vault import openpgp
from embargo.vault.openpgp import _home

_SESSION_KEY = re.compile(r"^\[GNUPG:\] SESSION_KEY (\S+)$", re.MULTILINE)


def max_output() -> int:
    """The most a message may decrypt to (`--max-output`): twice what `embargo mail-in` takes, since OpenPGP
    compresses and a small message could otherwise unpack to gigabytes."""
    return 2 * int(settings.EMBARGO_MAIL_IN_MAX_BYTES)


class Unreadable(Exception):
    """A message the project's key opens, but that cannot be taken (it decrypts to too much)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Opened:
    """The message to read content from (the decrypted one, or the original), and what OpenPGP said."""

    message: Message
    encrypted: bool = False
    signature: str = Signature.NOT_SIGNED
    signer: str = ""
    problem: str = ""
    session_key: str = ""  # see `Decrypted`


@dataclass(frozen=True)
class Decrypted:
    data: bytes
    signature: str
    signer: str
    # SHA-256 of the message's session key ("algo:hex" as GnuPG shows it): the same for the same ciphertext
    # however it is armoured or wrapped, so a ciphertext sent again by someone else is recognised.
    session_key: str = ""


def _decrypt_once(ciphertext: bytes, *, secret_keys: list[str], public_keys: list[str]) -> Decrypted | None:
    limit = max_output()
    with _home() as gpg:
        for armored in [*secret_keys, *public_keys]:
            gpg.import_keys(armored)
        result = gpg.decrypt(
            ciphertext, always_trust=True, extra_args=["--show-session-key", "--max-output", str(limit)]
        )
    status = result.stderr or ""
    data = bytes(result.data)
    # GnuPG still says DECRYPTION_OKAY when it stopped writing at --max-output.
    if "--max-output" in status or len(data) >= limit:
        raise Unreadable(f"the message decrypts to more than {limit:,} bytes, more than this server takes")
    if not result.ok:
        return None
    found = _SESSION_KEY.search(status)
    session_key = hashlib.sha256(found.group(1).upper().encode("ascii", "replace")).hexdigest() if found else ""
    if result.valid:
        fingerprint = str(result.pubkey_fingerprint or result.fingerprint or "").upper()
        return Decrypted(data, Signature.VERIFIED, fingerprint, session_key)
    signed = any(f"[GNUPG:] {tag}" in status for tag in ("NEWSIG", "ERRSIG", "BADSIG", "GOODSIG"))
    return Decrypted(data, Signature.UNVERIFIED if signed else Signature.NOT_SIGNED, "", session_key)


def decrypt(
    ciphertext: bytes, *, secret_keys: list[str], public_keys: list[str], enclosed_keys: list[str] | None = None
) -> Decrypted | None:
    """`ciphertext` (armoured or binary OpenPGP) decrypted with one of `secret_keys`; None if none opens it.
    A signature inside is checked against `public_keys` (and the secret keys' own public parts): VERIFIED; failing
    that, against `enclosed_keys` (keys the mail carried): SIGNED_BY_ENCLOSED_KEY. Raises Unreadable when the
    clear text is larger than `max_output()`."""
    result = _decrypt_once(ciphertext, secret_keys=secret_keys, public_keys=public_keys)
    if result is None or not enclosed_keys:
        return result
    return _check_enclosed(
        ciphertext, result, secret_keys=secret_keys, public_keys=public_keys, enclosed_keys=enclosed_keys
    )


def _check_enclosed(
    ciphertext: bytes, result: Decrypted, *, secret_keys: list[str], public_keys: list[str], enclosed_keys: list[str]
) -> Decrypted:
    """`result` with its signature checked again with the keys the mail carried, if no key on file verified it."""
    if result.signature != Signature.UNVERIFIED or not enclosed_keys:
        return result
    again = _decrypt_once(ciphertext, secret_keys=secret_keys, public_keys=[*public_keys, *enclosed_keys])
    if again is not None and again.signature == Signature.VERIFIED:
        return Decrypted(again.data, Signature.SIGNED_BY_ENCLOSED_KEY, again.signer, again.session_key)
    return result


def _find(message: Message, content_type: str) -> Message | None:
    """The first part of `content_type`, not looking inside forwarded messages (message/rfc822): a signature
    or a ciphertext in a mail someone forwards is not the forwarder's."""
    return next((p for p in parsing.parts(message) if p.get_content_type() == content_type), None)


def _verify_signed(message: Message, known_keys: list[str], enclosed_keys: list[str]) -> tuple[str, str]:
    """For a message holding a multipart/signed part: (signature status, signer fingerprint)."""
    signed = _find(message, "multipart/signed")
    if signed is None:
        return Signature.NOT_SIGNED, ""
    for keys, status in ((known_keys, Signature.VERIFIED), (enclosed_keys, Signature.SIGNED_BY_ENCLOSED_KEY)):
        for key in keys:
            try:
                signer = openpgp.verify_signed_mime(signed, public_armored=key)
            except openpgp.KeyRefused:
                continue
            if signer:
                return status, signer
    return Signature.UNVERIFIED, ""


def open_message(message: Message, *, secret_keys: list[str], known_keys: list[str]) -> Opened:
    """Decrypts a PGP/MIME encrypted message with the project's keys and checks any signature against
    `known_keys` (VERIFIED) and the keys the message itself carries (SIGNED_BY_ENCLOSED_KEY). Inline blocks are
    left to `open_inline`."""
    encrypted = _find(message, "multipart/encrypted")
    if encrypted is None:
        signature, signer = _verify_signed(message, known_keys, parsing.extract(message).keys)
        return Opened(message, signature=signature, signer=signer)
    parts = encrypted.get_payload()
    body = parts[1] if isinstance(parts, list) and len(parts) == 2 and isinstance(parts[1], Message) else None
    ciphertext = body.get_payload(decode=True) if body is not None else None
    if not isinstance(ciphertext, bytes) or not ciphertext:
        return Opened(message, encrypted=True, problem="the encrypted message is malformed (RFC 3156 wants two parts)")
    if not secret_keys:
        return Opened(message, encrypted=True, problem="the message is encrypted, but the project has no OpenPGP key")
    try:
        result = decrypt(ciphertext, secret_keys=secret_keys, public_keys=known_keys)
        if result is None:
            return Opened(
                message, encrypted=True, problem="the message is encrypted to a key the project does not hold"
            )
        inner = parsing.parse(result.data)
        carried = parsing.extract(inner).keys
        # Signed by a key the message carries inside: decrypt again with it to check the signature.
        result = _check_enclosed(
            ciphertext, result, secret_keys=secret_keys, public_keys=known_keys, enclosed_keys=carried
        )
    except Unreadable as e:
        return Opened(message, encrypted=True, problem=e.reason)
    signature, signer = result.signature, result.signer
    if signature == Signature.NOT_SIGNED:
        signature, signer = _verify_signed(inner, known_keys, carried)
    return Opened(inner, encrypted=True, signature=signature, signer=signer, session_key=result.session_key)


def open_inline(
    text: str, *, secret_keys: list[str], known_keys: list[str], enclosed_keys: list[str]
) -> tuple[str, Decrypted | None, str]:
    """A text with an inline `-----BEGIN PGP MESSAGE-----` block: (the text with the block decrypted, what
    decryption said, a problem if it could not be). Text without a block comes back as it is."""
    block = parsing.inline_pgp_block(text)
    if block is None:
        return text, None, ""
    if not secret_keys:
        return text, None, "the message is encrypted, but the project has no OpenPGP key"
    try:
        result = decrypt(
            block.encode("utf-8", "replace"), secret_keys=secret_keys, public_keys=known_keys,
            enclosed_keys=enclosed_keys,
        )  # fmt: skip
    except Unreadable as e:
        return text, None, e.reason
    if result is None:
        return text, None, "the message is encrypted to a key the project does not hold"
    problems: list[str] = []
    try:
        clear = result.data.decode("utf-8")
    except UnicodeDecodeError:
        clear = result.data.decode("latin-1")
        problems.append("the decrypted text is not UTF-8: read as Latin-1")
    return text.replace(block, clear.strip()), result, "; ".join(problems)


_CLEARSIGNED = re.compile(
    r"-----BEGIN PGP SIGNED MESSAGE-----\r?\n(?:[^\r\n]+\r?\n)*\r?\n(.*?)\r?\n"
    r"-----BEGIN PGP SIGNATURE-----.*?-----END PGP SIGNATURE-----",
    re.DOTALL,
)


def open_clearsigned(text: str, *, known_keys: list[str], enclosed_keys: list[str]) -> tuple[str, str, str]:
    """A text with an inline clear-signed block: (the text with the block's armour taken off, signature status,
    signer fingerprint). The signature is checked against `known_keys` (VERIFIED), then `enclosed_keys`
    (SIGNED_BY_ENCLOSED_KEY)."""
    match = _CLEARSIGNED.search(text)
    if match is None:
        return text, Signature.NOT_SIGNED, ""
    # RFC 4880 7.1: lines starting with "-" are dash-escaped ("- ") inside the signed text.
    clear = "\n".join(line[2:] if line.startswith("- ") else line for line in match.group(1).splitlines())
    opened = text.replace(match.group(0), clear)
    for keys, status in ((known_keys, Signature.VERIFIED), (enclosed_keys, Signature.SIGNED_BY_ENCLOSED_KEY)):
        if not keys:
            continue
        with _home() as gpg:
            for armored in keys:
                gpg.import_keys(armored)
            verified = gpg.verify(match.group(0).encode("utf-8"))
        if verified.valid:
            return opened, status, str(verified.pubkey_fingerprint or verified.fingerprint or "").upper()
    return opened, Signature.UNVERIFIED, ""
