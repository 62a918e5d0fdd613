"""Which parts of a report's text go to a translation service, and putting the translations back.

Report text is secret, and its code, URLs and tracebacks are both the most sensitive part and the part a
translation would break, so they are never sent: `split_for_translation` cuts the text into pieces, marks as
translatable only runs of prose, and keeps everything else — code, links, addresses and all whitespace — to be put
back byte for byte by `reassemble`. Joining the pieces always gives the text back exactly.

Not sent:
- fenced code blocks (``` or ~~~, as in Markdown; an unclosed fence runs to the end of the text);
- indented code blocks (4 columns or a tab), after a blank line or a line ending in ":" — the latter is not
  Markdown, but it is how plain-text reports introduce code, and sending code by mistake is the worse error;
- Python tracebacks, from "Traceback (most recent call last):" to the exception line;
- inline code spans (`…`), URLs (http, https, ftp, www.), autolinks (<…>), Markdown link targets (](…)) and
  e-mail addresses;
- whitespace around and between translatable runs, and runs with no letter at all (numbers, punctuation).
A paragraph (text between blank lines) is one translatable piece unless code or a URL cuts it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Piece:
    text: str
    translate: bool


def split_for_translation(text: str) -> list[Piece]:
    """The text as pieces: `"".join(p.text for p in pieces) == text`; translatable pieces are non-empty, have no
    leading or trailing whitespace and contain a letter; two kept pieces are never next to each other."""
    pieces: list[Piece] = []
    position = 0
    for start, end in _blocks(text):
        _split_prose(text[position:start], pieces)
        _keep(text[start:end], pieces)
        position = end
    _split_prose(text[position:], pieces)
    return pieces


def reassemble(pieces: Sequence[Piece], translated: Sequence[str]) -> str:
    """The text with each translatable piece replaced by its translation (one per translatable piece, in order)."""
    wanted = sum(1 for piece in pieces if piece.translate)
    if wanted != len(translated):
        raise ValueError(f"{len(translated)} translations for {wanted} translatable pieces")
    answers = iter(translated)
    return "".join(next(answers) if piece.translate else piece.text for piece in pieces)


# --- blocks: fenced and indented code, tracebacks -----------------------------------------------------------

_FENCE = re.compile(r" {0,3}(?P<fence>`{3,}(?=[^`\n]*$)|~{3,})", re.MULTILINE)
_TRACEBACK = re.compile(r"[ \t]*(?:Exception Group )?Traceback \(most recent call last\):[ \t]*\r?$")
_LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, line without its "\\n") for each line; a "\\r" before the "\\n" stays in the line."""
    lines, offset = [], 0
    for line in text.split("\n"):
        lines.append((offset, line))
        offset += len(line) + 1
    return lines


def _indent(line: str) -> int:
    columns = 0
    for character in line:
        if character == " ":
            columns += 1
        elif character == "\t":
            columns += 4 - columns % 4
        else:
            break
    return columns


def _blank(line: str) -> bool:
    return not line.strip()


