"""Recording audit events. Called by other actions inside their transaction, never on its own."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, models, transaction

from embargo import clock
from embargo.audit.chain import append
from embargo.audit.models import Event
from embargo.audit.tags import Audience, Tag

# How many times an event is re-chained when another transaction appended to the same chain first.
CHAIN_ATTEMPTS = 5


def fingerprint(secret_text: str) -> str:
    """What the audit log keeps of secret text: that it changed, and a hash to compare versions."""
    return "sha256:" + hashlib.sha256(secret_text.encode()).hexdigest()


def record_event(
    tag: Tag,
    *,
    actor: Any,
    target: models.Model | None = None,
    project: Any = None,
    report: Any = None,
    audience: str = Audience.TEAM,
    data: dict[str, Any] | None = None,
) -> Event:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events are recorded inside the action's transaction")
    object_id = ""
    if target is not None:
        object_id = str(getattr(target, "public_id", None) or getattr(target, "slug", None) or target.pk)
    event = Event(
        tag=tag,
        actor=actor,
        project=project,
        report=report,
        object_type=(target._meta.model_name or "") if target is not None else "",
        object_id=object_id,
        audience=audience,
        data=data or {},
        created_at=clock.now(),
    )
    # The chain's head is read and the event appended in a savepoint: if a concurrent transaction appended to the
    # same chain first (the unique (chain, seq) constraint refuses the fork), read the new head and try again.
    # Most report actions hold the report's row lock, so this only happens for project and instance chains.
    for attempt in range(CHAIN_ATTEMPTS):
        try:
            with transaction.atomic():
                append(event)
                event.save(force_insert=True)
            break
        except IntegrityError:
            event.pk = None
            if attempt == CHAIN_ATTEMPTS - 1:
                raise
    # The project's webhooks that want this event get their outbox rows in this same transaction.
    from embargo.webhooks.firing import on_event

    on_event(event)
    return event
