"""The HTTP API fuzzed from its own OpenAPI document with schemathesis: whatever a client sends — in shape or
not, for reports that exist or not — the server answers without a server error (5xx), as an owner and as an
anonymous caller. The examples are bounded so that CI stays fast; `EMBARGO_FUZZ_EXAMPLES` raises them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from embargo.wsgi import application
from tests.helpers import Api, report_awaiting_confirmation

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
EXAMPLES = int(os.environ.get("EMBARGO_FUZZ_EXAMPLES", "8"))


@pytest.fixture
def owner_token(team: dict[str, Api]) -> Iterator[str]:
    report_awaiting_confirmation(team, internal_note="Fuzz note", public_answer="Fuzz answer", attachment=b"fuzz")
    # The WSGI handler closes database connections at the end of each request, which would end the test's
    # transaction on PostgreSQL; Django's test client, used just above, leaves them open the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield team["owner"].token or ""
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
def test_no_server_error(case: Any, owner_token: str) -> None:
    for headers in ({"Authorization": f"Bearer {owner_token}"}, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
