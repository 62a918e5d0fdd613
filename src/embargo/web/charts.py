"""Charts drawn on the server as SVG: no script, nothing to load, readable by a screen reader through
its title and table fallback. Presentation attributes only (no inline style), so the strict CSP holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class ResponsePoint:
    received_at: dt.datetime
    hours: float | None  # None: not answered yet
    label: str


WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40
GREEN, AMBER, RED, GREY = "#1a7f37", "#9a6700", "#b3261e", "#57606a"


def response_chart(
    points: Sequence[ResponsePoint], *, target_hours: int, limit_hours: int, now: dt.datetime
) -> SafeString:
    """Hours to the first answer of each report, by the day it arrived, against the policy's target and limit."""
    if not points:
        return mark_safe('<p class="muted">No report in this period.</p>')
    start = min(p.received_at for p in points)
    end = max(now, max(p.received_at for p in points))
    span = max((end - start).total_seconds(), 3600.0)
    answered = [p.hours for p in points if p.hours is not None]
    top = max([limit_hours * 1.25, *answered]) if answered else limit_hours * 1.25
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: dt.datetime) -> float:
        return round(LEFT + plot_w * (moment - start).total_seconds() / span, 1)

    def y(hours: float) -> float:
        return round(TOP + plot_h * (1 - min(hours, top) / top), 1)

    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" aria-labelledby="chart-title">'
            '<title id="chart-title">Hours to the first answer of each report, against the target of {} h and '
            "the limit of {} h</title>",
            WIDTH,
            HEIGHT,
            target_hours,
            limit_hours,
        ),
        format_html('<rect x="{}" y="{}" width="{}" height="{}" fill="#f6f8fa"/>', LEFT, TOP, plot_w, plot_h),
    ]
    for hours, color, name in ((target_hours, AMBER, "target"), (limit_hours, RED, "limit")):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-dasharray="6 4"/>'
                '<text x="{}" y="{}" font-size="12" fill="{}">{} {} h</text>',
                LEFT,
                WIDTH - RIGHT,
                y(hours),
                y(hours),
                color,
                LEFT + 4,
                y(hours) - 4,
                color,
                name,
                hours,
            )
        )
    for tick in (0, top / 2, top):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{}">{} h</text>',
                LEFT - 6,
                y(tick) + 4,
                GREY,
                round(tick),
            )
        )
    parts.append(
        format_html(
            '<text x="{}" y="{}" font-size="11" fill="{}">{}</text><text x="{}" y="{}" font-size="11" '
            'text-anchor="end" fill="{}">{}</text>',
            LEFT,
            HEIGHT - 12,
            GREY,
            f"{start:%Y-%m-%d}",
            WIDTH - RIGHT,
            HEIGHT - 12,
            GREY,
            f"{end:%Y-%m-%d}",
        )
    )
    for point in points:
        if point.hours is None:
            waited = (now - point.received_at).total_seconds() / 3600
            color = RED if waited > limit_hours else GREY
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="8" height="8" fill="none" stroke="{}">'
                    "<title>{}: not answered yet ({} h)</title></rect>",
                    x(point.received_at) - 4,
                    y(waited) - 4,
                    color,
                    point.label,
                    round(waited),
                )
            )
            continue
        color = GREEN if point.hours <= target_hours else AMBER if point.hours <= limit_hours else RED
        parts.append(
            format_html(
                '<circle cx="{}" cy="{}" r="4" fill="{}"><title>{}: answered in {} h</title></circle>',
                x(point.received_at),
                y(point.hours),
                color,
                point.label,
                round(point.hours, 1),
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every part was escaped by format_html
