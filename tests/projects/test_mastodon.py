"""Mastodon announcements: the project's account (its token sealed, never shown back), the client against a
small local server that stands in for a Mastodon instance, and the outgoing-URL rules."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test import Client, override_settings

from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.projects.mastodon import MastodonError, announce_on_mastodon, check_instance_url, post_status
from embargo.projects.models import MastodonAccount, Project
from tests.helpers import Api

TOKEN = "Pangolin-5512-access-token"
PROJECT = "/api/v1/projects/requests"


class Instance:
    """A stand-in Mastodon instance: `POST /api/v1/statuses` as Mastodon answers it, or `answer` when set."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answer: tuple[int, dict[str, Any], dict[str, str]] | None = None
        instance = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                instance.received.append({"path": self.path, "headers": dict(self.headers), "form": parse_qs(body)})
                if instance.answer is not None:
                    status, data, headers = instance.answer
                elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status, data, headers = 401, {"error": "The access token is invalid"}, {}
                elif self.path != "/api/v1/statuses":
                    status, data, headers = 404, {"error": "Record not found"}, {}
                else:
                    number = len(instance.received)
                    status, data, headers = 200, {"id": str(number), "url": f"{instance.url}/@requests/{number}"}, {}
                payload = json.dumps(data).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def instance() -> Iterator[Instance]:
    running = Instance()
    yield running
    running.close()


# --- the client -----------------------------------------------------------------------------------------------


def test_a_post_goes_out_public_with_the_token_and_its_url_comes_back(instance: Instance) -> None:
    url = post_status(instance.url, TOKEN, "requests 2.32.4 fixes CVE-2026-0001", allow_private=True,
                      idempotency_key="job-17")  # fmt: skip
    assert url == f"{instance.url}/@requests/1"
    [request] = instance.received
    assert request["path"] == "/api/v1/statuses"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Idempotency-Key"] == "job-17"
    assert request["form"] == {"status": ["requests 2.32.4 fixes CVE-2026-0001"], "visibility": ["public"]}


def test_a_refused_token_is_reported_without_the_token(instance: Instance) -> None:
    with pytest.raises(MastodonError) as error:
        post_status(instance.url, "wrong-token-Narwhal-77", "hello", allow_private=True)
    assert error.value.code == "bad_credentials"
    assert not error.value.retryable
    assert "The access token is invalid" in error.value.message
    assert "Narwhal" not in error.value.message + repr(error.value)


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [(422, "rejected", False), (429, "rate_limited", True), (503, "unavailable", True), (500, "unavailable", True)],
)
def test_the_instances_refusals_say_whether_to_try_again(
    instance: Instance, status: int, code: str, retryable: bool
) -> None:
    instance.answer = (status, {"error": "Validation failed: Text character limit of 500 exceeded"}, {})
    with pytest.raises(MastodonError) as error:
        post_status(instance.url, TOKEN, "x" * 600, allow_private=True)
    assert (error.value.code, error.value.retryable, error.value.status) == (code, retryable, status)
    if status == 422:
        assert "character limit of 500" in error.value.message


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(instance: Instance) -> None:
    instance.answer = (307, {}, {"Location": instance.url + "/elsewhere"})
    with pytest.raises(MastodonError) as error:
        post_status(instance.url, TOKEN, "hello", allow_private=True)
    assert error.value.code == "rejected"
    assert [r["path"] for r in instance.received] == ["/api/v1/statuses"]


def test_an_instance_that_does_not_answer_is_unavailable() -> None:
    closed = Instance()
    closed.close()
    with pytest.raises(MastodonError) as error:
        post_status(closed.url, TOKEN, "hello", allow_private=True, timeout=2)
    assert (error.value.code, error.value.retryable) == ("unavailable", True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",  # private, and not https
        "https://127.0.0.1",
        "https://10.0.0.5",
        "https://[::1]",
        "https://169.254.169.254",
        "https://localhost",
        "https://user:pass@mastodon.example",
        "https://93.184.215.14/api/v1/statuses",  # a path: only the instance's address
        "ftp://93.184.215.14",
    ],
)
def test_private_or_malformed_instance_urls_are_refused(url: str) -> None:
    with pytest.raises(MastodonError) as error:
        check_instance_url(url, allow_private=False)
    assert error.value.code == "refused_url"


def test_a_public_address_is_allowed_and_the_url_normalised() -> None:
    assert check_instance_url("https://93.184.215.14/", allow_private=False) == "https://93.184.215.14"
    assert check_instance_url("http://127.0.0.1:9/", allow_private=True) == "http://127.0.0.1:9"


