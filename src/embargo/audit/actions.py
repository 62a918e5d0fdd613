"""Recording audit events. Called by other actions inside their transaction, never on its own."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models, transaction

from embargo import clock
from embargo.audit.models import Event
from embargo.audit.tags import Audience, Tag


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
    return Event.objects.create(
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
