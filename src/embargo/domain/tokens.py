"""What an API token's scope lets it do. Plain rules, no Django: the API's authentication asks them for every
request made with a token."""

from __future__ import annotations

import re
from enum import StrEnum


class Scope(StrEnum):
    READ = "read"  # look: GET and HEAD only
    WRITE = "write"  # everything a person does day to day, but make public
    PUBLISH = "publish"  # everything, publication included


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The routes that make something public or take it back: publication of reports and releases, the public CVE
# record, withdrawing a published advisory.
PUBLISH_ROUTES = re.compile(
    r"^/api/v1/(reports/[^/]+/(publish|advisory/withdraw)|projects/[^/]+/security-releases/[^/]+/publish)/?$"
)


def refusal(scope: str, method: str, path: str) -> str | None:
    """Why a token of `scope` may not make this request, or None when it may."""
    if method.upper() in SAFE_METHODS:
        return None
    if scope == Scope.READ:
        return "This token may only read (scope `read`): make one with the `write` scope to change things."
    if scope == Scope.WRITE and PUBLISH_ROUTES.match(path):
        return "Publishing needs a token with the `publish` scope."
    if scope not in (Scope.WRITE, Scope.PUBLISH):
        return f"This token's scope {scope!r} is unknown: revoke it and make a new one."
    return None
