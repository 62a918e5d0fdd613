"""The key-encryption key ring, kept outside the database."""

from __future__ import annotations

import base64
import os
import secrets
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
def _load(path: Path) -> KeyRing:
    return parse(config.read_or_create_secret(path, new_key_line), path)


def ring() -> KeyRing:
    return _load(key_file())


def forget() -> None:
    """Drops the cached ring (after a rotation, or when a test changes the data dir)."""
    _load.cache_clear()
