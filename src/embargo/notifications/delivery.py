"""Rendering an outbox row into an e-mail and handing it to SMTP, or to a `.eml` file."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.template.loader import render_to_string
from django.utils import translation

from embargo.notifications.models import OutboxMessage


class DeliveryError(Exception):
    pass


class Cancelled(DeliveryError):
    """The message is no longer to be sent (e.g. its recipient was taken off a list since it was queued): the worker
    closes the row at once, without retrying."""


@dataclass(frozen=True)
class Builder:
    """An e-mail that templates cannot make (e.g. a signed, encrypted embargo notice with attachments): `build`
    makes the whole message when the worker delivers it; `sent` runs once the row was handed to SMTP."""

    build: Callable[[OutboxMessage], EmailMessage] | None = None
    sent: Callable[[OutboxMessage], None] | None = None
    # A row that is not an e-mail at all (e.g. a Mastodon post): performs the delivery itself, SMTP unused.
    send: Callable[[OutboxMessage], None] | None = None


BUILDERS: dict[str, Builder] = {}


def register(template: str, builder: Builder) -> None:
    """Called by the app that owns the e-mail kind, from its AppConfig.ready()."""
    BUILDERS[template] = builder


def sent(row: OutboxMessage) -> None:
    builder = BUILDERS.get(row.template)
    if builder is not None and builder.sent is not None:
        builder.sent(row)


def mail_language(code: str) -> str:
    """The language an e-mail is written in: the one its row asks for (a reporter's, see reports.notify) when
    Embargo ships a catalogue for it (settings.LANGUAGES), else the site's language, English."""
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def render(row: OutboxMessage) -> EmailMessage:
    builder = BUILDERS.get(row.template)
    if builder is not None and builder.build is not None:
        return builder.build(row)
    context = dict(row.context)
    # Translated now, at delivery, never when queued: the row's context holds the English msgids (e.g. state
    # labels), so a catalogue added or corrected later applies to mail still waiting in the outbox.
    with translation.override(mail_language(str(context.get("language") or ""))):
        subject = " ".join(render_to_string(f"email/{row.template}/subject.txt", context).split())
        body = render_to_string(f"email/{row.template}/body.txt", context).strip() + "\n"
    headers = {
        "Message-ID": row.message_id,
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if row.thread_id:
        headers.update({"In-Reply-To": row.thread_id, "References": row.thread_id})
    # Answering a notification about a report writes in its thread: a reply address per recipient (mailin/tokens.py).
    from embargo.mailin.tokens import reply_to_header

    headers.update(reply_to_header(row))
    notice = EmailMessage(subject, body, settings.EMBARGO_MAIL_FROM, [row.to_email], headers=headers)
    # A recipient with an OpenPGP key gets the content too, encrypted (DESIGN.md "Secrets in e-mail").
    from embargo.notifications import encrypted

    return encrypted.protect(row, notice)


def smtp_connection(url: str) -> BaseEmailBackend:
    """`smtp://user:pass@host:587?starttls=true` or `smtps://…:465`."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise DeliveryError(f"EMBARGO_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    return SmtpBackend(
        alias="embargo",
        host=parts.hostname or "localhost",
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=parts.scheme == "smtps",
        use_tls=query.get("starttls") in ("1", "true", "yes"),
        timeout=float(query.get("timeout", "30")),
    )


def mail_dir() -> Path:
    return Path(settings.EMBARGO_DATA_DIR) / "mail"


def write_eml(row: OutboxMessage, message: EmailMessage) -> Path:
    folder = mail_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{row.created_at:%Y%m%dT%H%M%S}-{row.public_id}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(message.message().as_bytes())
    return path


def deliver(row: OutboxMessage, connection: BaseEmailBackend | None) -> None:
    builder = BUILDERS.get(row.template)
    if builder is not None and builder.send is not None:
        builder.send(row)
        return
    message = render(row)
    if connection is None:
        write_eml(row, message)
        return
    try:
        sent = connection.send_messages([message])
    except Exception as e:
        raise DeliveryError(f"{type(e).__name__}: {e}") from e
    if sent != 1:
        raise DeliveryError("the SMTP server accepted no recipient")
