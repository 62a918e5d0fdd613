"""The API's shapes for reports, messages, attachments, collaborators and events."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StringConstraints, field_validator

from embargo.domain.severity import SeverityError, normalize_proposed
from embargo.languages.schemas import TranslationOut

Text = Annotated[str, StringConstraints(max_length=100_000)]
ShortText = Annotated[str, StringConstraints(max_length=200)]


def checked_language(value: str) -> str:
    """An ISO 639-1 code Embargo knows, or empty."""
    from embargo.languages import names

    value = value.strip().lower()
    if value and not names.known(value):
        raise ValueError(f"{value!r} is not a language code Embargo knows: use ISO 639-1, e.g. en, fr, zh")
    return value


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ReportIn(Strict):
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    affected_versions: Annotated[str, StringConstraints(max_length=10_000)] = ""
    reproduction: Text = ""
    impact: Annotated[str, StringConstraints(max_length=20_000)] = ""
    severity_proposed: ShortText = ""
    credit_name: ShortText = ""
    credit_consent: StrictBool = False
    reporter_deadline: dt.date | None = Field(
        default=None, description="The date you intend to disclose on, if you have one; the team sees it."
    )
    poc_marker: ShortText = Field(
        default="",
        description="What your proof of concept prints while vulnerable; empty: it exits non-zero while vulnerable.",
    )
    language: Annotated[str, StringConstraints(max_length=8)] = Field(
        default="",
        description="The language the report is written in (ISO 639-1, e.g. `zh`), and the one you want answers "
        "in; empty: detected.",
    )

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return checked_language(value)

    @field_validator("title", "description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("severity_proposed")
    @classmethod
    def _severity(cls, value: str) -> str:
        try:
            return normalize_proposed(value)
        except SeverityError as e:
            raise ValueError(str(e)) from None


class ReportPatch(Strict):
    credit_name: ShortText | None = None
    credit_consent: StrictBool | None = None
    reporter_deadline: dt.date | None = None
    assignee: Annotated[str, StringConstraints(max_length=254)] | None = Field(
        default=None, description="A team member's e-mail address, or null to unassign."
    )


class TransitionIn(Strict):
    to: Annotated[str, StringConstraints(max_length=32)]
    comment: Text = ""
    duplicate_of: Annotated[str, StringConstraints(max_length=64)] | None = None


class MessageIn(Strict):
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    internal: StrictBool = False
    translate: StrictBool = Field(
        default=False,
        description="team only: the reporter also receives the message machine-translated into their language",
    )

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class CollaboratorIn(Strict):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]


class PersonOut(Schema):
    id: str
    name: str
    email: str | None = None
    role: str | None = None


class ReportSummaryOut(Schema):
    id: str
    project: str
    state: str
    title: str
    created_at: dt.datetime
    updated_at: dt.datetime
    response_target_at: dt.datetime
    response_due_at: dt.datetime
    fix_due_at: dt.datetime
    first_response_at: dt.datetime | None
    next_due_at: dt.datetime | None
    overdue: bool
    assignee: PersonOut | None = None
    language: str | None = Field(default=None, description="the report's language (ISO 639-1), once known")


class ClockOut(Schema):
    name: str
    state: str
    started_at: dt.datetime
    target_at: dt.datetime
    due_at: dt.datetime
    stopped_at: dt.datetime | None


class ReportOut(ReportSummaryOut):
    description: str
    affected_versions: str
    reproduction: str
    impact: str
    severity_proposed: str
    credit_name: str
    credit_consent: bool
    reporter: PersonOut | None
    duplicate_of: str | None
    closed_at: dt.datetime | None
    viewer_roles: list[str]
    allowed_transitions: list[str]
    clocks: list[ClockOut]
    needs_info_seconds: int
    reporter_deadline: dt.date | None
    language_confidence: float | None = Field(description="the detector's confidence, for a detected language")
    language_source: Literal["detected", "reporter", "team"] | None
    preferred_language: str | None = Field(description="the language the reporter wants answers in")
    translations: list[TranslationOut] = Field(
        description="the report's title, description and impact in the team's language (team views only)"
    )


class ReportPage(Schema):
    items: list[ReportSummaryOut]
    next_cursor: str | None


class MessageOut(Schema):
    id: str
    author: PersonOut | None
    body: str
    internal: bool
    transition_to: str | None
    created_at: dt.datetime
    language: str | None
    translate_to: str | None = Field(description="a team message sent translated: the reporter's language")
    translations: list[TranslationOut]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime
    uploaded_by: PersonOut
    download_url: str
    is_poc: bool


class AttachmentPage(Schema):
    items: list[AttachmentOut]
    next_cursor: str | None


class CollaboratorOut(Schema):
    user: PersonOut
    created_at: dt.datetime


class CollaboratorPage(Schema):
    items: list[CollaboratorOut]
    next_cursor: str | None


class EventOut(Schema):
    tag: str
    actor: PersonOut | None
    object_type: str
    object_id: str
    data: dict[str, Any]
    created_at: dt.datetime


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class TransferIn(Strict):
    project: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="the slug of the receiving project"
    )
    note: Annotated[str, StringConstraints(max_length=10_000)] = ""
    keep_informed: StrictBool = Field(
        default=False, description="the sending team hears of the report's later states (the state only)"
    )


class TransferOut(Schema):
    id: str
    report: str
    from_project: str
    to_project: str
    to_project_name: str
    by: dict[str, Any] | None
    at: dt.datetime
    note: str
    keep_informed: bool
    informing: bool = Field(description="keep_informed was asked for and the receiving team has not stopped it")
    report_state: str | None = Field(description="the report's state, while the sending team is informed")


class TransferPage(Schema):
    items: list[TransferOut]
    next_cursor: str | None
