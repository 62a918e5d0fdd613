"""Bearer-token authentication for the API (tokens are stored as SHA-256 hashes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from embargo import ratelimit
from embargo.accounts.tokens import user_for_token
from embargo.api.errors import ApiError
from embargo.domain import tokens


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is None:
            return None
        # Per token, counted once it is known to be valid (a wrong token is a 401 and counts nothing).
        ratelimit.enforce(request, "token", token=token)
        why = tokens.refusal(getattr(user, "token_scope", "publish"), request.method or "GET", request.path)
        if why is not None:
            raise ApiError(403, "token_scope", why)
        request.user = user
        return user
