"""Every e-mail Embargo sends, declared once: its name, whether a person may turn it off, and the
context its templates get (`templates/email/<name>/subject.txt` and `body.txt`).

The rule of DESIGN.md "Secrets in e-mail": an e-mail says what happened and links to the report. It never
carries report text — not the title, not a message, not a file name."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class EmailKind:
    name: str
    # Essential e-mails cannot be turned off: account mail, the receipt with a private link, questions to the
    # reporter (the policy waits on their answer) and invitations.
    essential: bool
    description: str


EMAILS: dict[str, EmailKind] = {
    k.name: k
    for k in (
        EmailKind("verify_email", True, "confirm an e-mail address"),
        EmailKind("password_reset", True, "a link to choose a new password"),
        EmailKind("report_receipt", True, "to the reporter: we received your report"),
        EmailKind("report_received_team", False, "to the team: a new report arrived"),
        EmailKind("report_question", True, "to the reporter: the team asks for more information"),
        EmailKind("report_state_changed", False, "to the reporter and collaborators: the report moved on"),
        EmailKind("report_message", False, "to participants: a new message is waiting"),
        EmailKind("report_assigned", False, "to a team member: a report was assigned to you"),
        EmailKind("collaborator_invited", True, "to a collaborator: you were invited to a report"),
        # A report handed to another project (reports/transfers.py): the reporter must know who handles it now; the
        # sending team, if it asked to stay informed, hears of each later state (the state only).
        EmailKind("report_transferred", True, "to the reporter: another project now handles your report"),
        EmailKind("transfer_state_changed", False, "to a former team: a report it transferred moved on"),
        # The policy's promises: a team member cannot turn these off, nor can a reporter stop hearing the truth.
        EmailKind("clock_reminder", True, "to the team: a promise of the policy falls due (remind, escalate, overdue)"),
        EmailKind("clock_late", True, "to the reporter: the project is late, and what happens next"),
        EmailKind("question_reminder", True, "to the reporter: the team still waits for your answer"),
        EmailKind("fix_confirmation_request", True, "to the reporter: a fix exists; does it work for you?"),
        EmailKind("fix_confirmation_answered", True, "to the team: the reporter confirmed the fix, or did not"),
        # Packagers asking to join a project's list (no account needed): the owners hear of it, the asker hears
        # the decision at every address it gave.
        EmailKind("packager_request_received", False, "to the owners: a packager asks to join the embargo list"),
        EmailKind("packager_request_approved", True, "to a packager: you are on the project's embargo list"),
        EmailKind("packager_request_declined", True, "to a packager: your request to join was declined, and why"),
        # Security releases: the reporter hears the date (never report text); the lists get the public notice.
        EmailKind("release_scheduled", True, "to the reporter: the release date of your report is set, or moved"),
        EmailKind("embargo_broken", True, "to the team and the reporters: an issue became public before its release"),
        EmailKind("preannouncement", True, "to the pre-announcement lists: the approved, public notice of a release"),
        # Built by embargo.releases.notices, not from templates: it carries the advisories and patches (DESIGN.md).
        EmailKind("packager_notice", True, "to a packager: the embargo notice, signed, encrypted when it has a key"),
        # Not an e-mail: a post from the project's Mastodon account, delivered by embargo.projects.mastodon.
        EmailKind("mastodon_announcement", True, "from the project's Mastodon account: a published advisory"),
        # Not an e-mail either: CVE Services is asked to reject a withdrawn advisory's CVE record.
        EmailKind("cve_record_rejection", True, "to CVE Services: reject the CVE record of a withdrawn advisory"),
        # Not an e-mail: a signed POST to a project's webhook, delivered by embargo.webhooks.delivery.
        EmailKind("webhook", True, "to a project's webhook URL: an event it subscribed to (docs/webhooks.md)"),
        # Release day: the team hears of the publication (or, from the worker, of a check failing at the moment); the
        # packagers that the embargo ended; the announcement lists get the public advisory as plain text.
        EmailKind("release_published", True, "to the team: the security release is public"),
        EmailKind("publication_alert", True, "to the team: the release moment came but a check fails"),
        EmailKind("embargo_ended", True, "to a packager: the embargo ended, and where the advisories are"),
        EmailKind("announcement", True, "to the announcement lists: the published advisory (oss-security style)"),
        # `embargo mail-in`: a reporter whose e-mail could not all be read is told what was missed (mailin/).
        EmailKind("mail_in_answer", True, "to a reporter by e-mail: part of their e-mail could not be read"),
    )
}

# Strings that reporter e-mails carry in their (JSON) context are stored in English and translated when the mail is
# rendered (`{% translate state_label %}`): gettext_noop only marks them for `make messages`.

# What the reporter reads about each state, and what happens next (no report text).
STATE_NEWS: dict[str, tuple[str, str]] = {
    "received": (gettext_noop("received"), gettext_noop("The team will answer within the time its policy promises.")),
    "acknowledged": (
        gettext_noop("acknowledged by the team"),
        gettext_noop("The team is reproducing the problem and will keep you informed."),
    ),
    "needs_info": (
        gettext_noop("waiting for your answer"),
        gettext_noop("The team asked you a question; your answer restarts its work."),
    ),
    "confirmed": (gettext_noop("confirmed"), gettext_noop("The team reproduced the problem and is preparing a fix.")),
    "fix_ready": (
        gettext_noop("fixed (privately)"),
        gettext_noop("A fix exists; the team may ask you to confirm that it works for you."),
    ),
    "scheduled": (
        gettext_noop("scheduled for release"),
        gettext_noop("A release date is set; packagers were told under embargo."),
    ),
    "published": (gettext_noop("published"), gettext_noop("The fix and the advisory are public. Thank you.")),
    "rejected": (
        gettext_noop("closed as not a vulnerability"),
        gettext_noop("The team explains why in the report's thread."),
    ),
    "duplicate": (
        gettext_noop("closed as a duplicate"),
        gettext_noop("Another report describes the same problem; the team handles it there."),
    ),
    "withdrawn": (gettext_noop("withdrawn"), gettext_noop("The report is closed at the reporter's request.")),
}

# How e-mail names each clock's promise.
CLOCK_PROMISES: dict[str, str] = {
    "response": gettext_noop("an answer to the reporter"),
    "fix": gettext_noop("a released fix"),
    "packagers": gettext_noop("the embargo notices to packagers"),
    "confirmation": gettext_noop("the reporter's confirmation of the fix"),
}

# How e-mail names the author of a message (reports.notify.message_posted).
AUTHOR_LABELS: tuple[str, ...] = (
    gettext_noop("The team"),
    gettext_noop("The reporter"),
    gettext_noop("A collaborator"),
)
