"""Webhook routes of the HTTP API (owners of the project; everyone else gets 404). docs/webhooks.md."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from embargo.accounts.access import Permission, access_project_by_slug
from embargo.api.errors import invalid
from embargo.api.pagination import Key, paginate
from embargo.webhooks import actions, queries
from embargo.webhooks.addresses import MAX_LENGTH
from embargo.webhooks.models import Webhook, WebhookDelivery

router = Router(tags=["webhooks"])

EventName = Literal["report.received", "report.state_changed", "message.posted", "reminder", "advisory.published"]
FormatName = Literal["json", "slack", "matrix"]
Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH)]
Description = Annotated[str, StringConstraints(max_length=200)]
NEWEST_FIRST = (Key("created_at", descending=True, is_datetime=True), Key("id", descending=True))
LATEST_FIRST = (Key("id", descending=True),)


class Page(Schema):
    limit: int | None = None
    cursor: str | None = None


class WebhookIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: Url = Field(description="https:// URL to POST to (public addresses only, unless the operator allows more)")
    events: list[EventName] = Field(min_length=1, description="the events to deliver")
    format: FormatName = Field(default="json", description="json (Embargo's payload), slack (Slack/Mattermost), matrix")
    description: Description = ""
    active: StrictBool = True
    include_content: StrictBool = Field(
        default=False, description="put report titles and message bodies in the payload (off by default)"
    )


class WebhookPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: list[EventName] | None = Field(default=None, min_length=1)
    format: FormatName | None = None
    description: Description | None = None
    active: StrictBool | None = None
    include_content: StrictBool | None = None
    rotate_secret: StrictBool | None = Field(default=None, description="true: a new secret replaces the old one")


class WebhookOut(Schema):
    id: str
    url: str
    host: str
    description: str
    events: list[str]
    format: str
    active: bool
    include_content: bool
    secret: str = Field(description="the key of the X-Embargo-Signature HMAC")
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookPage(Schema):
    items: list[WebhookOut]
    next_cursor: str | None


class DeliveryOut(Schema):
    delivery_id: str
    event: str
    attempt: int
    status_code: int | None
    duration_ms: int | None
    ok: bool
    error: str
    response_excerpt: str
    at: dt.datetime


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class TestOut(Schema):
    delivery_id: str = Field(description="the X-Embargo-Delivery of the queued ping; the worker sends it")


def webhook_out(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.public_id,
        "url": hook.url,
        "host": hook.host,
        "description": hook.description,
        "events": list(hook.events),
        "format": hook.format,
        "active": hook.active,
        "include_content": hook.include_content,
        "secret": hook.secret,
        "created_at": hook.created_at,
        "updated_at": hook.updated_at,
    }


def delivery_out(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "delivery_id": row.delivery_id,
        "event": row.event,
        "attempt": row.attempt,
        "status_code": row.status_code,
        "duration_ms": row.duration_ms,
        "ok": row.ok,
        "error": row.error,
        "response_excerpt": row.response_excerpt,
        "at": row.at,
    }


HOOKS = "/projects/{slug}/webhooks"
HOOK = HOOKS + "/{webhook_id}"


@router.get(HOOKS, response=WebhookPage, summary="The project's webhooks (owners)")
def list_webhooks(request: HttpRequest, slug: str, page: Query[Page]) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.MANAGE_PROJECT)  # type: ignore[attr-defined]
    return paginate(
        queries.webhooks(project), NEWEST_FIRST, limit=page.limit, cursor=page.cursor, serialize=webhook_out
    )


@router.post(HOOKS, response={201: WebhookOut}, summary="Add a webhook; the answer holds its secret (owners)")
def add_webhook(request: HttpRequest, slug: str, payload: WebhookIn) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    hook = actions.do_add_webhook(project, **payload.dict(), acting_user=user)
    return Status(201, webhook_out(hook))


@router.get(HOOK, response=WebhookOut, summary="One webhook (owners)")
def get_webhook(request: HttpRequest, slug: str, webhook_id: str) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.MANAGE_PROJECT)  # type: ignore[attr-defined]
    return webhook_out(queries.webhook_by_id(project, webhook_id))


@router.patch(HOOK, response=WebhookOut, summary="Change a webhook, pause it, or give it a new secret (owners)")
def patch_webhook(request: HttpRequest, slug: str, webhook_id: str, payload: WebhookPatch) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    hook = queries.webhook_by_id(project, webhook_id)
    changes = {k: getattr(payload, k) for k in payload.model_fields_set}
    if not changes or any(v is None for v in changes.values()):
        raise invalid(next((k for k, v in changes.items() if v is None), ""), "Nothing to change, or a null value.")
    rotate = bool(changes.pop("rotate_secret", False))
    return webhook_out(actions.do_change_webhook(hook, changes, rotate_secret=rotate, acting_user=user))


@router.delete(HOOK, response={204: None}, summary="Remove a webhook and its delivery log (owners)")
def delete_webhook(request: HttpRequest, slug: str, webhook_id: str) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    actions.do_remove_webhook(queries.webhook_by_id(project, webhook_id), acting_user=user)
    return Status(204, None)


@router.post(HOOK + "/test", response={202: TestOut}, summary="Queue a test delivery (`ping`) (owners)")
def test_webhook(request: HttpRequest, slug: str, webhook_id: str) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    row = actions.do_test_webhook(queries.webhook_by_id(project, webhook_id), acting_user=user)
    return Status(202, {"delivery_id": row.public_id})


@router.get(HOOK + "/deliveries", response=DeliveryPage, summary="The webhook's delivery log, latest first (owners)")
def list_deliveries(request: HttpRequest, slug: str, webhook_id: str, page: Query[Page]) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.MANAGE_PROJECT)  # type: ignore[attr-defined]
    hook = queries.webhook_by_id(project, webhook_id)
    return paginate(
        queries.deliveries(hook), LATEST_FIRST, limit=page.limit, cursor=page.cursor, serialize=delivery_out
    )
