"""Languages of reports, as plain rules: what a language code is, which text to show a language detector, and
when a text needs translating for a project's team.

Reporters write in any language but paste English machine text: tracebacks, logs, code, commands. Left in, that
text outvotes a few sentences of prose, and a French report with a Python traceback is "detected" as English.
`prose_for_detection` therefore removes, before detection:

- fenced code blocks (``` or ~~~, any info string, any indentation); a fence never closed runs to the end;
- indented code blocks (lines indented by 4 spaces or a tab, after a blank line, and the indented or blank lines
  that follow them);
- Python tracebacks, from "Traceback (most recent call last):" up to and including the final "SomeError: message"
  line, and the "During handling of the above exception…" lines between chained ones;
- other stack-trace lines: `  File "x.py", line 3, in f`, `    at com.Foo.bar(Foo.java:12)`, `Caused by: …`,
  `... 5 more`, `Exception in thread "main" …`, `java.lang.FooException: …`, `#0 0x… in f` (gdb, sanitizers),
  `thread 'main' panicked at …` (Rust), `goroutine 1 [running]:` (Go);
- shell and REPL prompt lines: `$ cmd`, `user@host:~$ cmd`, `>>> x`, `... x`;
- diff lines (`diff --git`, `index …`, `--- a/x`, `+++ b/x`, `@@ … @@`, and `+`/`-` lines that are not Markdown
  bullets such as "- item"), JSON-ish lines (a lone brace, `{"`, `"key": …`), and any line of which fewer than half
  of the visible characters are letters;
- inline code spans (`…` and ``…``), URLs (`scheme://…`, `www.…`) and e-mail addresses, within prose lines.

What remains is the prose, one kept line per line, with runs of blank lines folded into one. Some prose is lost
on purpose (e.g. an indented paragraph inside a Markdown list after a blank line reads as code): a detector
needs sentences, not every sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# An ISO 639-1 code, the form every language is stored in ("fr", "zh"): two lowercase ASCII letters.
LANGUAGE_CODE_RE = re.compile(r"[a-z]{2}")

# The language a team reads when its project names none.
DEFAULT_TEAM_LANGUAGES = ("en",)


def is_language_code(code: str) -> bool:
    """Whether `code` has the form of an ISO 639-1 code (whether a detector knows it is another question)."""
    return bool(LANGUAGE_CODE_RE.fullmatch(code))


def needs_translation(language: str, team_languages: Sequence[str]) -> bool:
    """Whether a text in `language` must be translated for a team that reads `team_languages` (none means
    English). An unknown language ("", or anything that is not a code) is never sent to translation: there is
    nothing sure to translate from."""
    if not is_language_code(language):
        return False
    team = {code.strip().lower() for code in team_languages if code.strip()} or set(DEFAULT_TEAM_LANGUAGES)
    return language not in team


# --- Blocks, recognised line by line -------------------------------------------------------------------------

# The opening line of a fenced code block: three or more backticks or tildes, then an info string ("python",
# "console title=x"). A backtick fence's info string may not hold a backtick, else "```x```" on one line (inline
# code) would open a block that swallows the rest of the report. Any indentation is accepted, unlike CommonMark's
# 0-3 spaces, because fences pasted inside list items are indented further and are still code.
_FENCE_OPEN_RE = re.compile(r"^\s*(?P<fence>`{3,}(?=[^`]*$)|~{3,})")

# An indented code block's lines: four spaces or a tab.
_INDENTED_RE = re.compile(r"^(?: {4}|\t)")

_TRACEBACK_START_RE = re.compile(r"^\s*Traceback \(most recent call last\):\s*$")

# The last line of a Python traceback: the exception's (possibly dotted) name, alone or followed by ": message".
_EXCEPTION_LINE_RE = re.compile(r"^[A-Za-z_][\w.]*(?::.*)?$")

# Single lines of a stack trace, in Python, Java/JavaScript, C (gdb, sanitizers), Rust and Go.
_STACK_LINE_RE = re.compile(
    r"""^\s*(?:
        File\ ".*",\ line\ \d+                                  # Python frame: File "x.py", line 3, in f
      | During\ handling\ of\ the\ above\ exception               # between chained Python tracebacks
      | The\ above\ exception\ was\ the\ direct\ cause
      | at\ (?:(?:new|async)\ )?[\w$.<>/\\:\[\]-]+\ ?\(.*\)\s*$     # Java/JS frame: at com.Foo.bar(Foo.java:12)
      | at\ \S+:\d+:\d+\)?\s*$                                    # JS frame without a name: at /x.js:1:2
      | Caused\ by:\s
      | \.\.\.\ \d+\ more\s*$                                     # Java: ... 5 more
      | Exception\ in\ thread\ "
      | (?:[A-Za-z_$][\w$]*\.)+[A-Z][\w$]*(?:Error|Exception|Throwable)\b   # java.lang.FooException: message
      | \#\d+\s+(?:0x[0-9A-Fa-f]+|\S+\ \(.*\)\ at\ )              # gdb/sanitizer frame: #0 0x7f… in f
      | thread\ '.*'\ panicked\ at\                               # Rust panic
      | goroutine\ \d+\ \[                                        # Go: goroutine 1 [running]:
    )""",
    re.VERBOSE,
)

# Shell and REPL prompts: "$ make", "user@host:~/src$ make", ">>> f(1)", "... return x".
_PROMPT_RE = re.compile(r"^\s*(?:\$|>>>|\.\.\.)(?:\s|$)|^\s*[\w.-]+@[\w.-]+:\S*[$#]\s")

# Diff headers and hunks, and + / - lines that are not Markdown bullets ("- item", "+ item": the sign, one space,
# then text). A diff line's sign is followed by the code line itself, usually indented or starting with a symbol.
_DIFF_RE = re.compile(r"^(?:diff --git |index [0-9a-f]+\.\.|--- |\+\+\+ |@@ )|^[+-](?! \S)")

# JSON-ish lines: a lone brace or bracket, an object or list opening on a string, a "key": value member.
_JSON_RE = re.compile(r"""^\s*(?:[{}\[\]][\s,]*$|[{\[]\s*"|"[^"]*"\s*:)""")

# --- Spans within a prose line ---------------------------------------------------------------------------------

# Inline code: ``…`` (which may hold single backticks) first, then `…`. Each pattern scans at most to the next
# backtick or the end of the line, so a stray backtick costs nothing.
_DOUBLE_CODE_SPAN_RE = re.compile(r"``(?:[^`\n]|`(?!`))+``")
_CODE_SPAN_RE = re.compile(r"`[^`\n]+`")

# The look-behinds make a match start only at the start of a word: without them, a long word without "://" or "@"
# would be rescanned from each of its letters (quadratic time on a large paste).
# URLs with a scheme (https://, git+ssh://, file://; in <…> as Markdown autolinks), "www." hosts, mailto: links.
_URL_RE = re.compile(
    r"<?(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s<>]+>?|\bwww\.[^\s<>]+|\bmailto:[^\s<>]+", re.IGNORECASE
)
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _is_letter(char: str) -> bool:
    # Combining marks count as letters: Hindi's vowel signs and Thai's tone marks are marks, not letters.
    return char.isalpha() or unicodedata.category(char).startswith("M")


def letter_count(text: str) -> int:
    """How many letters `text` holds, in any script."""
    return sum(1 for char in text if _is_letter(char))


def _mostly_symbols(line: str) -> bool:
    visible = [char for char in line if not char.isspace()]
    return bool(visible) and 2 * sum(1 for char in visible if _is_letter(char)) < len(visible)


def _is_fence_close(line: str, fence: str) -> bool:
    # Closes the block: the same character, at least as many times, and nothing after it.
    stripped = line.strip()
    return len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)


def _is_machine_line(line: str) -> bool:
    return bool(
        _STACK_LINE_RE.match(line) or _PROMPT_RE.match(line) or _DIFF_RE.match(line) or _JSON_RE.match(line)
    ) or _mostly_symbols(line)


def _strip_spans(line: str) -> str:
    for pattern in (_DOUBLE_CODE_SPAN_RE, _CODE_SPAN_RE, _URL_RE, _EMAIL_RE):
        line = pattern.sub(" ", line)
    return " ".join(line.split())


def prose_for_detection(text: str) -> str:
    """`text` without code, traces, commands, diffs, URLs and e-mail addresses (see the module's docstring)."""
    kept: list[str] = []
    fence = ""  # the opening fence while inside a fenced block
    in_indented = in_traceback = False
    # Whether an indented code block may start here: after a blank line, at the start, or after a removed block
    # (CommonMark: an indented block cannot interrupt a paragraph, whose continuation lines may be indented).
    after_break = True
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        blank = not line.strip()
        if fence:
            if _is_fence_close(line, fence):
                fence, after_break = "", True
            continue
        if in_traceback:
            if blank:
                in_traceback, after_break = False, True
            elif line[0].isspace():
                continue  # frames, source lines, ^^^^ markers
            elif _EXCEPTION_LINE_RE.match(line):
                in_traceback, after_break = False, True
                continue  # "ValueError: message" ends the traceback
            elif _STACK_LINE_RE.match(line):
                continue  # an unindented frame, as some loggers and copy-pastes leave them
            else:
                in_traceback, after_break = False, True
        if in_indented:
            if blank or _INDENTED_RE.match(line):
                continue
            in_indented = False
        if match := _FENCE_OPEN_RE.match(line):
            fence = match["fence"]
            continue
        if _TRACEBACK_START_RE.match(line):
            in_traceback = True
            continue
        if after_break and not blank and _INDENTED_RE.match(line):
            in_indented = True
            continue
        after_break = blank
        if blank:
            if kept and kept[-1]:
                kept.append("")
            continue
        if _is_machine_line(line):
            continue
        prose = _strip_spans(line)
        if prose:
            kept.append(prose)
    return "\n".join(kept).strip()
