"""The one check for the URL of an outside service Embargo calls (a Mastodon instance, a translation service).

Such a URL is entered by an owner or the operator, and the call carries a secret (a token, an API key, report
text), so it must not be a way into the machine's own network: https only, no user name or password (secrets are
given separately), no query or fragment, and a host that resolves to public addresses only — unless the operator
set EMBARGO_ALLOW_PRIVATE_NETWORK, which allows private and loopback addresses and plain http (a self-hosted
service on the local network, or the stand-ins of the tests).

The address is checked here and resolved again by the HTTP client when it connects; a host that changes its answer
in between (DNS rebinding) could still reach a private address. Callers therefore also refuse to follow redirects.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from embargo.fixes.git import _is_public as is_public_address  # the one rule for "public" outgoing addresses

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutgoingURLRefused(ValueError):
    """The URL may not be called; `message` says why, for the person who entered it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OutgoingHostNotFound(OutgoingURLRefused):
    """The URL's host could not be resolved, so whether it is public is unknown. A subclass because it may be
    passing (a DNS failure) where the other refusals are for good; `host` is the name that was looked up."""

    def __init__(self, message: str, *, host: str) -> None:
        super().__init__(message)
        self.host = host


def check_outgoing_url(url: str, *, allow_private: bool, what: str) -> str:
    """The normalised base URL (`scheme://host[:port][/path]`, no trailing slash, host in lower case) if `url` may
    be called, else OutgoingURLRefused whose message starts with `what` (e.g. "The translation service URL")."""

    def refuse(reason: str) -> OutgoingURLRefused:
        return OutgoingURLRefused(f"{what} {url[:100]!r} {reason}.")

    if not url:
        raise refuse("is empty")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise refuse("contains spaces or control characters")
    if "\\" in url:
        # Parsers disagree on a backslash (browsers read it as "/"), so the host we check might not be the one called.
        raise refuse("contains a backslash")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise refuse("is not a valid URL") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in allowed:
        raise refuse("must start with https://")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise refuse("must not carry a user name or password (credentials are given separately)")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise refuse("must not have a query (?…) or a fragment (#…)")
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise refuse("has an invalid port") from None
    if not host:
        raise refuse("has no host")
    if not allow_private:
        for address in _addresses(host, port, what=what, url=url):
            if not is_public_address(address):
                raise refuse(f"points to a private, local or reserved address ({address})")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _addresses(host: str, port: int, *, what: str, url: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    not_found = OutgoingHostNotFound(f"{what} {url[:100]!r} names a host that could not be found ({host}).", host=host)
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise not_found from None
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0]) for answer in answers]
    if not addresses:
        raise not_found
    return addresses
