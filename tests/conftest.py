from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from embargo import clock
from embargo.vault import files, keys
from tests.helpers import Api, make_project, make_user


def pytest_configure(config: pytest.Config) -> None:
    # Key files and sealed attachments of the test run live in a throwaway data dir.
    data_dir = Path(tempfile.mkdtemp(prefix="embargo-test-"))
    settings.EMBARGO_DATA_DIR = data_dir
    keys.forget()
    files._storage.cache_clear()
    config.addinivalue_line("markers", "rate_limits: the test runs with Embargo's real rate limits and back-off")


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    clock.freeze(None)


@pytest.fixture(autouse=True)
def _rate_limits(request: pytest.FixtureRequest, settings: Any) -> None:
    """The suite sends many reports and messages from one address: limits are off unless a test asks for them
    with `@pytest.mark.rate_limits` (tests/test_ratelimit.py)."""
    real = request.node.get_closest_marker("rate_limits") is not None
    settings.EMBARGO_RATE_LIMITS_ENABLED = real
    if "instance" in request.fixturenames and not real:
        # End-to-end processes keep their limits on (the upsert runs on SQLite and PostgreSQL alike), raised
        # far above what one test sends (test_worker_crash sends 16 reports with one token). Other tests may
        # have a fixture of that name (a Mastodon instance): only an Embargo instance has an environment.
        instance = request.getfixturevalue("instance")
        if hasattr(instance, "env"):
            instance.env["EMBARGO_RATE_LIMITS_FACTOR"] = "100"


@pytest.fixture
def team() -> dict[str, Api]:
    """The project `requests` with an owner, a maintainer, a reporter, an outsider, a maintainer of another
    project and a would-be collaborator, each with an API client."""
    apis = {}
    for role in ("owner", "maintainer", "reporter", "collaborator", "outsider", "stranger"):
        _, apis[role] = make_user(f"{role}@example.org")
    make_project("requests", owner="owner", maintainer="maintainer")
    make_project("other", stranger="maintainer")
    return apis


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that sign a person in with `Client.force_login` skip the log-in form, and so its second step too:
    the session is also marked as having passed a second factor (the person gets an authenticator device if they
    have none). tests/accounts/test_second_factor.py goes through both steps for real, with codes from pyotp."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    original = Client.force_login

    def force_login(self: Client, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="test device", confirmed=True
        )
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
