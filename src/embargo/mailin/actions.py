"""What `embargo mail-in` does with a message, one recipient at a time: a new report (at a project's intake
address), a message in a report's thread (at a reply address), or nothing but keeping it (an auto-reply, a loop).
Reports and messages are written by the same actions as the web's (reports/actions.py), with the same rules.

Every function answers with the SMTP reply line for its recipient; a refusal says what to do about it."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parseaddr

from django.conf import settings
from django.db import DatabaseError, transaction

from embargo import clock, ratelimit
from embargo.accounts.access import Actor, Forbidden, ReportAccess, report_actors
from embargo.accounts.actions import do_find_or_add_contact
from embargo.accounts.models import User
from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.errors import ActionError
from embargo.mailin import parsing, pgp, tokens
from embargo.mailin.models import InboundMail, Outcome, Signature
from embargo.notifications.models import OutboxMessage
from embargo.notifications.outbox import queue_email
from embargo.projects.models import Project, ProjectKey
from embargo.reports import actions as report_actions
from embargo.reports import links
from embargo.reports.http import clean_filename
from embargo.reports.models import Message as ReportMessage
from embargo.reports.models import Report
from embargo.vault import files, openpgp

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 100_000  # as the API's schema (reports/schemas.py)
MAX_ATTACHMENTS = 20  # files taken from one mail; the rest stay in the raw mail, and the note names them
# What a mail whose OpenPGP message was taken in before gets (a replay: someone else's ciphertext sent again to
# read it through their own private link). The raw mail is kept, nothing is read out of it.
REPLAYED = "encrypted content already received"
OK = "250 2.0.0 OK"


def normalize(address: str) -> str:
    return parseaddr(address.strip())[1].strip().lower() or address.strip().strip("<>").lower()


def own_addresses() -> set[str]:
    """Addresses whose mail is ours coming back: the From of Embargo's e-mail."""
    return {a for a in (parseaddr(settings.EMBARGO_MAIL_FROM)[1].lower(),) if a}


def intake_project(address: str) -> Project | None:
    address = normalize(address)
    if not address or tokens.looks_like_reply(address):
        return None
    return Project.objects.select_related("policy").filter(intake_address=address).first()


def check_recipient(address: str) -> str | None:
    """At RCPT: None to accept `address`, else the refusal (a 550 that says why)."""
    address = normalize(address)
    if tokens.looks_like_reply(address):
        if tokens.resolve(address) is None:
            return (
                "550 5.1.1 This reply address is not valid: it was mistyped, forged, or revoked since the "
                "notification was sent (e.g. you lost access to the report). Answer on the report's page instead."
            )
        return None
    if intake_project(address) is not None:
        return None
    return (
        f"550 5.1.1 <{address}>: no such address here. This server takes mail only at the intake addresses of "
        "the projects on Embargo and at the reply addresses of its notifications."
    )


# --- keeping the raw message ------------------------------------------------------------------------------------


@dataclass
class Reading:
    """What was read out of one message: its content, and what OpenPGP said about it."""

    content: parsing.Content
    encrypted: bool = False
    signature: str = Signature.NOT_SIGNED
    signer: str = ""
    # The message could not be opened at all (e.g. encrypted to a key the project does not hold).
    unreadable: str = ""
    problems: list[str] = field(default_factory=list)
    # SHA-256 of the session key of the OpenPGP message it carried (InboundMail.session_key_sha256), and whether
    # that message was taken in before (then `unreadable` is REPLAYED and the content is empty).
    session_key: str = ""
    replayed: bool = False


def _project_keys(project: Project) -> list[str]:
    """The project's secret keys, the active one first: a reporter may still encrypt to a retired one."""
    keys = ProjectKey.objects.filter(project=project).order_by("-created_at", "-id")
    return [key.secret_key for key in sorted(keys, key=lambda k: k.retired_at is not None)]


