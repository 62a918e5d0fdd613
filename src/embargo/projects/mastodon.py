"""Mastodon: announcing a published advisory from the project's account.

`Mastodon.py` is not among Embargo's dependencies, so the client speaks the Mastodon REST API directly with
`requests`: one call, `POST {instance}/api/v1/statuses` with the account's bearer token — the call
`Mastodon.status_post` makes. `post_status` is the real client; `announce_on_mastodon` picks the project's
account and does nothing (returns None) for a project without one.

The instance URL is an outgoing URL, checked by `embargo.outgoing.check_outgoing_url`: https only, no user
name, no path, and its host must resolve to public addresses unless the operator set EMBARGO_ALLOW_PRIVATE_NETWORK
(which also allows plain http, for a local test instance). Redirects are not followed, so an answer cannot send
the token elsewhere. The address is checked before the call and resolved again by `requests`; a host that
changes its answer in between (DNS rebinding) could still reach a private address — the token is the project's
own and the answer is only read for its `url`, which bounds what that would expose.

The token never appears in a message, a repr or an exception.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from embargo.outgoing import OutgoingHostNotFound, OutgoingURLRefused, check_outgoing_url
from embargo.projects.models import MastodonAccount, Project

TIMEOUT = 30


class MastodonError(Exception):
    """`code`: "refused_url" (the instance URL is not allowed), "bad_credentials", "rejected" (the instance
    refused the post, e.g. too long), "rate_limited" or "unavailable". `retryable` says whether trying the
    same post later may succeed (the worker retries those, and gives up on the others)."""

    RETRYABLE = frozenset({"rate_limited", "unavailable"})

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.retryable = code in self.RETRYABLE

    def __repr__(self) -> str:
        return f"MastodonError({self.code!r}, {self.message!r})"


def check_instance_url(url: str, *, allow_private: bool) -> str:
    """The instance's base URL (`https://host[:port]`, no trailing slash) if it may be called, else
    MastodonError("refused_url"), or MastodonError("unavailable") when its host cannot be found."""
    try:
        base = check_outgoing_url(url, allow_private=allow_private, what="The Mastodon instance URL")
    except OutgoingHostNotFound as e:
        raise MastodonError("unavailable", f"The Mastodon instance {e.host} could not be found.") from None
    except OutgoingURLRefused as e:
        raise MastodonError("refused_url", e.message) from None
    if urlsplit(base).path:
        raise MastodonError(
            "refused_url",
            f"The Mastodon instance URL {url[:100]!r} must be the instance's address only, e.g. https://mastodon.example.",
        )
    return base


def post_status(
    instance_url: str,
    token: str,
    text: str,
    *,
    allow_private: bool = False,
    idempotency_key: str | None = None,
    timeout: float = TIMEOUT,
) -> str:
    """Posts `text` publicly from the account of `token` and returns the post's URL. With `idempotency_key`,
    the instance posts once however often the same call is repeated (a retry after a lost answer)."""
    if not text.strip():
        raise ValueError("a Mastodon post needs text")
    base = check_instance_url(instance_url, allow_private=allow_private)
    host = urlsplit(base).hostname
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    try:
        response = requests.post(
            base + "/api/v1/statuses",
            data={"status": text, "visibility": "public"},
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.Timeout:
        raise MastodonError("unavailable", f"The Mastodon instance {host} did not answer in time.") from None
    except requests.RequestException:
        raise MastodonError("unavailable", f"The Mastodon instance {host} could not be reached.") from None
    if response.status_code == 200:
        answer = _json(response)
        url = answer.get("url") or answer.get("uri")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return url
        raise MastodonError("unavailable", f"{host} answered the post without its URL.", status=200)
    raise _error(response, host or "")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(response: requests.Response, host: str) -> MastodonError:
    status = response.status_code
    said = str(_json(response).get("error") or "")[:300]
    detail = f": {said}" if said else ""
    if status in (401, 403):
        return MastodonError(
            "bad_credentials",
            f"{host} refused the project's access token ({status}{detail}); an owner can enter a new token "
            "(with the write:statuses scope) in the project settings.",
            status=status,
        )
    if status == 429:
        return MastodonError("rate_limited", f"{host} is limiting the rate of posts; trying later.", status=status)
    if status >= 500:
        return MastodonError("unavailable", f"{host} failed to take the post ({status}).", status=status)
    if 300 <= status < 400:
        return MastodonError("rejected", f"{host} answered with a redirect, which is not followed.", status=status)
    return MastodonError("rejected", f"{host} refused the post ({status}{detail}).", status=status)


def announce_on_mastodon(project: Project, text: str, *, idempotency_key: str | None = None) -> str | None:
    """Posts `text` from the project's Mastodon account and returns the post's URL; None when the project has
    no account. Performs the call at once and queues nothing: the worker calls it for an announcement job
    taken from the outbox, with the job's id as `idempotency_key`, and retries when `MastodonError.retryable`."""
    account = MastodonAccount.objects.filter(project=project).first()
    if account is None:
        return None
    return post_status(
        account.instance_url,
        account.access_token,
        text,
        allow_private=settings.EMBARGO_ALLOW_PRIVATE_NETWORK,
        idempotency_key=idempotency_key,
    )


TEMPLATE = "mastodon_announcement"


def deliver_announcement(row: Any) -> None:
    """The worker's delivery of a queued announcement (an outbox row `{"project", "text"}`): posted once (the row's
    id is the idempotency key), retried with back-off when the instance is busy or down, given up (cancelled) when
    it refuses for good or the project removed its account since."""
    from embargo.notifications.delivery import Cancelled, DeliveryError
    from embargo.projects.models import Project

    project = Project.objects.filter(slug=row.context.get("project", "")).first()
    if project is None:
        raise Cancelled("the project is gone")
    try:
        url = announce_on_mastodon(project, row.context.get("text", ""), idempotency_key=row.public_id)
    except MastodonError as e:
        if e.retryable:
            raise DeliveryError(e.message) from None
        raise Cancelled(e.message) from None
    if url is None:
        raise Cancelled("the project has no Mastodon account any more")
