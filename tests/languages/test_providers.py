"""The translation services' clients against local stand-ins of LibreTranslate and DeepL: only prose leaves,
everything else comes back byte for byte, long texts go in batches, and every failure says what it is."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from embargo.languages import providers
from embargo.languages.providers import DeepL, LibreTranslate, TranslationError, configured, describe, translate_text
from tests.languages.standins import (
    DEEPL_KEY,
    EN_REPLY,
    EN_REPORT,
    EN_TITLE,
    LIBRETRANSLATE_KEY,
    PROTECTED,
    ZH_REPLY,
    ZH_REPORT,
    ZH_TITLE,
    DeepLStandIn,
    LibreTranslateStandIn,
    closed_port,
)


def libre(server: LibreTranslateStandIn, key: str = "", **options: float) -> LibreTranslate:
    return LibreTranslate(server.url, key, allow_private=True, **options)


def deepl_client(server: DeepLStandIn, key: str = DEEPL_KEY, **options: float) -> DeepL:
    return DeepL(server.url, key, allow_private=True, **options)


# --- round trips ------------------------------------------------------------------------------------------------


def test_a_chinese_report_comes_back_in_english_with_its_code_urls_and_traceback_untouched(
    libretranslate: LibreTranslateStandIn,
) -> None:
    result = translate_text(libre(libretranslate), ZH_REPORT, source=None, target="en")
    assert result.encode() == EN_REPORT.encode()
    for protected in PROTECTED:
        assert protected.encode() in result.encode()
        assert protected.encode() not in libretranslate.received
        for line in protected.splitlines():
            assert json.dumps(line.strip())[1:-1].encode() not in libretranslate.received
    assert b"victim.example" not in libretranslate.received
    assert b"s3cret-Pr0xy" not in libretranslate.received
    [body] = libretranslate.bodies
    assert body["source"] == "auto"
    assert body["target"] == "en"
    assert body["format"] == "text"
    assert "api_key" not in body
    assert len(body["q"]) == 6


def test_deepl_translates_the_same_report_and_never_sees_the_code(deepl: DeepLStandIn) -> None:
    result = translate_text(deepl_client(deepl), ZH_REPORT, source="zh", target="en")
    assert result.encode() == EN_REPORT.encode()
    for protected in PROTECTED:
        assert protected.encode() not in deepl.received
    [request] = deepl.requests
    assert request["path"] == "/v2/translate"
    assert request["headers"]["Authorization"] == f"DeepL-Auth-Key {DEEPL_KEY}"
    assert request["body"]["target_lang"] == "EN-US"
    assert request["body"]["source_lang"] == "ZH"


def test_a_reply_goes_back_to_the_reporter_in_chinese(
    libretranslate: LibreTranslateStandIn, deepl: DeepLStandIn
) -> None:
    assert translate_text(libre(libretranslate), EN_REPLY, source="en", target="zh") == ZH_REPLY
    assert translate_text(deepl_client(deepl), EN_REPLY, source="en", target="zh") == ZH_REPLY
    assert deepl.bodies[0]["target_lang"] == "ZH-HANS"
    assert deepl.bodies[0]["source_lang"] == "EN"


def test_anything_outside_the_phrase_table_is_visibly_translated(libretranslate: LibreTranslateStandIn) -> None:
    assert translate_text(libre(libretranslate), "  Bonjour.  ", source="fr", target="en") == "  [en] Bonjour.  "


def test_the_key_is_sent_to_libretranslate_only_when_set(libretranslate: LibreTranslateStandIn) -> None:
    libretranslate.key = LIBRETRANSLATE_KEY
    assert libre(libretranslate, LIBRETRANSLATE_KEY).translate([ZH_TITLE], source="zh", target="en") == [EN_TITLE]
    assert libretranslate.bodies[0]["api_key"] == LIBRETRANSLATE_KEY


def test_deepl_gets_the_language_variants_it_wants(deepl: DeepLStandIn) -> None:
    client = deepl_client(deepl)
    assert client.translate(["Olá"], source=None, target="pt") == ["[PT-PT] Olá"]
    assert "source_lang" not in deepl.bodies[0]
    assert client.translate(["Hallo"], source="de", target="fr") == ["[FR] Hallo"]
    assert (deepl.bodies[1]["source_lang"], deepl.bodies[1]["target_lang"]) == ("DE", "FR")


def test_deepl_accepts_its_url_with_the_version(deepl: DeepLStandIn) -> None:
    client = DeepL(deepl.url + "/v2/", DEEPL_KEY, allow_private=True)
    assert client.url == deepl.url
    assert client.translate(["Hallo"], source="de", target="en") == ["[EN-US] Hallo"]


def test_a_newer_libretranslate_knows_chinese_as_zh_hans_and_is_asked_once_more() -> None:
    with LibreTranslateStandIn(chinese="zh-Hans") as server:
        client = libre(server)
        assert client.translate([ZH_TITLE], source="zh", target="en") == [EN_TITLE]
        assert [body["source"] for body in server.bodies] == ["zh", "zh-Hans"]
        assert client.translate([EN_REPLY], source="en", target="zh") == [ZH_REPLY]
        assert server.bodies[2]["target"] == "zh-Hans"  # remembered: no second try
        assert len(server.requests) == 3


# --- nothing to send ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t ", "```\nprint('only code')\n```", "https://example.org/only-a-link"])
def test_text_with_no_prose_makes_no_request(libretranslate: LibreTranslateStandIn, text: str) -> None:
    assert translate_text(libre(libretranslate), text, source=None, target="en") == text
    assert libretranslate.requests == []


def test_text_already_in_the_target_language_makes_no_request(libretranslate: LibreTranslateStandIn) -> None:
    assert translate_text(libre(libretranslate), EN_REPLY, source="en", target="en") == EN_REPLY
    assert libretranslate.requests == []


# --- batches ------------------------------------------------------------------------------------------------------


def test_many_paragraphs_go_in_batches_of_at_most_fifty(libretranslate: LibreTranslateStandIn) -> None:
    text = "\n\n".join(f"Paragraph number {n}." for n in range(120))
    result = translate_text(libre(libretranslate), text, source="fr", target="en")
    assert [len(body["q"]) for body in libretranslate.bodies] == [50, 50, 20]
    assert result == "\n\n".join(f"[en] Paragraph number {n}." for n in range(120))


def test_long_paragraphs_go_in_batches_of_about_twenty_thousand_characters(deepl: DeepLStandIn) -> None:
    paragraphs = [f"Part {n} " + "word " * 1_800 for n in range(5)]  # ~9,000 characters each
    result = translate_text(deepl_client(deepl), "\n\n".join(paragraphs), source="fr", target="en")
    assert [len(body["text"]) for body in deepl.bodies] == [2, 2, 1]
    assert all(sum(len(text) for text in body["text"]) <= providers.MAX_BATCH_CHARACTERS for body in deepl.bodies)
    assert result == "\n\n".join(f"[EN-US] {p.strip()} " for p in paragraphs)  # the trailing space is kept


# --- failures -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (403, "bad_credentials", False),
        (429, "rate_limited", True),
        (500, "unavailable", True),
        (503, "unavailable", True),
        (400, "rejected", False),
        (404, "rejected", False),
        (302, "rejected", False),
    ],
)
def test_libretranslate_failures_say_what_they_are(
    libretranslate: LibreTranslateStandIn, status: int, code: str, retryable: bool
) -> None:
    libretranslate.fail_next(1, status, "Invalid request")
    with pytest.raises(TranslationError) as error:
        translate_text(libre(libretranslate), ZH_TITLE, source="zh", target="en")
    assert (error.value.code, error.value.retryable, error.value.status) == (code, retryable, status)
    assert ZH_TITLE not in error.value.message


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (403, "bad_credentials", False),
        (456, "quota_exceeded", False),
        (429, "rate_limited", True),
        (503, "unavailable", True),
        (529, "unavailable", True),
        (400, "rejected", False),
        (413, "rejected", False),
    ],
)
def test_deepl_failures_say_what_they_are(deepl: DeepLStandIn, status: int, code: str, retryable: bool) -> None:
    deepl.fail_next(1, status)
    with pytest.raises(TranslationError) as error:
        translate_text(deepl_client(deepl), ZH_TITLE, source="zh", target="en")
    assert (error.value.code, error.value.retryable, error.value.status) == (code, retryable, status)


def test_a_wrong_key_is_bad_credentials_and_the_key_is_never_shown(
    libretranslate: LibreTranslateStandIn, deepl: DeepLStandIn
) -> None:
    libretranslate.key = LIBRETRANSLATE_KEY
    for client in (libre(libretranslate, "Wombat-1234-wrong"), deepl_client(deepl, "Wombat-1234-wrong")):
        with pytest.raises(TranslationError) as error:
            translate_text(client, ZH_TITLE, source="zh", target="en")
        assert error.value.code == "bad_credentials"
        assert "Wombat" not in error.value.message + repr(error.value) + repr(client)
    assert libretranslate.bodies[0]["api_key"] == "Wombat-1234-wrong"


def test_an_unsupported_language_is_told_apart(libretranslate: LibreTranslateStandIn, deepl: DeepLStandIn) -> None:
    for client in (libre(libretranslate), deepl_client(deepl)):
        with pytest.raises(TranslationError) as error:
            client.translate(["Hello"], source="en", target="xx")
        assert (error.value.code, error.value.retryable) == ("unsupported_language", False)
        assert "not supported" in error.value.message


def test_a_service_quoting_the_text_back_is_not_quoted_in_the_error(libretranslate: LibreTranslateStandIn) -> None:
    libretranslate.fail_next(1, 500, f"Cannot translate text: {ZH_TITLE[:20]}")
    with pytest.raises(TranslationError) as error:
        translate_text(libre(libretranslate), ZH_TITLE, source="zh", target="en")
    assert ZH_TITLE[:12] not in error.value.message
    assert error.value.code == "unavailable"


def test_a_busy_service_succeeds_when_the_caller_tries_again(deepl: DeepLStandIn) -> None:
    deepl.fail_next(1, 503)
    client = deepl_client(deepl)
    with pytest.raises(TranslationError) as error:
        translate_text(client, ZH_TITLE, source="zh", target="en")
    assert error.value.retryable
    assert translate_text(client, ZH_TITLE, source="zh", target="en") == EN_TITLE
    assert len(deepl.requests) == 2


def test_an_answer_that_is_not_a_translation_is_unavailable(libretranslate: LibreTranslateStandIn) -> None:
    libretranslate.fail_next(1, 200, "not what was asked")
    with pytest.raises(TranslationError) as error:
        libre(libretranslate).translate(["Hola", "mundo"], source="es", target="en")
    assert (error.value.code, error.value.retryable) == ("unavailable", True)


def test_a_service_that_is_down_or_slow_is_unavailable(libretranslate: LibreTranslateStandIn) -> None:
    with closed_port() as url, pytest.raises(TranslationError) as error:
        LibreTranslate(url, allow_private=True, timeout=2).translate(["Hola"], source="es", target="en")
    assert (error.value.code, error.value.retryable) == ("unavailable", True)
    libretranslate.delay = 1.0
    with pytest.raises(TranslationError) as slow:
        libre(libretranslate, timeout=0.2).translate(["Hola"], source="es", target="en")
    assert (slow.value.code, slow.value.retryable) == ("unavailable", True)
    assert "did not answer in time" in slow.value.message


# --- URLs and configuration ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:5000", "https://127.0.0.1:5000", "https://user:pw@93.184.215.14", "https://93.184.215.14/?a=1"],
)
def test_a_refused_url_is_refused_before_anything_is_sent(url: str) -> None:
    for make in (lambda: LibreTranslate(url), lambda: DeepL(url, DEEPL_KEY)):
        with pytest.raises(TranslationError) as error:
            make()
        assert error.value.code == "refused_url"
        assert error.value.message.startswith("The translation service URL")


def test_a_service_on_the_private_network_is_refused_unless_the_operator_allows_it(
    libretranslate: LibreTranslateStandIn,
) -> None:
    with pytest.raises(TranslationError) as error:
        LibreTranslate(libretranslate.url)
    assert error.value.code == "refused_url"
    assert libretranslate.requests == []


def test_deepl_needs_a_key() -> None:
    with pytest.raises(TranslationError) as error:
        DeepL("https://93.184.215.14", "")
    assert error.value.code == "not_configured"


def test_no_provider_configured_is_none_and_described_as_none() -> None:
    with override_settings(EMBARGO_TRANSLATION_PROVIDER="", EMBARGO_TRANSLATION_URL="https://x.example"):
        assert configured() is None
        assert describe() is None


def test_the_configured_provider_is_built_from_the_settings(
    libretranslate: LibreTranslateStandIn, deepl: DeepLStandIn
) -> None:
    with override_settings(
        EMBARGO_TRANSLATION_PROVIDER="libretranslate",
        EMBARGO_TRANSLATION_URL=libretranslate.url + "/",
        EMBARGO_TRANSLATION_KEY="",
        EMBARGO_ALLOW_PRIVATE_NETWORK=True,
    ):
        provider = configured()
        assert isinstance(provider, LibreTranslate)
        assert provider.url == libretranslate.url
        assert describe() == f"LibreTranslate at {libretranslate.url}"
        assert translate_text(provider, ZH_TITLE, source=None, target="en") == EN_TITLE
    with override_settings(
        EMBARGO_TRANSLATION_PROVIDER="deepl",
        EMBARGO_TRANSLATION_URL=deepl.url,
        EMBARGO_TRANSLATION_KEY=DEEPL_KEY,
        EMBARGO_ALLOW_PRIVATE_NETWORK=True,
    ):
        provider = configured()
        assert isinstance(provider, DeepL)
        assert describe() == f"DeepL at {deepl.url}"
        assert DEEPL_KEY not in (describe() or "")
        assert translate_text(provider, ZH_TITLE, source="zh", target="en") == EN_TITLE


@pytest.mark.parametrize(
    ("provider", "url", "key", "code", "said"),
    [
        ("babelfish", "https://93.184.215.14", "", "not_configured", "must be libretranslate, deepl or empty"),
        ("libretranslate", "", "", "not_configured", "EMBARGO_TRANSLATION_URL is not set"),
        ("deepl", "https://93.184.215.14", "", "not_configured", "DeepL needs an API key"),
        ("deepl", "http://10.0.0.7", "Secret-Emu-99", "refused_url", "must start with https://"),
        ("libretranslate", "https://127.0.0.1", "Secret-Emu-99", "refused_url", "private, local or reserved"),
    ],
)
def test_a_bad_configuration_raises_and_is_described_without_the_key(
    provider: str, url: str, key: str, code: str, said: str
) -> None:
    with override_settings(
        EMBARGO_TRANSLATION_PROVIDER=provider,
        EMBARGO_TRANSLATION_URL=url,
        EMBARGO_TRANSLATION_KEY=key,
        EMBARGO_ALLOW_PRIVATE_NETWORK=False,
    ):
        with pytest.raises(TranslationError) as error:
            configured()
        assert error.value.code == code
        description = describe()
    assert description is not None
    assert description.startswith("Translation is set up but cannot be used")
    assert said in description
    assert "Emu" not in description
