"""The body of a delivery, in the hook's format (docs/webhooks.md "Payloads"), built when the worker delivers it.

Content — the report's title, a message's body — is read from the sealed records at that moment, and only for a
hook whose owner turned `include_content` on; the outbox row never holds it."""

from __future__ import annotations

import html
import json
from typing import Any

from django.conf import settings
from django.urls import reverse

from embargo.webhooks import events
from embargo.webhooks.models import Format, Webhook

# A chat message is a notice, not the whole report: content beyond this is cut (the link leads to the rest).
CHAT_CONTENT_LIMIT = 1000


def build(hook: Webhook, delivery_id: str, context: dict[str, Any]) -> bytes:
    """The request body (UTF-8 JSON) of one delivery."""
    document = _document(hook, delivery_id, context)
    if hook.format == Format.SLACK:
        body: dict[str, Any] = {"text": _slack_text(document)}
    elif hook.format == Format.MATRIX:
        text, markup = _matrix(document)
        body = {"text": text, "format": "org.matrix.custom.html", "html": markup}
    else:
        body = document
    return json.dumps(body, sort_keys=True, ensure_ascii=False).encode()


def _document(hook: Webhook, delivery_id: str, context: dict[str, Any]) -> dict[str, Any]:
    """The `json` format's payload; the chat formats are written from it."""
    from embargo.reports.models import Message, Report

    name = str(context.get("event", ""))
    slug = str(context.get("project", ""))
    data = dict(context.get("data") or {})
    base = settings.EMBARGO_BASE_URL
    report_id = context.get("report")
    report: dict[str, Any] | None = None
    if report_id:
        report = {"id": report_id, "url": base + reverse("report", args=[report_id])}
        if hook.include_content:
            # Still the hook's project's report (not handed on to another project since): else no content.
            found = Report.objects.filter(public_id=report_id, project_id=hook.project_id).first()
            if found is not None:
                report["title"] = found.title
    if name == events.MESSAGE_POSTED and hook.include_content and data.get("message"):
        message = Message.objects.filter(
            public_id=data["message"], report__public_id=report_id, report__project_id=hook.project_id
        ).first()
        if message is not None:
            data["body"] = message.body
    if name == events.ADVISORY_PUBLISHED and data.get("advisory"):
        data["url"] = base + reverse("advisory", args=[data["advisory"]])
    document = {
        "id": delivery_id,
        "event": name,
        "occurred_at": context.get("occurred_at"),
        "project": {"slug": slug, "url": base + reverse("project", args=[slug])},
        "report": report,
        "data": data,
        "content_included": hook.include_content,
    }
    document["summary"] = summary(document)
    return document


def summary(document: dict[str, Any]) -> str:
    """One line that says what happened, without content."""
    name, data, project = document["event"], document["data"], document["project"]["slug"]
    report = (document.get("report") or {}).get("id", "")
    if name == events.REPORT_RECEIVED:
        return f"[{project}] New report {report} received."
    if name == events.REPORT_STATE_CHANGED:
        return f"[{project}] Report {report} moved from {data.get('from')} to {data.get('to')}."
    if name == events.MESSAGE_POSTED:
        kind = "internal note" if data.get("internal") else "message"
        return f"[{project}] New {kind} from the {data.get('author')} on report {report}."
    if name == events.REMINDER:
        step = str(data.get("step", "")).replace("_", " ")
        return f"[{project}] Report {report}: the {data.get('clock')} clock — {step} (due {data.get('due_at')})."
    if name == events.ADVISORY_PUBLISHED:
        cve = f" ({data['cve_id']})" if data.get("cve_id") else ""
        return f"[{project}] Advisory {data.get('advisory')}{cve} published."
    if name == events.PING:
        return f"[{project}] Test delivery from Embargo: this webhook works."
    return f"[{project}] {name}"


def _content(document: dict[str, Any]) -> tuple[str, str]:
    """The title and the message body a content-including hook shows, cut for chat rooms."""
    title = str((document.get("report") or {}).get("title") or "")
    body = str(document["data"].get("body") or "")
    if len(body) > CHAT_CONTENT_LIMIT:
        body = body[:CHAT_CONTENT_LIMIT] + "…"
    return title[:300], body


def _link(document: dict[str, Any]) -> tuple[str, str] | None:
    if document["event"] == events.ADVISORY_PUBLISHED and document["data"].get("url"):
        return document["data"]["url"], str(document["data"].get("advisory"))
    if document.get("report"):
        return document["report"]["url"], "open the report"
    return None


def _slack_escape(text: str) -> str:
    # Slack's (and Mattermost's) message format gives &, < and > a meaning.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_text(document: dict[str, Any]) -> str:
    lines = [_slack_escape(document["summary"])]
    title, body = _content(document)
    if title:
        lines.append(f"*{_slack_escape(title)}*")
    if body:
        lines.extend("> " + _slack_escape(line) for line in body.splitlines() or [""])
    link = _link(document)
    if link:
        lines.append(f"<{link[0]}|{_slack_escape(link[1])}>")
    return "\n".join(lines)


def _matrix(document: dict[str, Any]) -> tuple[str, str]:
    """A plain-text body and its HTML twin (hookshot's generic webhooks take `text` and `html`)."""
    title, body = _content(document)
    link = _link(document)
    text = [document["summary"]]
    markup = [html.escape(document["summary"])]
    if title:
        text.append(title)
        markup.append(f"<strong>{html.escape(title)}</strong>")
    if body:
        text.append(body)
        markup.append(f"<blockquote>{html.escape(body).replace(chr(10), '<br>')}</blockquote>")
    if link:
        text.append(link[0])
        markup.append(f'<a href="{html.escape(link[0])}">{html.escape(link[1])}</a>')
    return "\n".join(text), "<br>".join(markup)
