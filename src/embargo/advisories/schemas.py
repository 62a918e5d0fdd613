"""The advisory draft as the API takes and gives it (OSV-shaped, which most tools already speak)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

Line = Annotated[str, StringConstraints(max_length=500)]
Text = Annotated[str, StringConstraints(max_length=100_000)]
Version = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class SeverityIn(Strict):
    type: Literal["CVSS_V3", "CVSS_V4"]
    score: Annotated[str, StringConstraints(min_length=1, max_length=300)] = Field(description="the CVSS vector")


class RangeIn(Strict):
    type: Literal["ECOSYSTEM", "GIT"] = "ECOSYSTEM"
    repo: Line | None = None
    introduced: Version = "0"
    fixed: Version | None = None
    last_affected: Version | None = None


class AffectedIn(Strict):
    ecosystem: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    package: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    ranges: list[RangeIn] = Field(default_factory=list, max_length=50)
    versions: list[Version] = Field(default_factory=list, max_length=1000)
    fixed_by_branch: dict[str, Version] = Field(default_factory=dict, description="the fixed version per branch")


class ReferenceIn(Strict):
    type: Literal["FIX", "PACKAGE", "REPORT", "WEB", "ADVISORY", "ARTICLE", "EVIDENCE", "INTRODUCED", "DETECTION"]
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://")]


class CreditIn(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    type: Literal[
        "FINDER", "REPORTER", "ANALYST", "COORDINATOR", "REMEDIATION_DEVELOPER", "REMEDIATION_REVIEWER",
        "REMEDIATION_VERIFIER", "TOOL", "SPONSOR", "OTHER",
    ] = "FINDER"  # fmt: skip
    contact: list[Line] = Field(default_factory=list, max_length=10)


class AdvisoryIn(Strict):
    summary: Annotated[str, StringConstraints(max_length=200)] = ""
    details: Text = ""
    severity: list[SeverityIn] = Field(default_factory=list, max_length=2)
    cwe_ids: list[Annotated[str, StringConstraints(pattern=r"^CWE-\d{1,5}$")]] = Field(
        default_factory=list, max_length=20
    )
    affected: list[AffectedIn] = Field(default_factory=list, max_length=50)
    references: list[ReferenceIn] = Field(default_factory=list, max_length=100)
    credits: list[CreditIn] = Field(default_factory=list, max_length=50)


class ScoredSeverity(Schema):
    type: str
    score: str
    base_score: float
    rating: str


class AdvisoryOut(Schema):
    id: str
    cve_id: str | None
    aliases: list[str]
    state: str
    summary: str
    details: str
    severity: list[ScoredSeverity]
    cwe_ids: list[str]
    cwe_names: dict[str, str]
    affected: list[AffectedIn]
    references: list[ReferenceIn]
    credits: list[CreditIn]
    reporter_credit: CreditIn | None = Field(
        description="the reporter's credit, as they chose it; public only with consent"
    )
    reporter_credit_public: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class CveIn(Strict):
    cve_id: Annotated[str, StringConstraints(max_length=32)] | None = None


class CveOut(Schema):
    cve_id: str
    advisory_id: str
