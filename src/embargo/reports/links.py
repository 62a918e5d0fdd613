"""Reporters' private links: an HMAC over the report, the reporter's address and a version number, in the
manner of Django's password-reset tokens. Bumping `Report.link_version` (or a change of address) kills
every link given out before; no token is stored."""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from embargo.reports.models import Report

SALT = "embargo.reports.private-link"


def _token(report: Report) -> str:
    email = report.reporter.email if report.reporter else ""
    return salted_hmac(SALT, f"{report.public_id}:{email}:{report.link_version}", algorithm="sha256").hexdigest()[:32]


def private_path(report: Report) -> str:
    return f"/r/{report.public_id}/{_token(report)}/"


def private_link(report: Report) -> str:
    return settings.EMBARGO_BASE_URL + private_path(report)


def is_valid(report: Report, token: str) -> bool:
    return constant_time_compare(_token(report), token)


def report_url(report: Report) -> str:
    return f"{settings.EMBARGO_BASE_URL}/reports/{report.public_id}/"
