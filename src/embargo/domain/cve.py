"""When a CVE identifier may be requested, and what one looks like."""

from __future__ import annotations

import re

from embargo.domain.policy import Policy
from embargo.domain.workflow import State

CVE_ID = re.compile(r"^CVE-(?P<year>\d{4})-(?P<number>\d{4,19})$")
AFTER_FIX = frozenset({State.FIX_READY, State.SCHEDULED, State.PUBLISHED})
CLOSED_UNPUBLISHED = frozenset({State.REJECTED, State.DUPLICATE, State.WITHDRAWN})


def request_refusal(state: State, policy: Policy) -> str | None:
    """None when the policy lets the team request a CVE ID now; else the reason it may not yet.

    The reference policy: "We will only request an identifier when we have a fix and can publish it in a
    release." So by default not before fix_ready; a policy without `cve_after_fix` allows it once confirmed."""
    if state in CLOSED_UNPUBLISHED:
        return f"The report is {state}: it gets no CVE identifier."
    if policy.cve_after_fix and state not in AFTER_FIX:
        return (
            f"The policy requests a CVE identifier only once a fix exists; the report is {state}. "
            "Move it to fix_ready first."
        )
    if state in (State.RECEIVED, State.ACKNOWLEDGED, State.NEEDS_INFO):
        return f"The report is {state}: confirm the vulnerability before requesting a CVE identifier."
    return None


def is_cve_id(value: str) -> bool:
    return bool(CVE_ID.match(value))
