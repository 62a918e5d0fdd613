"""Names of languages for pages, forms and e-mail, from Django's table of languages (ISO 639-1 codes)."""

from __future__ import annotations

from django.conf import settings
from django.conf.locale import LANG_INFO

from embargo.domain.language import is_language_code

# Codes Django's table knows only with a region or script (e.g. zh-hans).
_EXTRA = {
    "zh": {"name": "Chinese", "name_local": "中文", "bidi": False},
}


def _info(code: str) -> dict[str, object] | None:
    info = _EXTRA.get(code) or LANG_INFO.get(code)
    return info if isinstance(info, dict) and "name" in info else None


def known(code: str) -> bool:
    """A language Embargo can name: one the detector chooses among, or one in Django's table."""
    return is_language_code(code) and (code in settings.EMBARGO_DETECTION_LANGUAGES or _info(code) is not None)


def name(code: str) -> str:
    """ "Chinese (中文)", "English", or the code itself when unknown."""
    info = _info(code)
    if info is None:
        return code
    english, local = str(info["name"]), str(info.get("name_local") or "")
    return english if not local or local.lower() == english.lower() else f"{english} ({local})"


def english_name(code: str) -> str:
    """ "Chinese" for "zh"."""
    info = _info(code)
    return str(info["name"]) if info is not None else code


def is_rtl(code: str) -> bool:
    info = _info(code)
    return bool(info and info.get("bidi"))


def choices(extra: list[str] | None = None) -> list[tuple[str, str]]:
    """(code, name) of the languages the detector knows and `extra` ones, sorted by name."""
    codes = {c for c in [*settings.EMBARGO_DETECTION_LANGUAGES, *(extra or [])] if known(c)}
    return sorted(((c, name(c)) for c in codes), key=lambda item: item[1].lower())
