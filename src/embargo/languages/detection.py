"""Offline language detection with lingua (its models ship in the package: no network, no service).

One detector per process, built on first use from `settings.EMBARGO_DETECTION_LANGUAGES`. Its language models
load lazily, one language at a time as texts need them, and `lingua` itself is imported only when a detector is
built or the supported languages are asked for: a web process that imports this module loads no model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from embargo.domain.language import is_language_code, letter_count, prose_for_detection

if TYPE_CHECKING:
    from lingua import LanguageDetector

# Below this many letters of prose, a guess would be noise: the text's language is left unknown.
MIN_LETTERS = 3

_SETTING = "EMBARGO_DETECTION_LANGUAGES"


@dataclass(frozen=True)
class Detected:
    language: str  # ISO 639-1
    confidence: float  # 0..1, rounded to 3 decimals


_lock = threading.Lock()
# The detector and the candidate codes it was built from; rebuilt only if the setting changes (in tests).
_cached: tuple[tuple[str, ...], LanguageDetector] | None = None


def supported_languages() -> list[str]:
    """ISO 639-1 codes of every language lingua can detect, sorted."""
    from lingua import Language  # imported here: see the module docstring

    return sorted(language.iso_code_639_1.name.lower() for language in Language.all())


def _candidates() -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(settings.EMBARGO_DETECTION_LANGUAGES))
    supported = set(supported_languages())
    for code in codes:
        if not is_language_code(code) or code not in supported:
            raise ImproperlyConfigured(
                f"{_SETTING} (environment variable {_SETTING}) names {code!r}, which is not an ISO 639-1 code the "
                f"language detector supports; supported: {', '.join(sorted(supported))}"
            )
    if len(codes) < 2:
        raise ImproperlyConfigured(
            f"{_SETTING} (environment variable {_SETTING}) must name at least two languages to choose among, "
            f"not {list(codes)!r}"
        )
    return codes


def detector() -> LanguageDetector:
    """The process's lingua detector, built on first use (models load lazily, per language, when needed)."""
    global _cached  # one detector per process is the point
    codes = tuple(dict.fromkeys(settings.EMBARGO_DETECTION_LANGUAGES))
    cached = _cached
    if cached is not None and cached[0] == codes:
        return cached[1]
    with _lock:
        if _cached is None or _cached[0] != codes:
            from lingua import IsoCode639_1, LanguageDetectorBuilder  # imported here: see the module docstring

            codes = _candidates()
            iso_codes = [IsoCode639_1.from_str(code) for code in codes]
            _cached = (codes, LanguageDetectorBuilder.from_iso_codes_639_1(*iso_codes).build())
        return _cached[1]


def reset() -> None:
    """Drop the process's detector (for tests); the next `detector()` builds a new one."""
    global _cached
    with _lock:
        _cached = None


def detect(text: str) -> Detected | None:
    """The language of `text`'s prose (code, traces and URLs set aside), or None when too little prose remains
    or no candidate language fits at all."""
    prose = prose_for_detection(text)
    if letter_count(prose) < MIN_LETTERS:
        return None
    values = detector().compute_language_confidence_values(prose)
    if not values or values[0].value <= 0:
        return None
    best = values[0]
    return Detected(language=best.language.iso_code_639_1.name.lower(), confidence=round(best.value, 3))
