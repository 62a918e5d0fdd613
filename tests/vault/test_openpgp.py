"""OpenPGP through GnuPG: the keys people give are checked, and PGP/MIME mail is signed and encrypted so that a
receiving mail client opens and verifies it (RFC 3156)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
import tempfile
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

from embargo.vault import openpgp
from embargo.vault.openpgp import KeyRefused
from tests.vault import keys

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
TEXT = "Embargoed until Tuesday.\nFrom the team: trailing space here \n\tand a tab, and ünïcode.\n"
ATTACHMENT = bytes(range(256)) * 4


def notice() -> EmailMessage:
    """What a notice looks like inside: a text and a binary attachment."""
    message = EmailMessage()
    message.set_content(TEXT)
    message.add_attachment(ATTACHMENT, maintype="application", subtype="octet-stream", filename="fix.patch.gz")
    return message


def sent(message: Message, *, crlf: bool = True) -> Message:
    """The message as the reader's client gets it: serialised, carried, parsed again."""
    if crlf:
        return email.message_from_bytes(message.as_bytes(policy=email.policy.SMTP), policy=email.policy.default)
    return email.message_from_string(message.as_string(), policy=email.policy.default)


def parts_of(message: Message) -> tuple[str, bytes]:
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    # Python's parser keeps the CRLF line ends of the wire in text it decodes; a mail client shows lines.
    return body.get_content().replace("\r\n", "\n"), attachments[0].get_content()


# --- signing ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed() -> Message:
    outer = openpgp.sign_mime(notice(), secret_armored=keys.project_key().secret_armored)
    outer["Subject"] = "[EMBARGOED] a security release"  # the caller's headers are not part of the signature
    return outer


def test_a_signed_message_is_rfc_3156_multipart_signed(signed: Message) -> None:
    assert signed.get_content_type() == "multipart/signed"
    assert signed.get_param("protocol") == "application/pgp-signature"
    assert signed.get_param("micalg") == "pgp-sha256"
    inner, signature = signed.get_payload()
    assert inner.get_content_type() == "multipart/mixed"
    assert signature.get_content_type() == "application/pgp-signature"
    assert "-----BEGIN PGP SIGNATURE-----" in signature.get_payload()
    # Transport-safe, as RFC 3156 requires: no 8-bit, no trailing white space, no line starting "From ".
    raw = signed.as_bytes(policy=email.policy.SMTP)
    assert raw.isascii()
    assert b"\nFrom " not in raw
    assert not any(line.endswith((b" ", b"\t")) for line in raw.split(b"\r\n") if not line.startswith(b" "))


@pytest.mark.parametrize("crlf", [True, False], ids=["CRLF", "LF"])
def test_a_signed_message_verifies_with_the_signers_public_key(signed: Message, crlf: bool) -> None:
    received = sent(signed, crlf=crlf)
    assert openpgp.verify_signed_mime(received, public_armored=keys.project_key().public_armored) == (
        keys.project_key().fingerprint
    )
    assert parts_of(received.get_payload()[0]) == (TEXT, ATTACHMENT)


def test_a_signature_does_not_verify_with_another_key(signed: Message) -> None:
    assert openpgp.verify_signed_mime(sent(signed), public_armored=keys.other_key().public_armored) is None


def test_one_changed_byte_of_the_signed_part_breaks_the_signature(signed: Message) -> None:
    raw = signed.as_bytes(policy=email.policy.SMTP)
    assert raw.count(b"Embargoed until Tuesday") == 1
    tampered = raw.replace(b"Embargoed until Tuesday", b"Embargoed until Tuesdax")
    public = keys.project_key().public_armored
    assert openpgp.verify_signed_mime(email.message_from_bytes(raw), public_armored=public) is not None
    assert openpgp.verify_signed_mime(email.message_from_bytes(tampered), public_armored=public) is None


def test_a_message_that_is_not_signed_verifies_as_nothing() -> None:
    assert openpgp.verify_signed_mime(notice(), public_armored=keys.project_key().public_armored) is None


