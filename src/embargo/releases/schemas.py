"""The API's shapes for security releases."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

ReportId = Annotated[str, StringConstraints(min_length=1, max_length=32)]
VersionText = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Clock = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Reason = Annotated[str, StringConstraints(max_length=10_000)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ReleaseIn(Strict):
    reports: list[ReportId] = Field(max_length=100, description="fix_ready reports of the project, in no release")
    versions: list[VersionText] = Field(default_factory=list, max_length=20, description='e.g. ["2.32.4", "2.31.1"]')
    date: dt.date | None = Field(default=None, description="YYYY-MM-DD, in `timezone`")
    time: Clock | None = Field(default=None, description="HH:MM, in `timezone`")
    timezone: Zone | None = Field(default=None, description="an IANA zone; the project's by default")


class ReleasePatch(Strict):
    versions: list[VersionText] | None = Field(default=None, max_length=20)
    date: dt.date | None = None
    time: Clock | None = None
    timezone: Zone | None = None
    add_reports: list[ReportId] = Field(default_factory=list, max_length=100)
    remove_reports: list[ReportId] = Field(default_factory=list, max_length=100)
    override_confirmation: Reason | None = Field(
        default=None, description="after the notices: why an added report goes out before its reporter confirmed"
    )


class MomentBody(Strict):
    date: dt.date
    time: Clock
    timezone: Zone | None = None


class NotifyIn(Strict):
    override_confirmation: Reason | None = Field(
        default=None, description="why the notices go out before every reporter confirmed the fix"
    )


class BrokenIn(Strict):
    reason: Reason


class PreannouncementIn(Strict):
    text: Reason


class ReleaseReportOut(Schema):
    id: str
    title: str
    state: str
    confirmed: bool = Field(description="the reporter confirmed the fix")
    confirmation_pending: bool = Field(description="the notices still wait for the reporter (or an override)")
    advisory_id: str | None
    cve_id: str | None


class PackagerStatusOut(Schema):
    id: str
    organisation: str
    encrypted: bool = Field(description="the packager has a key: its notices are encrypted")
    round: int | None
    reason: str | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    removed: bool = Field(default=False, description="taken off the list since; its links no longer work")


class EmbargoBrokenOut(Schema):
    at: dt.datetime
    reason: str


class PreannouncementOut(Schema):
    text: str = Field(description="the team's text, or Embargo's draft until the team edits it")
    draft: str | None = Field(description="Embargo's draft from the release's facts; null without a moment")
    edited: bool
    approved_at: dt.datetime | None
    lists: list[str] = Field(description="where approving sends it")


class ReleaseOut(Schema):
    id: str
    project: str
    state: str = Field(description="planned, scheduled (the notices went out) or published")
    versions: list[str]
    release_at: dt.datetime | None = Field(description="UTC")
    release_local: dt.datetime | None = Field(description="the same moment in `timezone`")
    timezone: str
    notify_by: dt.datetime | None = Field(description="the latest moment the notices may go out (lead time)")
    reports: list[ReleaseReportOut]
    notices_sent_at: dt.datetime | None
    notice_round: int
    confirmation_overridden: bool
    embargo_broken: EmbargoBrokenOut | None
    preannouncement: PreannouncementOut
    packagers: list[PackagerStatusOut]
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None


class ReleasePage(Schema):
    items: list[ReleaseOut]
    next_cursor: str | None


class ReportReleaseOut(Schema):
    """A report's release as its viewer may see it: the team gets the whole release in `release`; the reporter the
    facts of the date alone."""

    date: dt.date | None
    time: str | None
    timezone: str
    release_at: dt.datetime | None
    versions: list[str]
    state: str
    embargo_broken_at: dt.datetime | None
    release: ReleaseOut | None = Field(description="the whole release, for the team only")


# --- release day ------------------------------------------------------------------------------------------------


class PublishIn(Strict):
    overrides: dict[Annotated[str, StringConstraints(max_length=32)], Reason] = Field(
        default_factory=dict,
        max_length=4,
        description='a written reason for each failing check to publish despite, e.g. {"version_released": "…"}; '
        "`release_moment` cannot be overridden (record the embargo as broken instead)",
    )


class CheckOut(Schema):
    id: str = Field(description="commits_public, version_released, release_moment or records_valid")
    status: str = Field(description="pass, fail or skipped")
    evidence: str


class ChecksOut(Schema):
    release: str
    published_at: dt.datetime | None
    publishable: bool = Field(description="every check passes (the worker publishes at the moment)")
    checks: list[CheckOut]
    overrides: dict[str, str] = Field(description="the reasons the team published despite failing checks")
