"""Configuration from `EMBARGO_*` environment variables, with an embedded default for each.

Secrets that the instance needs (Django's signing key, the key-encryption key) are generated into the
data directory on first use, with mode 0600, and never committed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"EMBARGO_{name}", default)


def data_dir() -> Path:
    return Path(env("DATA_DIR", "var")).resolve()


def ensure_private_dir(path: Path) -> Path:
    """Creates `path` readable by Embargo's own user only (the data dir holds the database and keys)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def read_or_create_secret(path: Path, make: Callable[[], str] | None = None) -> str:
    """Returns the secret stored at `path`, creating it (mode 0600, exclusively) when absent."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    ensure_private_dir(path.parent)
    value = make() if make else secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it first: use theirs.
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value