def read(message: Message, project: Project, *, known_keys: list[str], raw: bytes | None = None) -> Reading:
    """Decrypts (PGP/MIME or inline) with the project's keys, checks signatures, and extracts the content, with at
    most MAX_ATTACHMENTS files of at most EMBARGO_MAX_ATTACHMENT_BYTES each (the note names those left out).

    Never raises but for the database: a message the parser or GnuPG cannot cope with is `unreadable`. An OpenPGP
    message whose session key was taken in before is refused (`replayed`), unless it comes in the very same mail
    (`raw`) from the same sender, as a mail sent to several of our addresses does."""
    try:
        reading = _read(message, project, known_keys=known_keys)
    except DatabaseError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever a sender's program did, the mail is kept and answered
        log.warning("mail-in: a message could not be read (%s)", type(e).__name__)
        reason = f"the message could not be read ({type(e).__name__})"
        content = parsing.Content(subject=parsing.header(message, "Subject")[: parsing.MAX_TITLE])
        reading = Reading(content, unreadable=reason, problems=[reason])
    if reading.session_key and _seen_before(reading.session_key, message, raw):
        subject = parsing.header(message, "Subject")[: parsing.MAX_TITLE]
        reading = Reading(
            parsing.Content(subject=subject), encrypted=True, unreadable=REPLAYED, problems=[REPLAYED],
            session_key=reading.session_key, replayed=True,
        )  # fmt: skip
    return reading


def _seen_before(session_key: str, message: Message, raw: bytes | None) -> bool:
    earlier = InboundMail.objects.filter(session_key_sha256=session_key)
    sender = parsing.from_address(message)
    if raw is not None and sender:
        earlier = earlier.exclude(sha256=hashlib.sha256(raw).hexdigest(), from_address=sender)
    return earlier.exists()


def _read(message: Message, project: Project, *, known_keys: list[str]) -> Reading:
    secret_keys = _project_keys(project)
    opened = pgp.open_message(message, secret_keys=secret_keys, known_keys=known_keys)
    content = parsing.extract(opened.message)
    if opened.encrypted and opened.message is not message and not parsing.header(opened.message, "Subject"):
        content.subject = parsing.header(message, "Subject")[: parsing.MAX_TITLE]
    reading = Reading(content, opened.encrypted, opened.signature, opened.signer, opened.problem)
    reading.session_key = opened.session_key
    if any(isinstance(d, parsing.Unparsable) for d in opened.message.defects):
        reading.unreadable = "the message's structure could not be read (parts nested too deeply)"
        if reading.unreadable in content.problems:
            content.problems.remove(reading.unreadable)
    has_block = parsing.inline_pgp_block(content.text) is not None
    if not reading.unreadable and not opened.problem and has_block and opened.session_key:
        # One OpenPGP message per mail: a block inside a decrypted message stays as it is (its session key would
        # go unrecorded otherwise, and a replayed ciphertext could hide there).
        content.problems.append("an encrypted block inside the encrypted message was left as it is")
    elif not reading.unreadable and not opened.problem and has_block:
        text, decrypted, problem = pgp.open_inline(
            content.text, secret_keys=secret_keys, known_keys=known_keys, enclosed_keys=content.keys
        )
        reading.encrypted = True
        if decrypted is None:
            reading.unreadable = problem
        else:
            content.text = text.strip()
            reading.session_key = decrypted.session_key
            if problem:
                reading.problems.append(problem)
            if decrypted.signature != Signature.NOT_SIGNED:
                reading.signature, reading.signer = decrypted.signature, decrypted.signer
    if not reading.unreadable and reading.signature == Signature.NOT_SIGNED:
        content.text, reading.signature, reading.signer = pgp.open_clearsigned(
            content.text, known_keys=known_keys, enclosed_keys=content.keys
        )
    content.attachments, left_out = _within_limits(content.attachments)
    reading.problems[:0] = [*content.problems, *left_out]
    if reading.unreadable:
        reading.problems.insert(0, reading.unreadable)
    return reading


