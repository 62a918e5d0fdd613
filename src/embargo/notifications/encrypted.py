"""Notifications that carry the content, encrypted (DESIGN.md "Secrets in e-mail").

A person with an OpenPGP public key on file (accounts: `User.openpgp_key`) receives the notifications about a
report as PGP/MIME (RFC 3156): the usual notice followed by the content it is about, signed with the project's
key and encrypted to theirs. Everyone else keeps receiving the content-free notice.

The content never waits in the outbox: the row names the report (and, for a message, the message's ID), and the
text is read from the sealed records here, when the worker delivers. Whatever stands in the way — no key, a key
that expired or cannot take encryption any more, a project without a key of its own, a recipient who lost access
to the report since — gives the content-free notice instead: a delivery never fails for it.

Without a project key the notice stays content-free (rather than encrypted unsigned): a reader could not tell
mail from Embargo from a forgery that carries someone else's text, and the project page tells owners to make
one."""

from __future__ import annotations

import email.policy
import logging
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate

from django.conf import settings
from django.core.mail import EmailMessage

from embargo import clock
from embargo.accounts.models import User
from embargo.notifications.models import OutboxMessage
from embargo.notifications.prepared import PreparedEmail
from embargo.vault import openpgp

logger = logging.getLogger(__name__)

# Headers of the notice that the encrypted mail keeps on the outside (threading, auto-reply suppression, and
# whatever else render() set, e.g. Reply-To); Subject, From, To and Date are set anew.
_OUTER_OWN = {"subject", "from", "to", "date", "content-type", "content-transfer-encoding", "mime-version"}


def recipient_key(row: OutboxMessage) -> str:
    """The armoured key the row's content may be encrypted to, or "" when it goes out content-free."""
    if row.report_id is None or row.to_user_id is None:
        return ""
    user = User.objects.filter(pk=row.to_user_id).only("openpgp_key", "openpgp_expires_at", "is_active").first()
    if user is None or not user.is_active or not user.openpgp_key:
        return ""
    if user.openpgp_expires_at is not None and user.openpgp_expires_at <= clock.now():
        return ""
    return user.openpgp_key


def _may_read(row: OutboxMessage) -> bool:
    """The recipient still sees the report (a collaborator removed since the row was queued does not)."""
    from embargo.accounts.access import Permission, permissions_of, report_actors

    report = row.report
    user = row.to_user
    if report is None or user is None or report.purged_at is not None:
        return False
    return Permission.VIEW_REPORT in permissions_of(report_actors(user, report))


def content_of(row: OutboxMessage) -> str:
    """What the notification is about, read from the sealed records now; "" when there is nothing to add."""
    from embargo.reports.models import Message

    report = row.report
    if report is None:
        return ""
    if row.template == "report_received_team":
        return f"Title: {report.title}\n\n{report.description}".strip()
    if row.template == "report_message":
        message_id = str(row.context.get("message") or "")
        message = Message.objects.filter(report=report, public_id=message_id, internal=False).first()
        if message is None:
            return ""
        author = str(row.context.get("author_label") or "Someone")
        return f"{author} wrote:\n\n{message.body}".strip()
    if row.template == "report_question":
        question = (
            Message.objects.filter(
                report=report, internal=False, transition_to="needs_info", created_at__lte=row.created_at
            )
            .order_by("-created_at", "-id")
            .first()
        )
        return f"The team asks:\n\n{question.body}".strip() if question is not None else ""
    return ""


def _inner(notice: EmailMessage, content: str) -> MimeMessage:
    text = str(notice.body).rstrip() + "\n"
    if content:
        text += "\n" + "-" * 72 + "\n" + content.rstrip() + "\n"
    inner = MimeMessage(policy=email.policy.SMTP)
    inner.set_content(text, cte="quoted-printable")
    return inner


def protect(row: OutboxMessage, notice: EmailMessage) -> EmailMessage:
    """`notice` (the content-free e-mail render() made) as the recipient should get it: encrypted with the
    content when they have a usable key and the project a key to sign with, else unchanged."""
    from embargo.projects.keys import active_key

    armored = recipient_key(row)
    if not armored or row.report is None:
        return notice
    signing = active_key(row.report.project)
    if signing is None or (signing.expires_at is not None and signing.expires_at <= clock.now()):
        return notice  # nothing to sign with: no content (see the module's docstring)
    if not _may_read(row):
        return notice
    try:
        outer = openpgp.sign_and_encrypt_mime(
            _inner(notice, content_of(row)), secret_armored=signing.secret_key, recipients_armored=[armored]
        )
    except openpgp.KeyRefused as refusal:
        # E.g. its encryption subkey expired although the primary key did not: the notice goes out content-free.
        logger.info("outbox %s: sent without content, the recipient's key is refused: %s", row.public_id, refusal)
        return notice
    for header in ("Subject", "From", "To", "Date", "Message-ID"):
        del outer[header]
    outer["Subject"] = str(notice.subject)
    outer["From"] = settings.EMBARGO_MAIL_FROM
    outer["To"] = row.to_email
    outer["Date"] = formatdate(localtime=False)
    for name, value in notice.extra_headers.items():
        if name.lower() not in _OUTER_OWN:
            del outer[name]
            outer[name] = value
    if notice.reply_to and "Reply-To" not in outer:
        outer["Reply-To"] = ", ".join(notice.reply_to)
    return PreparedEmail(
        outer.as_bytes(policy=email.policy.SMTP), to=[row.to_email], from_email=settings.EMBARGO_MAIL_FROM
    )
