"""Opaque public identifiers for reports, messages, attachments and users: 20 random base-32 characters
(100 bits), so a URL says nothing about how many records exist or when one was made."""

import secrets

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
LENGTH = 20


def new_public_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH))


def looks_like_public_id(value: str) -> bool:
    return len(value) == LENGTH and all(c in _ALPHABET for c in value)
