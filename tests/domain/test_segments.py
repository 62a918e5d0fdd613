"""What of a report goes to a translation service: prose only; code, links, addresses and tracebacks stay, and the
text always comes back byte for byte around the translations."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embargo.domain.segments import Piece, reassemble, split_for_translation


def sent(text: str) -> list[str]:
    return [piece.text for piece in split_for_translation(text) if piece.translate]


def kept(text: str) -> str:
    return "".join(piece.text for piece in split_for_translation(text) if not piece.translate)


def test_a_paragraph_is_one_piece_and_the_whitespace_around_it_stays() -> None:
    text = "\n  The session leaks the header\non redirects.  \n\nSecond paragraph.\n"
    assert split_for_translation(text) == [
        Piece("\n  ", False),
        Piece("The session leaks the header\non redirects.", True),
        Piece("  \n\n", False),
        Piece("Second paragraph.", True),
        Piece("\n", False),
    ]


@pytest.mark.parametrize("fence", ["```", "~~~", "````"])
def test_a_fenced_code_block_is_never_sent(fence: str) -> None:
    text = f"Run this:\n{fence}python\nimport requests  # Steps to leak the token\n{fence}\nThen look."
    assert sent(text) == ["Run this:", "Then look."]
    assert f"{fence}python\nimport requests  # Steps to leak the token\n{fence}" in kept(text)


def test_an_unclosed_fence_runs_to_the_end() -> None:
    text = "Proof:\n\n```\nsecret = 'hunter2'\n\nStill code, the fence was never closed.\n"
    assert sent(text) == ["Proof:"]


def test_a_shorter_fence_does_not_close_a_longer_one() -> None:
    assert sent("````\nprint(1)\n```\nstill code\n````\nAfter.") == ["After."]


def test_indented_code_after_a_blank_line_or_a_colon_is_never_sent() -> None:
    assert sent("Install it:\n    pip install requests==2.31.0\n    python poc.py\nIt prints the token.") == [
        "Install it:",
        "It prints the token.",
    ]
    assert sent("Intro.\n\n\tcurl -H 'Authorization: x' https://a.example\n\nOutro.") == ["Intro.", "Outro."]


def test_an_indented_continuation_of_a_list_item_is_prose() -> None:
    assert sent("- the first step\n\n    continues here\n") == ["- the first step", "continues here"]
    # Lazily continued paragraph text is not code either.
    assert sent("A sentence\n    that wraps oddly.") == ["A sentence\n    that wraps oddly."]


def test_inline_code_is_never_sent_and_cuts_the_sentence() -> None:
    text = "Calling `Session.send()` with ``a ` tick`` leaks it."
    assert sent(text) == ["Calling", "with", "leaks it."]
    assert "`Session.send()`" in kept(text)
    assert "``a ` tick``" in kept(text)


def test_a_lone_backtick_is_just_a_character() -> None:
    assert sent("It's a ` stray backtick.") == ["It's a ` stray backtick."]


def test_urls_and_addresses_are_never_sent_and_the_sentence_punctuation_is_not_swallowed() -> None:
    text = (
        "See https://example.org/a_(b)?x=1#f. Or (http://example.org/x), ftp://files.example/p; "
        "www.example.com! Write to security@example.org or <https://z.example/q> or <bob@example.org>."
    )
    assert sent(text) == ["See", ". Or (", "! Write to", "or", "or"]
    assert split_for_translation(text)[1] == Piece(" https://example.org/a_(b)?x=1#f", False)  # "." left out
    assert "http://example.org/x), ftp://files.example/p; www.example.com" in kept(text)


def test_a_url_right_after_chinese_text_is_found_and_the_text_after_it_is_not_eaten() -> None:
    text = "详情见https://github.com/psf/requests/issues/1。谢谢"
    assert sent(text) == ["详情见", "。谢谢"]


def test_a_markdown_link_keeps_its_target() -> None:
    text = 'Read [the advisory](https://example.org/adv "Advisory") first.'
    assert "example.org" not in " ".join(sent(text))
    assert '](https://example.org/adv "Advisory")' in kept(text)


def test_a_python_traceback_is_never_sent() -> None:
    text = (
        "It crashes:\n"
        "Traceback (most recent call last):\n"
        '  File "poc.py", line 3, in <module>\n'
        "    session.get(url)\n"
        "requests.exceptions.InvalidHeader: Invalid leading whitespace in header value\n"
        "This should not happen."
    )
    assert sent(text) == ["It crashes:", "This should not happen."]
    assert "Invalid leading whitespace" in kept(text)


def test_runs_without_letters_are_kept() -> None:
    assert sent("2.31.0 — 42 %\n\n!!!") == []


def test_reassemble_puts_each_translation_in_its_place() -> None:
    text = "Hola `x` mundo.\n\nAdiós."
    pieces = split_for_translation(text)
    assert reassemble(pieces, ["Hello", "world.", "Goodbye."]) == "Hello `x` world.\n\nGoodbye."
    with pytest.raises(ValueError, match="2 translations for 3"):
        reassemble(pieces, ["Hello", "world."])


# Text built from the characters that matter: fences, backticks, indentation, URL parts, letters of two scripts.
_ATOMS = st.sampled_from(
    [
        "```", "~~~", "`", "``", "    ", "\t", " ", "\n", "\r\n", "\n\n", "https://", "http://x.org/", "www.",
        "ftp://", "<", ">", "@", "a@b.org", "](", ")", "(", "[", "]", ".", ",", ":", "\uff1a", "-", "* ", "1. ",
        "Traceback (most recent call last):\n", "  File \"x\", line 1\n", "ValueError: x\n", "\u3000", "\u2028",
        "word", "The fix", "修复", "请求头", "Ünïcödé", "42",
    ]
)  # fmt: skip
texts = st.one_of(st.text(), st.lists(st.one_of(_ATOMS, st.text(max_size=3)), max_size=40).map("".join))


@settings(max_examples=400, deadline=None)
@given(texts)
def test_splitting_then_reassembling_unchanged_gives_the_text_back_exactly(text: str) -> None:
    pieces = split_for_translation(text)
    assert "".join(piece.text for piece in pieces) == text
    translated = [piece.text for piece in pieces if piece.translate]
    assert reassemble(pieces, translated) == text
    for piece in pieces:
        assert piece.text
        if piece.translate:
            assert piece.text == piece.text.strip()
            assert any(character.isalpha() for character in piece.text)
    for before, after in itertools.pairwise(pieces):
        assert before.translate or after.translate  # kept pieces are merged


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200), st.text(min_size=1, max_size=80))
def test_fenced_code_never_reaches_a_translatable_piece(prose: str, code: str) -> None:
    code = code.replace("`", "'")
    text = f"{prose}\n```\n{code}\n```\n"
    pieces = split_for_translation(text)
    fenced = f"```\n{code}\n```"
    start = text.rindex(fenced)
    position = 0
    for piece in pieces:
        end = position + len(piece.text)
        if piece.translate:
            assert end <= start or position >= start + len(fenced)
        position = end
