"""Abuse limits (429 `rate_limited` with Retry-After) per scope, per account and per IP, and the log-in back-off.

Limits are small here (set per test) so that the N+1th request is cheap to reach; the defaults are checked once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from embargo import clock
from embargo.domain.ratelimit import Backoff, Limit, decide, window_start
from embargo.throttle.models import Counter
from tests.helpers import Api, make_user, submit

START = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple 7"


# --- the pure rules ------------------------------------------------------------------------------------------


def test_limits_read_count_slash_period() -> None:
    assert Limit.parse("10/15m") == Limit(10, 900)
    assert Limit.parse("5/h") == Limit(5, 3600)
    assert Limit.parse("600/1m") == Limit(600, 60)
    for bad in ("10", "x/1h", "10/0m", "10/1y"):
        with pytest.raises(ValueError, match="rate limit"):
            Limit.parse(bad)


def test_the_nplus1th_request_of_a_window_waits_for_the_window_to_end() -> None:
    limit = Limit(3, 60)
    now = 1_000_000_000 + 45.5  # 1_000_000_000 is a multiple of 60 plus 40
    assert window_start(now, limit) == 1_000_000_020
    assert decide(3, limit, now).allowed
    refused = decide(4, limit, now)
    assert not refused.allowed
    assert refused.retry_after == 35  # the window [..020, ..080) ends in 34.5 s, rounded up


def test_backoff_doubles_after_the_free_failures_up_to_the_ceiling() -> None:
    rule = Backoff(free=3, base=30, ceiling=300)
    assert [rule.delay(n) for n in range(8)] == [0, 0, 0, 30, 60, 120, 240, 300]
    assert rule.delay(10_000) == 300
    assert rule.wait(4, last_failure=1000, now=1010) == 50
    assert rule.wait(4, last_failure=1000, now=1061) == 0


# --- the HTTP refusals ---------------------------------------------------------------------------------------


def _limits(settings: Any, **scopes: dict[str, str]) -> None:
    settings.EMBARGO_RATE_LIMITS = {**django_settings.EMBARGO_RATE_LIMITS, **scopes}


def _assert_refused_api(response: Any) -> None:
    assert response.status == 429, response.text
    assert response.json["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def _assert_refused_page(response: Any) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many" in response.content
    assert "Content-Security-Policy" in response


def test_default_limits_are_those_of_the_issue() -> None:
    limits = django_settings.EMBARGO_RATE_LIMITS
    assert Limit.parse(limits["signup"]["ip"]) == Limit(5, 3600)
    assert Limit.parse(limits["login"]["ip"]) == Limit.parse(limits["login"]["account"]) == Limit(10, 900)
    assert Limit.parse(limits["report"]["account"]) == Limit(10, 3600)
    assert Limit.parse(limits["report"]["ip"]) == Limit(20, 3600)
    assert Limit.parse(limits["message"]["account"]) == Limit(60, 3600)
    assert Limit.parse(limits["token"]["token"]) == Limit(600, 60)


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_api_report_submission_per_account(settings: Any, team: dict[str, Api]) -> None:
    _limits(settings, report={"account": "2/1h"})
    clock.freeze(START)
    submit(team["reporter"])
    submit(team["reporter"])
    _assert_refused_api(team["reporter"].post("/api/v1/projects/requests/reports", {"title": "t", "description": "d"}))
    # Another account from the same address is not affected.
    submit(team["outsider"])
    # The next window lets the reporter in again.
    clock.advance(dt.timedelta(hours=1))
    submit(team["reporter"])


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_api_report_submission_per_ip(settings: Any, team: dict[str, Api]) -> None:
    _limits(settings, report={"ip": "2/1h"})
    clock.freeze(START)
    submit(team["reporter"])
    submit(team["outsider"])
    _assert_refused_api(team["owner"].post("/api/v1/projects/requests/reports", {"title": "t", "description": "d"}))
    # Another address (a different REMOTE_ADDR) is not.
    other = team["owner"].post(
        "/api/v1/projects/requests/reports", {"title": "t", "description": "d"}, REMOTE_ADDR="192.0.2.9"
    )
    assert other.status == 201, other.text


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_api_messages_per_account(settings: Any, team: dict[str, Api]) -> None:
    _limits(settings, message={"account": "2/1h"})
    report_id = submit(team["reporter"])["id"]
    path = f"/api/v1/reports/{report_id}/messages"
    for _ in range(2):
        assert team["reporter"].post(path, {"body": "more details"}).status == 201
    _assert_refused_api(team["reporter"].post(path, {"body": "more details"}))
    assert team["maintainer"].post(path, {"body": "thanks"}).status == 201


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_token_use_per_token(settings: Any) -> None:
    _limits(settings, token={"token": "3/1m"})
    clock.freeze(START)
    _, api = make_user("busy@example.org")
    _, other = make_user("calm@example.org")
    for _ in range(3):
        assert api.get("/api/v1/reports/mine").status == 200
    _assert_refused_api(api.get("/api/v1/reports/mine"))
    assert other.get("/api/v1/reports/mine").status == 200
    # A wrong token is a 401, as before, and not a 429.
    assert Api("not-a-token").get("/api/v1/reports/mine").status == 401
    clock.advance(dt.timedelta(minutes=1))
    assert api.get("/api/v1/reports/mine").status == 200


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_osv_queries_per_ip(settings: Any) -> None:
    _limits(settings, osv={"ip": "2/1m"})
    body = {"package": {"ecosystem": "PyPI", "name": "requests"}, "version": "1.0"}
    for _ in range(2):
        assert Api().post("/osv/v1/query", body).status == 200
    _assert_refused_api(Api().post("/osv/v1/query", body))
    _assert_refused_api(Api().post("/osv/v1/querybatch", {"queries": [body]}))


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_signup_per_ip(settings: Any) -> None:
    _limits(settings, signup={"ip": "2/1h"})
    client = Client()
    for n in range(2):
        data = {"email": f"new{n}@example.org", "password": PASSWORD, "password_again": PASSWORD}
        assert client.post("/account/signup/", data).status_code == 200
    _assert_refused_page(client.post("/account/signup/", {"email": "new9@example.org"}))
    # Reading the form is not counted.
    assert client.get("/account/signup/").status_code == 200
    assert Client(REMOTE_ADDR="198.51.100.7").post("/account/signup/", {"email": "x@example.org"}).status_code == 200


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_password_reset_per_account_and_ip(settings: Any) -> None:
    _limits(settings, password_reset={"account": "2/1h", "ip": "4/1h"})
    client = Client()
    for _ in range(2):
        assert client.post("/account/reset/", {"email": "victim@example.org"}).status_code == 302
    _assert_refused_page(client.post("/account/reset/", {"email": "victim@example.org"}))
    assert client.post("/account/reset/", {"email": "other@example.org"}).status_code == 302
    _assert_refused_page(client.post("/account/reset/", {"email": "third@example.org"}))  # 5th from this IP


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_report_form_and_join_form_per_ip(settings: Any, team: dict[str, Api]) -> None:
    _limits(settings, report={"ip": "1/1h"}, packager_join={"ip": "1/1h"})
    client = Client()
    sent = client.post(
        "/projects/requests/", {"email": "anon@example.org", "title": "Overflow", "description": "It overflows."}
    )
    assert sent.status_code == 200
    assert b"Too many" not in sent.content
    _assert_refused_page(client.post("/projects/requests/", {"email": "anon@example.org", "title": "Again"}))
    assert client.post("/projects/requests/packagers/join/", {}).status_code == 200
    _assert_refused_page(client.post("/projects/requests/packagers/join/", {}))


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_report_page_message_form_per_account(settings: Any, team: dict[str, Api]) -> None:
    _limits(settings, message={"account": "1/1h"})
    report_id = submit(team["reporter"])["id"]
    client = Client()
    from embargo.accounts.models import User

    client.force_login(User.objects.get(email="reporter@example.org"))
    page = f"/reports/{report_id}/"
    assert client.post(page, {"action": "message", "body": "first"}).status_code == 302
    _assert_refused_page(client.post(page, {"action": "message", "body": "second"}))
    # Other forms of the page are not messages.
    assert client.post(page, {"action": "credit", "credit_name": "R"}).status_code == 302


@pytest.mark.django_db
def test_disabled_by_setting_nothing_is_limited_or_stored(settings: Any, team: dict[str, Api]) -> None:
    settings.EMBARGO_RATE_LIMITS_ENABLED = False
    _limits(settings, report={"account": "1/1h", "ip": "1/1h"}, token={"token": "1/1m"})
    for _ in range(3):
        submit(team["reporter"])
    assert not Counter.objects.exists()


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_the_factor_raises_every_limit(settings: Any, team: dict[str, Api]) -> None:
    _limits(settings, report={"account": "1/1h"})
    settings.EMBARGO_RATE_LIMITS_FACTOR = 3
    for _ in range(3):
        submit(team["reporter"])
    _assert_refused_api(team["reporter"].post("/api/v1/projects/requests/reports", {"title": "t", "description": "d"}))


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_keys_are_hashed_and_ended_windows_are_swept(settings: Any) -> None:
    _limits(settings, signup={"ip": "5/1h"})
    clock.freeze(START)
    Client(REMOTE_ADDR="203.0.113.5").post("/account/signup/", {"email": "someone@example.org"})
    stored = " ".join(f"{c.scope} {c.key_hash}" for c in Counter.objects.all())
    assert "203.0.113.5" not in stored
    assert Counter.objects.count() == 1
    clock.advance(dt.timedelta(hours=2))
    Client(REMOTE_ADDR="203.0.113.6").post("/account/signup/", {"email": "someone@example.org"})
    # The new window's first hit deleted the ended one.
    assert Counter.objects.count() == 1


# --- the client's address ------------------------------------------------------------------------------------


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(settings: Any) -> None:
    _limits(settings, signup={"ip": "1/1h"})
    settings.EMBARGO_TRUSTED_PROXIES = []
    first = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert first.post("/account/signup/", {}).status_code == 200
    # A forged header from an untrusted peer changes nothing: same peer, same key.
    forged = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2")
    _assert_refused_page(forged.post("/account/signup/", {}))

    settings.EMBARGO_TRUSTED_PROXIES = ["10.0.0.0/8"]
    # Behind the trusted proxy, each client is its own key: the nearest untrusted hop, not what the client wrote.
    behind = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.3, 10.0.0.2")
    assert behind.post("/account/signup/", {}).status_code == 200
    again = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.3")
    _assert_refused_page(again.post("/account/signup/", {}))
    assert (
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4").post("/account/signup/", {}).status_code
        == 200
    )


# --- log-in back-off ----------------------------------------------------------------------------------------


def _log_in(email: str, password: str, client: Client | None = None) -> Any:
    return (client or Client()).post("/account/login/", {"username": email, "password": password})


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_backoff_refuses_even_the_right_password_and_a_success_clears_it(settings: Any) -> None:
    settings.EMBARGO_LOGIN_BACKOFF = {
        "account": {"free": 3, "base": 30, "ceiling": 3600},
        "ip": {"free": 100, "base": 30, "ceiling": 3600},
    }
    clock.freeze(START)
    user, _ = make_user("alice@example.org")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    for _ in range(3):
        assert _log_in("alice@example.org", "wrong password!").status_code == 200
    refused = _log_in("alice@example.org", PASSWORD)
    _assert_refused_page(refused)
    assert int(refused["Retry-After"]) == 30
    assert b"failed log-ins" in refused.content
    assert "_auth_user_id" not in refused.wsgi_request.session
    # Waiting is enough; a failure then doubles the wait.
    clock.advance(dt.timedelta(seconds=30))
    assert _log_in("alice@example.org", "wrong again!!").status_code == 200
    assert int(_log_in("alice@example.org", PASSWORD)["Retry-After"]) == 60
    clock.advance(dt.timedelta(seconds=60))
    assert _log_in("alice@example.org", PASSWORD).status_code == 302
    # The success cleared the failures: three more are free again.
    for _ in range(2):
        assert _log_in("alice@example.org", "wrong password!").status_code == 200
    assert _log_in("alice@example.org", PASSWORD).status_code == 302


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_backoff_looks_the_same_for_an_unknown_address(settings: Any) -> None:
    settings.EMBARGO_LOGIN_BACKOFF = {
        "account": {"free": 2, "base": 30, "ceiling": 3600},
        "ip": {"free": 100, "base": 30, "ceiling": 3600},
    }
    clock.freeze(START)
    make_user("known@example.org")
    answers = []
    for email in ("known@example.org", "nobody@example.org"):
        for _ in range(2):
            _log_in(email, "wrong password!")
        refused = _log_in(email, "wrong password!")
        answers.append((refused.status_code, refused["Retry-After"], refused.content))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_backoff_per_ip_spans_addresses(settings: Any) -> None:
    settings.EMBARGO_LOGIN_BACKOFF = {
        "account": {"free": 100, "base": 30, "ceiling": 3600},
        "ip": {"free": 3, "base": 30, "ceiling": 3600},
    }
    clock.freeze(START)
    for n in range(3):
        _log_in(f"guess{n}@example.org", "wrong password!")
    _assert_refused_page(_log_in("guess9@example.org", "wrong password!"))
    assert _log_in("guess9@example.org", "wrong password!", Client(REMOTE_ADDR="192.0.2.44")).status_code == 200


@pytest.mark.rate_limits
@pytest.mark.django_db
def test_login_attempts_per_ip_are_limited_too(settings: Any) -> None:
    _limits(settings, login={"ip": "2/15m"})
    clock.freeze(START)
    for n in range(2):
        assert _log_in(f"a{n}@example.org", "wrong password!").status_code == 200
    _assert_refused_page(_log_in("a9@example.org", "wrong password!"))
