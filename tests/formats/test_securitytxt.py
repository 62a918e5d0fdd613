"""security.txt as RFC 9116 asks. The `sectxt` validator is not among the project's dependencies, so
`rfc9116_problems` checks the RFC's rules itself: the known fields, Contact at least once, Expires exactly once
as an RFC 3339 moment less than a year ahead, Canonical / Preferred-Languages at most once, web URIs in https."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from embargo.formats import securitytxt
from embargo.formats.securitytxt import SecurityTxt

FIELDS = {"acknowledgments", "canonical", "contact", "encryption", "expires", "hiring", "policy",
          "preferred-languages", "csaf"}  # fmt: skip
ONCE = {"expires", "preferred-languages"}
URI_FIELDS = {"acknowledgments", "canonical", "contact", "encryption", "hiring", "policy", "csaf"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def rfc9116_problems(text: str, *, now: dt.datetime, served_at: str | None = None) -> list[str]:
    """What is wrong with a security.txt by RFC 9116 (empty when valid)."""
    problems: list[str] = []
    if not text.endswith("\n"):
        problems.append("the last line must end with a line break")
    seen: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, colon, value = line.partition(":")
        if not colon or not value.startswith(" ") or not value.strip():
            problems.append(f"line {number} is not `Field: value`")
            continue
        name, value = name.lower(), value.strip()
        if name not in FIELDS:
            problems.append(f"line {number}: unknown field {name}")
        seen.setdefault(name, []).append(value)
        if name in URI_FIELDS:
            if name == "contact" and value.startswith(("mailto:", "tel:")):
                continue
            if not value.startswith("https://"):
                problems.append(f"line {number}: {name} must be an https:// URI (RFC 9116 §2.5)")
    if not seen.get("contact"):
        problems.append("Contact is required")
    for name in ONCE:
        if len(seen.get(name, [])) > 1:
            problems.append(f"{name} must appear at most once")
    expires = seen.get("expires", [])
    if len(expires) != 1:
        problems.append("Expires must appear exactly once")
    elif not RFC3339.match(expires[0]):
        problems.append(f"Expires {expires[0]!r} is not an RFC 3339 moment")
    else:
        moment = dt.datetime.fromisoformat(expires[0].replace("Z", "+00:00"))
        if moment <= now:
            problems.append("Expires is in the past")
        if moment > now + dt.timedelta(days=365):
            problems.append("Expires is more than a year ahead")
    for value in seen.get("preferred-languages", []):
        if not all(LANGUAGE_TAG.match(tag.strip()) for tag in value.split(",")):
            problems.append(f"Preferred-Languages {value!r} is not a list of language tags")
    if served_at is not None and served_at not in seen.get("canonical", []):
        problems.append(f"Canonical does not name {served_at}, where the file is served")
    return problems


NOW = dt.datetime(2026, 11, 29, 15, 30, tzinfo=dt.UTC)


def full() -> SecurityTxt:
    return SecurityTxt(
        contacts=("https://embargo.example/projects/requests/",),
        expires=securitytxt.expires_at(NOW),
        canonical="https://embargo.example/projects/requests/security.txt",
        policy="https://embargo.example/projects/requests/SECURITY.md",
        acknowledgments="https://embargo.example/projects/requests/security",
        preferred_languages=("en", "fr"),
        encryption=("https://embargo.example/projects/requests/pgp-key.asc",),
    )


def test_a_project_file_has_every_field_and_keeps_the_rfc() -> None:
    text = securitytxt.render(full())
    assert text == (
        "Contact: https://embargo.example/projects/requests/\n"
        "Expires: 2027-11-28T00:00:00Z\n"
        "Encryption: https://embargo.example/projects/requests/pgp-key.asc\n"
        "Acknowledgments: https://embargo.example/projects/requests/security\n"
        "Preferred-Languages: en, fr\n"
        "Canonical: https://embargo.example/projects/requests/security.txt\n"
        "Policy: https://embargo.example/projects/requests/SECURITY.md\n"
    )
    assert rfc9116_problems(text, now=NOW, served_at=full().canonical) == []


def test_expires_is_less_than_a_year_ahead_and_the_same_all_day() -> None:
    morning, night = NOW.replace(hour=0, minute=0), NOW.replace(hour=23, minute=59)
    assert securitytxt.expires_at(morning) == securitytxt.expires_at(night)
    for moment in (morning, NOW, night):
        assert moment < securitytxt.expires_at(moment) < moment + dt.timedelta(days=365)


def test_optional_fields_are_left_out_when_empty() -> None:
    doc = SecurityTxt(contacts=("mailto:security@example.org",), expires=securitytxt.expires_at(NOW),
                      canonical="https://embargo.example/.well-known/security.txt")  # fmt: skip
    text = securitytxt.render(doc)
    assert [line.split(":")[0] for line in text.splitlines()] == ["Contact", "Expires", "Canonical"]
    assert rfc9116_problems(text, now=NOW) == []


def test_a_file_without_contact_is_refused() -> None:
    with pytest.raises(ValueError, match="Contact"):
        securitytxt.render(SecurityTxt(contacts=(), expires=NOW, canonical="https://x.example/security.txt"))


def test_a_line_break_in_a_value_cannot_add_a_field() -> None:
    forged = SecurityTxt(contacts=("https://x.example/\nContact: mailto:evil@example.org",), expires=NOW,
                         canonical="https://x.example/security.txt")  # fmt: skip
    with pytest.raises(ValueError, match="line break"):
        securitytxt.render(forged)


def test_the_checker_catches_what_the_rfc_forbids() -> None:
    """The checker itself would fail a broken file, so a passing file means something."""
    good = securitytxt.render(full())
    assert rfc9116_problems(good.replace("Contact: ", "Kontakt: "), now=NOW)
    assert rfc9116_problems(good.replace("Expires: 2027-11-28T00:00:00Z\n", ""), now=NOW)
    assert rfc9116_problems(good.replace("2027-11-28", "2028-11-28"), now=NOW)
    assert rfc9116_problems(good.replace("https://embargo.example/projects/requests/\n", "http://x/\n"), now=NOW)
    assert rfc9116_problems(good + "Expires: 2027-01-01T00:00:00Z\n", now=NOW)
