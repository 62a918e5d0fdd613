"""Every write to a project's webhooks: owners only, one audit event each, in one transaction."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from embargo import clock
from embargo.accounts.access import Permission
from embargo.accounts.models import User
from embargo.audit.actions import fingerprint, record_event
from embargo.audit.tags import Tag
from embargo.errors import ActionError
from embargo.notifications.models import OutboxMessage
from embargo.projects.actions import require_permission
from embargo.projects.models import Project
from embargo.webhooks import events, firing
from embargo.webhooks.addresses import OutgoingURLRefused, check_webhook_url
from embargo.webhooks.models import Format, Webhook

FIELDS = frozenset({"url", "description", "events", "format", "active", "include_content"})
MAX_HOOKS_PER_PROJECT = 20


class WebhookError(ActionError):
    pass


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    """Checked values of the fields in `changes`, or WebhookError naming the field to fix."""
    fields: dict[str, Any] = {}
    if "url" in changes:
        try:
            checked = check_webhook_url(str(changes["url"] or ""))
        except OutgoingURLRefused as e:
            raise WebhookError(e.message, field="url") from None
        fields["url"], fields["host"] = checked.url, checked.host
    if "description" in changes:
        description = " ".join(str(changes["description"] or "").split())
        if len(description) > 200:
            raise WebhookError("`description`: at most 200 characters.", field="description")
        fields["description"] = description
    if "events" in changes:
        chosen = changes["events"]
        if not isinstance(chosen, list | tuple) or not chosen:
            raise WebhookError(f"`events`: choose at least one of {', '.join(events.EVENTS)}.", field="events")
        unknown = [e for e in chosen if e not in events.EVENTS]
        if unknown:
            raise WebhookError(
                f"`events`: {str(unknown[0])[:50]!r} is not an event; choose among {', '.join(events.EVENTS)}.",
                field="events",
            )
        fields["events"] = sorted(set(chosen))
    if "format" in changes:
        if changes["format"] not in Format.values:
            raise WebhookError(f"`format`: one of {', '.join(Format.values)}.", field="format")
        fields["format"] = changes["format"]
    for name in ("active", "include_content"):
        if name in changes:
            if not isinstance(changes[name], bool):
                raise WebhookError(f"`{name}`: true or false.", field=name)
            fields[name] = changes[name]
    return fields


def do_add_webhook(
    project: Project,
    *,
    url: str,
    events: list[str],
    format: str = Format.JSON,
    description: str = "",
    active: bool = True,
    include_content: bool = False,
    acting_user: User | None,
) -> Webhook:
    """A new hook with a new secret (read it from `hook.secret` to show it to the owner)."""
    require_permission(project, acting_user, Permission.MANAGE_PROJECT)
    fields = _clean({
        "url": url, "events": events, "format": format, "description": description, "active": active,
        "include_content": include_content,
    })  # fmt: skip
    moment = clock.now()
    with transaction.atomic():
        if Webhook.objects.filter(project=project).count() >= MAX_HOOKS_PER_PROJECT:
            raise WebhookError(
                f"A project has at most {MAX_HOOKS_PER_PROJECT} webhooks: remove one first.", code="too_many_webhooks"
            )
        hook = Webhook(
            project=project, secret=new_secret(), created_at=moment, updated_at=moment, created_by=acting_user
        )
        for name, value in fields.items():
            setattr(hook, name, value)
        hook.save()
        record_event(Tag.WEBHOOK_ADDED, actor=acting_user, target=hook, project=project, data=_summary(hook))
    return hook


def do_change_webhook(
    hook: Webhook, changes: dict[str, Any], *, rotate_secret: bool = False, acting_user: User | None
) -> Webhook:
    """Changes the fields in `changes` (see FIELDS); `rotate_secret` gives the hook a new secret."""
    require_permission(hook.project, acting_user, Permission.MANAGE_PROJECT)
    unknown = set(changes) - FIELDS
    if unknown:
        raise WebhookError(f"`{sorted(unknown)[0]}` cannot be changed.", field=sorted(unknown)[0])
    if "url" in changes and str(changes["url"] or "").strip() == hook.url:
        changes = {k: v for k, v in changes.items() if k != "url"}  # unchanged: not looked up again
    fields = _clean(changes)
    with transaction.atomic():
        row = Webhook.objects.select_for_update().filter(pk=hook.pk).first()
        if row is None:
            raise WebhookError("This webhook was removed.", code="not_found", status=404)
        before = _summary(row)
        for name, value in fields.items():
            setattr(row, name, value)
        if rotate_secret:
            row.secret = new_secret()
        after = _summary(row)
        data: dict[str, Any] = {k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k]}
        if rotate_secret:
            data["secret"] = "changed"  # noqa: S105 - the audit log says that it changed, never the value
        if not data:
            return row
        row.updated_at = clock.now()
        row.save()
        record_event(Tag.WEBHOOK_CHANGED, actor=acting_user, target=row, project=row.project, data=data)
    return row


def do_remove_webhook(hook: Webhook, *, acting_user: User | None) -> None:
    """Deletes the hook with its delivery log; deliveries still queued for it are dropped by the worker."""
    require_permission(hook.project, acting_user, Permission.MANAGE_PROJECT)
    with transaction.atomic():
        record_event(Tag.WEBHOOK_REMOVED, actor=acting_user, target=hook, project=hook.project, data=_summary(hook))
        Webhook.objects.filter(pk=hook.pk).delete()


def do_test_webhook(hook: Webhook, *, acting_user: User | None) -> OutboxMessage:
    """Queues a `ping` delivery, which the worker sends in its next pass (paused hooks too)."""
    require_permission(hook.project, acting_user, Permission.MANAGE_PROJECT)
    with transaction.atomic():
        event = record_event(Tag.WEBHOOK_TESTED, actor=acting_user, target=hook, project=hook.project, data={})
        row = firing.queue(hook, {
            "event": events.PING, "occurred_at": event.created_at.isoformat(), "project": hook.project.slug,
            "report": None, "data": {},
        })  # fmt: skip
    if row is None:  # pragma: no cover - a webhook row is essential, never turned off
        raise WebhookError("The test delivery could not be queued.")
    return row


def _summary(hook: Webhook) -> dict[str, Any]:
    """What the audit log keeps of a hook: never its URL (a credential for chat services) nor its secret."""
    return {
        "host": hook.host,
        "url": fingerprint(hook.url),
        "description": hook.description,
        "events": list(hook.events),
        "format": hook.format,
        "active": hook.active,
        "include_content": hook.include_content,
    }
