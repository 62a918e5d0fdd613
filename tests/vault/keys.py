"""OpenPGP keys for tests, made once per test process and shared (tests of other apps may use them too).

The good ones come from `embargo.vault.openpgp.generate_key`. The bad ones need what Embargo itself never
does, so they are made here with GnuPG directly: a key that expired (made under GnuPG's
`--faked-system-time` in 2020), a key whose only encryption subkey expired, a signing-only key, a key
revoked with the revocation certificate GnuPG writes on generation, and a secret key with a passphrase."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gnupg

from embargo.vault.openpgp import GeneratedKey, generate_key


@contextmanager
def gpg_home(*options: str) -> Iterator[gnupg.GPG]:
    path = tempfile.mkdtemp(prefix="embargo-test-gpg-")
    try:
        gpg = gnupg.GPG(gnupghome=path, options=["--pinentry-mode", "loopback", *options])
        gpg.encoding = "utf-8"
        yield gpg
    finally:
        subprocess.run(["gpgconf", "--homedir", path, "--kill", "all"], check=False, capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


IN_2020 = ("--faked-system-time", "20200101T000000!")


def _make(gpg: gnupg.GPG, name: str, email: str, *, subkey: bool = True, expire: str = "0", **extra: str) -> str:
    params = {"key_type": "EDDSA", "key_curve": "ed25519", "key_usage": "sign", "name_real": name,
              "name_email": email, "expire_date": expire, **extra}  # fmt: skip
    if subkey:
        params.update(subkey_type="ECDH", subkey_curve="cv25519", subkey_usage="encrypt")
    made = gpg.gen_key(gpg.gen_key_input(no_protection="passphrase" not in extra, **params))
    assert made.fingerprint, made.stderr
    return str(made.fingerprint)


@functools.cache
def project_key() -> GeneratedKey:
    """A project's signing key."""
    return generate_key("Requests security releases", "security@requests.example.org")


@functools.cache
def packager_key() -> GeneratedKey:
    """A packager's key (its secret part stands for the packager's mail client)."""
    return generate_key("Debian Security Team", "security@debian.example.org")


@functools.cache
def other_key() -> GeneratedKey:
    return generate_key("Fedora Packagers", "packagers@fedora.example.org")


@functools.cache
def expired_public() -> str:
    """Made on 2020-01-01, expired on 2020-01-02."""
    with gpg_home(*IN_2020) as gpg:
        return str(gpg.export_keys(_make(gpg, "Expired Key", "expired@example.org", expire="2020-01-02")))


@functools.cache
def expired_subkey_public() -> str:
    """A primary key that never expires, whose only encryption subkey expired on 2020-01-02."""
    with gpg_home(*IN_2020) as gpg:
        fpr = _make(gpg, "Stale Subkey", "stale@example.org", subkey=False)
        added = gpg.add_subkey(fpr, "", algorithm="cv25519", usage="encrypt", expire="2020-01-02")
        assert added.fingerprint, added.stderr
        return str(gpg.export_keys(fpr))


@functools.cache
def signing_only_public() -> str:
    with gpg_home() as gpg:
        return str(gpg.export_keys(_make(gpg, "Signing Only", "sign@example.org", subkey=False)))


@functools.cache
def revoked_public() -> str:
    """Revoked with the certificate GnuPG 2.2 leaves in openpgp-revocs.d (its armour line is defused with a
    leading colon, removed here)."""
    with gpg_home() as gpg:
        fpr = _make(gpg, "Revoked Key", "revoked@example.org")
        certificate = (Path(gpg.gnupghome) / "openpgp-revocs.d" / f"{fpr}.rev").read_text()
        certificate = certificate.replace(
            ":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----"
        )
        assert gpg.import_keys(certificate).n_revoc == 1
        return str(gpg.export_keys(fpr))


@functools.cache
def protected_secret() -> str:
    """A secret key that needs a passphrase."""
    with gpg_home() as gpg:
        fpr = _make(gpg, "Protected Key", "protected@example.org", passphrase="correct horse")
        return str(gpg.export_keys(fpr, secret=True, passphrase="correct horse"))


def give_project_key(project: Any, key: GeneratedKey | None = None) -> Any:
    """Makes `key` (the shared project key by default) the project's active signing key, as a generated one would
    be stored; the tests that need a key but not the owner's action that makes one."""
    from embargo import clock
    from embargo.projects.models import ProjectKey

    key = key or project_key()
    return ProjectKey.objects.create(
        project=project,
        fingerprint=key.fingerprint,
        public_key=key.public_armored,
        secret_key=key.secret_armored,
        created_at=clock.now(),
    )
