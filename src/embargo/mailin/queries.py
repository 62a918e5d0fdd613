"""Reads of the mail `embargo mail-in` took (the caller has checked access to the report)."""

from __future__ import annotations

from dataclasses import dataclass

from embargo.mailin.actions import signature_note
from embargo.mailin.models import InboundMail, Outcome
from embargo.reports.models import Report


def intake_note(report: Report) -> str:
    """For the team: how the report came by e-mail (encrypted or not) and whether it was signed; empty if it came
    another way."""
    mail = InboundMail.objects.filter(report=report, outcome=Outcome.REPORT).order_by("id").first()
    if mail is None:
        return ""
    how = "By e-mail, encrypted." if mail.encrypted else "By e-mail."
    return f"{how} {signature_note(mail)}"


@dataclass(frozen=True)
class KeyProposal:
    """The key a reporter's e-mail was signed with (verified, the key attached to the mail), offered to them."""

    armored: str
    fingerprint: str


def key_proposal(report: Report) -> KeyProposal | None:
    """For the reporter only: the key their report's e-mail was signed with, while they have no key on file, to
    adopt for encrypted e-mail with one button (mailin/actions.py `proposed_key` says why it is not set at once).
    None if the mail came from another address than the reporter's now."""
    reporter = report.reporter
    if reporter is None or reporter.openpgp_key:
        return None
    mail = (
        InboundMail.objects.filter(report=report, outcome=Outcome.REPORT)
        .exclude(proposed_key="")
        .order_by("id")
        .only("proposed_key", "proposed_fingerprint", "from_address")
        .first()
    )
    if mail is None or mail.from_address.lower() != reporter.email.lower():
        return None
    return KeyProposal(mail.proposed_key, mail.proposed_fingerprint)
