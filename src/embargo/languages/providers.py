"""The translation services Embargo can use, chosen by the operator: LibreTranslate (self-hostable) or DeepL.

Each is a small client speaking the service's HTTP API with `requests` (no vendor library), behind the `Provider`
interface: a list of texts in, the same number of translations out. `translate_text` is what the rest of Embargo
calls: it sends only the prose of a text (see `embargo.domain.segments`: code, URLs and tracebacks never leave),
in batches, and puts the translations back around what was kept.

The service's URL is checked like every outgoing URL (`embargo.outgoing`) and redirects are not followed, so
neither the key nor report text can be sent elsewhere. Errors are `TranslationError`s whose message never holds
the text sent or the key: a service's own words are quoted only when they do not repeat any of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import requests
from django.conf import settings

from embargo.domain.segments import reassemble, split_for_translation
from embargo.outgoing import OutgoingHostNotFound, OutgoingURLRefused, check_outgoing_url

TIMEOUT = 30
# Per request, so that no service refuses a long report for its size (DeepL takes up to 128 KiB and 50 texts).
MAX_BATCH_PIECES = 50
MAX_BATCH_CHARACTERS = 20_000
WHAT = "The translation service URL"


class TranslationError(Exception):
    """`code`: "refused_url", "not_configured", "bad_credentials", "quota_exceeded", "rate_limited",
    "unavailable", "unsupported_language" or "rejected". `retryable` says whether the same request may succeed
    later (the worker retries those and records the others)."""

    CODES = frozenset(
        {
            "refused_url",
            "not_configured",
            "bad_credentials",
            "quota_exceeded",
            "rate_limited",
            "unavailable",
            "unsupported_language",
            "rejected",
        }
    )
    RETRYABLE = frozenset({"rate_limited", "unavailable"})

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown translation error code {code!r}")
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.retryable = code in self.RETRYABLE

    def __repr__(self) -> str:
        return f"TranslationError({self.code!r}, {self.message!r})"


class Provider(Protocol):
    name: str  # "LibreTranslate", "DeepL": shown to the team beside a translation
    url: str  # the checked base URL

    def translate(self, texts: Sequence[str], *, source: str | None, target: str) -> list[str]:
        """One translation per text, in order. Languages are ISO 639-1 codes; `source` None lets the service
        detect it."""
        ...


def _checked_url(url: str, *, allow_private: bool) -> str:
    try:
        return check_outgoing_url(url.strip(), allow_private=allow_private, what=WHAT)
    except OutgoingHostNotFound as e:
        raise TranslationError("unavailable", e.message) from None
    except OutgoingURLRefused as e:
        raise TranslationError("refused_url", e.message) from None


class _Client:
    """What both clients share: the POST, the mapping of transport failures, reading the answer."""

    name = ""
    url = ""

    def __init__(self, url: str, key: str, *, allow_private: bool, timeout: float) -> None:
        self.url = _checked_url(url, allow_private=allow_private)
        self._key = key
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"  # never the key

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> requests.Response:
        try:
            return requests.post(
                self.url + path,
                json=body,
                headers={"Accept": "application/json", **headers},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise TranslationError("unavailable", f"{self.name} at {self.url} did not answer in time.") from None
        except requests.RequestException:
            raise TranslationError("unavailable", f"{self.name} at {self.url} could not be reached.") from None

    def _said(self, response: requests.Response, field: str, texts: Sequence[str]) -> str:
        """The service's own explanation (`field` of its JSON answer), unless it repeats the key or any text."""
        said = str(_json(response).get(field) or "").strip()[:300]
        if not said or _repeats(said, [self._key, *texts]):
            return ""
        return said

    def _error(self, response: requests.Response, said: str, *, unsupported: bool) -> TranslationError:
        status = response.status_code
        detail = f": {said}" if said else ""
        where = f"{self.name} at {self.url}"
        if status in (401, 403):
            return TranslationError(
                "bad_credentials",
                f"{where} refused the API key ({status}{detail}); the operator sets it in EMBARGO_TRANSLATION_KEY.",
                status=status,
            )
        if status == 429:
            return TranslationError(
                "rate_limited", f"{where} is limiting the rate of requests ({status}).", status=status
            )
        if status >= 500:
            return TranslationError("unavailable", f"{where} failed to translate ({status}{detail}).", status=status)
        if 300 <= status < 400:
            return TranslationError(
                "rejected", f"{where} answered with a redirect, which is not followed.", status=status
            )
        if unsupported:
            return TranslationError(
                "unsupported_language", f"{where} does not support this language pair{detail}.", status=status
            )
        return TranslationError("rejected", f"{where} refused the request ({status}{detail}).", status=status)

    def _translations(self, response: requests.Response, values: object, count: int) -> list[str]:
        if not isinstance(values, list) or len(values) != count or not all(isinstance(value, str) for value in values):
            raise TranslationError(
                "unavailable",
                f"{self.name} at {self.url} answered with something other than {count} translations.",
                status=response.status_code,
            )
        return values


