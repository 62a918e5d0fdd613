"""Reads of a project's webhooks, for owners (the caller checked Permission.MANAGE_PROJECT on the project)."""

from __future__ import annotations

from django.db.models import QuerySet

from embargo.accounts.access import NotFound
from embargo.projects.models import Project
from embargo.webhooks.models import Webhook, WebhookDelivery


def webhooks(project: Project) -> QuerySet[Webhook]:
    return Webhook.objects.filter(project=project).select_related("data_key")


def webhook_by_id(project: Project, webhook_id: str) -> Webhook:
    """The project's hook, or NotFound (also for another project's)."""
    hook = webhooks(project).select_related("project").filter(public_id=str(webhook_id)).first()
    if hook is None:
        raise NotFound
    return hook


def deliveries(hook: Webhook) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(webhook=hook)
