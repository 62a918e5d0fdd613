from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    clock.freeze(None)


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
