"""Static files as production serves them: collected into the data dir fingerprinted and compressed, linked by
their fingerprinted names, sent compressed to clients that accept it, and cached for good (`immutable`), since a
changed file gets a new name. Through the test client with the collected storage, and through a real
`embargo serve`, which collects them itself."""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from embargo.cli import collect_static
from tests.e2e.conftest import Instance, Server, database, instance, serve

__all__ = ["database", "instance", "serve"]  # the end-to-end fixtures, used by the last test

ASSET = re.compile(r'(?:href|src)="(/static/embargo/embargo\.([0-9a-f]{12})\.(css|js))"')
TEN_YEARS = 10 * 365 * 24 * 3600
HAS_BROTLI = importlib.util.find_spec("brotli") is not None


def _max_age(cache_control: str) -> int:
    match = re.search(r"max-age=(\d+)", cache_control)
    return int(match.group(1)) if match else 0


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def collected(tmp_path: Path, settings: Any) -> Path:
    """The static files collected into a fresh folder, and the settings `embargo serve` gives its servers."""
    root = tmp_path / "static"
    settings.EMBARGO_STATIC_ROOT = root
    assert collect_static()["collected"] is True
    settings.STATIC_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    return root


@pytest.mark.django_db
def test_pages_link_fingerprinted_assets_served_compressed_and_cached_for_good(collected: Path) -> None:
    client = Client()  # a new client: its WhiteNoise reads the collected folder
    page = client.get("/")
    assert page.status_code == 200
    assets = ASSET.findall(page.content.decode())
    assert {kind for _, _, kind in assets} == {"css", "js"}, page.content.decode()[:2000]

    for url, _fingerprint, _kind in assets:
        plain = client.get(url)
        assert plain.status_code == 200
        original = _body(plain)
        assert original == (collected / url.removeprefix("/static/")).read_bytes()
        assert "Content-Encoding" not in plain.headers
        cache_control = plain.headers["Cache-Control"]
        assert "immutable" in cache_control
        assert "public" in cache_control
        assert _max_age(cache_control) >= TEN_YEARS

        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in zipped.headers["Vary"]
        assert gzip.decompress(_body(zipped)) == original
        assert "immutable" in zipped.headers["Cache-Control"]

        if HAS_BROTLI:
            import brotli

            best = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
            assert best.headers["Content-Encoding"] == "br"
            assert brotli.decompress(_body(best)) == original

    # The unfingerprinted name still answers (an old bookmark), but it may change: cached briefly only.
    unversioned = client.get("/static/embargo/embargo.css")
    assert unversioned.status_code == 200
    assert "immutable" not in unversioned.headers["Cache-Control"]
    assert _max_age(unversioned.headers["Cache-Control"]) < 24 * 3600


def test_collecting_again_with_nothing_changed_does_nothing(collected: Path) -> None:
    manifest = (collected / "staticfiles.json").stat().st_mtime_ns
    assert collect_static()["collected"] is False
    assert (collected / "staticfiles.json").stat().st_mtime_ns == manifest
    # Other sources (here: a stamp from other files) are collected again.
    (collected / ".collected").write_text("files of another version\n")
    assert collect_static()["collected"] is True


@pytest.mark.django_db
def test_without_collecting_the_apps_files_are_served_as_they_are() -> None:
    """Tests and development: no collection, the files straight from the apps' folders (an edit shows at once)."""
    client = Client()
    page = client.get("/").content.decode()
    assert 'href="/static/embargo/embargo.css"' in page
    css = client.get("/static/embargo/embargo.css")
    assert css.status_code == 200
    assert (
        b"".join(css.streaming_content)
        == (Path(__file__).resolve().parents[2] / "src/embargo/web/static/embargo/embargo.css").read_bytes()
    )


@pytest.mark.e2e
def test_embargo_serve_collects_and_serves_fingerprinted_compressed_assets(serve: Any, instance: Instance) -> None:
    server: Server = serve("--no-worker")
    page = server.call("GET", "/")
    assets = ASSET.findall(page.text)
    assert {kind for _, _, kind in assets} == {"css", "js"}, page.text[:2000]
    assert (instance.data_dir / "static" / "staticfiles.json").is_file()
    import urllib.request

    for url, _, _ in assets:
        request = urllib.request.Request(server.base_url + url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert "immutable" in response.headers["Cache-Control"]
            assert _max_age(response.headers["Cache-Control"]) >= TEN_YEARS
            gzip.decompress(response.read())
