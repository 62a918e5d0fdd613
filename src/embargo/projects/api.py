"""Project routes of the HTTP API: the policy, the project's settings and OpenPGP key, its packager list and
the requests to join it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from embargo import clock
from embargo.accounts.access import Permission, access_project_by_slug
from embargo.api.errors import ApiError, invalid
from embargo.api.pagination import Key, paginate
from embargo.domain.policy import WEEKDAY_NAMES, Policy
from embargo.projects import actions, keys, queries
from embargo.projects.models import Packager, PackagerRequest, ProjectKey

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


Address = Annotated[str, StringConstraints(max_length=254)]
ArmoredKey = Annotated[str, StringConstraints(max_length=200_000)]


class SigningKeyOut(Schema):
    fingerprint: str
    created_at: dt.datetime
    expires_at: dt.datetime | None


class RetiredKeyOut(SigningKeyOut):
    retired_at: dt.datetime


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
    preannounce_lists: list[str]
    announce_lists: list[str]
    mastodon_instance_url: str | None = Field(description="where advisories are announced on Mastodon")
    mastodon_access_token_set: bool
    team_languages: list[str] = Field(description="the languages the team reads (ISO 639-1); the first it writes in")
    translation_enabled: bool = Field(description="whether report text may go to the instance's translation service")
    translation_service: str | None = Field(description="the instance's translation service, if it has one")
    public_issues_url: str
    intake_address: str = Field(description="where `embargo mail-in` takes reports by e-mail; empty: none")
    require_poc: bool
    hold_new_accounts: bool
    require_2fa_collaborators: bool
    purge_spam_after_days: int | None = Field(description="days after which spam reports are purged; null keeps them")
    purge_rejected_after_days: int | None = Field(
        description="days after which rejected reports are purged (a stub and the audit trail stay); null keeps them"
    )
    signing_key: SigningKeyOut | None = Field(description="the active OpenPGP key (read-only; see /signing-key)")
    retired_keys: list[RetiredKeyOut] = Field(description="earlier keys, still published in pgp-key.asc")


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
    preannounce_lists: list[Address] | None = Field(
        default=None, description="at most 20 addresses: pre-announcements (versions and date, no details)"
    )
    announce_lists: list[Address] | None = Field(default=None, description="at most 20 addresses: the advisories")
    team_languages: list[Annotated[str, StringConstraints(min_length=2, max_length=8)]] | None = Field(
        default=None, description="1 to 10 ISO 639-1 codes: the languages the team reads, the first the one it writes"
    )
    translation_enabled: StrictBool | None = Field(
        default=None,
        description="send the text of reports in other languages to the instance's translation service (owners)",
    )
    public_issues_url: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None, description='the public issue tracker ("not a vulnerability" sends reporters there); "" none'
    )
    intake_address: Annotated[str, StringConstraints(max_length=254)] | None = Field(
        default=None, description='the address reports by e-mail arrive at (docs/mail-in.md); "" takes none'
    )
    require_poc: StrictBool | None = Field(default=None, description="every report must carry a proof of concept")
    hold_new_accounts: StrictBool | None = Field(
        default=None, description="reports from new accounts wait for an owner's review before the inbox"
    )
    require_2fa_collaborators: StrictBool | None = Field(
        default=None, description="collaborators too must use a second factor (team members always must)"
    )
    purge_spam_after_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="days (1 to 3650) after which spam reports are purged; null keeps them"
    )
    purge_rejected_after_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="days (1 to 3650) after which rejected reports are purged; null keeps them"
    )
    mastodon_instance_url: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None,
        description='the instance of the project\'s account, e.g. "https://mastodon.example"; "" removes it',
    )
    mastodon_access_token: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="write-only: an access token with the write:statuses scope, stored sealed"
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
        "preannounce_lists": project.preannounce_lists or [],
        "announce_lists": project.announce_lists or [],
        **mastodon_out(project),
        **translation_out(project),
        "public_issues_url": project.public_issues_url,
        "intake_address": project.intake_address,
        "require_poc": project.require_poc,
        "hold_new_accounts": project.hold_new_accounts,
        "require_2fa_collaborators": project.require_2fa_collaborators,
        "purge_spam_after_days": project.purge_spam_after_days,
        "purge_rejected_after_days": project.purge_rejected_after_days,
        **keys_out(project),
    }


def translation_out(project: Any) -> dict[str, Any]:
    from embargo.languages import providers

    return {
        "team_languages": project.languages_read,
        "translation_enabled": project.translation_enabled,
        "translation_service": providers.describe(),
    }


def _key_out(key: ProjectKey) -> dict[str, Any]:
    out = {"fingerprint": key.fingerprint, "created_at": key.created_at, "expires_at": key.expires_at}
    return out if key.retired_at is None else {**out, "retired_at": key.retired_at}


def keys_out(project: Any) -> dict[str, Any]:
    published = keys.published_keys(project)
    active = [k for k in published if k.retired_at is None]
    return {
        "signing_key": _key_out(active[0]) if active else None,
        "retired_keys": [_key_out(k) for k in published if k.retired_at is not None],
    }


def cna_out(project: Any) -> dict[str, Any]:
    from embargo.advisories.models import CnaAccount

    account = CnaAccount.objects.filter(project=project).first()
    return {
        "cna_short_name": account.short_name if account else None,
        "cna_user": account.user if account else None,
        "cna_api_key_set": bool(account and account.api_key),
    }


def mastodon_out(project: Any) -> dict[str, Any]:
    from embargo.projects.models import MastodonAccount

    account = MastodonAccount.objects.filter(project=project).first()
    return {
        "mastodon_instance_url": account.instance_url if account else None,
        "mastodon_access_token_set": account is not None,
    }


@router.delete(
    "/projects/{slug}/members/{member_id}",
    response={204: None},
    summary="Take someone off the team: tokens revoked, signed out everywhere, reports reassigned (owners)",
)
def remove_member(request: HttpRequest, slug: str, member_id: str, reassign_to: str | None = None) -> Status:
    from embargo.accounts.models import User

    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    member = User.objects.filter(public_id=member_id, memberships__project=project).first()
    if member is None:
        raise ApiError(404, "not_found", "No such member of this project's team.")
    heir = None
    if reassign_to:
        heir = User.objects.filter(email=reassign_to.strip().lower(), memberships__project=project).first()
        if heir is None:
            raise invalid("reassign_to", "`reassign_to`: the e-mail address of another member of the team.")
    actions.do_remove_member(project, member, reassign_to=heir, acting_user=user)
    return Status(204, None)


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
    mastodon: dict[str, Any] = {
        k: changes.pop(k) for k in ("mastodon_instance_url", "mastodon_access_token") if k in changes
    }
    # One transaction: a refused Mastodon URL leaves the other settings of the same request unchanged too.
    with transaction.atomic():
        if mastodon:
            actions.do_set_mastodon_account(project, mastodon, acting_user=user)
        actions.do_change_project(project, changes, acting_user=user)
    if cna:
        from embargo.advisories.actions import do_set_cna_account

        do_set_cna_account(project, {k: str(v) for k, v in cna.items()}, acting_user=user)
    return project_out(project)


# --- the project's OpenPGP key -------------------------------------------------------------------------------


class SigningKeyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    generate: StrictBool | None = Field(default=None, description="true: Embargo makes a new ed25519 key")
    secret_key: ArmoredKey | None = Field(
        default=None, description="or your own ASCII-armoured secret key, without a passphrase (stored sealed)"
    )


class NewSigningKeyOut(SigningKeyOut):
    public_key: str


@router.post(
    "/projects/{slug}/signing-key",
    response={201: NewSigningKeyOut},
    summary="Generate or upload the project's OpenPGP key; the active one is retired (owners)",
)
def post_signing_key(request: HttpRequest, slug: str, payload: SigningKeyIn) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    if bool(payload.generate) == bool(payload.secret_key):
        raise invalid("generate", 'Send either `{"generate": true}` or `{"secret_key": "-----BEGIN PGP …"}`.')
    if payload.generate:
        key = keys.do_generate_project_key(project, acting_user=user)
    else:
        key = keys.do_upload_project_key(project, payload.secret_key or "", acting_user=user)
    return Status(201, {**_key_out(key), "public_key": key.public_key})


# --- packagers -----------------------------------------------------------------------------------------------

Organisation = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ContactName = Annotated[str, StringConstraints(max_length=200)]
BY_ORGANISATION = (Key("organisation"), Key("id"))
PENDING_FIRST = (Key("waiting"), Key("created_at", descending=True, is_datetime=True), Key("id", descending=True))


class Page(Schema):
    limit: int | None = None
    cursor: str | None = None


class PackagerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organisation: Organisation
    contact_name: ContactName = ""
    emails: list[Address] = Field(description="1 to 10 addresses that receive the embargo notices")
    public_key: ArmoredKey = Field(
        default="", description="optional ASCII-armoured OpenPGP public key: notices are encrypted to it"
    )


class PackagerPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    organisation: Organisation | None = None
    contact_name: ContactName | None = None
    emails: list[Address] | None = None
    public_key: ArmoredKey | None = Field(default=None, description="an empty string removes the key")


class PackagerOut(Schema):
    id: str
    organisation: str
    contact_name: str
    emails: list[str]
    key_fingerprint: str | None
    key_expires_at: dt.datetime | None
    has_key: bool
    created_at: dt.datetime


class PackagerPage(Schema):
    items: list[PackagerOut]
    next_cursor: str | None


def packager_out(packager: Packager) -> dict[str, Any]:
    return {
        "id": packager.public_id,
        "organisation": packager.organisation,
        "contact_name": packager.contact_name,
        "emails": packager.emails,
        "key_fingerprint": packager.key_fingerprint or None,
        "key_expires_at": packager.key_expires_at,
        "has_key": bool(packager.key_fingerprint),
        "created_at": packager.created_at,
    }


@router.get("/projects/{slug}/packagers", response=PackagerPage, summary="The packager list (owners)")
def list_packagers(request: HttpRequest, slug: str, page: Query[Page]) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.MANAGE_PROJECT)  # type: ignore[attr-defined]
    return paginate(
        queries.packagers(project), BY_ORGANISATION, limit=page.limit, cursor=page.cursor, serialize=packager_out
    )


@router.post("/projects/{slug}/packagers", response={201: PackagerOut}, summary="Add a packager (owners)")
def add_packager(request: HttpRequest, slug: str, payload: PackagerIn) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    packager = actions.do_add_packager(project, **payload.dict(), acting_user=user)
    return Status(201, packager_out(packager))


@router.get("/projects/{slug}/packagers/{packager_id}", response=PackagerOut, summary="One packager (owners)")
def get_packager(request: HttpRequest, slug: str, packager_id: str) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.MANAGE_PROJECT)  # type: ignore[attr-defined]
    return packager_out(queries.packager_by_id(project, packager_id))


@router.patch("/projects/{slug}/packagers/{packager_id}", response=PackagerOut, summary="Change a packager (owners)")
def patch_packager(request: HttpRequest, slug: str, packager_id: str, payload: PackagerPatch) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    packager = queries.packager_by_id(project, packager_id)
    changes = {k: getattr(payload, k) for k in payload.model_fields_set}
    if not changes or any(v is None for v in changes.values()):
        raise invalid(next((k for k, v in changes.items() if v is None), ""), "Nothing to change, or a null value.")
    return packager_out(actions.do_change_packager(packager, changes, acting_user=user))


@router.delete(
    "/projects/{slug}/packagers/{packager_id}",
    response={204: None},
    summary="Take a packager off the list; its links stop working (owners)",
)
def delete_packager(request: HttpRequest, slug: str, packager_id: str) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    actions.do_remove_packager(queries.packager_by_id(project, packager_id), acting_user=user)
    return Status(204, None)


# --- requests to join ----------------------------------------------------------------------------------------


class PackagerRequestIn(PackagerIn):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=actions.MAX_REASON)] = Field(
        description="who you are and what you package, for the project's owners"
    )


class PackagerRequestReceipt(Schema):
    """What the asker gets back: their own request, nothing about the project's list."""

    id: str
    status: str
    organisation: str
    contact_name: str
    emails: list[str]
    key_fingerprint: str | None
    key_expires_at: dt.datetime | None
    has_key: bool
    created_at: dt.datetime


