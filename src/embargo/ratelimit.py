"""Abuse limits and log-in back-off, shared by every web process through the database (`embargo.throttle`).

A view calls `enforce(request, SCOPE, account=…)` before doing the work; over a limit it raises `RateLimited`
(an `ApiError`: the API answers 429 `rate_limited`) and pages turn it into the 429 page with `rate_limited_page`.
The `RetryAfter` middleware adds the `Retry-After` header to either. Keys are HMACs: no IP address, e-mail
address or token is stored. The rules themselves are in `embargo.domain.ratelimit`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from embargo import clock
from embargo.api.errors import ApiError, error_response
from embargo.domain.ratelimit import Backoff, Decision, Limit, decide, window_start
from embargo.throttle.models import Counter

log = logging.getLogger(__name__)

# The request attribute where a refusal leaves its wait for the RetryAfter middleware.
_RETRY_ATTRIBUTE = "embargo_retry_after"
# Failed log-ins are forgotten this long after the last one, whatever the back-off reached.
_FAILURES_KEPT = 24 * 3600


class RateLimited(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "rate_limited", _wait_message(retry_after), retry_after=retry_after)
        self.retry_after = retry_after


class LoginBackoff(RateLimited):
    """Too many failed log-ins: the same refusal, said the same way whether or not the account exists."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.message = "Too many failed log-ins. " + _wait_message(retry_after).split("; ", 1)[1].capitalize()


def _wait_message(seconds: int) -> str:
    if seconds < 120:
        return f"Too many requests; try again in {seconds} seconds."
    if seconds < 2 * 3600:
        return f"Too many requests; try again in {-(-seconds // 60)} minutes."
    return f"Too many requests; try again in {-(-seconds // 3600)} hours."


# --- keys --------------------------------------------------------------------------------------------


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in settings.EMBARGO_TRUSTED_PROXIES:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: HttpRequest) -> str:
    """The connection's peer; behind a trusted proxy, the nearest X-Forwarded-For hop that is not one of
    our proxies (hops further left were written by the client and prove nothing)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if not _trusted(remote):
        return remote
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote  # a proxy that writes garbage is not to be believed any further
        if not _trusted(hop):
            return hop
    return remote


def _ip_key(address: str) -> str:
    """IPv6 clients usually hold a whole /64: count them by it, or one client would have 2^64 keys."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _digest(scope: str, value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{scope}\0{value}".encode(), hashlib.sha256).hexdigest()


# --- counting ----------------------------------------------------------------------------------------


def limit_for(scope: str, kind: str) -> Limit | None:
    """The configured limit, or None when limits are off or the scope has none of this kind."""
    if not settings.EMBARGO_RATE_LIMITS_ENABLED:
        return None
    text = settings.EMBARGO_RATE_LIMITS.get(scope, {}).get(kind)
    if not text:
        return None
    limit = Limit.parse(text)
    factor = float(getattr(settings, "EMBARGO_RATE_LIMITS_FACTOR", 1))
    return limit if factor == 1 else limit.scaled(factor)


def _increment(scope: str, key_hash: str, start: int, now: int, expires_at: int) -> int:
    """Adds one to the row of (scope, key, window), creating it, in one statement that two processes may run
    at once (INSERT … ON CONFLICT … RETURNING: SQLite ≥ 3.35 and PostgreSQL); returns the new count."""
    table = connection.ops.quote_name(Counter._meta.db_table)
    sql = (
        f"INSERT INTO {table} (scope, key_hash, window_start, hits, last_at, expires_at) "  # noqa: S608 (names only)
        "VALUES (%s, %s, %s, 1, %s, %s) "
        "ON CONFLICT (scope, key_hash, window_start) DO UPDATE SET "
        f"hits = {table}.hits + 1, last_at = excluded.last_at, expires_at = excluded.expires_at "
        "RETURNING hits"
    )
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql, [scope, key_hash, start, now, expires_at])
        row = cursor.fetchone()
    hits = int(row[0])
    if hits == 1:
        # A new window opened: the moment to sweep the ended ones (rarely, and bounded by the index).
        Counter.objects.filter(expires_at__lt=now).delete()
    return hits


def hit(scope: str, kind: str, value: str) -> Decision:
    """Counts one request of `scope` for `value` (an IP address, an e-mail address, a token)."""
    limit = limit_for(scope, kind)
    if limit is None or not value:
        return Decision(True, 0)
    moment = clock.now().timestamp()
    start = window_start(moment, limit)
    hits = _increment(f"{scope}.{kind}", _digest(scope, value), start, int(moment), start + limit.seconds)
    return decide(hits, limit, moment)


