"""Queueing notifications: inside the action's transaction, so they share its fate."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from embargo import clock
from embargo.ids import new_public_id
from embargo.notifications.emails import EMAILS
from embargo.notifications.models import OutboxMessage

if TYPE_CHECKING:
    from embargo.accounts.models import User
    from embargo.reports.models import Report


def mail_domain() -> str:
    return urlsplit(settings.EMBARGO_BASE_URL).hostname or "localhost"


def thread_id(report: Report) -> str:
    """The root every e-mail about one report refers to, so that mail clients thread them."""
    return f"<report-{report.public_id}@{mail_domain()}>"


def queue_email(
    name: str,
    *,
    to: User | str,
    context: dict[str, Any],
    report: Report | None = None,
    due_at: dt.datetime | None = None,
) -> OutboxMessage | None:
    """Writes one e-mail into the outbox, or nothing if the person turned this kind off."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notifications are queued inside the action's transaction")
    kind = EMAILS[name]
    user = None if isinstance(to, str) else to
    if user is not None and not kind.essential and not user.notify_optional:
        return None
    public_id = new_public_id()
    moment = clock.now()
    return OutboxMessage.objects.create(
        public_id=public_id,
        template=name,
        to_email=to if isinstance(to, str) else to.email,
        to_user=user,
        report=report,
        context={
            "base_url": settings.EMBARGO_BASE_URL,
            "settings_link": settings.EMBARGO_BASE_URL + "/account/",
            **context,
        },
        message_id=f"<{public_id}@{mail_domain()}>",
        thread_id=thread_id(report) if report is not None else "",
        created_at=moment,
        due_at=due_at or moment,
    )
