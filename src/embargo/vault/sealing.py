"""AES-256-GCM with per-record data keys; the one place that encrypts and decrypts secrets at rest."""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import models

from embargo.vault import keys
from embargo.vault.models import DataKey

FORMAT_VERSION = b"\x01"
NONCE_BYTES = 12


class SealError(Exception):
    pass


def new_data_key() -> DataKey:
    kek_id, wrapped = keys.ring().wrap(AESGCM.generate_key(bit_length=256))
    return DataKey.objects.create(kek_id=kek_id, wrapped=wrapped)


def plain_key(data_key: DataKey) -> bytes:
    # Unwrapping costs a few microseconds; keep the result on the instance for the rest of the request.
    cached = getattr(data_key, "_plain", None)
    if cached is None:
        cached = keys.ring().unwrap(data_key.kek_id, bytes(data_key.wrapped))
        data_key._plain = cached  # type: ignore[attr-defined]
    return cached


def seal(data_key: DataKey, plaintext: bytes, context: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_VERSION + nonce + AESGCM(plain_key(data_key)).encrypt(nonce, plaintext, context.encode())


def unseal(data_key: DataKey, blob: bytes, context: str) -> bytes:
    if blob[:1] != FORMAT_VERSION:
        raise SealError("unknown sealed format")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(plain_key(data_key)).decrypt(nonce, body, context.encode())
    except InvalidTag:
        raise SealError(f"sealed value does not open ({context})") from None


class SealedRecord(models.Model):
    """A record with sealed fields or files: it owns one data key, made on its first save."""

    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+", editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.data_key_id is None:
            self.data_key = new_data_key()
        super().save(*args, **kwargs)


class _Plain(str):
    """Plain text set on an instance and not yet sealed."""


class _SealedDescriptor:
    def __init__(self, field: SealedTextField) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if value is None or isinstance(value, str):
            return value
        text = unseal(instance.data_key, bytes(value), self.field.context).decode()
        instance.__dict__[self.field.attname] = _Plain(text)
        return text

    def __set__(self, instance: Any, value: Any) -> None:
        if isinstance(value, memoryview):
            value = bytes(value)
        if isinstance(value, str) and not isinstance(value, _Plain):
            value = _Plain(value)
        instance.__dict__[self.field.attname] = value


class SealedTextField(models.BinaryField):
    """Text that the model reads and writes in clear and the database stores sealed.

    Only for subclasses of `SealedRecord`, whose data key seals it."""

    # What django-stubs reports as the attribute's type: the model reads and writes text.
    _pyi_private_set_type: str
    _pyi_private_get_type: str  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    @property
    def context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        setattr(cls, self.attname, _SealedDescriptor(self))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if isinstance(value, str):
            return seal(model_instance.data_key, value.encode(), self.context)  # type: ignore[attr-defined]
        return value

    def get_default(self) -> Any:
        return _Plain(super().get_default() or "")

    def to_python(self, value: Any) -> Any:
        return value
