"""The key-encryption key ring, kept outside the database."""

from __future__ import annotations

import base64
import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from django.conf import settings

from embargo import config


class KeyRingError(Exception):
    pass


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    keys: dict[str, bytes]

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        return self.current_id, aes_key_wrap(self.keys[self.current_id], data_key)

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        try:
            kek = self.keys[kek_id]
        except KeyError:
            raise KeyRingError(f"the key ring has no key-encryption key {kek_id!r}") from None
        return aes_key_unwrap(kek, wrapped)


def key_file() -> Path:
    configured = getattr(settings, "EMBARGO_SECRET_KEY_FILE", "")
    if configured:
        return Path(configured)
    return Path(settings.EMBARGO_DATA_DIR) / "keys" / "kek"


def new_key_line() -> str:
    return f"{secrets.token_hex(4)} {base64.b64encode(os.urandom(32)).decode()}"


def parse(text: str, source: Path) -> KeyRing:
    keys: dict[str, bytes] = {}
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            kek_id, encoded = line.split()
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise KeyRingError(f"{source}:{number}: expected 'ID BASE64KEY'") from None
        if len(key) != 32:
            raise KeyRingError(f"{source}:{number}: a key-encryption key is 32 bytes, this one is {len(key)}")
        keys[kek_id] = key
        current = current or kek_id
    if not keys:
        raise KeyRingError(f"{source} holds no key")
    return KeyRing(current_id=current, keys=keys)


@lru_cache(maxsize=1)
def _load(path: Path, version: tuple[int, int, int]) -> KeyRing:
    return parse(config.read_or_create_secret(path, new_key_line), path)


def _version(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (0, 0, 0)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def ring() -> KeyRing:
    # Keyed by the file's identity and age: a rotation in another process (`embargo keys rotate` while the
    # server runs) replaces the file, and every process picks up the new current key at its next use.
    path = key_file()
    return _load(path, _version(path))


def forget() -> None:
    """Drops the cached ring (after a rotation, or when a test changes the data dir)."""
    _load.cache_clear()


# --- rotation and retirement: the file is rewritten whole, atomically, under a lock ---------------------


def serialize(keyring: KeyRing) -> str:
    """The key file's text: the current key first (the parser takes the first line as current)."""
    ordered = [keyring.current_id, *(k for k in keyring.keys if k != keyring.current_id)]
    lines = ["# Embargo key-encryption keys: ID BASE64KEY; the first line is the current key."]
    lines += [f"{kek_id} {base64.b64encode(keyring.keys[kek_id]).decode()}" for kek_id in ordered]
    return "\n".join(lines) + "\n"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    config.ensure_private_dir(path.parent)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def add_current_key() -> str:
    """Makes a new key-encryption key the current one, keeping the others; returns its ID."""
    path = key_file()
    with _locked(path):
        old = parse(config.read_or_create_secret(path, new_key_line), path)
        kek_id = secrets.token_hex(4)
        while kek_id in old.keys:
            kek_id = secrets.token_hex(4)
        keys = {kek_id: os.urandom(32), **old.keys}
        try:
            _write(path, serialize(KeyRing(current_id=kek_id, keys=keys)))
        except OSError as e:
            raise KeyRingError(f"cannot write the key ring {path}: {e.strerror}") from None
    forget()
    return kek_id


def remove_keys(kek_ids: set[str]) -> None:
    """Drops key-encryption keys from the ring (never the current one)."""
    path = key_file()
    with _locked(path):
        old = parse(config.read_or_create_secret(path, new_key_line), path)
        if old.current_id in kek_ids:
            raise KeyRingError("the current key-encryption key cannot be retired")
        keys = {k: v for k, v in old.keys.items() if k not in kek_ids}
        try:
            _write(path, serialize(KeyRing(current_id=old.current_id, keys=keys)))
        except OSError as e:
            raise KeyRingError(f"cannot write the key ring {path}: {e.strerror}") from None
    forget()