def enforce(request: HttpRequest, scope: str, *, account: str | None = None, token: str | None = None) -> None:
    """Counts the request against every limit of `scope` (by client IP, by `account`, by `token`) and raises
    RateLimited, with the longest wait, when any is exceeded."""
    values = {"ip": _ip_key(client_ip(request)), "account": (account or "").strip().lower(), "token": token or ""}
    with transaction.atomic():  # one commit for all the counters (each commit takes SQLite's write lock)
        waits = [hit(scope, kind, values[kind]).retry_after for kind in ("ip", "account", "token")]
    if max(waits) > 0:
        log.info("rate limit %s exceeded; retry after %ss", scope, max(waits))
        setattr(request, _RETRY_ATTRIBUTE, max(waits))
        raise RateLimited(max(waits))


# --- log-in back-off --------------------------------------------------------------------------------


def _backoff(kind: str) -> Backoff:
    rule = settings.EMBARGO_LOGIN_BACKOFF[kind]
    return Backoff(free=int(rule["free"]), base=int(rule["base"]), ceiling=int(rule["ceiling"]))


def _failure_keys(request: HttpRequest, email: str) -> dict[str, str]:
    return {
        "account": _digest("login-failures", "account:" + email.strip().lower()),
        "ip": _digest("login-failures", "ip:" + _ip_key(client_ip(request))),
    }


def login_wait(request: HttpRequest, email: str) -> int:
    """Seconds before this e-mail address may try again from this client (0: now). Counted for any address,
    existing account or not, so that the answer reveals nothing."""
    if not settings.EMBARGO_RATE_LIMITS_ENABLED:
        return 0
    keys = _failure_keys(request, email)
    rows = Counter.objects.filter(
        scope__in=[f"login-failures.{kind}" for kind in keys], key_hash__in=keys.values(), window_start=0
    )
    now = clock.now().timestamp()
    waits = [0]
    for row in rows:
        kind = row.scope.partition(".")[2]
        if keys.get(kind) == row.key_hash:
            waits.append(_backoff(kind).wait(row.hits, row.last_at, now))
    return max(waits)


def record_login_failure(request: HttpRequest, email: str) -> None:
    if not settings.EMBARGO_RATE_LIMITS_ENABLED:
        return
    now = int(clock.now().timestamp())
    for kind, key_hash in _failure_keys(request, email).items():
        _increment(f"login-failures.{kind}", key_hash, 0, now, now + _FAILURES_KEPT)


def clear_login_failures(request: HttpRequest, email: str) -> None:
    keys = _failure_keys(request, email)
    Counter.objects.filter(scope="login-failures.account", key_hash=keys["account"]).delete()
    Counter.objects.filter(scope="login-failures.ip", key_hash=keys["ip"]).delete()


def check_login(request: HttpRequest, email: str) -> None:
    """Raises LoginBackoff while this address (or this client) must wait after failed log-ins."""
    wait = login_wait(request, email)
    if wait > 0:
        setattr(request, _RETRY_ATTRIBUTE, wait)
        raise LoginBackoff(wait)


# --- pages ------------------------------------------------------------------------------------------


def rate_limited_page(request: HttpRequest, refusal: RateLimited) -> HttpResponse:
    response = render(
        request,
        "throttle/rate_limited.html",
        {"message": refusal.message, "retry_after": refusal.retry_after},
        status=429,
    )
    response["Retry-After"] = str(refusal.retry_after)
    return response


def limit_page(scope: str, *, account: Callable[[HttpRequest], str | None] | None = None) -> Callable[..., Any]:
    """Decorates a page view: its POSTs count against `scope` (by IP and, with `account`, by the account the
    request names or is signed in as), and over the limit the 429 page is shown instead."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method == "POST":
                try:
                    enforce(request, scope, account=account(request) if account else None)
                except RateLimited as refusal:
                    return rate_limited_page(request, refusal)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def limit_json(scope: str) -> Callable[..., Any]:
    """Decorates a public JSON view outside the API (the OSV API): over the limit it answers 429 `rate_limited`
    in the API's error shape."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                enforce(request, scope)
            except RateLimited as refusal:
                response = error_response(429, refusal.code, refusal.message, retry_after=refusal.retry_after)
                response["Retry-After"] = str(refusal.retry_after)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def signed_in_account(request: HttpRequest) -> str | None:
    """The account key of the API and of pages alike: the user's primary key."""
    return str(request.user.pk) if request.user.is_authenticated else None


def posted_email(request: HttpRequest) -> str | None:
    return str(request.POST.get("username") or request.POST.get("email") or "") or None


def signed_in_or_posted(request: HttpRequest) -> str | None:
    """The signed-in user, or the e-mail address an anonymous form names (a report sent without an account)."""
    return signed_in_account(request) or posted_email(request)


class RetryAfter:
    """Adds `Retry-After` to the 429 answers of this module, API and pages alike."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        wait = getattr(request, _RETRY_ATTRIBUTE, None)
        if response.status_code == 429 and wait and "Retry-After" not in response:
            response["Retry-After"] = str(wait)
        return response
