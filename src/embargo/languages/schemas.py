"""The API's shapes for languages and translations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, model_validator

from embargo.languages.models import JobStatus, Translation

Code = Annotated[str, StringConstraints(max_length=8)]


class TranslationOut(Schema):
    id: str
    field: str = Field(description='"title", "description", "impact" of the report, or "body" of a message')
    message: str | None = Field(description="the message translated, if it is one")
    purpose: Literal["team", "reporter"] = Field(
        description='"team": the reporter\'s text for the team; "reporter": a team message sent translated'
    )
    source_language: str | None
    target_language: str
    status: Literal["queued", "running", "done", "error"]
    text: str | None = Field(description="the translation, once done")
    machine: bool = Field(description="made by the translation service (false: written or corrected by hand)")
    provider: str | None = Field(description="the service that made it")
    corrected_by: str | None = Field(description="who corrected it by hand (team views only)")
    error: str | None = Field(description="why the last try failed; the original stays readable")
    updated_at: dt.datetime


def translation_out(row: Translation) -> dict[str, Any]:
    done = row.status == JobStatus.DONE
    return {
        "id": row.public_id,
        "field": row.field,
        "message": row.message.public_id if row.message_id is not None and row.message is not None else None,
        "purpose": row.purpose,
        "source_language": row.source_language or None,
        "target_language": row.target_language,
        "status": row.status,
        "text": row.text if done else None,
        "machine": row.corrected_at is None,
        "provider": row.provider or None,
        "corrected_by": row.corrected_by.display_name if row.corrected_by is not None else None,
        "error": row.error or None,
        "updated_at": row.updated_at,
    }


class LanguageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    language: Code | None = Field(default=None, description="the report's language (ISO 639-1)")
    preferred_language: Code | None = Field(
        default=None, description='the language the reporter wants answers in; "" means the report\'s language'
    )

    @model_validator(mode="after")
    def _something(self) -> LanguageIn:
        if self.language is None and self.preferred_language is None:
            raise ValueError("give `language`, `preferred_language` or both")
        return self


class TranslationRequestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    field: Literal["title", "description", "impact"] | None = Field(default=None, description="a field of the report")
    message: Annotated[str, StringConstraints(max_length=64)] | None = Field(default=None, description="a message")
    translation: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="an existing translation, to be made again"
    )

    @model_validator(mode="after")
    def _one(self) -> TranslationRequestIn:
        if sum(x is not None for x in (self.field, self.message, self.translation)) != 1:
            raise ValueError("give exactly one of `field`, `message`, `translation`")
        return self


class TranslationCorrectionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