class PackagerRequestOut(PackagerRequestReceipt):
    reason: str
    decided_at: dt.datetime | None
    decision_note: str
    packager_id: str | None


class PackagerRequestPage(Schema):
    items: list[PackagerRequestOut]
    next_cursor: str | None


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    approve: StrictBool
    note: Annotated[str, StringConstraints(max_length=actions.MAX_REASON)] = Field(
        default="", description="sent to the asker with a decline"
    )


def request_receipt(request: PackagerRequest) -> dict[str, Any]:
    return {
        "id": request.public_id,
        "status": request.status,
        "organisation": request.organisation,
        "contact_name": request.contact_name,
        "emails": request.emails,
        "key_fingerprint": request.key_fingerprint or None,
        "key_expires_at": request.key_expires_at,
        "has_key": bool(request.key_fingerprint),
        "created_at": request.created_at,
    }


def request_out(request: PackagerRequest) -> dict[str, Any]:
    return {
        **request_receipt(request),
        "reason": request.reason,
        "decided_at": request.decided_at,
        "decision_note": request.decision_note,
        "packager_id": request.packager.public_id if request.packager else None,
    }


@router.post(
    "/projects/{slug}/packager-requests",
    response={201: PackagerRequestReceipt},
    auth=None,
    summary="Ask to join the project's packager list (anyone; no token needed)",
)
def request_to_join(request: HttpRequest, slug: str, payload: PackagerRequestIn) -> Status:
    project = queries.project_by_slug(slug)
    asked = actions.do_request_packager(project, **payload.dict())
    return Status(201, request_receipt(asked))


@router.get(
    "/projects/{slug}/packager-requests",
    response=PackagerRequestPage,
    summary="Requests to join the packager list, pending first (owners)",
)
def list_requests(request: HttpRequest, slug: str, page: Query[Page]) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.MANAGE_PROJECT)  # type: ignore[attr-defined]
    rows = queries.packager_requests(project).select_related("packager")
    return paginate(rows, PENDING_FIRST, limit=page.limit, cursor=page.cursor, serialize=request_out)


@router.post(
    "/projects/{slug}/packager-requests/{request_id}/decision",
    response=PackagerRequestOut,
    summary="Approve (the packager joins the list) or decline a request; the asker is told (owners)",
)
def decide_request(request: HttpRequest, slug: str, request_id: str, payload: DecisionIn) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.MANAGE_PROJECT)
    asked = queries.packager_request_by_id(project, request_id)
    decided = actions.do_decide_packager_request(asked, approve=payload.approve, note=payload.note, acting_user=user)
    return request_out(decided)