class LibreTranslate(_Client):
    """The LibreTranslate API: `POST /translate`, the key (if the server wants one) in the body."""

    name = "LibreTranslate"

    def __init__(self, url: str, key: str = "", *, allow_private: bool = False, timeout: float = TIMEOUT) -> None:
        super().__init__(url, key, allow_private=allow_private, timeout=timeout)
        # LibreTranslate 1.6 renamed "zh" to "zh-Hans"; "zh" is tried first and the answer remembered.
        self._chinese = "zh"

    def translate(self, texts: Sequence[str], *, source: str | None, target: str) -> list[str]:
        if not texts:
            return []
        try:
            return self._call(texts, source, target)
        except TranslationError as e:
            if e.code != "unsupported_language" or "zh" not in (source, target) or self._chinese != "zh":
                raise
        self._chinese = "zh-Hans"
        return self._call(texts, source, target)

    def _code(self, language: str) -> str:
        return self._chinese if language == "zh" else language

    def _call(self, texts: Sequence[str], source: str | None, target: str) -> list[str]:
        body: dict[str, Any] = {
            "q": list(texts),
            "source": self._code(source) if source else "auto",
            "target": self._code(target),
            "format": "text",
        }
        if self._key:
            body["api_key"] = self._key
        response = self._post("/translate", body, {})
        if response.status_code == 200:
            return self._translations(response, _json(response).get("translatedText"), len(texts))
        said = self._said(response, "error", texts)
        if response.status_code == 400 and "api key" in said.lower().replace("_", " "):
            # A server that wants a key answers 400, not 403, when none is given.
            raise TranslationError(
                "bad_credentials",
                f"{self.name} at {self.url} wants an API key ({said}); the operator sets it in "
                "EMBARGO_TRANSLATION_KEY.",
                status=400,
            )
        unsupported = response.status_code == 400 and "not supported" in said.lower()
        raise self._error(response, said, unsupported=unsupported)


