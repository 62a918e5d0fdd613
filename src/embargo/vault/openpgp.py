"""OpenPGP through GnuPG (python-gnupg): checking keys people give us, the project's key pair, and PGP/MIME
(RFC 3156) signing and encryption of e-mail.

Every function works in a fresh temporary GnuPG home (mode 0700) that holds only the keys it imported, and
stops that home's agent and removes it afterwards: no key ring outlives a call, so keys of one project never
meet another's. python-gnupg runs `gpg` with an argument list, never through a shell, and what a person typed
never becomes an argument (keys travel on stdin, fingerprints come from GnuPG itself).

The last two functions, `decrypt_mime` and `verify_signed_mime`, open what was sent: tests use them to read a
notice the way a packager's mail client would."""

from __future__ import annotations

import binascii
import copy
import datetime as dt
import email
import email.policy
import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.encoders import encode_7or8bit
from email.generator import BytesGenerator
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from typing import Any, Literal

import gnupg

# python-gnupg logs what it exports and the data it handles at DEBUG level: a secret key must never reach a
# log, whatever EMBARGO_LOG_LEVEL says.
logging.getLogger("gnupg").setLevel(logging.WARNING)

# No network, no pinentry, no trust database questions: a throwaway home answers everything from what we gave.
_OPTIONS = [
    "--pinentry-mode",
    "loopback",
    "--no-auto-key-retrieve",
    "--no-auto-key-locate",
    "--no-greeting",
    "--no-permission-warning",
    "--digest-algo",
    "SHA256",
    "--personal-digest-preferences",
    "SHA256",
]
# The canonical form of RFC 3156: CRLF line ends; headers folded at 78 so that parsing and writing again
# gives the same bytes.
_CANONICAL = email.policy.SMTP
_OUTER = email.policy.default
MAX_KEY_CHARS = 200_000
# OpenPGP hash algorithm numbers (RFC 4880 9.4) as RFC 3156's micalg names them.
_MICALG = {"1": "pgp-md5", "2": "pgp-sha1", "3": "pgp-ripemd160", "8": "pgp-sha256", "9": "pgp-sha384",
           "10": "pgp-sha512", "11": "pgp-sha224"}  # fmt: skip
_PUBLIC_BLOCK = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
_SECRET_BLOCK = "-----BEGIN PGP PRIVATE KEY BLOCK-----"  # noqa: S105 - an armour header, not a secret


