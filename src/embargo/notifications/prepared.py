"""An e-mail whose MIME message was made and serialised beforehand: a PGP/MIME signature covers the exact bytes of
what it signs, so Django must send those bytes and not serialise the message again. Used by the embargo notices
(releases.notices) and by the encrypted notifications (notifications.encrypted)."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMessage


class _Raw:
    def __init__(self, data: bytes):
        self.data = data

    def as_bytes(self, *args: Any, **kwargs: Any) -> bytes:
        return self.data

    def as_string(self, *args: Any, **kwargs: Any) -> str:
        return self.data.decode("ascii", "replace")


class PreparedEmail(EmailMessage):
    """Django's e-mail with the whole message (`raw`, headers included) made beforehand; recipients and sender as
    usual for the SMTP envelope."""

    def __init__(self, raw: bytes, *, to: list[str], from_email: str):
        super().__init__(subject="", body="", from_email=from_email, to=to)
        self.raw = raw

    def message(self, *args: Any, **kwargs: Any) -> Any:
        return _Raw(self.raw)
