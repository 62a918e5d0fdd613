"""From audit events to webhook deliveries: `on_event` is called by `embargo.audit.actions.record_event`, inside
the action's transaction, and writes one outbox row per active hook of the project that wants the event. A
rolled-back action therefore delivers nothing.

The row holds identifiers and non-secret facts only (ids, states, clock names): report titles and message bodies,
for hooks that include content, are read from their sealed records when the worker delivers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from embargo.notifications.models import OutboxMessage
from embargo.notifications.outbox import queue_email
from embargo.webhooks import events
from embargo.webhooks.models import Webhook

if TYPE_CHECKING:
    from embargo.audit.models import Event

TEMPLATE = "webhook"


def on_event(event: Event) -> None:
    name = events.TAG_EVENTS.get(event.tag)
    project = event.project if name is not None and event.project_id is not None else None
    if name is None or project is None:
        return
    hooks = [
        hook
        for hook in Webhook.objects.filter(project=project, active=True).only("id", "public_id", "events")
        if name in hook.events
    ]
    if not hooks:
        return
    report = event.report
    if report is not None and report.held_at is not None:
        # Held for an owner's review: nothing of it goes out (not even the reporter's messages) until it is let in,
        # which is announced as a new report (REPORT_HOLD_RELEASED).
        return
    context = {
        "event": name,
        "occurred_at": event.created_at.isoformat(),
        "project": project.slug,
        "report": report.public_id if report is not None else None,
        "data": _data(name, event),
    }
    for hook in hooks:
        queue(hook, context)


def queue(hook: Webhook, context: dict[str, Any]) -> OutboxMessage | None:
    """One delivery of `context["event"]` to `hook`, in the caller's transaction."""
    return queue_email(TEMPLATE, to="", context={"webhook": hook.public_id, **context})


def _data(name: str, event: Event) -> dict[str, Any]:
    data = event.data or {}
    report = event.report
    if name == events.REPORT_RECEIVED:
        return {"state": report.state if report is not None else ""}
    if name == events.REPORT_STATE_CHANGED:
        return {
            "from": data.get("from", ""),
            "to": data.get("to", ""),
            **({"duplicate_of": data["duplicate_of"]} if data.get("duplicate_of") else {}),
        }
    if name == events.MESSAGE_POSTED:
        return {"message": event.object_id, "internal": bool(data.get("internal")), "author": _author(event)}
    if name == events.REMINDER:
        return {"clock": data.get("clock", ""), "step": data.get("step", ""), "due_at": data.get("due_at", "")}
    if name == events.ADVISORY_PUBLISHED:
        return {"advisory": data.get("id") or event.object_id, "cve_id": data.get("cve_id") or None}
    return {}


def _author(event: Event) -> str:
    """Who wrote a message, as a role: "team", "reporter" or "collaborator" (never a name or an address)."""
    from embargo.accounts.access import team_role

    report = event.report
    if event.actor_id is not None and report is not None:
        if team_role(event.actor, report.project) is not None:
            return "team"
        if event.actor_id == report.reporter_id:
            return "reporter"
        return "collaborator"
    return "reporter"
