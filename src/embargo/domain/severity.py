"""A reporter's proposed severity: a CVSS v3.x or v4.0 vector, or one of the plain words."""

from __future__ import annotations

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

WORDS = ("low", "moderate", "high", "critical")


class SeverityError(ValueError):
    pass


def normalize_proposed(value: str) -> str:
    """Returns the value in canonical form, or raises SeverityError saying what is accepted."""
    value = value.strip()
    if not value:
        return ""
    if value.lower() in WORDS:
        return value.lower()
    try:
        if value.startswith("CVSS:3."):
            return str(CVSS3(value).clean_vector())
        if value.startswith("CVSS:4.0/"):
            return str(CVSS4(value).clean_vector())
    except CVSSError as e:
        raise SeverityError(f"not a valid CVSS vector: {e}") from None
    raise SeverityError(
        "give a CVSS v3.1 or v4.0 vector (e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N) "
        f"or one of: {', '.join(WORDS)}"
    )
