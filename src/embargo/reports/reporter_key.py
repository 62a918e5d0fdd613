"""The report page's "Encrypted e-mail" section, for the reporter only: their OpenPGP public key on file (to give,
replace or remove), and the key their report's e-mail was signed with, offered to adopt with one button.

A reporter who came by e-mail or through the form without an account has no password: their private link is all
they have. It proves that they receive mail at the reporter's address (reports/links.py), the same proof a password
reset gives, so it may set the key of that address's account. The writes are the account page's (the same form,
`accounts.key_views.save_key`, and the same actions); the reporter is the acting user in the audit log."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from embargo.accounts.access import Forbidden, Permission, ReportAccess
from embargo.accounts.actions import do_remove_openpgp_key, do_set_openpgp_key
from embargo.accounts.key_views import REMOVED, SAVED, KeyForm, key_facts, save_key
from embargo.accounts.models import User
from embargo.errors import ActionError
from embargo.mailin import queries as mail_queries
from embargo.vault import openpgp


def _reporter(access: ReportAccess) -> User | None:
    """The reporter acting for themselves (their link or their session); None for anyone else on the page."""
    if not access.can(Permission.SET_OWN_KEY) or access.user.pk != access.report.reporter_id:
        return None
    return access.user


def _key_holder(access: ReportAccess) -> User:
    user = _reporter(access)
    if user is None:
        raise Forbidden("Only the reporter gives, replaces or removes their own OpenPGP key.")
    return user


def set_key(request: HttpRequest, access: ReportAccess) -> str:
    user = _key_holder(access)
    form = KeyForm(request.POST)
    if not save_key(user, form):
        raise ActionError(" ".join(str(e) for e in form.errors.get("public_key", [])), field="public_key")
    return SAVED


def remove_key(request: HttpRequest, access: ReportAccess) -> str:
    user = _key_holder(access)
    do_remove_openpgp_key(user, acting_user=user)
    return REMOVED


def adopt_key(request: HttpRequest, access: ReportAccess) -> str:
    """The key the report's e-mail was signed with, taken as the reporter's: the button says which (its
    fingerprint), so that what is set is what they saw."""
    user = _key_holder(access)
    proposal = mail_queries.key_proposal(access.report)
    if proposal is None or request.POST.get("fingerprint", "") != proposal.fingerprint:
        raise ActionError(
            "That key is not offered any more (you may have a key on file already): paste the key below instead.",
            field="public_key",
        )
    do_set_openpgp_key(user, proposal.armored, acting_user=user)
    return SAVED


def section(access: ReportAccess, error: dict[str, str] | None, posted: Any) -> dict[str, Any] | None:
    """What the section shows, for the reporter only (None for everyone else): the key on file, the proposal, and
    the form, holding what was pasted when it was refused."""
    user = _reporter(access)
    if user is None:
        return None
    refused = error is not None and error.get("action") == "set_key"
    proposal = mail_queries.key_proposal(access.report)
    return {
        **key_facts(user),
        "form": KeyForm(initial={"public_key": posted.get("public_key", "")} if refused else None),
        "open": refused,
        "proposal": proposal,
        "proposal_display": openpgp.fingerprint_display(proposal.fingerprint) if proposal else "",
    }