class DeepL(_Client):
    """The DeepL API: `POST /v2/translate`, the key in the Authorization header."""

    name = "DeepL"
    # DeepL wants a variant of some target languages, and none for a source.
    TARGETS = {"en": "EN-US", "pt": "PT-PT", "zh": "ZH-HANS"}

    def __init__(self, url: str, key: str, *, allow_private: bool = False, timeout: float = TIMEOUT) -> None:
        if not key:
            raise TranslationError("not_configured", "DeepL needs an API key (EMBARGO_TRANSLATION_KEY).")
        super().__init__(url, key, allow_private=allow_private, timeout=timeout)
        # The operator may give the API's address with its version; the client adds it.
        self.url = self.url.removesuffix("/v2")

    def translate(self, texts: Sequence[str], *, source: str | None, target: str) -> list[str]:
        if not texts:
            return []
        body: dict[str, Any] = {"text": list(texts), "target_lang": self.TARGETS.get(target, target.upper())}
        if source:
            body["source_lang"] = source.upper()
        response = self._post("/v2/translate", body, {"Authorization": f"DeepL-Auth-Key {self._key}"})
        if response.status_code == 200:
            answers = _json(response).get("translations")
            values = (
                [a.get("text") if isinstance(a, dict) else None for a in answers] if isinstance(answers, list) else None
            )
            return self._translations(response, values, len(texts))
        said = self._said(response, "message", texts)
        if response.status_code == 456:
            raise TranslationError(
                "quota_exceeded",
                "The DeepL account's quota is used up (456); translation resumes when it renews or is raised.",
                status=456,
            )
        lowered = said.lower()
        unsupported = response.status_code == 400 and ("not supported" in lowered or "_lang" in lowered)
        raise self._error(response, said, unsupported=unsupported)


def configured() -> Provider | None:
    """The operator's translation service (EMBARGO_TRANSLATION_PROVIDER, _URL, _KEY), None when there is none."""
    name = settings.EMBARGO_TRANSLATION_PROVIDER.strip().lower()
    url = settings.EMBARGO_TRANSLATION_URL.strip()
    key = settings.EMBARGO_TRANSLATION_KEY.strip()
    allow_private = settings.EMBARGO_ALLOW_PRIVATE_NETWORK
    if not name:
        return None
    if name not in ("libretranslate", "deepl"):
        raise TranslationError(
            "not_configured",
            f"EMBARGO_TRANSLATION_PROVIDER is {name[:40]!r}; it must be libretranslate, deepl or empty.",
        )
    if not url:
        raise TranslationError("not_configured", "EMBARGO_TRANSLATION_URL is not set (the translation service's URL).")
    if name == "deepl":
        return DeepL(url, key, allow_private=allow_private)
    return LibreTranslate(url, key, allow_private=allow_private)


def describe() -> str | None:
    """A line for the project settings page: "LibreTranslate at https://…", a configuration that does not work
    described as such, or None when the operator set up no translation service. Never the key; never raises."""
    try:
        provider = configured()
    except TranslationError as e:
        return f"Translation is set up but cannot be used: {e.message}"
    if provider is None:
        return None
    return f"{provider.name} at {provider.url}"


def translate_text(provider: Provider, text: str, *, source: str | None, target: str) -> str:
    """`text` in `target`: its prose translated by `provider` in batches, everything else kept byte for byte.
    Text with nothing to translate (empty, only code, already in `target`) is returned as it is, with no request."""
    if source == target or not text.strip():
        return text
    pieces = split_for_translation(text)
    wanted = [piece.text for piece in pieces if piece.translate]
    translated: list[str] = []
    for batch in _batches(wanted):
        answers = provider.translate(batch, source=source, target=target)
        if len(answers) != len(batch):
            raise TranslationError(
                "unavailable", f"{provider.name} answered {len(answers)} translations for {len(batch)} texts."
            )
        # The whitespace around each piece is kept from the original, so the layout survives the service's.
        translated.extend(answer.strip() for answer in answers)
    return reassemble(pieces, translated)


def _batches(texts: Sequence[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for text in texts:
        if batch and (len(batch) >= MAX_BATCH_PIECES or size + len(text) > MAX_BATCH_CHARACTERS):
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += len(text)
    if batch:
        yield batch


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _repeats(said: str, secrets: Sequence[str]) -> bool:
    """Whether `said` holds any of `secrets` or a stretch of 12 characters of one (a service quoting the text)."""
    window = 12
    for secret in secrets:
        if not secret:
            continue
        if len(secret) <= window:
            if len(secret) >= 4 and secret in said:
                return True
            continue
        if any(said[i : i + window] in secret for i in range(len(said) - window + 1)):
            return True
    return False
