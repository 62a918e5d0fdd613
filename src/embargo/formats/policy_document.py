"""A project's disclosure policy as a SECURITY.md, generated from its policy data.

The sections follow the reference policy (requests' "Vulnerability Disclosure"): how to report, then the
process — the timeline of answers and fixes, the release day, the packagers told ahead of it and how to join
them, and what happens on release day — with the numbers taken from the project's own policy. Plain Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from embargo.domain.policy import WEEKDAYS, Policy

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class PolicyPackager:
    """A packager as the public document names it: the organisation and a contact name, never its addresses
    (they receive embargoed material and are not published; the team knows how to reach them)."""

    organisation: str
    contact_name: str = ""


@dataclass(frozen=True)
class PolicyDocument:
    project_name: str
    policy: Policy
    report_url: str
    join_url: str
    package: str = ""  # e.g. "PyPI:requests"
    repository_url: str = ""
    security_page_url: str = ""
    key_url: str = ""  # the project's pgp-key.asc, when it has a key
    key_fingerprint: str = ""
    packagers: Sequence[PolicyPackager] = field(default=())
    # The languages the team reads, by name, and the translation service its reports go to when translation is on.
    team_languages: Sequence[str] = ("English",)
    translation_service: str = ""


def _and(items: Sequence[str]) -> str:
    """ "English", "English and German", "English, German and French"."""
    items = list(items) or ["English"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def count(n: int, unit: str) -> str:
    """`count(2, "day")` is "two days"; numbers above ten stay digits."""
    word = NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)
    return f"{word} {unit}" + ("" if n == 1 else "s")


def hours(n: int) -> str:
    return count(n // 24, "day") if n >= 24 and n % 24 == 0 else count(n, "hour")


def days(n: int) -> str:
    return count(n // 7, "week") if n >= 7 and n % 7 == 0 else count(n, "day")


def weekdays(numbers: Sequence[int]) -> str:
    """(0, 1, 2, 3, 4) is "Monday to Friday"; a broken run is listed: "Tuesday, Wednesday and Thursday"."""
    ordered = sorted(set(numbers))
    if not ordered:
        return "no day"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAY_NAMES[ordered[0]]} to {DAY_NAMES[ordered[-1]]}"
    names = [DAY_NAMES[d] for d in ordered]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _release_day(policy: Policy) -> str:
    rule = f"The release date always falls on {weekdays(policy.release_weekdays)}"
    if tuple(sorted(set(policy.release_weekdays))) == WEEKDAYS:
        rule = "The release date always falls on a weekday, Monday to Friday,"
    if set(policy.release_weekdays) == set(range(7)):
        rule = "The release date may fall on any day of the week"
    zone = f" in the project's time zone ({policy.timezone})"
    holidays = f", and never on a public holiday of the calendar {policy.holiday_calendar}" if (
        policy.holiday_calendar
    ) else ""  # fmt: skip
    return rule + zone + holidays + "."


def render_markdown(doc: PolicyDocument) -> str:
    policy = doc.policy
    name = doc.project_name
    out: list[str] = [f"# Security policy of {name}", ""]
    out += [
        "## Reporting a vulnerability",
        "",
        f"If you think you have found a security vulnerability in {name}, please report it privately through "
        f"the report form at <{doc.report_url}>. You will get a private link to follow the report and talk with "
        "the team; no account is needed. Please do not open a public issue and do not tell anyone else until "
        "the fix is published.",
        "",
        "Describe the problem and what an attacker could do with it as well as you can. "
        f"{_and(doc.team_languages)} {'is' if len(doc.team_languages) == 1 else 'are'} welcome but not required: "
        "write in your own language if that is easier, and "
        + (
            f"the team reads it through a machine translation by {doc.translation_service}, beside your original "
            "(code and links are not sent there). "
            if doc.translation_service
            else "we will translate it. "
        )
        + "Please include the shortest code that reproduces the problem.",
        "",
    ]
    if doc.key_url:
        fingerprint = f" (fingerprint `{doc.key_fingerprint}`)" if doc.key_fingerprint else ""
        out += [
            f"The project's OpenPGP key{fingerprint} is at <{doc.key_url}>: it signs our embargo notices and "
            "announcements, and you can use it to check them.",
            "",
        ]
    out += ["## Credit", ""]
    credit = (
        "We credit the reporter under the name or alias they choose, in the advisory and in the changelog — "
        "but only with their permission: without it, your involvement stays private."
    )
    if policy.cve_required:
        when = " once a fix exists and can be released" if policy.cve_after_fix else ""
        credit += f" We obtain a CVE identifier for every confirmed vulnerability{when}, with the same credit."
    elif policy.cve_after_fix:
        credit += " When a CVE identifier is needed, we request it only once a fix exists and can be released."
    out += [credit, ""]
    if doc.security_page_url:
        out += [f"Published advisories and their credits are listed at <{doc.security_page_url}>.", ""]

    out += ["## Process", "", "### Timeline", ""]
    out += [
        f"A member of the team answers every report within {hours(policy.response_limit_hours)} at the "
        f"outside, usually within {hours(policy.response_target_hours)}. The first answer at least confirms "
        "that we received the report; when we could reproduce the problem quickly it also confirms the "
        "vulnerability, and otherwise it may ask you for more details.",
        "",
        f"We aim to release a fix within {days(policy.fix_target_days)} of the report. That may be an interim "
        "release that turns the affected feature off while a complete fix is prepared, but usually it is the "
        "complete fix, released as soon as possible.",
        "",
        "We keep you informed while the fix is prepared. When we believe the problem is fixed we tell you, "
        f"and may ask you to confirm it within {days(policy.reporter_confirmation_days)}, especially when we "
        "are unsure of our reproduction.",
        "",
        "### Release day",
        "",
        "Then we prepare the release and choose its date, which we tell you. " + _release_day(policy),
        "",
        "### Packagers",
        "",
        f"At least {days(policy.packager_lead_days)} before the release, we tell the downstream packagers on "
        "our list that a security release is coming, and send them the advisory and the patches so that their "
        "own packages can be ready on the day. They are bound by the embargo until the release.",
        "",
    ]
    if doc.packagers:
        out += ["The packagers we contact ahead of a public release are:", ""]
        for p in sorted(doc.packagers, key=lambda p: (p.organisation.lower(), p.contact_name.lower())):
            out.append(f"- {p.organisation}" + (f" ({p.contact_name})" if p.contact_name else ""))
        out.append("")
    else:
        out += ["No packager is on our list yet.", ""]
    out += [
        f"If you distribute {name} and should be on this list, ask to join at <{doc.join_url}>; the project's "
        "owners decide.",
        "",
        "### Publication",
        "",
    ]
    where = f" to the public repository (<{doc.repository_url}>)" if doc.repository_url else ""
    package = f" to {doc.package.split(':', 1)[0]}" if ":" in doc.package else ""
    out += [
        f"On release day we push the fix{where} with a changelog entry that describes the issue and credits "
        f"the reporter, release the fixed version{package}, and publish the advisory — with the commits that "
        "fix the problem, so that anyone who cannot upgrade can patch their own copy — as a web page and as "
        "OSV, CVE and CSAF records.",
        "",
        "Then we announce the release on our mailing lists and every other channel the team has.",
    ]
    return "\n".join(out) + "\n"
