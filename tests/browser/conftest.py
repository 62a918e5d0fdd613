"""Browser tests: Debian's Chromium driven by Playwright's Python API against Django's live server."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import pytest

from embargo.notifications import worker
from tests.smtp import SmtpServer, text_of

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]  # fmt: skip

# Playwright's synchronous API keeps an event loop in this thread; the ORM calls of the tests' set-up are
# synchronous all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def smtp(settings) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        settings.EMBARGO_SMTP_URL = server.url
        yield server


class Inbox:
    """What reached the SMTP server, delivered by a real worker pass."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    def deliver(self) -> None:
        worker.run_pass()

    def link(self, address: str, pattern: str) -> str:
        self.deliver()
        for message in reversed(self.server.mailbox.to(address)):
            found = re.search(pattern, text_of(message))
            if found:
                return found.group(0)
        raise AssertionError(f"no e-mail to {address} with a link like {pattern}")


@pytest.fixture
def inbox(smtp: SmtpServer) -> Inbox:
    return Inbox(smtp)
