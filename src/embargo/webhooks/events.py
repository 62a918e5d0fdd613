"""The events a webhook may subscribe to, and the audit tags each is made from."""

from __future__ import annotations

from embargo.audit.tags import Tag

REPORT_RECEIVED = "report.received"
REPORT_STATE_CHANGED = "report.state_changed"
MESSAGE_POSTED = "message.posted"
REMINDER = "reminder"
ADVISORY_PUBLISHED = "advisory.published"
# Sent by the "send test" button only; every hook gets it whatever it subscribed to.
PING = "ping"

# In the order the pages list them, with what an owner reads beside the checkbox.
EVENTS: dict[str, str] = {
    REPORT_RECEIVED: "a new report arrived (after an owner let it in, for a report held for review)",
    REPORT_STATE_CHANGED: "a report moved on in the workflow (acknowledged, confirmed, fixed, published, closed…)",
    MESSAGE_POSTED: "a message was posted in a report's thread (internal notes included, marked as such)",
    REMINDER: "a promise of the policy falls due: a reminder, an escalation or an overdue clock",
    ADVISORY_PUBLISHED: "an advisory was published",
}

# Audit tags -> webhook event. A report held for review (a new account's) is announced when it is let in.
TAG_EVENTS: dict[str, str] = {
    Tag.REPORT_CREATED: REPORT_RECEIVED,
    Tag.REPORT_HOLD_RELEASED: REPORT_RECEIVED,
    # A report handed over by another project is a new report for the receiving team (the event names it).
    Tag.REPORT_TRANSFERRED: REPORT_RECEIVED,
    Tag.REPORT_TRANSITIONED: REPORT_STATE_CHANGED,
    Tag.MESSAGE_POSTED: MESSAGE_POSTED,
    Tag.REPORT_REMINDED: REMINDER,
    Tag.REPORT_OVERDUE: REMINDER,
    Tag.CONFIRMATION_TIMED_OUT: REMINDER,
    Tag.ADVISORY_PUBLISHED: ADVISORY_PUBLISHED,
}
