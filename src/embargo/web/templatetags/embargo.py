from __future__ import annotations

import datetime as dt

from django import template
from django.utils.safestring import SafeString, mark_safe

from embargo import clock
from embargo.web import markdown as md

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    return mark_safe(md.render(text))  # noqa: S308 - sanitised by nh3 in md.render


@register.filter
def language_name(code: str) -> str:
    """ "Chinese (中文)" for "zh"."""
    from embargo.languages import names

    return names.name(code) if code else "unknown"


@register.filter
def percent(value: float | None) -> str:
    """0.973 → "97 %"."""
    return f"{round(value * 100)} %" if value is not None else ""


@register.filter
def span(delta: dt.timedelta | None) -> str:
    """A duration as a person says it: '3 d 4 h', '5 h 10 min', '12 min'."""
    if delta is None:
        return ""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def until(moment: dt.datetime | None) -> dt.timedelta | None:
    return moment - clock.now() if moment else None


@register.filter
def since(moment: dt.datetime | None) -> dt.timedelta | None:
    return clock.now() - moment if moment else None


@register.filter
def is_past(moment: dt.datetime | None) -> bool:
    return bool(moment and moment <= clock.now())


@register.filter
def state_label(state: str) -> str:
    return state.replace("_", " ")


CLOCK_LABELS = {
    "response": "First answer",
    "fix": "Fix released",
    "packagers": "Notify packagers by",
    "confirmation": "Reporter confirms the fix",
    "disclosure": "Reporter's disclosure date",
}


@register.filter
def clock_label(name: str) -> str:
    return CLOCK_LABELS.get(name, name)


EVENT_LABELS = {
    "report:created": "sent the report",
    "report:language_set": "set the language",
    "translation:requested": "asked for a translation",
    "translation:sent": "sent text to the translation service",
    "translation:corrected": "corrected a translation",
    "report:transitioned": "moved it to",
    "report:assigned": "changed the assignee",
    "report:credit_changed": "changed the credit",
    "report:links_revoked": "revoked the reporter's private links",
    "message:posted": "wrote a message",
    "attachment:added": "attached a file",
    "collaborator:added": "invited a collaborator",
    "collaborator:removed": "removed a collaborator",
    "report:reminded": "sent a reminder:",
    "report:overdue": "marked a promise overdue:",
    "fix:added": "recorded a fix",
    "fix:changed": "changed a fix",
    "patch:added": "added a patch",
    "patch:checked": "checked a patch against its branch",
    "patch:tested": "ran the private CI on a patch",
    "reproduction:requested": "asked for the proof of concept to run",
    "reproduction:finished": "ran the proof of concept",
    "report:fix_confirmed": "confirmed the fix",
    "report:fix_disputed": "said it is still vulnerable",
    "report:confirmation_timed_out": "stopped waiting for the reporter's confirmation",
    "advisory:saved": "saved the advisory",
    "advisory:cve_assigned": "recorded the CVE ID",
    "release:created": "planned a security release",
    "release:changed": "changed the security release",
    "release:notices_sent": "sent the embargo notices to packagers",
    "release:report_removed": "took the report out of its security release",
    "release:embargo_broken": "recorded that the embargo is broken",
    "report:marked_spam": "marked it as spam",
    "report:hold_released": "let it into the inbox",
    "report:transferred": "transferred it to another project",
    "report:transfer_informing_stopped": "stopped telling the team it came from",
    "report:purged": "purged its text, messages and files (retention rule)",
}


@register.filter
def event_label(tag: str) -> str:
    return EVENT_LABELS.get(tag, tag)
