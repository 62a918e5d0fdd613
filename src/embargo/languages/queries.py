"""What each person may read of translations: the team all of them, the reporter and collaborators only the
team's messages translated for the reporter."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from embargo.accounts.access import Permission, ReportAccess
from embargo.languages.models import Purpose, Translation


def translations(access: ReportAccess) -> QuerySet[Translation]:
    rows = Translation.objects.filter(report=access.report).select_related("data_key", "corrected_by", "message")
    if not access.can(Permission.MANAGE_TRANSLATIONS):
        rows = rows.filter(purpose=Purpose.REPORTER)
    return rows


def of_report_fields(access: ReportAccess) -> dict[str, Translation]:
    """The translations of the report's own fields the viewer may read, by field."""
    if not access.can(Permission.MANAGE_TRANSLATIONS):
        return {}
    rows = translations(access).filter(message=None).order_by("created_at", "id")
    return {row.field: row for row in rows}


def prefetch_for_thread(access: ReportAccess) -> Prefetch:
    """Each message's readable translations as `message.visible_translations`, in one query for the page."""
    return Prefetch(
        "translations",
        queryset=translations(access).exclude(message=None).order_by("created_at", "id"),
        to_attr="visible_translations",
    )
