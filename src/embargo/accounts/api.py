"""The API of a person's own account."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from embargo.accounts import lifecycle
from embargo.accounts.actions import do_remove_openpgp_key, do_revoke_token, do_set_openpgp_key
from embargo.accounts.models import ApiToken, User
from embargo.accounts.privacy_views import export_response

router = Router(tags=["account"])


@router.get(
    "/account/export",
    response={200: None},
    summary="Everything Embargo holds about you, as a zip file",
    openapi_extra={"responses": {200: {"content": {"application/zip": {}}}}},
)
def export(request: HttpRequest) -> HttpResponse:
    return export_response(lifecycle.export_archive(request.auth))  # type: ignore[attr-defined]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    projects: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@router.get("/account/tokens", response=list[TokenOut], summary="Your API tokens (never the tokens themselves)")
def list_tokens(request: HttpRequest) -> list[dict[str, Any]]:
    rows = ApiToken.objects.filter(user=request.auth).prefetch_related("projects").order_by("-created_at", "-id")  # type: ignore[attr-defined]
    return [
        {
            "id": t.pk, "name": t.name, "prefix": t.prefix, "scope": t.scope,
            "projects": sorted(p.slug for p in t.projects.all()), "created_at": t.created_at,
            "expires_at": t.expires_at, "last_used_at": t.last_used_at, "revoked_at": t.revoked_at,
        }
        for t in rows[:200]
    ]  # fmt: skip


@router.delete("/account/tokens/{token_id}", response={204: None}, summary="Revoke one of your API tokens")
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    do_revoke_token(user, token_id, acting_user=user)
    return Status(204, None)


class OpenPGPKeyIn(Schema):
    public_key: str


class OpenPGPKeyOut(Schema):
    fingerprint: str | None
    expires_at: dt.datetime | None
    public_key: str | None


def _key_of(user: User) -> dict[str, Any]:
    return {
        "fingerprint": user.openpgp_fingerprint or None,
        "expires_at": user.openpgp_expires_at,
        "public_key": user.openpgp_key or None,
    }


@router.get("/account/openpgp-key", response=OpenPGPKeyOut, summary="Your OpenPGP public key, if you gave one")
def get_openpgp_key(request: HttpRequest) -> dict[str, Any]:
    return _key_of(request.auth)  # type: ignore[attr-defined]


@router.put(
    "/account/openpgp-key",
    response=OpenPGPKeyOut,
    summary="Give your OpenPGP public key: notifications then carry the content, encrypted to it",
)
def set_openpgp_key(request: HttpRequest, body: OpenPGPKeyIn) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    do_set_openpgp_key(user, body.public_key, acting_user=user)
    return _key_of(user)


@router.delete("/account/openpgp-key", response={204: None}, summary="Remove your OpenPGP public key")
def remove_openpgp_key(request: HttpRequest) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    do_remove_openpgp_key(user, acting_user=user)
    return Status(204, None)
