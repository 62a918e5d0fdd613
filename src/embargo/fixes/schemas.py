from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StringConstraints

Sha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class CommitIn(Strict):
    repository: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    sha: Sha
    branch: Name


class FixIn(Strict):
    kind: Literal["patch", "commit", "interim"]
    description: Annotated[str, StringConstraints(max_length=100_000)] = ""
    team_only: StrictBool = False
    commits: list[CommitIn] = Field(default_factory=list)


class FixPatch(Strict):
    description: Annotated[str, StringConstraints(max_length=100_000)] | None = None
    team_only: StrictBool | None = None
    public_commits: list[CommitIn] | None = None


class PatchOut(Schema):
    id: str
    branch: str
    filename: str
    size: int
    sha256: str
    created_at: dt.datetime
    check_status: str
    applies: bool | None
    head_sha: str
    files: list[str]
    diffstat: str
    check_message: str
    ci_status: str
    ci_passed: bool | None
    ci_duration: float | None
    ci_summary: str
    ci_output: str | None
    download_url: str


class FixOut(Schema):
    id: str
    kind: str
    description: str
    team_only: bool
    commits: list[CommitIn]
    public_commits: list[CommitIn]
    created_at: dt.datetime
    updated_at: dt.datetime
    patches: list[PatchOut]


class FixPage(Schema):
    items: list[FixOut]
    next_cursor: str | None


class ReproductionIn(Strict):
    target: Literal["affected", "fixed"]
    ref: Annotated[str, StringConstraints(max_length=200)] = ""
    fix_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    branch: Annotated[str, StringConstraints(max_length=200)] = ""


class ReproductionOut(Schema):
    id: str
    target: str
    ref: str
    fix_id: str | None
    branch: str
    status: str
    reproduced: bool | None
    exit_code: int | None
    duration: float | None
    output: str
    versions: dict[str, str]
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ReproductionPage(Schema):
    items: list[ReproductionOut]
    next_cursor: str | None


class ConfirmationIn(Strict):
    fixed: StrictBool
    comment: Annotated[str, StringConstraints(max_length=100_000)] = ""
