"""Markdown from reporters and teams, rendered and then sanitised: nothing the author writes can run.

markdown-it renders CommonMark with raw HTML switched off (it comes out escaped), and nh3 (ammonia) then keeps
only an allow-list of tags and attributes, drops `javascript:` and other unsafe URL schemes, and marks every
link `rel="noopener noreferrer nofollow"`."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render(text: str) -> str:
    """Safe HTML for `text` (Markdown)."""
    return nh3.clean(
        _md.render(text or ""),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