# --- signing and encrypting ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def encrypted() -> Message:
    return openpgp.sign_and_encrypt_mime(
        notice(),
        secret_armored=keys.project_key().secret_armored,
        recipients_armored=[keys.packager_key().public_armored],
    )


def test_an_encrypted_message_is_rfc_3156_multipart_encrypted(encrypted: Message) -> None:
    assert encrypted.get_content_type() == "multipart/encrypted"
    assert encrypted.get_param("protocol") == "application/pgp-encrypted"
    control, body = encrypted.get_payload()
    assert control.get_content_type() == "application/pgp-encrypted"
    assert control.get_payload().strip() == "Version: 1"
    assert body.get_content_type() == "application/octet-stream"
    assert body.get_payload().startswith("-----BEGIN PGP MESSAGE-----")
    raw = encrypted.as_bytes()
    assert b"Embargoed" not in raw
    assert b"fix.patch.gz" not in raw  # not even the file names travel in clear


def test_the_recipient_decrypts_the_same_message_signed_by_the_project(encrypted: Message) -> None:
    inner, signer = openpgp.decrypt_mime(
        sent(encrypted),
        secret_armored=keys.packager_key().secret_armored,
        signer_armored=keys.project_key().public_armored,
    )
    assert parts_of(inner) == (TEXT, ATTACHMENT)
    assert signer == keys.project_key().fingerprint


def test_without_the_signers_key_the_signature_cannot_be_told(encrypted: Message) -> None:
    inner, signer = openpgp.decrypt_mime(sent(encrypted), secret_armored=keys.packager_key().secret_armored)
    assert parts_of(inner) == (TEXT, ATTACHMENT)
    assert signer is None


def test_another_key_cannot_decrypt(encrypted: Message) -> None:
    with pytest.raises(ValueError, match="does not decrypt"):
        openpgp.decrypt_mime(sent(encrypted), secret_armored=keys.other_key().secret_armored)


def test_a_message_can_be_encrypted_to_several_keys() -> None:
    both = openpgp.sign_and_encrypt_mime(
        notice(),
        secret_armored=keys.project_key().secret_armored,
        recipients_armored=[keys.packager_key().public_armored, keys.other_key().public_armored],
    )
    for key in (keys.packager_key(), keys.other_key()):
        inner, _ = openpgp.decrypt_mime(sent(both), secret_armored=key.secret_armored)
        assert parts_of(inner) == (TEXT, ATTACHMENT)


def test_encrypting_to_a_key_that_expired_since_is_refused() -> None:
    with pytest.raises(KeyRefused):
        openpgp.sign_and_encrypt_mime(
            notice(), secret_armored=keys.project_key().secret_armored, recipients_armored=[keys.expired_public()]
        )


# --- checking the keys people give ----------------------------------------------------------------------------


def test_a_good_key_gives_its_fingerprint_user_id_and_expiry() -> None:
    key = keys.packager_key()
    info = openpgp.inspect_public_key(key.public_armored, now=NOW)
    assert info.fingerprint == key.fingerprint
    assert len(info.fingerprint) == 40
    assert info.fingerprint == info.fingerprint.upper()
    assert info.uids == ("Debian Security Team <security@debian.example.org>",)
    assert info.expires_at is None
    assert info.can_encrypt
    assert info.can_sign


def test_a_key_with_an_expiry_gives_it() -> None:
    made = openpgp.generate_key("Expiring Key", "expiring@example.org", expire="2031-03-04")
    assert made.expires_at is not None
    assert made.expires_at.date() == dt.date(2031, 3, 4)
    info = openpgp.inspect_public_key(made.public_armored, now=NOW)
    assert info.expires_at == made.expires_at
    assert info.expires_at.tzinfo is not None


