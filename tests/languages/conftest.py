from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.languages.standins import DeepLStandIn, LibreTranslateStandIn


@pytest.fixture
def libretranslate() -> Iterator[LibreTranslateStandIn]:
    """A LibreTranslate stand-in wanting no key (set `.key` to require one)."""
    with LibreTranslateStandIn() as server:
        yield server


@pytest.fixture
def deepl() -> Iterator[DeepLStandIn]:
    """A DeepL stand-in wanting the key `DEEPL_KEY`."""
    with DeepLStandIn() as server:
        yield server
