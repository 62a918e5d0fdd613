"""A person's data over its lifetime: everything Embargo holds about them, as one download, and the deletion of
their account. Their reports stay with the projects they were sent to (the teams need them to finish the work and
to keep the record): what identifies the person goes, and their name stays on a report only where they chose to be
credited in public."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.db import transaction
from django.db.models import F

from embargo import clock
from embargo.accounts.models import ApiToken, User
from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.errors import ActionError
from embargo.notifications.models import OutboxMessage


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100].strip("._")
    return cleaned or "file"


def export_archive(user: User) -> bytes:
    """A zip of the account, the reports the person sent (as they see them: no internal notes), the messages and
    files they can see there, the reports they collaborate on, their API tokens (names and dates, never the tokens)
    and the audit events about them. Recorded as an audit event."""
    from embargo.accounts.access import Permission, access_report_by_id
    from embargo.audit.models import Event
    from embargo.reports import actions as report_actions
    from embargo.reports import queries
    from embargo.reports.models import Collaborator, Report

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        account = {
            "id": user.public_id,
            "email": user.email,
            "name": user.name,
            "date_joined": _iso(user.date_joined),
            "email_verified_at": _iso(user.email_verified_at),
            "notify_optional": user.notify_optional,
            "openpgp_fingerprint": user.openpgp_fingerprint or None,
            "tokens": [
                {
                    "name": t.name,
                    "prefix": t.prefix,
                    "created_at": _iso(t.created_at),
                    "last_used_at": _iso(t.last_used_at),
                    "revoked_at": _iso(t.revoked_at),
                }
                for t in ApiToken.objects.filter(user=user).order_by("id")
            ],
            "memberships": [
                {"project": m.project.slug, "role": m.role, "since": _iso(m.created_at)}
                for m in user.memberships.select_related("project").order_by("id")
            ],
        }
        archive.writestr("account.json", json.dumps(account, indent=2, ensure_ascii=False))
        own = list(Report.objects.filter(reporter=user).order_by("id").values_list("public_id", flat=True))
        guest = list(Collaborator.objects.filter(user=user).order_by("id").values_list("report__public_id", flat=True))
        for public_id in dict.fromkeys([*own, *guest]):
            access = access_report_by_id(user, public_id, Permission.VIEW_REPORT)
            report = access.report
            data = {
                "id": report.public_id,
                "project": report.project.slug,
                "your_role": sorted(access.actors),
                "state": report.state,
                "created_at": _iso(report.created_at),
                **{name: getattr(report, name) for name in report_actions.SECRET_FIELDS},
                "credit_name": report.credit_name,
                "credit_consent": report.credit_consent,
                "language": report.language,
                "messages": [
                    {
                        "id": m.public_id,
                        "author": m.author.display_name if m.author else None,
                        "created_at": _iso(m.created_at),
                        "body": m.body,
                    }
                    for m in queries.thread(access).order_by("created_at", "id")
                ],
                "attachments": [],
            }
            for attachment in queries.attachments(access).order_by("created_at", "id"):
                name = (
                    f"reports/{report.public_id}/attachments/{attachment.public_id}-{_safe_name(attachment.filename)}"
                )
                archive.writestr(name, report_actions.read_attachment(attachment))
                data["attachments"].append({"file": name, "sha256": attachment.sha256, "size": attachment.size})
            archive.writestr(f"reports/{report.public_id}/report.json", json.dumps(data, indent=2, ensure_ascii=False))
        events = [
            {"tag": e.tag, "at": _iso(e.created_at), "object": f"{e.object_type} {e.object_id}".strip()}
            for e in Event.objects.filter(actor=user).order_by("id")
        ]
        archive.writestr("events.json", json.dumps(events, indent=2, ensure_ascii=False))
    with transaction.atomic():
        record_event(Tag.ACCOUNT_EXPORTED, actor=user, target=user, data={"reports": len(own) + len(guest)})
    return buffer.getvalue()


def do_delete_account(user: User, *, password: str) -> None:
    """The person deletes their account (their password confirms it). Refused while they are on a project's
    team: an owner takes them off first (do_remove_member), so that no project loses its last owner by surprise.
    Their address, name and password go, tokens are revoked, every session ends; their reports stay, credited
    by name only where they consented to public credit."""
    from embargo.reports.models import Collaborator, Report

    if not user.check_password(password):
        raise ActionError("The password is not right.", field="password", code="wrong_password", status=403)
    if user.memberships.exists():
        raise ActionError(
            "You are on a project's team: ask an owner to take you off the team first.", code="conflict", status=409
        )
    with transaction.atomic():
        moment = clock.now()
        Report.objects.filter(reporter=user, credit_consent=False).update(credit_name="")
        Collaborator.objects.filter(user=user).delete()
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=moment)
        user.email = f"deleted-{user.public_id}@invalid"
        user.name = ""
        user.pending_email = ""
        user.openpgp_key, user.openpgp_fingerprint, user.openpgp_expires_at = "", "", None
        user.is_active = False
        user.notify_optional = False
        user.deleted_at = moment
        user.set_unusable_password()
        user.save()
        User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
        # Mail still waiting for the old address is not sent.
        OutboxMessage.objects.filter(to_user=user, sent_at__isnull=True, failed_at__isnull=True).update(
            failed_at=moment, leased_until=None, last_error="cancelled: the account was deleted"
        )
        record_event(Tag.ACCOUNT_DELETED, actor=user, target=user, data={})
