"""The SMTP (or LMTP) server of `embargo mail-in` (aiosmtpd), to which the mail server forwards the projects'
intake addresses and the reply addresses (docs/mail-in.md).

Recipients are checked at RCPT (unknown addresses and forged or stale reply addresses get a 550 there), the size
at DATA (552), and each accepted recipient's message then goes to `mailin.actions.receive`. The database work
runs on one thread beside the event loop (Django's ORM is synchronous); a failure there answers 451, so that the
sending server keeps the message and tries again later: nothing is lost. With plain SMTP (one answer for all
recipients), a temporary failure for any recipient is the answer for all (`smtp_answer`). Log lines never name a
reply address (a bearer credential): `tokens.describe`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AnyStr, TypeVar

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import close_old_connections

from embargo.mailin import actions, tokens

log = logging.getLogger(__name__)

T = TypeVar("T")

TEMPORARY_FAILURE = "451 4.3.0 The message could not be stored just now; please try again later."


def too_large(limit: int) -> str:
    return (
        f"552 5.3.4 The message is larger than the {limit:,} bytes this server takes: send large files as links "
        "(or in several messages), or ask the team for another way."
    )


class Handler:
    """aiosmtpd's handler: RCPT and DATA."""

    def __init__(self, *, lmtp: bool = False, max_bytes: int | None = None) -> None:
        self.lmtp = lmtp
        self.max_bytes = max_bytes or settings.EMBARGO_MAIL_IN_MAX_BYTES
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embargo-mail-in")

    async def _run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def job() -> T:
            close_old_connections()
            try:
                return function(*args, **kwargs)
            finally:
                close_old_connections()

        return await asyncio.get_running_loop().run_in_executor(self.executor, job)

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            refusal = await self._run(actions.check_recipient, address)
        except Exception:
            log.exception("mail-in: checking a recipient failed")
            return TEMPORARY_FAILURE
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or b"")
        if len(raw) > self.max_bytes:
            return too_large(self.max_bytes)
        answers = []
        for recipient in envelope.rcpt_tos:
            # Never the recipient itself in a log line: a reply address is a bearer credential.
            named = tokens.describe(recipient)
            try:
                sender = envelope.mail_from or ""
                answer = await self._run(actions.receive, raw, envelope_from=sender, recipient=recipient)
            except Exception:
                log.exception("mail-in: a message for %s could not be stored", named)
                answer = TEMPORARY_FAILURE
            log.info("mail-in: message for %s: %s", named, answer[:3])
            answers.append(answer)
        if self.lmtp:
            return "\r\n".join(answers)  # LMTP: one answer per recipient (RFC 2033)
        return smtp_answer(answers)


def smtp_answer(answers: list[str]) -> str:
    """SMTP has one answer after DATA for all the recipients. A temporary failure for any of them answers that
    failure, so that the sending server keeps the message and tries again; the recipients that took it the first
    time answer "Already received" then (`actions.receive` knows the (recipient, SHA-256) pair) and nothing comes
    twice. Otherwise success if any recipient took it (the others' refusals are only logged: a bounce would tell
    the sender those took nothing), else the first refusal."""
    if not answers:
        return "250 OK"
    return next(
        (a for a in answers if a.startswith("4")),
        next((a for a in answers if a.startswith("2")), answers[0]),
    )


_AIOSMTPD_TOO_LARGE = ("552 Error: Too much mail data", "552 Error: message size exceeds")


class MailInSMTP(SMTP):
    # Long lines break RFC 5321 but are common in what people send: taken rather than refused.
    line_length_limit = 1 << 20
    max_bytes = 0

    async def push(self, status: AnyStr) -> None:
        # aiosmtpd's own refusal of oversized mail says too little: ours says what to do.
        if isinstance(status, str) and status.startswith(_AIOSMTPD_TOO_LARGE):
            await super().push(too_large(self.max_bytes))
            return
        await super().push(status)


class MailInLMTP(LMTP, MailInSMTP):
    """LMTP (RFC 2033): LHLO instead of EHLO, and one answer per recipient after DATA."""


def server_factory(handler: Handler) -> Callable[[], SMTP]:
    server_class = MailInLMTP if handler.lmtp else MailInSMTP

    def make() -> MailInSMTP:
        server = server_class(
            handler, data_size_limit=handler.max_bytes, enable_SMTPUTF8=True, decode_data=False,
            hostname=actions.tokens.domain(), ident="Embargo mail-in",
        )  # fmt: skip
        server.max_bytes = handler.max_bytes
        return server

    return make


async def serve(host: str, port: int, *, lmtp: bool = False, ready: Callable[[], None] | None = None) -> None:
    """Serves until cancelled (SIGTERM / SIGINT in `embargo mail-in`)."""
    handler = Handler(lmtp=lmtp)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(server_factory(handler), host=host, port=port)
    if ready is not None:
        ready()
    try:
        async with server:
            await server.serve_forever()
    finally:
        handler.executor.shutdown(wait=True)