class KeyRefused(Exception):
    """A key that cannot serve; `reason` is written for the person who gave it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str  # 40 hex digits, upper case
    uids: tuple[str, ...]
    created_at: dt.datetime
    # When the key stops serving its purpose: the primary key's expiry, or the last usable subkey's for the
    # purpose if that comes first. None: it does not expire.
    expires_at: dt.datetime | None
    can_encrypt: bool
    can_sign: bool


@dataclass(frozen=True)
class GeneratedKey:
    """A key pair, ASCII-armoured; the secret part has no passphrase (Embargo seals it at rest instead)."""

    public_armored: str
    secret_armored: str
    fingerprint: str
    expires_at: dt.datetime | None


class OpenPGPError(Exception):
    """GnuPG failed where it should not have (not a problem with a person's key)."""


# --- the temporary home ---------------------------------------------------------------------------------------


@contextmanager
def _home() -> Iterator[gnupg.GPG]:
    path = tempfile.mkdtemp(prefix="embargo-gpg-")  # mode 0700
    try:
        gpg = gnupg.GPG(gnupghome=path, options=list(_OPTIONS))
        gpg.encoding = "utf-8"
        yield gpg
    finally:
        # The agent started for secret-key work would outlive the directory otherwise.
        subprocess.run(  # noqa: S603 - fixed arguments, our own temporary path
            ["gpgconf", "--homedir", path, "--kill", "all"],  # noqa: S607 - gpgconf from PATH, as gpg itself
            check=False,
            capture_output=True,
            timeout=30,
        )
        shutil.rmtree(path, ignore_errors=True)


def _moment(epoch: str | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else None


def _day(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def fingerprint_display(fpr: str) -> str:
    """`ABCD EF01 2345 …`: a fingerprint in groups of four, as people compare them."""
    fpr = fpr.replace(" ", "").upper()
    return " ".join(fpr[i : i + 4] for i in range(0, len(fpr), 4))


# --- keys -----------------------------------------------------------------------------------------------------


def _import(gpg: gnupg.GPG, armored: str) -> Any:
    return gpg.import_keys(armored)


def _judge(key: dict[str, Any], *, now: dt.datetime, purpose: Literal["encrypt", "sign"]) -> KeyInfo:
    """A listed key (python-gnupg's dict) against the moment and the purpose; KeyRefused with the reason."""
    if key.get("trust") == "r":
        raise KeyRefused("the key was revoked by its owner")
    primary_expires = _moment(key.get("expires"))
    if primary_expires is not None and primary_expires <= now:
        raise KeyRefused(f"the key expired on {_day(primary_expires)}")
    # One entry per key that could serve: the primary (its own capabilities are the lower-case letters) and
    # each subkey; a revoked or expired one serves nothing.
    parts = [(str(key.get("cap", "")).replace("E", "").replace("S", "").replace("C", "").replace("A", ""),
              key.get("trust"), primary_expires)]  # fmt: skip
    for info in (key.get("subkey_info") or {}).values():
        parts.append((str(info.get("cap", "")), info.get("trust"), _moment(info.get("expires"))))

    def usable(letter: str) -> list[dt.datetime | None]:
        return [exp for caps, trust, exp in parts if letter in caps and trust != "r" and (exp is None or exp > now)]

    letter = "e" if purpose == "encrypt" else "s"
    serving = usable(letter)
    if not serving:
        having = [(trust, exp) for caps, trust, exp in parts if letter in caps]
        word = "encrypt" if purpose == "encrypt" else "sign"
        if not having:
            other = "signing" if purpose == "encrypt" else "encryption"
            raise KeyRefused(f"the key cannot {word}: it is a {other}-only key (it needs a subkey that can {word})")
        expiries = [exp for trust, exp in having if trust != "r" and exp is not None]
        if expiries:
            raise KeyRefused(f"every subkey that can {word} expired (the last on {_day(max(expiries))})")
        raise KeyRefused(f"every subkey that can {word} was revoked")
    last = None if any(exp is None for exp in serving) else max(e for e in serving if e is not None)
    expires_at = min((e for e in (primary_expires, last) if e is not None), default=None)
    return KeyInfo(
        fingerprint=str(key["fingerprint"]).upper(),
        uids=tuple(key.get("uids") or ()),
        created_at=_moment(key.get("date")) or now,
        expires_at=expires_at,
        can_encrypt=bool(usable("e")),
        can_sign=bool(usable("s")),
    )


def _one_key(keys: list[dict[str, Any]]) -> dict[str, Any]:
    if not keys:
        raise KeyRefused("this is not an OpenPGP key that GnuPG can read")
    if len(keys) > 1:
        raise KeyRefused(f"this holds {len(keys)} keys: give exactly one")
    return keys[0]


def _check_text(armored: str) -> str:
    if not isinstance(armored, str) or not armored.strip():
        raise KeyRefused("no key was given")
    if len(armored) > MAX_KEY_CHARS:
        raise KeyRefused(f"the key is longer than {MAX_KEY_CHARS:,} characters")
    return armored.strip() + "\n"


def inspect_public_key(armored: str, *, now: dt.datetime, purpose: Literal["encrypt", "sign"] = "encrypt") -> KeyInfo:
    """Reads one ASCII-armoured OpenPGP public key and checks that it can serve `purpose` at `now`.

    Refuses (KeyRefused, with the reason) anything else: not a public key (garbage, or a secret key, which
    must never be handed to us), more than one key, a revoked key, an expired key (the primary key, or every
    subkey usable for the purpose), a key that cannot encrypt (e.g. signing-only)."""
    text = _check_text(armored)
    if _SECRET_BLOCK in text:
        raise KeyRefused("this is a secret key: give the public key only (and keep the secret one to yourself)")
    if _PUBLIC_BLOCK not in text:
        raise KeyRefused(f"this is not an ASCII-armoured OpenPGP public key (it starts with {_PUBLIC_BLOCK})")
    with _home() as gpg:
        imported = _import(gpg, text)
        if imported.sec_read or gpg.list_keys(secret=True):
            raise KeyRefused("this is a secret key: give the public key only (and keep the secret one to yourself)")
        key = _one_key(gpg.list_keys())
    return _judge(key, now=now, purpose=purpose)


def inspect_secret_key(armored: str, *, now: dt.datetime) -> GeneratedKey:
    """Reads an uploaded ASCII-armoured secret key that is to sign for a project: exactly one key, without a
    passphrase, not revoked or expired, able to sign (checked by signing). Returns it as a key pair."""
    text = _check_text(armored)
    if _SECRET_BLOCK not in text:
        raise KeyRefused(f"this is not an ASCII-armoured OpenPGP secret key (it starts with {_SECRET_BLOCK})")
    with _home() as gpg:
        _import(gpg, text)
        secret = gpg.list_keys(secret=True)
        _one_key(secret)
        key = _one_key(gpg.list_keys())
        info = _judge(key, now=now, purpose="sign")
        # An empty passphrase: a protected key fails here instead of waiting for someone to type one.
        probe = gpg.sign(b"embargo", keyid=info.fingerprint, detach=True, passphrase="")
        if not probe:
            if probe.status == "bad passphrase" or "passphrase" in (probe.stderr or "").lower():
                raise KeyRefused("the key is protected by a passphrase: export it without one (Embargo seals it)")
            raise KeyRefused("GnuPG could not sign with this key (is its secret signing part missing?)")
        public = gpg.export_keys(info.fingerprint)
        secret_text = gpg.export_keys(info.fingerprint, secret=True, expect_passphrase=False)
    return GeneratedKey(
        public_armored=public, secret_armored=secret_text, fingerprint=info.fingerprint, expires_at=info.expires_at
    )


_FORBIDDEN_IN_NAME = re.compile(r"[\x00-\x1f\x7f<>()]")


def generate_key(name: str, email: str, *, expire: str = "0") -> GeneratedKey:
    """A new key pair: an ed25519 primary key that signs and certifies, and a cv25519 subkey that encrypts;
    no passphrase. `expire` is GnuPG's Expire-Date: "0" (never), "2y", "30d" or an ISO date."""
    # The parameters go to GnuPG as `Name: value` lines: a line break in a value would add parameters.
    clean_name = _FORBIDDEN_IN_NAME.sub("", name).strip()
    if not clean_name or any(c in email for c in "\r\n\x00<> ") or email.count("@") != 1:
        raise ValueError(f"cannot make a key for {name!r} <{email}>")
    if not re.fullmatch(r"0|\d{1,4}[dwmy]?|\d{4}-\d{2}-\d{2}", expire):
        raise ValueError(f"expire {expire!r}: use 0, a number of days, 30d, 2y or YYYY-MM-DD")
    with _home() as gpg:
        params = gpg.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            key_usage="sign",
            subkey_type="ECDH",
            subkey_curve="cv25519",
            subkey_usage="encrypt",
            name_real=clean_name,
            name_email=email,
            expire_date=expire,
            no_protection=True,
        )
        made = gpg.gen_key(params)
        fingerprint = str(made.fingerprint or "").upper()
        if not fingerprint:
            raise OpenPGPError(f"GnuPG made no key: {made.stderr[-500:]}")
        listed = gpg.list_keys(keys=fingerprint)
        public = gpg.export_keys(fingerprint)
        secret = gpg.export_keys(fingerprint, secret=True, expect_passphrase=False)
    return GeneratedKey(
        public_armored=public,
        secret_armored=secret,
        fingerprint=fingerprint,
        expires_at=_moment(listed[0].get("expires")) if listed else None,
    )


def _import_secret(gpg: gnupg.GPG, secret_armored: str) -> str:
    _import(gpg, _check_text(secret_armored))
    secret = gpg.list_keys(secret=True)
    if len(secret) != 1:
        raise KeyRefused("the signing key is not one OpenPGP secret key")
    return str(secret[0]["fingerprint"]).upper()


# --- PGP/MIME -------------------------------------------------------------------------------------------------


def _canonical_bytes(entity: Message) -> bytes:
    buffer = io.BytesIO()
    generator: BytesGenerator[Any] = BytesGenerator(buffer, mangle_from_=False, policy=_CANONICAL)
    generator.flatten(entity)
    return buffer.getvalue()


def _quoted_printable(data: bytes) -> str:
    encoded = binascii.b2a_qp(data.replace(b"\r\n", b"\n"), istext=True)
    # A line starting "From " is rewritten by some transports (mbox); encoding its F keeps it intact.
    encoded = re.sub(rb"(?m)^From ", b"=46rom ", encoded)
    return encoded.decode("ascii")


def _transport_safe(entity: Message) -> Message:
    """RFC 3156 section 3: what is signed must reach the reader byte for byte, so every leaf part is sent
    quoted-printable or base64 (7-bit, no trailing white space, no line starting "From ")."""
    entity = copy.deepcopy(entity)
    for part in entity.walk():
        if part.is_multipart():
            continue
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        if cte in ("quoted-printable", "base64"):
            continue
        if part.get_content_maintype() == "text":
            charset = part.get_content_charset()
            raw = part.get_payload()
            text = raw if isinstance(raw, str) else ""
            try:
                # 8-bit payloads are held as surrogate-escaped bytes, by the parser and by set_content alike.
                data = text.encode("ascii", "surrogateescape")
            except UnicodeEncodeError:
                data = text.encode(charset or "utf-8", "replace")
            if not data.isascii() and charset is None:
                part.set_param("charset", "utf-8")
            encoded, new_cte = _quoted_printable(data), "quoted-printable"
        else:
            data = _payload_bytes(part)
            encoded, new_cte = binascii.b2a_base64(data).decode("ascii"), "base64"
            encoded = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
        part.set_payload(encoded)
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = new_cte
    return entity


def _frozen_entity(entity: Message) -> tuple[Message, bytes]:
    """The entity in canonical form, and a parsed copy of it that a generator writes back byte for byte."""
    data = _canonical_bytes(entity)
    parsed = email.message_from_bytes(data, policy=_CANONICAL)
    if _canonical_bytes(parsed) != data:  # pragma: no cover - a guard for a generator that changes
        raise OpenPGPError("the MIME entity does not serialise the same way twice; it cannot be signed safely")
    return parsed, data


def _without_mime_version(part: Message) -> Message:
    del part["MIME-Version"]
    return part


def sign_mime(message: Message, *, secret_armored: str) -> Message:
    """`message` (a MIME entity: a text part, or a multipart with attachments) signed as RFC 3156
    multipart/signed with a detached signature by the key in `secret_armored`.

    The entity is made transport-safe and canonicalised with CRLF line ends before signing, and the returned
    message carries exactly those bytes. Set Subject, From, To etc. on the returned outer message; its own
    headers are not signed. Serialise it with `as_bytes()` (any line ending: the reader canonicalises)."""
    inner, data = _frozen_entity(_transport_safe(message))
    with _home() as gpg:
        signer = _import_secret(gpg, secret_armored)
        signed = gpg.sign(data, keyid=signer, detach=True, clearsign=False, binary=False)
        if not signed or not signed.data:
            raise OpenPGPError(f"GnuPG did not sign: {signed.status}")
    micalg = _MICALG.get(str(signed.hash_algo), "pgp-sha256")
    outer = MIMEMultipart("signed", policy=_OUTER, micalg=micalg, protocol="application/pgp-signature")
    outer.preamble = "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)"
    outer.attach(inner)
    signature = _without_mime_version(
        MIMEApplication(signed.data, "pgp-signature", encode_7or8bit, policy=_OUTER, name="signature.asc")
    )
    signature["Content-Description"] = "OpenPGP digital signature"
    signature["Content-Disposition"] = 'attachment; filename="signature.asc"'
    outer.attach(signature)
    return outer


def sign_and_encrypt_mime(message: Message, *, secret_armored: str, recipients_armored: list[str]) -> Message:
    """`message` signed by `secret_armored` and encrypted to every key of `recipients_armored`, in one GnuPG
    call (RFC 3156 6.2), as multipart/encrypted. The recipients' keys are trusted as given (they were checked
    when they were entered); one that cannot take encryption any more raises KeyRefused."""
    if not recipients_armored:
        raise ValueError("encrypting needs at least one recipient key")
    _, data = _frozen_entity(message)
    with _home() as gpg:
        signer = _import_secret(gpg, secret_armored)
        recipients = []
        for armored in recipients_armored:
            imported = _import(gpg, _check_text(armored))
            if not imported.fingerprints:
                raise KeyRefused("a recipient's key could not be read")
            recipients.append(str(imported.fingerprints[0]).upper())
        result = gpg.encrypt(data, recipients, sign=signer, always_trust=True, armor=True)
        if not result.ok:
            if "invalid recipient" in result.status:
                raise KeyRefused(f"a recipient's key cannot take encryption any more ({result.status})")
            raise OpenPGPError(f"GnuPG did not encrypt: {result.status}")
        ciphertext = bytes(result.data)
    outer = MIMEMultipart("encrypted", policy=_OUTER, protocol="application/pgp-encrypted")
    outer.preamble = "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)"
    control = _without_mime_version(MIMEApplication(b"Version: 1\n", "pgp-encrypted", encode_7or8bit, policy=_OUTER))
    control["Content-Description"] = "PGP/MIME version identification"
    outer.attach(control)
    body = _without_mime_version(
        MIMEApplication(ciphertext, "octet-stream", encode_7or8bit, policy=_OUTER, name="encrypted.asc")
    )
    body["Content-Description"] = "OpenPGP encrypted message"
    body["Content-Disposition"] = 'inline; filename="encrypted.asc"'
    outer.attach(body)
    return outer


# --- reading what was sent (test helpers, and what a packager's mail client does) ----------------------------


def _find(message: Message, content_type: str) -> Message | None:
    return next((part for part in message.walk() if part.get_content_type() == content_type), None)


def _signed_region(signed: Message) -> bytes | None:
    """The exact bytes of the first part of a multipart/signed, as RFC 3156 defines them: between the CRLF
    that ends the first delimiter line and the CRLF that precedes the next one, in canonical form."""
    boundary = signed.get_boundary()
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("ascii", "replace")
    lines = _canonical_bytes(signed).split(b"\r\n")
    marks = [i for i, line in enumerate(lines) if line.rstrip(b" \t") in (delimiter, delimiter + b"--")]
    if len(marks) < 2:
        return None
    return b"\r\n".join(lines[marks[0] + 1 : marks[1]])


def _payload_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _two_parts(container: Message | None) -> list[Message] | None:
    parts = container.get_payload() if container is not None else None
    if not isinstance(parts, list) or len(parts) != 2:
        return None
    found = [p for p in parts if isinstance(p, Message)]
    return found if len(found) == 2 else None


def verify_signed_mime(message: Message, *, public_armored: str) -> str | None:
    """For a multipart/signed message (or one that contains one): the fingerprint of the key in
    `public_armored` if its signature over the signed part is valid, else None."""
    signed = _find(message, "multipart/signed")
    parts = _two_parts(signed)
    if signed is None or parts is None or parts[1].get_content_type() != "application/pgp-signature":
        return None
    region = _signed_region(signed)
    if region is None:
        return None
    with _home() as gpg:
        _import(gpg, _check_text(public_armored))
        sig_path = os.path.join(gpg.gnupghome, "signature.asc")
        with open(sig_path, "wb") as f:
            f.write(_payload_bytes(parts[1]))
        verified = gpg.verify_data(sig_path, region)
    if not verified.valid:
        return None
    return str(verified.pubkey_fingerprint or verified.fingerprint).upper()


def decrypt_mime(message: Message, *, secret_armored: str, signer_armored: str = "") -> tuple[Message, str | None]:
    """For a multipart/encrypted message: the decrypted inner MIME entity, and the fingerprint of the valid
    signature inside it, or None when there is none.

    Checking a signature needs the signer's public key: pass it as `signer_armored` (for an embargo notice,
    the project's key from `pgp-key.asc`). Without it the signature cannot be checked and the answer is None.
    Raises ValueError when the message is not PGP/MIME encrypted or does not decrypt with the key."""
    parts = _two_parts(_find(message, "multipart/encrypted"))
    if parts is None:
        raise ValueError("not a PGP/MIME encrypted message (multipart/encrypted with two parts)")
    with _home() as gpg:
        _import(gpg, _check_text(secret_armored))
        if signer_armored:
            _import(gpg, _check_text(signer_armored))
        result = gpg.decrypt(_payload_bytes(parts[1]), always_trust=True)
    if not result.ok:
        raise ValueError(f"the message does not decrypt with this key ({result.status})")
    inner = email.message_from_bytes(bytes(result.data), policy=_OUTER)
    signer = str(result.pubkey_fingerprint or result.fingerprint).upper() if result.valid else None
    return inner, signer