@pytest.mark.parametrize(
    ("armored", "reason"),
    [
        (lambda: "", "no key was given"),
        (lambda: "garbage, not a key", "not an ASCII-armoured OpenPGP public key"),
        (lambda: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm9wZQ==\n-----END PGP PUBLIC KEY BLOCK-----\n",
         "not an OpenPGP key"),
        (lambda: keys.packager_key().secret_armored, "this is a secret key"),
        (lambda: keys.packager_key().public_armored + keys.other_key().public_armored, "holds 2 keys"),
        (keys.expired_public, "the key expired on 2020-01-02"),
        (keys.expired_subkey_public, "every subkey that can encrypt expired (the last on 2020-01-02)"),
        (keys.signing_only_public, "the key cannot encrypt: it is a signing-only key"),
        (keys.revoked_public, "the key was revoked"),
    ],
    ids=["empty", "garbage", "armoured-garbage", "secret", "two-keys", "expired", "expired-subkey", "signing-only",
         "revoked"],
)  # fmt: skip
def test_a_key_that_cannot_take_encryption_is_refused_with_the_reason(armored, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyRefused) as refused:
        openpgp.inspect_public_key(armored(), now=NOW)
    assert reason in refused.value.reason


def test_expiry_is_judged_at_the_given_moment() -> None:
    info = openpgp.inspect_public_key(keys.expired_public(), now=dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC))
    assert info.expires_at is not None
    assert info.expires_at.date() == dt.date(2020, 1, 2)


def test_a_signing_only_key_serves_for_signing() -> None:
    info = openpgp.inspect_public_key(keys.signing_only_public(), now=NOW, purpose="sign")
    assert info.can_sign
    assert not info.can_encrypt


def test_an_uploaded_secret_key_must_sign_without_a_passphrase() -> None:
    pair = openpgp.inspect_secret_key(keys.project_key().secret_armored, now=NOW)
    assert pair.fingerprint == keys.project_key().fingerprint
    assert "PUBLIC KEY BLOCK" in pair.public_armored
    with pytest.raises(KeyRefused, match="passphrase"):
        openpgp.inspect_secret_key(keys.protected_secret(), now=NOW)
    with pytest.raises(KeyRefused, match="not an ASCII-armoured OpenPGP secret key"):
        openpgp.inspect_secret_key(keys.project_key().public_armored, now=NOW)


def test_a_generated_key_signs_and_encrypts() -> None:
    key = keys.project_key()
    assert "-----BEGIN PGP PRIVATE KEY BLOCK-----" in key.secret_armored
    assert "-----BEGIN PGP PUBLIC KEY BLOCK-----" in key.public_armored
    info = openpgp.inspect_public_key(key.public_armored, now=NOW)
    assert (info.can_sign, info.can_encrypt, info.expires_at) == (True, True, None)


@pytest.mark.parametrize("name", ["Evil\nKey-Type: RSA", "x\r\nPassphrase: y"])
def test_a_line_break_cannot_smuggle_key_parameters(name: str) -> None:
    with pytest.raises(ValueError, match="cannot make a key"):
        openpgp.generate_key("Someone", f"{name}@example.org")
    made = openpgp.generate_key(name, "someone@example.org")
    info = openpgp.inspect_public_key(made.public_armored, now=NOW)
    assert all("\n" not in uid and "\r" not in uid for uid in info.uids)


def test_fingerprints_are_shown_in_groups_of_four() -> None:
    fpr = "6A0E78B021C8908F204FBD67566F6F450612D79B"
    assert openpgp.fingerprint_display(fpr.lower()) == "6A0E 78B0 21C8 908F 204F BD67 566F 6F45 0612 D79B"


def test_no_gnupg_home_is_left_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    # A temporary folder of this test's own, as the other test process (pytest-xdist) makes GnuPG homes meanwhile;
    # short, because gpg-agent's socket path inside the home must stay under 108 characters.
    own = Path(tempfile.mkdtemp(prefix="gh-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(own))
    try:
        openpgp.sign_mime(notice(), secret_armored=keys.project_key().secret_armored)
        openpgp.inspect_public_key(keys.packager_key().public_armored, now=NOW)
        assert list(own.glob("embargo-gpg-*")) == []
    finally:
        shutil.rmtree(own, ignore_errors=True)