def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each code block and traceback, in order, not overlapping."""
    lines = _lines(text)
    blocks: list[tuple[int, int]] = []
    previous = ""  # the line before, "" at the start of the text (which counts as blank)
    list_code_indent = 0  # inside a list item, code needs the item's content column + 4
    i = 0
    while i < len(lines):
        offset, line = lines[i]
        end_of = len(text)
        fence = _FENCE.match(line)
        if fence:
            marker = fence.group("fence")
            closing = re.compile(rf" {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*\r?$")
            j = i + 1
            while j < len(lines) and not closing.match(lines[j][1]):
                j += 1
            end = end_of if j >= len(lines) else lines[j][0] + len(lines[j][1])
            blocks.append((offset, end))
            previous, i = "x", j + 1
            continue
        if _TRACEBACK.match(line):
            depth = _indent(line)
            j = i + 1
            while j < len(lines) and not _blank(lines[j][1]) and _indent(lines[j][1]) > depth:
                j += 1  # the frames, indented under the header
            if j < len(lines) and not _blank(lines[j][1]):
                j += 1  # the exception line ("ValueError: …")
            last_offset, last = lines[j - 1]
            blocks.append((offset, last_offset + len(last)))
            previous, i = "x", j
            continue
        threshold = list_code_indent or 4
        if (
            not _blank(line)
            and _indent(line) >= threshold
            and (_blank(previous) or previous.rstrip().endswith((":", "\uff1a")))  # ":" or a full-width colon
        ):
            j = i + 1
            while j < len(lines) and (_blank(lines[j][1]) or _indent(lines[j][1]) >= threshold):
                j += 1
            while _blank(lines[j - 1][1]):
                j -= 1  # trailing blank lines are whitespace, not code
            last_offset, last = lines[j - 1]
            blocks.append((offset, last_offset + len(last)))
            previous, i = "x", j
            continue
        if not _blank(line) and _indent(line) < 4:
            item = _LIST_ITEM.match(line)
            if item:
                marker = item.group()
                list_code_indent = len(marker.expandtabs(4)) + (0 if marker.endswith((" ", "\t")) else 1) + 4
            elif _blank(previous):
                list_code_indent = 0  # a new paragraph outside the list
        previous, i = line, i + 1
    return blocks


# --- inline: code spans, links, addresses -------------------------------------------------------------------

# Characters a URL is made of (RFC 3986, plus "%"); non-ASCII is left out on purpose: text in Chinese or Japanese
# often follows a URL with no space, and must not be swallowed into it.
_URL_CHARACTERS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%|{}^]"
_INLINE = re.compile(
    "|".join(
        [
            # A code span: a run of backticks up to the next run of the same length, not across a blank line.
            r"(?<!`)(?P<ticks>`+)(?!`)(?:(?!\n[^\S\n]*\n)[\s\S])*?(?<!`)(?P=ticks)(?!`)",
            r"<(?:https?|ftp)://[^\s<>]*>",
            r"<[^\s<>@]+@[^\s<>@]+>",
            r"\]\((?:[^()\s]|\([^()\s]*\))+(?:[ \t]+\"[^\"\n]*\")?\)",  # a Markdown link's target
            # No "\b": a letter of another script before "https" (详情见https://…) is a word character, so no boundary.
            rf"(?P<url>(?<![A-Za-z0-9])(?:(?:https?|ftp)://|www\.){_URL_CHARACTERS}+)",
            r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
        ]
    ),
    re.IGNORECASE,
)
_TRAILING = ".,:;!?'\"*_"
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")


def _url_end(url: str) -> int:
    """The length of a bare URL without the punctuation that ends the sentence around it."""
    end = len(url)
    while end:
        last = url[end - 1]
        unbalanced = last in ")]" and url.count("(["[")]".index(last)], 0, end) < url.count(last, 0, end)
        if last not in _TRAILING and not unbalanced:
            break
        end -= 1
    return end


def _split_prose(text: str, pieces: list[Piece]) -> None:
    position = 0
    for match in _INLINE.finditer(text):
        start, end = match.span()
        if match.group("url") is not None:
            end = start + _url_end(match.group())
            if end - start < 8 and not match.group().lower().startswith("www."):
                continue  # "http://" alone is not a link
        if start < position:
            continue  # inside the previous span (a URL's trailing characters given back)
        _split_paragraphs(text[position:start], pieces)
        _keep(text[start:end], pieces)
        position = end
    _split_paragraphs(text[position:], pieces)


def _split_paragraphs(text: str, pieces: list[Piece]) -> None:
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        _add_run(text[position : match.start()], pieces)
        _keep(match.group(), pieces)
        position = match.end()
    _add_run(text[position:], pieces)


def _add_run(text: str, pieces: list[Piece]) -> None:
    core = text.strip()
    if not core or not any(character.isalpha() for character in core):
        _keep(text, pieces)
        return
    start = text.index(core)
    _keep(text[:start], pieces)
    pieces.append(Piece(core, translate=True))
    _keep(text[start + len(core) :], pieces)


def _keep(text: str, pieces: list[Piece]) -> None:
    if not text:
        return
    if pieces and not pieces[-1].translate:
        pieces[-1] = Piece(pieces[-1].text + text, translate=False)
    else:
        pieces.append(Piece(text, translate=False))
