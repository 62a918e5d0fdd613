"""Sealed files (attachments, patches): encrypted with their record's data key before they
touch the storage, so the attachments folder or bucket holds only ciphertext."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage

from embargo.vault.models import DataKey
from embargo.vault.sealing import seal, unseal


@lru_cache(maxsize=1)
def _storage(location: str, backend: str, s3_options: tuple[tuple[str, str], ...]) -> Storage:
    if backend == "s3":
        try:
            from storages.backends.s3 import S3Storage
        except ImportError:
            raise ImproperlyConfigured(
                "EMBARGO_FILE_STORAGE=s3 needs django-storages and boto3: pip install 'embargo-cvd[s3]'"
            ) from None
        # Never overwrite (a second file of the same name gets a new one, as on the file system), no ACL of our
        # own (the bucket's policy decides; it should be private), and no public URLs: files are only ever read
        # back through Embargo, which checks access and unseals them.
        return S3Storage(**dict(s3_options), file_overwrite=False, default_acl=None, querystring_auth=True)
    return FileSystemStorage(location=location, file_permissions_mode=0o600, directory_permissions_mode=0o700)


def storage() -> Storage:
    """The storage of sealed files, as configured (EMBARGO_FILE_STORAGE): DATA_DIR/files or an S3 bucket."""
    return _storage(
        str(Path(settings.EMBARGO_DATA_DIR) / "files"),
        settings.EMBARGO_FILE_STORAGE,
        tuple(sorted(settings.EMBARGO_S3.items())),
    )


def external_location() -> str | None:
    """Where sealed files are kept when that is outside the data dir (`s3://bucket/prefix`), else None."""
    if settings.EMBARGO_FILE_STORAGE != "s3":
        return None
    prefix = settings.EMBARGO_S3.get("location", "")
    return f"s3://{settings.EMBARGO_S3['bucket_name']}/{prefix + '/' if prefix else ''}"


def save(data_key: DataKey, name: str, content: bytes, context: str) -> str:
    """Stores `content` sealed under `name` and returns the name the storage chose."""
    return storage().save(name, ContentFile(seal(data_key, content, context)))


def read(data_key: DataKey, name: str, context: str) -> bytes:
    with storage().open(name, "rb") as f:
        return unseal(data_key, f.read(), context)


def delete(name: str) -> None:
    storage().delete(name)
