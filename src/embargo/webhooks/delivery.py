"""The worker's delivery of a webhook outbox row: one signed POST, logged as a WebhookDelivery.

- The URL is checked again right before the call (DNS may have changed since the hook was saved), and the call
  connects to the address that check approved — the host name goes in the Host header and, for https, in SNI and
  the certificate check — so a name that changes its answer in between (DNS rebinding) cannot lead it elsewhere.
  Redirects are not followed either.
- 2xx: delivered. 5xx, 408, 429, a time-out or a connection failure: DeliveryError, retried by the worker with its
  back-off (up to its attempt limit). Any other answer (3xx, 4xx) is the receiver's "no" and is not retried
  (Cancelled), nor is a URL that is no longer allowed. Every attempt is logged, whatever its outcome.
- Errors name the host only: a chat service's webhook URL is a credential (it is stored sealed).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from embargo import __version__, clock
from embargo.notifications.delivery import Cancelled, DeliveryError
from embargo.webhooks import events, payloads
from embargo.webhooks.addresses import CheckedURL, OutgoingHostNotFound, OutgoingURLRefused, check_webhook_url
from embargo.webhooks.firing import TEMPLATE
from embargo.webhooks.models import Webhook, WebhookDelivery

__all__ = ["TEMPLATE", "deliver", "sign"]

RETRIED_STATUSES = frozenset({408, 429})
EXCERPT_BYTES = 512
EXCERPT_CHARS = 200


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Embargo-Signature header: HMAC-SHA256 over `timestamp`, a dot and the raw body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def deliver(row: Any) -> None:
    context: dict[str, Any] = row.context
    hook = Webhook.objects.select_related("project").filter(public_id=context.get("webhook", "")).first()
    if hook is None:
        raise Cancelled("the webhook was removed")
    name = str(context.get("event", ""))
    if not hook.active and name != events.PING:
        raise Cancelled("the webhook is paused")
    attempt = WebhookAttempt(hook, row.public_id, name, row.attempts)
    try:
        checked = check_webhook_url(hook.url)
    except OutgoingHostNotFound:
        raise attempt.failed(f"{hook.host} could not be found (DNS); trying again later") from None
    except OutgoingURLRefused:
        raise attempt.refused(
            f"{hook.host} is not allowed (a private, local or reserved address, or plain http): not retried"
        ) from None
    body = payloads.build(hook, row.public_id, context)
    timestamp = str(int(clock.now().timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"Embargo-Webhook/{__version__}",
        "X-Embargo-Event": name,
        "X-Embargo-Delivery": row.public_id,
        "X-Embargo-Timestamp": timestamp,
        "X-Embargo-Signature": sign(hook.secret, timestamp, body),
    }
    timeout = settings.EMBARGO_WEBHOOK_TIMEOUT
    attempt.start()
    try:
        with _post_pinned(checked, body, headers, timeout) as response:
            excerpt = _excerpt(response)
    except requests.Timeout:
        raise attempt.failed(f"{hook.host} did not answer within {timeout:g} s") from None
    except requests.RequestException as e:
        raise attempt.failed(f"{hook.host} could not be reached ({type(e).__name__})") from None
    status = response.status_code
    if 200 <= status < 300:
        attempt.log(status=status, excerpt=excerpt)
        return
    if status >= 500 or status in RETRIED_STATUSES:
        raise attempt.failed(f"{hook.host} answered {status}; trying again later", status=status, excerpt=excerpt)
    reason = "redirects are not followed" if 300 <= status < 400 else "the receiver refused the delivery"
    raise attempt.refused(f"{hook.host} answered {status}: {reason}; not retried", status=status, excerpt=excerpt)


class WebhookAttempt:
    """Logs one attempt, and makes the exception that tells the worker what to do next."""

    def __init__(self, hook: Webhook, delivery_id: str, event: str, number: int) -> None:
        self.hook, self.delivery_id, self.event, self.number = hook, delivery_id, event, number
        self.started: float | None = None

    def start(self) -> None:
        self.started = time.monotonic()

    def log(self, *, status: int | None = None, error: str = "", excerpt: str = "") -> None:
        duration = None if self.started is None else round((time.monotonic() - self.started) * 1000)
        WebhookDelivery.objects.create(
            webhook=self.hook,
            delivery_id=self.delivery_id,
            event=self.event,
            attempt=self.number,
            status_code=status,
            duration_ms=duration,
            error=error[:500],
            response_excerpt=excerpt,
            at=clock.now(),
        )

    def failed(self, error: str, *, status: int | None = None, excerpt: str = "") -> DeliveryError:
        self.log(status=status, error=error, excerpt=excerpt)
        return DeliveryError(error)

    def refused(self, error: str, *, status: int | None = None, excerpt: str = "") -> Cancelled:
        self.log(status=status, error=error, excerpt=excerpt)
        return Cancelled(error)


class _PinnedTLS(HTTPAdapter):
    """Connects to an address but speaks TLS to the host name: SNI and the certificate's name are the host's."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname  # set first: HTTPAdapter.__init__ makes the pool manager
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        pool_kwargs.update(server_hostname=self.hostname, assert_hostname=self.hostname)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


# A name with several addresses (IPv6 and IPv4, say): the next one is tried when one cannot be connected to.
MAX_ADDRESSES = 3


@contextmanager
def _post_pinned(
    checked: CheckedURL, body: bytes, headers: dict[str, str], timeout: float
) -> Iterator[requests.Response]:
    """POSTs to an address the check approved, not to whatever the name resolves to by now; the answer is read
    inside the block."""
    parts = urlsplit(checked.url)
    addresses = list(dict.fromkeys(checked.addresses))[:MAX_ADDRESSES]
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the connection goes to the checked address
    session.mount("https://", _PinnedTLS(checked.host))
    session.mount("http://", HTTPAdapter(max_retries=0))
    try:
        for index, address in enumerate(addresses):
            literal = f"[{address}]" if address.version == 6 else str(address)
            netloc = literal + (f":{parts.port}" if parts.port else "")
            target = urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
            try:
                response = session.post(
                    target, data=body, headers={**headers, "Host": parts.netloc}, timeout=timeout,
                    allow_redirects=False, stream=True, verify=settings.EMBARGO_WEBHOOK_CA_BUNDLE or True,
                )  # fmt: skip
            except requests.ConnectionError:
                if index == len(addresses) - 1:
                    raise
                continue
            with response:
                yield response
            return
        raise requests.ConnectionError("no address to connect to")
    finally:
        session.close()


def _excerpt(response: requests.Response) -> str:
    """The start of the answer, printable characters only, for the delivery log; the rest is never read."""
    try:
        raw = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
    except Exception:  # noqa: BLE001 - a broken body does not change the answer's status
        return ""
    text = raw.decode("utf-8", "replace")
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:EXCERPT_CHARS]
