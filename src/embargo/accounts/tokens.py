"""API tokens: `emb_` + 40 random characters; the database keeps only the SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db.models import Q

from embargo import clock

if TYPE_CHECKING:
    from embargo.accounts.models import User

PREFIX = "emb_"
# Write the last use at most once a minute, so that a busy token does not write on every request.
LAST_USED_RESOLUTION_SECONDS = 60


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(30)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(token: str) -> User | None:
    from embargo.accounts.models import ApiToken

    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    moment = clock.now()
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
        .first()
    )
    if row is None:
        return None
    if row.last_used_at is None or (moment - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=moment)
    user = row.user
    # What the token may do travels with the user of the request (checked by api/auth.py and accounts/access.py).
    user.token_scope = row.scope  # type: ignore[attr-defined]
    projects = frozenset(row.projects.values_list("pk", flat=True))
    user.token_projects = projects or None  # type: ignore[attr-defined]
    return user
