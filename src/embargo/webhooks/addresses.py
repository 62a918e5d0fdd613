"""Which webhook URLs Embargo may call (docs/webhooks.md, "Which URLs are allowed").

A webhook URL is entered by an owner, and Embargo POSTs to it from inside the operator's network, so it must not
be a way into that network: `https` only, and a host that resolves to public addresses only — checked when the
hook is saved and again right before every delivery, since what a name resolves to may change. The syntax rules
(no user name, no query, no fragment …) are those of every outgoing URL (`embargo.outgoing.check_outgoing_url`).

The operator may allow more, for a chat server on the local network or the stand-in receiver of the tests:
- EMBARGO_WEBHOOK_ALLOW_HTTP=1 allows plain `http://` URLs;
- EMBARGO_WEBHOOK_ALLOWED_HOSTS lists host names, addresses and networks (`chat.internal,127.0.0.1,10.0.0.0/8`)
  whose private addresses are allowed: a listed name may resolve to anything, an address must be in a listed
  address or network;
- EMBARGO_ALLOW_PRIVATE_NETWORK=1 (the switch for every outgoing call) allows both.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from embargo.outgoing import (
    IPAddress,
    OutgoingHostNotFound,
    OutgoingURLRefused,
    _addresses,
    check_outgoing_url,
    is_public_address,
)

WHAT = "The webhook URL"
MAX_LENGTH = 2000

__all__ = ["MAX_LENGTH", "CheckedURL", "OutgoingHostNotFound", "OutgoingURLRefused", "check_webhook_url"]


@dataclass(frozen=True)
class CheckedURL:
    url: str  # as entered (a trailing slash may matter to the receiver)
    host: str  # in lower case
    addresses: tuple[IPAddress, ...]  # what the host resolved to when checked; empty when not looked up


def _allowed() -> tuple[frozenset[str], tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
    names, networks = set(), []
    for entry in settings.EMBARGO_WEBHOOK_ALLOWED_HOSTS:
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return frozenset(names), tuple(networks)


def check_webhook_url(url: str, *, resolve: bool = True) -> CheckedURL:
    """The URL if a webhook may call it, else OutgoingURLRefused with a message for the owner who entered it
    (OutgoingHostNotFound when its host cannot be resolved). `resolve=False` checks only the syntax."""
    url = url.strip()
    if len(url) > MAX_LENGTH:
        raise OutgoingURLRefused(f"{WHAT} is longer than {MAX_LENGTH} characters.")
    # Syntax only here (scheme http or https, no credentials, query or fragment); the addresses are checked below
    # against the webhook settings.
    check_outgoing_url(url, allow_private=True, what=WHAT)
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    everything = settings.EMBARGO_ALLOW_PRIVATE_NETWORK
    if scheme != "https" and not (everything or settings.EMBARGO_WEBHOOK_ALLOW_HTTP):
        raise OutgoingURLRefused(
            f"{WHAT} {url[:100]!r} must start with https:// (plain http:// only where the operator allows it)."
        )
    if not resolve:
        return CheckedURL(url, host, ())
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = tuple(_addresses(host, port, what=WHAT, url=url))
    names, networks = _allowed()
    if not everything and host.rstrip(".") not in names:
        for address in addresses:
            if is_public_address(address) or any(address in network for network in networks):
                continue
            raise OutgoingURLRefused(
                f"{WHAT} {url[:100]!r} points to a private, local or reserved address ({address}); webhooks go to "
                "public addresses only, unless the operator allows this one (EMBARGO_WEBHOOK_ALLOWED_HOSTS)."
            )
    return CheckedURL(url, host, addresses)
