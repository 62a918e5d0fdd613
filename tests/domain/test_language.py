"""Language codes, the prose a detector is shown, and when a text needs translating for the team."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embargo.domain.language import is_language_code, letter_count, needs_translation, prose_for_detection

# --- codes and translation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["en", "fr", "zh"])
def test_two_lowercase_letters_are_a_language_code(code: str) -> None:
    assert is_language_code(code)


@pytest.mark.parametrize("code", ["", "e", "EN", "eng", "en-US", "zh_CN", "é1", "en\n", "ü"])
def test_anything_else_is_not_a_language_code(code: str) -> None:
    assert not is_language_code(code)


def test_a_language_the_team_reads_needs_no_translation() -> None:
    assert not needs_translation("fr", ["en", "fr"])


def test_a_language_the_team_does_not_read_needs_translation() -> None:
    assert needs_translation("ja", ["en", "fr"])


def test_a_team_that_names_no_language_reads_english() -> None:
    assert not needs_translation("en", [])
    assert needs_translation("de", [])


def test_an_unknown_language_is_never_sent_to_translation() -> None:
    assert not needs_translation("", ["en"])
    assert not needs_translation("", [])
    assert not needs_translation("english", ["fr"])


# --- prose for detection ---------------------------------------------------------------------------------------

FRENCH = "Bonjour, le serveur plante quand on envoie un fichier vide."


def kept(text: str) -> str:
    return prose_for_detection(text)


def test_plain_prose_is_kept_whole() -> None:
    text = f"{FRENCH}\n\nMerci pour votre aide.\nCordialement, Alice"
    assert kept(text) == text


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("```", "```"), ("~~~", "~~~"), ("````", "`````"), ("```python", "```"), ("``` console title=run.sh", "```"),
     ("~~~ {.py}", "~~~"), ("  ```js", "  ```")],
)  # fmt: skip
def test_a_fenced_code_block_is_removed(opening: str, closing: str) -> None:
    text = f"{FRENCH}\n{opening}\n# this comment explains the code\nimport requests\n{closing}\nMerci."
    assert kept(text) == f"{FRENCH}\nMerci."


def test_a_shorter_fence_does_not_close_a_longer_one() -> None:
    text = f"{FRENCH}\n````\ncode line one\n```\nstill the code\n````\nMerci."
    assert kept(text) == f"{FRENCH}\nMerci."


def test_a_fence_closes_only_on_the_same_character() -> None:
    text = f"{FRENCH}\n```\ncode line one\n~~~\nstill the code\n```\nMerci."
    assert kept(text) == f"{FRENCH}\nMerci."


def test_an_unclosed_fence_runs_to_the_end() -> None:
    text = f"{FRENCH}\n```python\nthe rest of the report is code\nand more code"
    assert kept(text) == FRENCH


def test_code_on_one_line_between_triple_backticks_is_inline_not_a_fence() -> None:
    text = f"Essayez ```pip install requests``` puis relancez.\n{FRENCH}"
    assert "pip install" not in kept(text)
    assert FRENCH in kept(text)


def test_an_indented_code_block_after_a_blank_line_is_removed() -> None:
    text = f"{FRENCH}\n\n    def handler(request):\n\n        return render(request)\n\tpass\n\nMerci."
    assert kept(text) == f"{FRENCH}\n\nMerci."


def test_an_indented_line_continuing_a_paragraph_is_prose() -> None:
    text = f"{FRENCH}\n    et le journal reste vide."
    assert kept(text) == f"{FRENCH}\net le journal reste vide."


@pytest.mark.parametrize(
    "span",
    ["`requests.get(url, timeout=None)`", "``a ` backtick inside``", "https://example.org/issue?id=3#c2",
     "www.example.org/path", "<https://example.org>", "alice.martin+security@example.co.uk",
     "mailto:security@example.org", "git+ssh://git@example.org/repo.git"],
)  # fmt: skip
def test_inline_code_urls_and_addresses_are_removed_from_prose(span: str) -> None:
    assert kept(f"Voir {span} pour le détail.") == "Voir pour le détail."


PYTHON_TRACEBACK = """\
Traceback (most recent call last):
  File "/srv/app/views.py", line 42, in upload
    data = parse(request.body)
           ^^^^^^^^^^^^^^^^^^^
  File "/srv/app/parse.py", line 7, in parse
    return int(value)