# --- the project's account --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_owner_sets_the_account_and_the_token_is_never_shown_back(team: dict[str, Api], instance: Instance) -> None:
    with override_settings(EMBARGO_ALLOW_PRIVATE_NETWORK=True):
        saved = team["owner"].patch(PROJECT, {"mastodon_instance_url": instance.url + "/",
                                              "mastodon_access_token": TOKEN})  # fmt: skip
    assert saved.status == 200, saved.text
    assert saved.json["mastodon_instance_url"] == instance.url
    assert saved.json["mastodon_access_token_set"] is True
    shown = team["owner"].get(PROJECT)
    assert TOKEN not in saved.text + shown.text
    assert shown.json["mastodon_instance_url"] == instance.url
    event = Event.objects.filter(tag="project:settings_changed").latest("id")
    assert event.data["mastodon"]["access_token"].startswith("changed ")
    assert TOKEN not in json.dumps(event.data)
    with connection.cursor() as cursor:  # sealed at rest
        cursor.execute("SELECT access_token FROM projects_mastodonaccount")
        [(raw,)] = cursor.fetchall()
    assert TOKEN.encode() not in bytes(raw)


@pytest.mark.django_db
def test_a_private_instance_is_refused_unless_the_operator_allows_it(team: dict[str, Api], instance: Instance) -> None:
    refused = team["owner"].patch(PROJECT, {"name": "Renamed", "mastodon_instance_url": instance.url,
                                            "mastodon_access_token": TOKEN})  # fmt: skip
    assert refused.status == 422
    assert refused.json["error"]["field"] == "mastodon_instance_url"
    assert MastodonAccount.objects.count() == 0
    assert Project.objects.get(slug="requests").name == "Requests"  # nothing of the request was applied


@pytest.mark.django_db
def test_the_first_time_needs_both_and_an_empty_url_removes_the_account(team: dict[str, Api]) -> None:
    with override_settings(EMBARGO_ALLOW_PRIVATE_NETWORK=True):
        alone = team["owner"].patch(PROJECT, {"mastodon_instance_url": "http://127.0.0.1:9"})
        assert alone.status == 422
        assert alone.json["error"]["field"] == "mastodon_access_token"
        both = {"mastodon_instance_url": "http://127.0.0.1:9", "mastodon_access_token": TOKEN}
        assert team["owner"].patch(PROJECT, both).status == 200
        assert team["owner"].patch(PROJECT, {"mastodon_access_token": "new-token"}).status == 200
    assert MastodonAccount.objects.get().access_token == "new-token"
    removed = team["owner"].patch(PROJECT, {"mastodon_instance_url": ""})
    assert removed.status == 200
    assert removed.json["mastodon_instance_url"] is None
    assert removed.json["mastodon_access_token_set"] is False


@pytest.mark.django_db
def test_a_maintainer_cannot_set_the_account(team: dict[str, Api]) -> None:
    answer = team["maintainer"].patch(PROJECT, {"mastodon_instance_url": "https://93.184.215.14",
                                                "mastodon_access_token": TOKEN})  # fmt: skip
    assert answer.status == 404
    assert MastodonAccount.objects.count() == 0


@pytest.mark.django_db
def test_the_settings_page_sets_the_account_without_showing_the_token(team: dict[str, Api], instance: Instance) -> None:
    browser = Client()
    browser.force_login(User.objects.get(email="owner@example.org"))
    form = {"action": "mastodon", "mastodon_instance_url": instance.url, "mastodon_access_token": TOKEN}
    with override_settings(EMBARGO_ALLOW_PRIVATE_NETWORK=True):
        assert browser.post("/projects/requests/settings/", form).status_code == 302
    page = browser.get("/projects/requests/settings/").content.decode()
    assert f"announced from the account on {instance.url}" in page
    assert TOKEN not in page
    # A save without a token keeps the one stored.
    with override_settings(EMBARGO_ALLOW_PRIVATE_NETWORK=True):
        browser.post("/projects/requests/settings/", {"action": "mastodon", "mastodon_instance_url": instance.url})
    assert MastodonAccount.objects.get().access_token == TOKEN


@pytest.mark.django_db
def test_announcing_posts_from_the_projects_account(team: dict[str, Api], instance: Instance) -> None:
    project = Project.objects.get(slug="requests")
    assert announce_on_mastodon(project, "nothing to say") is None  # no account: nothing happens
    assert instance.received == []
    with override_settings(EMBARGO_ALLOW_PRIVATE_NETWORK=True):
        team["owner"].patch(PROJECT, {"mastodon_instance_url": instance.url, "mastodon_access_token": TOKEN})
        url = announce_on_mastodon(project, "EMB-2026-0001 is published", idempotency_key="outbox-3")
    assert url == f"{instance.url}/@requests/1"
    assert instance.received[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(MastodonError) as error:  # the operator's setting is read at the moment of the call
        announce_on_mastodon(project, "again")
    assert error.value.code == "refused_url"