def _within_limits(attachments: list[parsing.Attachment]) -> tuple[list[parsing.Attachment], list[str]]:
    """The files to attach (EMBARGO_MAX_ATTACHMENT_BYTES each, as on the web; MAX_ATTACHMENTS in all), and notes
    naming those left out (they stay in the raw mail)."""
    limit = settings.EMBARGO_MAX_ATTACHMENT_BYTES
    kept = [a for a in attachments if len(a.content) <= limit]
    large = [a.filename for a in attachments if len(a.content) > limit]
    surplus = [a.filename for a in kept[MAX_ATTACHMENTS:]]
    notes = []
    if large:
        notes.append(f"files larger than {limit:,} bytes were not attached: {_names(large)}")
    if surplus:
        notes.append(f"only {MAX_ATTACHMENTS} files are attached from one e-mail; not attached: {_names(surplus)}")
    return kept[:MAX_ATTACHMENTS], notes


def _names(names: list[str]) -> str:
    shown = ", ".join(clean_filename(n) for n in names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def proposed_key(reading: Reading, *, has_key: bool) -> tuple[str, str]:
    """(armoured key, fingerprint) to offer the sender for encrypted e-mail: the key the mail carried that its
    verified signature was made with, if it can take encryption and the sender has no key on file; else empty.
    Only offered (mailin/queries.py `key_proposal`): the From address of a mail proves nothing, and a spoofed mail
    must not get the victim's notifications encrypted to the spoofer's key. The reporter adopts it, or not,
    through their private link, which does prove the address."""
    if has_key or reading.signature != Signature.SIGNED_BY_ENCLOSED_KEY or not reading.signer:
        return "", ""
    for armored in reading.content.keys:
        try:
            info = openpgp.inspect_public_key(armored, now=clock.now(), purpose="encrypt")
        except openpgp.KeyRefused:
            continue
        if info.fingerprint == reading.signer.upper():
            return armored.strip() + "\n", info.fingerprint
    return "", ""


def signature_note(mail: InboundMail) -> str:
    """The team's note on a report or message that came by e-mail: was it signed, and by whom."""
    if mail.signature == Signature.VERIFIED:
        return f"Signed, verified with key {mail.signer_fingerprint}."
    if mail.signature == Signature.SIGNED_BY_ENCLOSED_KEY:
        return f"Signed with the key the mail carried, {mail.signer_fingerprint} (identity not checked)."
    if mail.signature == Signature.UNVERIFIED:
        return "Signed, not verified (unknown key)."
    return "Not signed."


def _keep(
    raw: bytes, *, envelope_from: str, recipient: str, sender: str, outcome: str, note: str,
    project: Project | None = None, report: Report | None = None, reading: Reading | None = None,
    proposed: tuple[str, str] = ("", ""),
) -> InboundMail:  # fmt: skip
    """The raw message, sealed in the file storage, and its record (inside the caller's transaction)."""
    mail = InboundMail(
        received_at=clock.now(), envelope_from=envelope_from[:254], recipient=recipient[:254],
        from_address=sender[:254], project=project, report=report, outcome=outcome, note=note[:500], size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        encrypted=bool(reading and reading.encrypted),
        signature=reading.signature if reading else Signature.NOT_SIGNED,
        signer_fingerprint=reading.signer if reading else "",
        session_key_sha256=reading.session_key if reading else "",
        proposed_key=proposed[0], proposed_fingerprint=proposed[1],
    )  # fmt: skip
    mail.save()  # makes the data key that seals the raw message
    name = files.save(mail.data_key, f"mail/{mail.public_id}", raw, f"mailin.inboundmail:{mail.public_id}")
    try:
        mail.storage_name = name
        mail.save(update_fields=["storage_name"])
    except BaseException:
        files.delete(name)
        raise
    return mail


def read_raw(mail: InboundMail) -> bytes:
    return files.read(mail.data_key, mail.storage_name, f"mailin.inboundmail:{mail.public_id}")


def do_keep_ignored(
    raw: bytes, *, envelope_from: str, recipient: str, sender: str, reason: str, project: Project | None = None,
    reading: Reading | None = None,
) -> InboundMail:  # fmt: skip
    """An auto-reply, a bounce, a list's or our own mail coming back: kept, neither answered nor turned into
    anything (answering would start a loop)."""
    project = project or intake_project(recipient)
    with transaction.atomic():
        mail = _keep(
            raw, envelope_from=envelope_from, recipient=recipient, sender=sender, outcome=Outcome.IGNORED,
            note=reason, project=project, reading=reading,
        )  # fmt: skip
        record_event(
            Tag.MAIL_KEPT, actor=None, target=mail, project=project,
            data={"recipient": tokens.describe(recipient), "reason": reason, "sha256": mail.sha256, "size": mail.size},
        )  # fmt: skip
    return mail


REPLAY_ANSWER = "550 5.7.0 This message was not taken: its encrypted content was received before. Nothing was posted."


def refuse_replayed(
    raw: bytes, reading: Reading, *, envelope_from: str, recipient: str, sender: str, project: Project
) -> str:  # fmt: skip
    """A mail whose OpenPGP message was taken in before (`read` says `replayed`), at an intake or a reply address:
    kept as ignored (sealed, audited as `mail:kept`), nothing read out of it; the sender learns nothing more than
    that it was not taken."""
    do_keep_ignored(
        raw, envelope_from=envelope_from, recipient=recipient, sender=sender, reason=REPLAYED, project=project,
        reading=reading,
    )  # fmt: skip
    return REPLAY_ANSWER


# --- a new report ---------------------------------------------------------------------------------------------


def _description(reading: Reading, *, original_attached: bool = True) -> str:
    text = reading.content.text
    if reading.unreadable:
        text = ""
    if not text.strip():
        text = "(The e-mail has no text that could be read.)"
    if reading.problems:
        note = "; ".join(reading.problems)
        where = (
            "attached as original.eml" if original_attached
            else "kept by the server (too large to attach: ask the operator)"
        )  # fmt: skip
        text += f"\n\n[Embargo: {note}. The message as it arrived is {where}.]"
    return text[:MAX_DESCRIPTION]


def _check_project_limit(project: Project) -> str | None:
    """The `mail_in` rate limit per project (EMBARGO_RATE_LIMITS): the From address is the sender's to choose, so
    a flood from ever new addresses is held here. None to go on, else a 451: the sending server keeps the message
    and tries again later, nothing is lost."""
    wait = ratelimit.hit("mail_in", "project", str(project.pk)).retry_after
    if wait <= 0:
        return None
    return (
        f"451 4.7.1 This project takes no more reports by e-mail for now (too many arrived): this message will be "
        f"taken in {wait} seconds."
    )


def do_receive_report(project: Project, message: Message, raw: bytes, *, envelope_from: str, recipient: str) -> str:
    """A message to the project's intake address becomes a report from its sender (found or made as the web form
    does for a reporter without an account), who gets the receipt with their private link."""
    refusal = _check_project_limit(project)
    if refusal:
        return refusal
    sender = parsing.from_address(message) or normalize(envelope_from)
    if not sender:
        do_keep_ignored(
            raw, envelope_from=envelope_from, recipient=recipient, sender="", reason="no sender address to answer"
        )
        return OK
    wait = ratelimit.hit("report", "account", sender).retry_after
    if wait > 0:
        return f"451 4.7.1 Too many reports from <{sender}> for now: this message will be taken in {wait} seconds."
    known = User.objects.filter(email=sender).first()
    reading = read(message, project, known_keys=_user_key(known) if known is not None else [], raw=raw)
    if reading.replayed:
        return refuse_replayed(
            raw, reading, envelope_from=envelope_from, recipient=recipient, sender=sender, project=project
        )
    proposed = proposed_key(reading, has_key=known is not None and bool(_user_key(known)))
    original_attached = len(raw) <= settings.EMBARGO_MAX_ATTACHMENT_BYTES
    submission = report_actions.Submission(
        title=(reading.content.subject or "(no subject)")[: parsing.MAX_TITLE] if not reading.unreadable
        else (parsing.header(message, "Subject") or "(an encrypted e-mail)")[: parsing.MAX_TITLE],
        description=_description(reading, original_attached=original_attached),
    )  # fmt: skip
    try:
        with transaction.atomic():
            reporter = do_find_or_add_contact(sender, acting_user=None)
            report = report_actions.do_submit_report(project, submission, acting_user=reporter, by_link=True)
            access = ReportAccess(report, reporter, frozenset({Actor.REPORTER}))
            attachments = [] if reading.unreadable else list(reading.content.attachments)
            if reading.problems and original_attached:
                attachments.append(parsing.Attachment("original.eml", "message/rfc822", raw))
            _attach(access, attachments, reporter)
            _keep(
                raw, envelope_from=envelope_from, recipient=recipient, sender=sender, outcome=Outcome.REPORT,
                note="; ".join(reading.problems), project=project, report=report, reading=reading,
                proposed=proposed,
            )  # fmt: skip
            if reading.problems:
                queue_email(
                    "mail_in_answer", to=reporter, report=report,
                    context={"project_name": project.name, "report_ref": report.public_id,
                             "recipient": recipient, "problems": reading.problems, "link": links.private_link(report)},
                )  # fmt: skip
    except ActionError as e:
        return f"550 5.7.1 {e.message}"
    return f"250 2.0.0 Received as report {report.public_id}; the receipt with your private link is on its way."


# --- a reply --------------------------------------------------------------------------------------------------


def _user_key(user: User) -> list[str]:
    """The person's OpenPGP public key on file, if accounts keep one."""
    key = getattr(user, "openpgp_key", "")
    return [key] if isinstance(key, str) and key.strip() else []


# The notices to a team member that the reporter saw too, so that answering one by e-mail answers the reporter.
# Every other notice (a new report, a reminder, an assignment, a fix confirmation, a publication …) is the team's
# own, and an answer to it is an internal note. `report_message` counts only about a message the reporter sees.
PUBLIC_NOTICES = frozenset({"report_message"})


def _referenced_ids(message: Message) -> list[str]:
    """The Message-IDs a reply names in In-Reply-To and References, as `<…>`."""
    found: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in message.get_all(name) or []:
            found += re.findall(r"<[^<>\s]{1,198}>", str(value))
    return found


def _answers_public_notice(message: Message, report: Report, user: User) -> bool:
    """Whether the reply answers a notice about a message the reporter saw: its In-Reply-To or References names an
    outbox row of ours, sent to this very person about this report, of PUBLIC_NOTICES. A Message-ID is no secret
    (it travels in every answer), so a row of another person proves nothing."""
    ids = _referenced_ids(message)
    if not ids:
        return False
    rows = OutboxMessage.objects.filter(
        message_id__in=ids, to_user=user, report=report, template__in=PUBLIC_NOTICES
    ).values_list("template", "context")
    for template, context in rows:
        if template != "report_message":
            return True
        about = context.get("message") if isinstance(context, dict) else None
        if about and ReportMessage.objects.filter(public_id=about, report=report, internal=False).exists():
            return True
    return False


def _posts_internal(access: ReportAccess, message: Message) -> bool:
    """A team member's reply is an internal note unless it answers a notice the reporter saw too (docs/mail-in.md):
    notices to the team are mostly the team's own, and an answer to a reminder must not reach the reporter unseen.
    The reporter and collaborators write as on the web (their messages are never internal)."""
    if not access.is_team or access.is_reporter or Actor.COLLABORATOR in access.actors:
        return False
    return not _answers_public_notice(message, access.report, access.user)


def do_receive_reply(message: Message, raw: bytes, *, envelope_from: str, recipient: str) -> str:
    """A reply to a notification becomes a message in the thread from the person the reply address was made for,
    with the rights they have on the report now (as on the web); quoted history and signature are left out."""
    replier = tokens.resolve(recipient)
    if replier is None:
        return "550 5.1.1 This reply address is not valid (mistyped, forged, or revoked). Answer on the report's page."
    report, user = replier.report, replier.user
    sender = parsing.from_address(message) or normalize(envelope_from)
    if sender != user.email.lower():
        return (
            "550 5.7.1 This reply address belongs to another e-mail address: answer from the address the "
            "notification was sent to, or on the report's page."
        )
    wait = ratelimit.hit("message", "account", str(user.pk)).retry_after
    if wait > 0:
        return f"451 4.7.1 Too many messages from you for now: this one will be taken in {wait} seconds."
    reading = read(message, report.project, known_keys=_user_key(user), raw=raw)
    if reading.replayed:  # the same check as at intake (mailin/actions.py `read`)
        return refuse_replayed(
            raw, reading, envelope_from=envelope_from, recipient=recipient, sender=sender, project=report.project
        )
    if reading.unreadable:
        return f"550 5.7.1 Your reply could not be read: {reading.unreadable}. Nothing was posted."
    body = parsing.strip_quoted(reading.content.text)
    if not body and not reading.content.attachments:
        return "550 5.6.0 Your reply has no text of its own (only quoted text): nothing was posted."
    access = ReportAccess(report, user, report_actors(user, report))
    internal = _posts_internal(access, message)
    try:
        with transaction.atomic():
            if body:
                report_actions.do_post_message(access, body[:MAX_DESCRIPTION], internal=internal, acting_user=user)
            _attach(access, reading.content.attachments, user)
            _keep(
                raw, envelope_from=envelope_from, recipient=recipient, sender=sender, outcome=Outcome.MESSAGE,
                note="; ".join(reading.problems), project=report.project, report=report, reading=reading,
            )  # fmt: skip
    except Forbidden as e:
        return f"550 5.7.1 You may no longer write in this report's thread ({e}). Nothing was posted."
    except ActionError as e:
        return f"550 5.7.1 {e.message} Nothing was posted."
    if internal:
        return "250 2.0.0 Your reply is in the report's thread as an internal note (the reporter does not see it)."
    return "250 2.0.0 Your reply is in the report's thread."


# --- the entry point ------------------------------------------------------------------------------------------


def receive(raw: bytes, *, envelope_from: str, recipient: str) -> str:
    """One accepted message for one of its recipients; the SMTP (LMTP) reply line for that recipient."""
    recipient = normalize(recipient)
    if InboundMail.objects.filter(recipient=recipient, sha256=hashlib.sha256(raw).hexdigest()).exists():
        # The very same bytes again: the sending server did not hear our answer the first time.
        return "250 2.0.0 Already received."
    message = parsing.parse(raw)
    reason = parsing.auto_reply_reason(message, envelope_from=envelope_from, own_addresses=own_addresses())
    sender = parsing.from_address(message)
    if reason is not None:
        do_keep_ignored(raw, envelope_from=envelope_from, recipient=recipient, sender=sender, reason=reason)
        return "250 2.0.0 Kept; automatic mail is not answered."
    if tokens.looks_like_reply(recipient):
        return do_receive_reply(message, raw, envelope_from=envelope_from, recipient=recipient)
    project = intake_project(recipient)
    if project is None:
        return f"550 5.1.1 <{recipient}>: no such address here."
    return do_receive_report(project, message, raw, envelope_from=envelope_from, recipient=recipient)


# --- the project's intake address -----------------------------------------------------------------------------


def clean_intake_address(project: Project, value: object) -> str:
    """A project's intake address as stored: lower case, a plain address that no other project uses and that is
    not of the reply addresses' form; empty for none. Raises ActionError (field `intake_address`) otherwise."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    address = str(value or "").strip().lower()
    if not address:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        raise ActionError(
            "`intake_address`: an e-mail address such as security@example.org.", field="intake_address"
        ) from None
    if address.partition("@")[0].startswith(tokens.PREFIX):
        raise ActionError(
            f"`intake_address`: addresses starting with {tokens.PREFIX} are Embargo's reply addresses.",
            field="intake_address",
        )
    if Project.objects.filter(intake_address=address).exclude(pk=project.pk).exists():
        raise ActionError(
            "`intake_address`: another project takes its reports at this address already.",
            field="intake_address",
            code="intake_address_taken",
            status=409,
        )
    return address


def _attach(access: ReportAccess, attachments: Iterable[parsing.Attachment], user: User) -> None:
    """The mail's files, as attachments of the report by the person who sent them (names cleaned)."""
    for attachment in attachments:
        report_actions.do_add_attachment(
            access, filename=clean_filename(attachment.filename), content_type=attachment.content_type,
            content=attachment.content, acting_user=user,
        )  # fmt: skip
