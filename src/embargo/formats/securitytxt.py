"""security.txt (RFC 9116): where and how to report a vulnerability, for the instance and for each project.

Plain Python over plain data; the views gather the URLs and the moment. The file is generated on each request,
so `Expires` moves with the clock: it is set to the start of the current UTC day plus `EXPIRES_AFTER`, which
keeps it under the RFC's one year and the same for a whole day (caches and mirrors see one text a day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

EXPIRES_AFTER = dt.timedelta(days=364)


@dataclass(frozen=True)
class SecurityTxt:
    """The fields of one security.txt. `contacts` must not be empty (RFC 9116 §2.5.3); `canonical` is the URL
    the file is served at; the others are left out when empty."""

    contacts: tuple[str, ...]
    expires: dt.datetime
    canonical: str
    policy: str = ""
    acknowledgments: str = ""
    preferred_languages: tuple[str, ...] = ()
    encryption: tuple[str, ...] = field(default=())


def expires_at(now: dt.datetime) -> dt.datetime:
    """The `Expires` moment for a file generated at `now`: less than a year ahead, the same all day."""
    day = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + EXPIRES_AFTER


def render(doc: SecurityTxt) -> str:
    """The file's text: one `Field: value` line per value, in the RFC's order of presentation, LF line ends."""
    if not doc.contacts:
        raise ValueError("security.txt needs at least one Contact")
    if doc.expires.tzinfo is None:
        raise ValueError("Expires needs a time zone")
    for value in (*doc.contacts, doc.canonical, doc.policy, doc.acknowledgments, *doc.encryption):
        # A line break in a value would add a field of its own choosing to the file.
        if any(c in value for c in "\r\n"):
            raise ValueError("a security.txt value cannot contain a line break")
    lines = [f"Contact: {contact}" for contact in doc.contacts]
    lines.append("Expires: " + doc.expires.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    lines.extend(f"Encryption: {url}" for url in doc.encryption)
    if doc.acknowledgments:
        lines.append(f"Acknowledgments: {doc.acknowledgments}")
    if doc.preferred_languages:
        lines.append("Preferred-Languages: " + ", ".join(doc.preferred_languages))
    lines.append(f"Canonical: {doc.canonical}")
    if doc.policy:
        lines.append(f"Policy: {doc.policy}")
    return "\n".join(lines) + "\n"
