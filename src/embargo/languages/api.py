"""The API of languages and translations: a report's language, and the team's machine translations."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from embargo.accounts.access import Permission, access_report_by_id
from embargo.api.pagination import Key, paginate
from embargo.languages import actions, queries
from embargo.languages.schemas import (
    LanguageIn,
    TranslationCorrectionIn,
    TranslationOut,
    TranslationRequestIn,
    translation_out,
)
from embargo.reports.api import Page, detail
from embargo.reports.schemas import ReportOut

router = Router(tags=["languages"])
OLDEST_FIRST = (Key("created_at", is_datetime=True), Key("id"))


class TranslationPage(Schema):
    items: list[TranslationOut]
    next_cursor: str | None


@router.put(
    "/reports/{report_id}/language",
    response=ReportOut,
    summary="Set the report's language or the reporter's (reporter and team)",
)
def set_language(request: HttpRequest, report_id: str, payload: LanguageIn) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    access = access_report_by_id(user, report_id, Permission.SET_LANGUAGE)
    actions.do_set_language(
        access, language=payload.language, preferred_language=payload.preferred_language, acting_user=user
    )
    return detail(access)


@router.get(
    "/reports/{report_id}/translations",
    response=TranslationPage,
    summary="Machine translations (the team: all; reporter and collaborators: messages translated for the reporter)",
)
def list_translations(request: HttpRequest, report_id: str, page: Query[Page]) -> dict[str, Any]:
    access = access_report_by_id(request.auth, report_id, Permission.VIEW_REPORT)  # type: ignore[attr-defined]
    return paginate(
        queries.translations(access), OLDEST_FIRST, limit=page.limit, cursor=page.cursor, serialize=translation_out
    )


@router.post(
    "/reports/{report_id}/translations",
    response={202: TranslationOut},
    summary="Ask for a machine translation (again) of a report field or a message (team)",
)
def request_translation(request: HttpRequest, report_id: str, payload: TranslationRequestIn) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    access = access_report_by_id(user, report_id, Permission.MANAGE_TRANSLATIONS)
    row = actions.do_request_translation(
        access, field=payload.field, message_id=payload.message, translation_id=payload.translation, acting_user=user
    )
    return Status(202, translation_out(row))


@router.put(
    "/reports/{report_id}/translations/{translation_id}",
    response=TranslationOut,
    summary="Correct a translation by hand (team)",
)
def correct_translation(
    request: HttpRequest, report_id: str, translation_id: str, payload: TranslationCorrectionIn
) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    access = access_report_by_id(user, report_id, Permission.MANAGE_TRANSLATIONS)
    return translation_out(actions.do_correct_translation(access, translation_id, payload.text, acting_user=user))