ValueError: invalid literal for int() with base 10: 'abc'"""


def test_a_python_traceback_is_removed_up_to_its_error_line() -> None:
    assert kept(f"{FRENCH}\n{PYTHON_TRACEBACK}\nMerci d'avance.") == f"{FRENCH}\nMerci d'avance."


def test_chained_python_tracebacks_are_removed() -> None:
    chained = f"{PYTHON_TRACEBACK}\n\nDuring handling of the above exception, another exception occurred:\n\n"
    text = f"{FRENCH}\n{chained}{PYTHON_TRACEBACK.replace('ValueError', 'app.errors.UploadError')}\nMerci."
    assert kept(text) == f"{FRENCH}\n\nMerci."


def test_a_traceback_with_a_bare_exception_name_ends_on_it() -> None:
    text = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nKeyboardInterrupt\nMerci.'
    assert kept(text) == "Merci."


@pytest.mark.parametrize(
    "line",
    [
        '  File "/usr/lib/python3.12/json/decoder.py", line 355, in raw_decode',
        "    at com.example.upload.Handler.handle(Handler.java:120)",
        "at org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:199)",
        "    at Object.<anonymous> (/srv/app/index.js:12:5)",
        "    at async Promise.all (index 0)",
        "    at /srv/app/index.js:12:5",
        "Caused by: java.io.IOException: Broken pipe",
        "\t... 42 more",
        'Exception in thread "main" java.lang.NullPointerException',
        "java.lang.IllegalStateException: connection pool shut down",
        "#0 0x7f3a2b1c in parse_header src/http.c:210",
        "#1  main () at src/main.c:12",
        "thread 'main' panicked at src/main.rs:2:5:",
        "goroutine 1 [running]:",
    ],
)
def test_stack_trace_lines_are_removed(line: str) -> None:
    assert kept(f"{FRENCH}\n{line}\nMerci.") == f"{FRENCH}\nMerci."


@pytest.mark.parametrize(
    "line",
    ["$ curl -X POST localhost:8000/upload", "alice@laptop:~/src$ make test", ">>> import requests",
     "... return value", ">>>", "$"],
)  # fmt: skip
def test_shell_and_repl_prompt_lines_are_removed(line: str) -> None:
    assert kept(f"{FRENCH}\n{line}\nMerci.") == f"{FRENCH}\nMerci."


@pytest.mark.parametrize(
    "line",
    ["diff --git a/src/app.py b/src/app.py", "index 3b18e51..a9c2f3d 100644", "--- a/src/app.py",
     "+++ b/src/app.py", "@@ -10,7 +10,8 @@ def upload(request):", "-    size = int(value)",
     "+    size = int(value or 0)", "+if not data:", "{", "}", "],", '{"name": "requests", "version": "2.31.0"}',
     '  "error": "invalid token",', '["a", "b"]', "0x7f3a 0x0000 0x0001"],
)  # fmt: skip
def test_diff_json_and_symbol_lines_are_removed(line: str) -> None:
    assert kept(f"{FRENCH}\n{line}\nMerci.") == f"{FRENCH}\nMerci."


@pytest.mark.parametrize(
    "line",
    ["- une liste à puces", "+ une autre puce", "# Un titre", "> une citation", "1. première étape",
     "[le lien](https://example.org)", "यह एक वाक्य है।", "นี่คือประโยคภาษาไทย", "这是一个句子。"],
)  # fmt: skip
def test_prose_that_looks_a_little_like_code_is_kept(line: str) -> None:
    assert kept(line)
    assert letter_count(kept(line)) >= letter_count(line) - len("httpsexampleorg")


def test_blank_lines_are_folded_and_the_ends_trimmed() -> None:
    assert kept(f"\n\n  {FRENCH}  \n\n\n\n$ make\n\n\nMerci.\n\n") == f"{FRENCH}\n\nMerci."


def test_letters_are_counted_in_every_script() -> None:
    assert letter_count("abc 123 !!") == 3
    assert letter_count("日本語") == 3
    assert letter_count("हिन्दी") == 6  # vowel signs and the virama are marks, counted as letters


# --- properties ------------------------------------------------------------------------------------------------

# Prose words hold no "q": code lines hold "qzq", so any code that leaks into the output shows.
WORDS = st.sampled_from(["le", "serveur", "plante", "quand", "fichier", "vide", "Merci", "été", "über", "日本"])
PROSE = st.lists(st.lists(WORDS, min_size=1, max_size=8).map(" ".join), min_size=1, max_size=4).map("\n".join)
CODE_LINE = st.text(st.characters(exclude_characters="`~\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=30).map(
    lambda s: f"{s} qzq {s}"
)
CODE = st.lists(CODE_LINE, min_size=1, max_size=5).map("\n".join)
FENCE = st.sampled_from(["```", "~~~", "````", "~~~~~"])
INFO = st.text(st.characters(exclude_characters="`~\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=20)


@given(st.text())
def test_prose_for_detection_never_raises_and_never_grows(text: str) -> None:
    assert len(prose_for_detection(text)) <= len(text)


@given(PROSE, FENCE, INFO, CODE, PROSE, st.booleans())
def test_code_fence_content_never_reaches_the_detector(
    before: str, fence: str, info: str, code: str, after: str, closed: bool
) -> None:
    text = f"{before}\n{fence}{info}\n{code}\n" + (f"{fence}\n{after}" if closed else "")
    out = prose_for_detection(text)
    assert "qzq" not in out
    assert out.startswith(" ".join(before.split("\n")[0].split()))
    if closed:
        assert out.endswith(after.split("\n")[-1])


@pytest.mark.parametrize("paste", ["a" * 200_000, "a-" * 100_000, "x@" * 100_000, "`a" * 100_000, "ab://" * 40_000])
def test_a_large_paste_without_structure_takes_linear_time(paste: str) -> None:
    # Quadratic patterns took minutes on 200 000 letters; linear ones take a fraction of a second.
    started = time.monotonic()
    prose_for_detection(paste)
    assert time.monotonic() - started < 5
