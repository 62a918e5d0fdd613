"""Stand-ins for the translation services: small local HTTP servers speaking the LibreTranslate API and the
DeepL API, so that the real clients in `embargo.languages.providers` are exercised end to end.

Each server records every request it receives (`requests`: path, headers, JSON body), checks the key when one is
set (`key`; 403 otherwise), can be told to fail the next calls (`fail_next(2, 503)`), and "translates"
deterministically: the sentences of the phrase table below both ways, anything else by a visible prefix naming the
target language ("[en] " + text for LibreTranslate, "[EN-US] " + text for DeepL), so that a test can tell a
translation from the original.

The phrase table is a report about a vulnerability in `requests`, written in Chinese, and the team's reply in
English, for the end-to-end tests: ZH_TITLE / EN_TITLE, ZH_DESCRIPTION / EN_DESCRIPTION (one paragraph, one
piece), EN_REPLY / ZH_REPLY, and ZH_REPORT / EN_REPORT, a whole description whose code block, inline code, URL
and traceback must come back untouched (PROTECTED lists them).
"""

# Full-width Chinese punctuation is the point of the Chinese sentences here, not a look-alike of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

LIBRETRANSLATE_KEY = "Okapi-3318-libretranslate-key"
DEEPL_KEY = "Quokka-7741-deepl-key:fx"

ZH_TITLE = "requests 在跨主机重定向时泄露 Proxy-Authorization 请求头"
EN_TITLE = "requests leaks the Proxy-Authorization header on cross-host redirects"
ZH_DESCRIPTION = (
    "当通过代理发送请求并且服务器返回重定向到另一个主机时，requests 会把 Proxy-Authorization 请求头"
    "转发给新的主机。攻击者控制的服务器因此可以获得代理的用户名和密码。"
)
EN_DESCRIPTION = (
    "When a request is sent through a proxy and the server answers with a redirect to another host, requests "
    "forwards the Proxy-Authorization header to the new host. A server controlled by an attacker can therefore "
    "obtain the proxy's user name and password."
)
EN_REPLY = "Thank you for the report. We have reproduced the problem and are preparing a fix."
ZH_REPLY = "感谢您的报告。我们已经复现了这个问题，正在准备修复。"

ZH_STEPS = "复现步骤："
EN_STEPS = "Steps to reproduce:"
ZH_CALL = "调用"
EN_CALL = "Calling"
ZH_CALL_END = "时不会删除该请求头。"
EN_CALL_END = "does not remove the header."
ZH_SEE = "详情见"
EN_SEE = "Details at"
ZH_OUTPUT = "输出："
EN_OUTPUT = "Output:"

CODE_BLOCK = """```python
import requests
proxies = {"https": "http://alice:s3cret-Pr0xy@proxy.internal.example:3128"}
requests.get("https://victim.example/redirect", proxies=proxies)
```"""
INLINE_CODE = "`Session.rebuild_proxies()`"
URL = "https://github.com/psf/requests/security/advisories/GHSA-xxxx-yyyy-zzzz"
TRACEBACK = """Traceback (most recent call last):
  File "poc.py", line 3, in <module>
    requests.get("https://victim.example/redirect", proxies=proxies)
requests.exceptions.ProxyError: HTTPSConnectionPool(host='victim.example', port=443)"""
PROTECTED = (CODE_BLOCK, INLINE_CODE, URL, TRACEBACK)

ZH_REPORT = (
    f"{ZH_DESCRIPTION}\n\n{ZH_STEPS}\n\n{CODE_BLOCK}\n\n{ZH_CALL} {INLINE_CODE} {ZH_CALL_END}\n\n"
    f"{ZH_OUTPUT}\n\n{TRACEBACK}\n\n{ZH_SEE} {URL}\n"
)
EN_REPORT = (
    f"{EN_DESCRIPTION}\n\n{EN_STEPS}\n\n{CODE_BLOCK}\n\n{EN_CALL} {INLINE_CODE} {EN_CALL_END}\n\n"
    f"{EN_OUTPUT}\n\n{TRACEBACK}\n\n{EN_SEE} {URL}\n"
)

PHRASES: dict[tuple[str, str], dict[str, str]] = {
    ("zh", "en"): {
        ZH_TITLE: EN_TITLE,
        ZH_DESCRIPTION: EN_DESCRIPTION,
        ZH_REPLY: EN_REPLY,
        ZH_STEPS: EN_STEPS,
        ZH_CALL: EN_CALL,
        ZH_CALL_END: EN_CALL_END,
        ZH_SEE: EN_SEE,
        ZH_OUTPUT: EN_OUTPUT,
    },
}
PHRASES[("en", "zh")] = {english: chinese for chinese, english in PHRASES[("zh", "en")].items()}

_CJK = re.compile(r"[\u3400-\u9fff]")


def detect(text: str) -> str:
    return "zh" if _CJK.search(text) else "en"


def translate(text: str, source: str, target: str, shown_target: str) -> str:
    """The stand-in's translation: the phrase table, else `[target] text`. Codes are plain ("zh", "en")."""
    known = PHRASES.get((source, target), {}).get(text)
    return known if known is not None else f"[{shown_target}] {text}"


