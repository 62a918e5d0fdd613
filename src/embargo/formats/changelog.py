"""A changelog entry for a fixed advisory, ready to paste into a project's HISTORY.md or CHANGES.rst: the CVE, the
affected and fixed versions, the fixing commits and the credits as consented (the caller passes only credits that
may be public). Plain Python, from domain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from embargo.domain.advisory import Advisory, Affected

FORMATS = ("md", "rst")


def affected_words(affected: Affected) -> str:
    """`requests < 2.32.4, >= 2.0 and < 2.31.1` style: each range as the versions it covers."""
    parts = []
    for r in affected.ranges:
        if r.type == "GIT":
            continue
        low = "" if r.introduced in ("0", "") else f">= {r.introduced}"
        if r.fixed is not None:
            high = f"< {r.fixed}"
        elif r.last_affected is not None:
            high = f"<= {r.last_affected}"
        else:
            high = ""
        parts.append(" and ".join(p for p in (low, high) if p) or "all versions")
    parts += list(affected.versions)
    return f"{affected.package} {', '.join(parts)}" if parts else affected.package


def _names(advisory: Advisory) -> tuple[str, str]:
    ids = advisory.cve_id or advisory.id
    other = advisory.id if advisory.cve_id else ""
    return ids, other


def _credit_line(advisory: Advisory) -> str:
    names = [c.name for c in advisory.credits if c.name]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Thanks to {listed} for reporting the issue."


def _commit(commit: Mapping[str, str], literal: str) -> str:
    sha = str(commit.get("sha", ""))[:12]
    repo = str(commit.get("repository", ""))
    return f"{literal}{sha}{literal}" + (f" in {repo}" if repo else "")


def entry(advisory: Advisory, commits: Sequence[Mapping[str, str]], fmt: str = "md") -> str:
    """The entry in `fmt` ("md" or "rst")."""
    if fmt not in FORMATS:
        raise ValueError(f"format is one of {', '.join(FORMATS)}")
    main_id, other_id = _names(advisory)
    literal = "`" if fmt == "md" else "``"
    title = advisory.summary.strip().rstrip(".") or "Security fix"
    head = f"**{main_id}**" + (f" ({other_id})" if other_id else "") + f": {title}."
    lines = []
    affected = "; ".join(affected_words(a) for a in advisory.affected)
    if affected:
        lines.append(f"Affected: {affected}.")
    fixed = sorted({v for a in advisory.affected for v in a.fixed_versions})
    if fixed:
        lines.append(f"Fixed in {', '.join(fixed)}.")
    if commits:
        lines.append("Fixing commits: " + ", ".join(_commit(c, literal) for c in commits) + ".")
    credit = _credit_line(advisory)
    if credit:
        lines.append(credit)
    if fmt == "md":
        body = [f"- {head}", *(f"  {line}" for line in lines)]
        return "### Security\n\n" + "\n".join(body) + "\n"
    body = [f"- {head}", *(f"  {line}" for line in lines)]
    return "Security\n~~~~~~~~\n\n" + "\n".join(body) + "\n"
