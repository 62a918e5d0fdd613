"""Sealed files (attachments, later patches): encrypted with their record's data key before they
touch the storage, so the attachments folder or bucket holds only ciphertext."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage

from embargo.vault.models import DataKey
from embargo.vault.sealing import seal, unseal


@lru_cache(maxsize=1)
def _storage(location: str) -> Storage:
    return FileSystemStorage(location=location, file_permissions_mode=0o600, directory_permissions_mode=0o700)


def storage() -> Storage:
    return _storage(str(Path(settings.EMBARGO_DATA_DIR) / "files"))


def save(data_key: DataKey, name: str, content: bytes, context: str) -> str:
    """Stores `content` sealed under `name` and returns the name the storage chose."""
    return storage().save(name, ContentFile(seal(data_key, content, context)))


def read(data_key: DataKey, name: str, context: str) -> bytes:
    with storage().open(name, "rb") as f:
        return unseal(data_key, f.read(), context)


def delete(name: str) -> None:
    storage().delete(name)