class StandIn:
    """A threaded local HTTP server on a free port; `url` is its base URL. Use as a context manager or call
    `close()`."""

    def __init__(self, key: str = "") -> None:
        self.key = key
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0  # seconds to wait before answering (for time-outs)
        self._failures: list[tuple[int, dict[str, Any]]] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                request = {"path": self.path, "headers": dict(self.headers), "body": body, "raw": raw}
                with stand_in._lock:
                    stand_in.requests.append(request)
                    failure = stand_in._failures.pop(0) if stand_in._failures else None
                if stand_in.delay:
                    time.sleep(stand_in.delay)
                status, data = failure if failure is not None else stand_in.answer(request)
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def answer(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def error_body(self, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def fail_next(self, count: int, status: int, message: str = "") -> None:
        """The next `count` requests are answered with `status` (and the service's error shape)."""
        with self._lock:
            self._failures.extend([(status, self.error_body(message or f"stand-in failure {status}"))] * count)

    @property
    def bodies(self) -> list[Any]:
        return [request["body"] for request in self.requests]

    @property
    def received(self) -> bytes:
        """Every request body received, concatenated: what left Embargo."""
        return b"".join(request["raw"] for request in self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LibreTranslateStandIn(StandIn):
    """`POST /translate` as LibreTranslate answers it. `chinese` is the code it knows Chinese by: "zh" (before
    version 1.6) or "zh-Hans" (after), the other being "not supported"."""

    LANGUAGES = ("en", "zh", "de", "fr", "es", "ja", "pt", "ru")

    def __init__(self, key: str = "", *, chinese: str = "zh") -> None:
        super().__init__(key)
        self.chinese = chinese

    def error_body(self, message: str) -> dict[str, Any]:
        return {"error": message}

    def _plain(self, code: object) -> str | None:
        if code == self.chinese:
            return "zh"
        if isinstance(code, str) and code in self.LANGUAGES and code != "zh":
            return code
        return None

    def answer(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = request["body"]
        if request["path"] != "/translate":
            return 404, {"error": "Not Found"}
        if not isinstance(body, dict):
            return 400, {"error": "Invalid request: missing q parameter"}
        if self.key and body.get("api_key") != self.key:
            return 403, {"error": "Invalid API key"}
        texts = body.get("q")
        if texts is None:
            return 400, {"error": "Invalid request: missing q parameter"}
        target = self._plain(body.get("target"))
        if target is None:
            return 400, {"error": f"{body.get('target')} is not supported"}
        source_code = body.get("source")
        source = None if source_code == "auto" else self._plain(source_code)
        if source_code != "auto" and source is None:
            return 400, {"error": f"{source_code} is not supported"}
        many = isinstance(texts, list)
        items = texts if many else [texts]
        out = [translate(t, source or detect(t), target, str(body.get("target"))) for t in items]
        answer: dict[str, Any] = {"translatedText": out if many else out[0]}
        if source is None:
            detected = [{"confidence": 90.0, "language": detect(t)} for t in items]
            answer["detectedLanguage"] = detected if many else detected[0]
        return 200, answer


class DeepLStandIn(StandIn):
    """`POST /v2/translate` as DeepL answers it: the key in `Authorization: DeepL-Auth-Key …`, target languages
    with their variant where DeepL wants one (plain "EN" and "PT" are refused here), sources without."""

    TARGETS = {"EN-US": "en", "EN-GB": "en", "ZH-HANS": "zh", "ZH": "zh", "DE": "de", "FR": "fr", "PT-PT": "pt"}
    SOURCES = {"EN": "en", "ZH": "zh", "DE": "de", "FR": "fr", "PT": "pt", "JA": "ja"}

    def __init__(self, key: str = DEEPL_KEY) -> None:
        super().__init__(key)

    def error_body(self, message: str) -> dict[str, Any]:
        return {"message": message}

    def answer(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = request["body"]
        if request["path"] != "/v2/translate":
            return 404, {"message": "Not found"}
        if self.key and request["headers"].get("Authorization") != f"DeepL-Auth-Key {self.key}":
            return 403, {"message": "Authorization failure, check auth_key"}
        if not isinstance(body, dict) or not isinstance(body.get("text"), list):
            return 400, {"message": "Parameter 'text' not specified."}
        target = self.TARGETS.get(str(body.get("target_lang")))
        if target is None:
            return 400, {"message": "Value for 'target_lang' not supported."}
        source = self.SOURCES.get(str(body["source_lang"])) if "source_lang" in body else None
        if "source_lang" in body and source is None:
            return 400, {"message": "Value for 'source_lang' not supported."}
        translations = []
        for text in body["text"]:
            plain = source or detect(text)
            translations.append(
                {
                    "detected_source_language": plain.upper(),
                    "text": translate(text, plain, target, str(body["target_lang"])),
                }
            )
        return 200, {"translations": translations}


@contextmanager
def closed_port() -> Iterator[str]:
    """The URL of a port nothing listens on any more (a service that is down)."""
    with LibreTranslateStandIn() as stand_in:
        url = stand_in.url
    yield url
