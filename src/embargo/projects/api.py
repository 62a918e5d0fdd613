"""Project routes of the HTTP API: the policy (and, as features arrive, the project's settings)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from embargo import clock
from embargo.accounts.access import Permission, access_project_by_slug
from embargo.api.errors import invalid
from embargo.domain.policy import WEEKDAY_NAMES, Policy
from embargo.projects import actions, queries

router = Router(tags=["projects"])

Weekday = Annotated[str, StringConstraints(pattern="^(mon|tue|wed|thu|fri|sat|sun)$")]


class PolicyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    response_target_hours: StrictInt = Field(description="the usual answer time (12 in the reference policy)")
    response_limit_hours: StrictInt = Field(description="the answer time at the outside (48)")
    fix_target_days: StrictInt = Field(description="from the report until the fix is released (14)")
    packager_lead_days: StrictInt = Field(description="packagers are told at least this long before release (7)")
    release_weekdays: list[Weekday] = Field(description='days a release may fall on, e.g. ["mon", "tue", …]')
    holiday_calendar: Annotated[str, StringConstraints(max_length=10)] = Field(
        default="", description="a country code known to the `holidays` package, or empty"
    )
    cve_required: StrictBool = True
    cve_after_fix: StrictBool = True
    reporter_confirmation_days: StrictInt = 7
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"


class PolicyOut(PolicyIn):
    pass


def policy_out(policy: Policy) -> dict[str, Any]:
    data = dataclasses.asdict(policy)
    data["release_weekdays"] = [WEEKDAY_NAMES[d] for d in policy.release_weekdays]
    return data


@router.get("/projects/{slug}/policy", response=PolicyOut, summary="The project's disclosure policy")
def get_policy(request: HttpRequest, slug: str) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.LIST_PROJECT_REPORTS)  # type: ignore[attr-defined]
    return policy_out(project.policy.as_domain())


@router.put("/projects/{slug}/policy", response=PolicyOut, summary="Change the policy (owners)")
def put_policy(request: HttpRequest, slug: str, payload: PolicyIn) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    data = payload.dict()
    data["release_weekdays"] = tuple(sorted({WEEKDAY_NAMES.index(d) for d in data["release_weekdays"]}))
    policy = actions.do_change_policy(project, Policy(**data), acting_user=user)
    return policy_out(policy)


class MetricsOut(Schema):
    since: dt.datetime
    until: dt.datetime
    reports: int
    answered: int
    response_hours_median: float | None
    response_hours_p90: float | None
    fix_days_median: float | None
    fix_days_p90: float | None
    within_target_share: float | None
    within_limit_share: float | None
    open: int
    overdue: int
    response_target_hours: int
    response_limit_hours: int


def period(since: dt.datetime | None, until: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    until = until or clock.now()
    since = since or until - dt.timedelta(days=365)
    for name, value in (("since", since), ("until", until)):
        if value.tzinfo is None:
            raise invalid(name, f"`{name}` needs a time zone, e.g. 2026-01-01T00:00:00Z.")
    if since >= until:
        raise invalid("since", "`since` must come before `until`.")
    return since, until


@router.get("/projects/{slug}/metrics", response=MetricsOut, summary="Whether the policy was kept (the team)")
def get_metrics(
    request: HttpRequest, slug: str, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.LIST_PROJECT_REPORTS)  # type: ignore[attr-defined]
    since, until = period(since, until)
    result = queries.project_metrics(project, since, until)
    policy = project.policy
    return {
        "since": since,
        "until": until,
        **dataclasses.asdict(result),
        "response_target_hours": policy.response_target_hours,
        "response_limit_hours": policy.response_limit_hours,
    }


class ProjectOut(Schema):
    slug: str
    name: str
    repository_url: str
    package: str | None
    supported_branches: list[str]
    test_command: str
    test_extras: str
    cve_mode: str
    cna_org_id: str
    cna_short_name: str | None
    cna_user: str | None
    cna_api_key_set: bool


class ProjectPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    repository_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    supported_branches: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = None
    test_command: Annotated[str, StringConstraints(max_length=500)] | None = None
    test_extras: Annotated[str, StringConstraints(max_length=200)] | None = None
    cve_mode: Literal["manual", "cve_services"] | None = None
    cna_org_id: Annotated[str, StringConstraints(pattern=r"^$|^[0-9a-fA-F-]{36}$")] | None = None
    cna_short_name: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    cna_user: Annotated[str, StringConstraints(min_length=1, max_length=254)] | None = None
    cna_api_key: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="write-only: stored sealed, never shown again"
    )


def project_out(project: Any) -> dict[str, Any]:
    return {
        "slug": project.slug,
        "name": project.name,
        "repository_url": project.repository_url,
        "package": f"{project.package_ecosystem}:{project.package_name}" if project.package_name else None,
        "supported_branches": project.supported_branches or [],
        "test_command": project.test_command,
        "test_extras": project.test_extras,
        "cve_mode": project.cve_mode,
        "cna_org_id": project.cna_org_id,
        **cna_out(project),
    }


def cna_out(project: Any) -> dict[str, Any]:
    from embargo.advisories.models import CnaAccount

    account = CnaAccount.objects.filter(project=project).first()
    return {
        "cna_short_name": account.short_name if account else None,
        "cna_user": account.user if account else None,
        "cna_api_key_set": bool(account and account.api_key),
    }


@router.get("/projects/{slug}", response=ProjectOut, summary="The project's settings (owners)")
def get_project(request: HttpRequest, slug: str) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.MANAGE_PROJECT)  # type: ignore[attr-defined]
    return project_out(project)


@router.patch("/projects/{slug}", response=ProjectOut, summary="Change the project's settings (owners)")
def patch_project(request: HttpRequest, slug: str, payload: ProjectPatch) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    changes = {k: getattr(payload, k) for k in payload.model_fields_set}
    if not changes:
        raise invalid("", "Nothing to change.")
    cna = {k: changes.pop(k) for k in ("cna_short_name", "cna_user", "cna_api_key") if k in changes}
    actions.do_change_project(project, changes, acting_user=user)
    if cna:
        from embargo.advisories.actions import do_set_cna_account

        do_set_cna_account(project, {k: str(v) for k, v in cna.items()}, acting_user=user)
    return project_out(project)
