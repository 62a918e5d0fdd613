"""Reply addresses: `reply+<report>.<person>.<signature>@<EMBARGO_MAIL_IN_DOMAIN>`, one per recipient of a
notification about a report, in its Reply-To.

The signature is an HMAC (the instance secret, as the private links of reports/links.py) over the report, the
person and what gives them their place on the report, in the manner of Django's password-reset tokens: for the
reporter the link version (revoking their private links revokes their reply addresses too), for a team member
their membership, for a collaborator their invitation. When that changes the address dies; no token is stored.
The local part stays within the 64 characters RFC 5321 allows."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from embargo.accounts.models import User
from embargo.ids import looks_like_public_id
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Membership
from embargo.reports.models import Collaborator, Report

SALT = "embargo.mailin.reply-address"
PREFIX = "reply+"
_SIGNATURE_CHARS = 16  # base32: 80 bits
_LOCAL = re.compile(r"reply\+([a-z2-7]{20})\.([a-z2-7]{20})\.([a-z2-7]{16})")


def domain() -> str:
    """EMBARGO_MAIL_IN_DOMAIN, else the host of EMBARGO_BASE_URL."""
    return settings.EMBARGO_MAIL_IN_DOMAIN or (urlsplit(settings.EMBARGO_BASE_URL).hostname or "localhost").lower()


def _places(report: Report, user: User) -> list[str]:
    """What binds `user` to `report` now: one entry per role they hold on it."""
    places = []
    if report.reporter_id is not None and report.reporter_id == user.pk:
        places.append(f"reporter:{user.email}:{report.link_version}")
    membership = Membership.objects.filter(project_id=report.project_id, user=user).values_list("pk", flat=True).first()
    if membership is not None:
        places.append(f"member:{membership}")
    grant = Collaborator.objects.filter(report=report, user=user).values_list("pk", flat=True).first()
    if grant is not None:
        places.append(f"collaborator:{grant}")
    return places


def _signature(report: Report, user: User, place: str) -> str:
    digest = salted_hmac(SALT, f"{report.public_id}:{user.public_id}:{place}", algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii").lower()[:_SIGNATURE_CHARS]


def reply_address(report: Report, user: User) -> str | None:
    """The address at which `user` answers in the thread of `report`; None if they have no place on it."""
    places = _places(report, user)
    if not places:
        return None
    return f"{PREFIX}{report.public_id}.{user.public_id}.{_signature(report, user, places[0])}@{domain()}"


def looks_like_reply(address: str) -> bool:
    local, _, host = address.rpartition("@")
    return local.lower().startswith(PREFIX) and host.lower() == domain()


def describe(address: str) -> str:
    """What a log line may say of a recipient: a reply address is a bearer credential (whoever has it writes in
    the thread as its person), so it is named by its report only; an intake address is public and named as is.
    The report is read from the address unchecked: for logs only."""
    if not looks_like_reply(address):
        return address
    match = _LOCAL.fullmatch(address.strip().rpartition("@")[0].lower())
    return f"reply address (report {match.group(1)})" if match else "reply address"


@dataclass(frozen=True)
class Replier:
    report: Report
    user: User


def resolve(address: str) -> Replier | None:
    """The report and person a reply address stands for; None for a forged, mistyped or stale one (the person's
    place on the report changed since, or the report or person is gone)."""
    local, _, host = address.strip().rpartition("@")
    match = _LOCAL.fullmatch(local.lower())
    if match is None or host.lower() != domain():
        return None
    report_id, user_id, signature = match.groups()
    if not (looks_like_public_id(report_id) and looks_like_public_id(user_id)):
        return None
    report = Report.objects.select_related("project", "project__policy", "reporter").filter(public_id=report_id).first()
    user = User.objects.filter(public_id=user_id, is_active=True).first()
    if report is None or user is None:
        return None
    for place in _places(report, user):
        if constant_time_compare(_signature(report, user, place), signature):
            return Replier(report, user)
    return None


def reply_to_header(row: OutboxMessage) -> dict[str, str]:
    """`Reply-To` for an outbox row about a report sent to a person who has a place on it; else nothing."""
    if row.report_id is None or row.to_user_id is None:
        return {}
    report = Report.objects.select_related("project").filter(pk=row.report_id).first()
    user = User.objects.filter(pk=row.to_user_id).first()
    if report is None or user is None:
        return {}
    address = reply_address(report, user)
    return {"Reply-To": address} if address else {}
