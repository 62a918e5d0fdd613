"""The CVE Services client: the real `CvelibClient` → cvelib → HTTP path against a local stand-in for CVE
Services (ENVIRONMENT.md: the real service cannot be reached here), and the do-nothing implementation."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from embargo import clock
from embargo.advisories.cve_services import (
    CnaCredentials,
    CvelibClient,
    CveServices,
    CveServicesError,
    NoCveServices,
    client_for,
)

ORG_UUID = "b3476cb9-2e3d-41a6-98d0-0f47421a65b6"
API_KEY = "Kiwi-5521-secret-api-key"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class StandIn:
    """The parts of CVE Services that cvelib calls to reserve an ID and publish a record, with CVE Services'
    own error answers (CVEProject/cve-services: middleware and cve-id controller)."""

    org: str = "python"
    user: str = "cna-bot@python.org"
    api_key: str = API_KEY
    quota: int = 10
    next_number: int = 12345
    stall: bool = False
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: dict[str, dict[str, Any]] = field(default_factory=dict)
    scripted: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def script(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """The next request gets this answer, whatever it is."""
        self.scripted.append((status, body, headers or {}))

    def answer(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if self.stall:
            self.release.wait(5)
        if self.scripted:
            return self.scripted.pop(0)
        for header in ("CVE-API-ORG", "CVE-API-USER", "CVE-API-KEY"):
            if not seen.headers.get(header):
                return 400, {"error": "BAD_REQUEST", "message": f"{header} header field required."}, {}
        if (seen.headers["CVE-API-ORG"], seen.headers["CVE-API-USER"], seen.headers["CVE-API-KEY"]) != (
            self.org,
            self.user,
            self.api_key,
        ):
            return 401, {"error": "UNAUTHORIZED", "message": "Unauthorized"}, {}
        if seen.method == "POST" and seen.path == "/api/cve-id":
            return self.reserve(seen)
        if seen.method == "GET" and seen.path == f"/api/org/{self.org}":
            return 200, {"UUID": ORG_UUID, "short_name": self.org, "name": "Python Software Foundation"}, {}
        parts = seen.path.split("/")
        if seen.method == "POST" and len(parts) == 5 and parts[1:3] == ["api", "cve"] and parts[4] == "cna":
            return self.publish(parts[3], seen.body)
        if seen.method == "PUT" and len(parts) == 5 and parts[1:3] == ["api", "cve"] and parts[4] == "reject":
            if parts[3] not in self.published:
                return 404, {"error": "CVE_RECORD_DNE", "message": f"{parts[3]} has no record."}, {}
            self.rejected[parts[3]] = seen.body["cnaContainer"]
            return 200, {"message": f"{parts[3]} record was successfully updated to REJECTED."}, {}
        return 404, {"error": "NOT_FOUND", "message": "404: resource not found"}, {}

    def reserve(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        query = {key: values[0] for key, values in seen.query.items()}
        if query.get("short_name") != self.org:
            return 403, {"error": "ORG_CANNOT_RESERVE_FOR_OTHER", "message": "not allowed"}, {}
        if not query.get("cve_year"):
            return 400, {"error": "NO_YEAR", "message": "The cve_year query parameter is required."}, {}
        amount = int(query.get("amount", "0"))
        if amount > self.quota:
            body = {
                "error": "EXCEEDED_ID_QUOTA",
                "message": "The amount requested would exceed the organization's ID quota. No more IDs can be "
                "reserved until the number of IDs in the Reserved state goes below the ID quota or the ID "
                "quota is raised.",
                "details": {"id_quota": 10, "total_reserved": 10, "available": self.quota},
            }
            return 403, body, {}
        self.quota -= amount
        cve_id = f"CVE-{query['cve_year']}-{self.next_number}"
        self.next_number += 1
        entry = {
            "cve_id": cve_id,
            "cve_year": query["cve_year"],
            "owning_cna": self.org,
            "requested_by": {"cna": self.org, "user": self.user},
            "reserved": "2026-05-04T10:00:00.000Z",
            "state": "RESERVED",
        }
        return 200, {"cve_ids": [entry]}, {"CVE-API-REMAINING-QUOTA": str(self.quota)}

    def publish(self, cve_id: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or "cnaContainer" not in body:
            return 400, {"error": "CVE_BAD_REQUEST", "message": "Request body format is incorrect."}, {}
        self.published[cve_id] = body["cnaContainer"]
        created = {"dataType": "CVE_RECORD", "cveMetadata": {"cveId": cve_id, "state": "PUBLISHED"}}
        return 200, {"message": f"{cve_id} record was successfully created.", "created": created}, {}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        seen = Seen(
            self.command, split.path, parse_qs(split.query), dict(self.headers), json.loads(raw) if raw else None
        )
        self.server.stand_in.seen.append(seen)
        status, body, headers = self.server.stand_in.answer(seen)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/html")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: StandIn


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stand_in = StandIn(url=f"http://127.0.0.1:{server.server_address[1]}/api/")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.stand_in
    server.stand_in.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def credentials(stand_in: StandIn, **changes: str) -> CnaCredentials:
    values = {"org": stand_in.org, "user": stand_in.user, "api_key": stand_in.api_key, "url": stand_in.url} | changes
    return CnaCredentials(**values)


def container(**extra: Any) -> dict[str, Any]:
    """A CNA container that passes the CVE JSON 5 schema cvelib checks before sending."""
    return {
        "providerMetadata": {"orgId": ORG_UUID},
        "title": "Header smuggling in redirects",
        "descriptions": [{"lang": "en", "value": "A crafted Location header leaks proxy credentials."}],
        "affected": [
            {
                "vendor": "psf",
                "product": "requests",
                "defaultStatus": "unaffected",
                "versions": [{"version": "0", "lessThan": "2.32.0", "status": "affected", "versionType": "semver"}],
            }
        ],
        "references": [{"url": "https://example.org/advisories/1", "tags": ["vendor-advisory"]}],
        **extra,
    }


def failure(call: Any, code: str) -> CveServicesError:
    with pytest.raises(CveServicesError) as caught:
        call()
    error = caught.value
    assert error.code == code, error.message
    assert API_KEY not in error.message
    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return error


# Reservation


def test_reserve_sends_the_cna_credentials_and_the_current_year(stand_in: StandIn) -> None:
    client = CvelibClient(credentials(stand_in))
    with clock.frozen_at(dt.datetime(2026, 5, 4, 10, tzinfo=dt.UTC)):
        assert client.reserve() == "CVE-2026-12345"

    [seen] = stand_in.seen
    assert (seen.method, seen.path) == ("POST", "/api/cve-id")
    assert seen.query == {"amount": ["1"], "cve_year": ["2026"], "short_name": ["python"]}
    assert seen.headers["CVE-API-ORG"] == "python"
    assert seen.headers["CVE-API-USER"] == "cna-bot@python.org"
    assert seen.headers["CVE-API-KEY"] == API_KEY
    assert stand_in.quota == 9


def test_a_base_url_without_trailing_slash_keeps_its_path(stand_in: StandIn) -> None:
    client = CvelibClient(credentials(stand_in, url=stand_in.url.rstrip("/")))
    with clock.frozen_at(dt.datetime(2027, 1, 1, tzinfo=dt.UTC)):
        assert client.reserve() == "CVE-2027-12345"
    assert stand_in.seen[0].path == "/api/cve-id"


def test_reserve_answers_without_an_id_are_unavailable(stand_in: StandIn) -> None:
    stand_in.script(200, {"cve_ids": []})
    error = failure(CvelibClient(credentials(stand_in)).reserve, "unavailable")
    assert "without a CVE ID" in error.message


def test_a_reservation_answer_that_is_not_json_is_unavailable(stand_in: StandIn) -> None:
    stand_in.script(200, b"<html>maintenance</html>")
    error = failure(CvelibClient(credentials(stand_in)).reserve, "unavailable")
    assert "could not read" in error.message


# Publication


def test_publish_sends_the_cna_container(stand_in: StandIn) -> None:
    record = container()
    CvelibClient(credentials(stand_in)).publish("CVE-2026-12345", record)

    [seen] = stand_in.seen
    assert (seen.method, seen.path) == ("POST", "/api/cve/CVE-2026-12345/cna")
    assert seen.headers["CVE-API-KEY"] == API_KEY
    assert seen.headers["Content-Type"] == "application/json"
    sent = stand_in.published["CVE-2026-12345"]
    assert sent["descriptions"] == record["descriptions"]
    assert sent["affected"] == record["affected"]
    assert sent["providerMetadata"] == {"orgId": ORG_UUID}
    assert record == container()  # cvelib's additions (x_generator) do not touch the caller's record


def test_publish_takes_a_full_record_and_fills_in_the_provider(stand_in: StandIn) -> None:
    cna = container()
    del cna["providerMetadata"]
    record: dict[str, Any] = {"dataType": "CVE_RECORD", "dataVersion": "5.1", "containers": {"cna": cna}}
    CvelibClient(credentials(stand_in)).publish("CVE-2026-12345", record)

    assert [(s.method, s.path) for s in stand_in.seen] == [
        ("GET", "/api/org/python"),
        ("POST", "/api/cve/CVE-2026-12345/cna"),
    ]
    assert stand_in.published["CVE-2026-12345"]["providerMetadata"] == {"orgId": ORG_UUID}
    assert "providerMetadata" not in record["containers"]["cna"]


def test_publish_rejected_by_the_server_carries_its_message(stand_in: StandIn) -> None:
    stand_in.script(
        400,
        {
            "error": "INVALID_JSON_SCHEMA",
            "message": "CVE JSON schema validation FAILED.",
            "details": {"errors": [{"instancePath": "/descriptions/0/value", "message": "must not be blank"}]},
        },
    )
    error = failure(lambda: CvelibClient(credentials(stand_in)).publish("CVE-2026-12345", container()), "rejected")
    assert error.status == 400
    assert "CVE JSON schema validation FAILED." in error.message
    assert "/descriptions/0/value must not be blank" in error.message
    assert "publish CVE-2026-12345" in error.message


def test_publish_refused_for_an_existing_record_is_rejected_not_a_credentials_problem(stand_in: StandIn) -> None:
    stand_in.script(403, {"error": "CVE_RECORD_EXISTS", "message": "The cve record for the cve id already exists."})
    error = failure(lambda: CvelibClient(credentials(stand_in)).publish("CVE-2026-12345", container()), "rejected")
    assert "already exists" in error.message


def test_a_record_that_fails_the_schema_is_rejected_before_sending(stand_in: StandIn) -> None:
    record = container()
    del record["descriptions"]
    error = failure(lambda: CvelibClient(credentials(stand_in)).publish("CVE-2026-12345", record), "rejected")
    assert "descriptions" in error.message
    assert stand_in.seen == []


# Error answers


def test_rate_limit(stand_in: StandIn) -> None:
    stand_in.script(
        429,
        {"error": "TOO_MANY_REQUESTS", "message": "Too many requests. Please try again later."},
        {"Retry-After": "30"},
    )
    error = failure(CvelibClient(credentials(stand_in)).reserve, "rate_limited")
    assert (error.status, error.retry_after) == (429, 30)
    assert "try again in 30 seconds" in error.message


def test_rate_limit_without_retry_after(stand_in: StandIn) -> None:
    stand_in.script(429, {"error": "TOO_MANY_REQUESTS", "message": "Too many requests."})
    error = failure(lambda: CvelibClient(credentials(stand_in)).publish("CVE-2026-1", container()), "rate_limited")
    assert error.retry_after is None
    assert "a few minutes" in error.message


def test_reservation_in_progress_is_a_rate_limit(stand_in: StandIn) -> None:
    stand_in.script(403, {"error": "RESERVATION_IN_PROGRESS", "message": "An ID reservation request is in progress."})
    failure(CvelibClient(credentials(stand_in)).reserve, "rate_limited")


def test_bad_credentials(stand_in: StandIn) -> None:
    client = CvelibClient(credentials(stand_in, api_key="Kiwi-5521-secret-api-keX"))
    error = failure(client.reserve, "bad_credentials")
    assert stand_in.seen[0].headers["CVE-API-KEY"] == "Kiwi-5521-secret-api-keX"
    assert error.status == 401
    assert "'python'" in error.message
    assert "'cna-bot@python.org'" in error.message
    assert "Kiwi-5521" not in error.message


def test_a_forbidden_organization_is_bad_credentials(stand_in: StandIn) -> None:
    stand_in.script(403, {"error": "CNA_ONLY", "message": "This function is currently only allowed to CNAs."})
    error = failure(CvelibClient(credentials(stand_in)).reserve, "bad_credentials")
    assert "only allowed to CNAs" in error.message


def test_quota_exceeded(stand_in: StandIn) -> None:
    stand_in.quota = 0
    error = failure(CvelibClient(credentials(stand_in)).reserve, "quota_exceeded")
    assert error.status == 403
    assert "quota" in error.message
    assert "'python'" in error.message


def test_server_error(stand_in: StandIn) -> None:
    stand_in.script(500, {"error": "SERVICE_NOT_AVAILABLE", "message": "This service appears to not be available."})
    error = failure(CvelibClient(credentials(stand_in)).reserve, "unavailable")
    assert "HTTP 500" in error.message


def test_server_error_with_an_html_page(stand_in: StandIn) -> None:
    stand_in.script(502, b"<html>Bad Gateway</html>")
    failure(lambda: CvelibClient(credentials(stand_in)).publish("CVE-2026-1", container()), "unavailable")


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = CnaCredentials(org="python", user="u", api_key=API_KEY, url=f"http://127.0.0.1:{port}/api/")
    error = failure(CvelibClient(closed).reserve, "unavailable")
    assert "could not be reached" in error.message
    assert f"127.0.0.1:{port}" in error.message


def test_timeout(stand_in: StandIn) -> None:
    stand_in.stall = True
    error = failure(CvelibClient(credentials(stand_in), timeout=0.3).reserve, "unavailable")
    assert "did not answer in time" in error.message


def test_a_server_that_echoes_the_key_does_not_leak_it(stand_in: StandIn) -> None:
    stand_in.script(400, {"error": "BAD_INPUT", "message": f"Parameters were invalid for key {API_KEY}"})
    error = failure(CvelibClient(credentials(stand_in)).reserve, "rejected")
    assert "[API key]" in error.message


def test_credentials_do_not_show_the_key() -> None:
    creds = CnaCredentials(org="python", user="u", api_key=API_KEY, url="https://cveawg.mitre.org/api/")
    assert API_KEY not in repr(creds)
    assert API_KEY not in repr(CvelibClient(creds))


# Without CVE Services


def test_no_cve_services_is_unavailable() -> None:
    nothing = NoCveServices()
    error = failure(nothing.reserve, "unavailable")
    assert "not configured" in error.message
    failure(lambda: nothing.publish("CVE-2026-12345", container()), "unavailable")


def test_client_for_chooses_by_configuration(stand_in: StandIn) -> None:
    assert isinstance(client_for(None), NoCveServices)
    real: CveServices = client_for(credentials(stand_in))
    assert isinstance(real, CvelibClient)
    assert real.reserve().startswith("CVE-")
