"""Configuration from `EMBARGO_*` environment variables, with an embedded default for each.

Secrets that the instance needs (Django's signing key, the key-encryption key) are generated into the
data directory on first use, with mode 0600, and never committed.
"""

from __future__ import annotations

import os
import secrets
import tempfile
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
    """Returns the secret stored at `path`, creating it (mode 0600) when absent.

    Several processes may start at once on a new data dir (the web workers): the secret is written whole to a
    file of this process's own and then linked to `path`, which fails if another process got there first. So
    `path` never exists half-written, and every process ends up with the one value that won."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    ensure_private_dir(path.parent)
    value = make() if make else secrets.token_urlsafe(50)
    fd, draft = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return path.read_text().strip()  # another process created it first: use theirs
    finally:
        os.unlink(draft)
    return value
