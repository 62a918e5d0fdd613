"""Sessions end when idle and after an absolute time; cookies and HSTS follow the base URL's scheme; every kind of
response carries the strict Content-Security-Policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from embargo import clock
from embargo.accounts.models import User
from embargo.settings import transport_security
from tests.helpers import Api, make_user, submit

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple 7"


def _signed_in(email: str = "alice@example.org") -> Client:
    user, _ = make_user(email)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    client = Client()
    assert client.post("/account/login/", {"username": email, "password": PASSWORD}).status_code == 302
    return client


def _is_signed_in(client: Client) -> bool:
    response = client.get("/reports/")
    return response.status_code == 200


def test_a_session_idle_too_long_is_logged_out_and_sent_to_log_in(settings: Any) -> None:
    settings.EMBARGO_SESSION_IDLE_MINUTES = 30
    clock.freeze(START)
    client = _signed_in()
    clock.advance(dt.timedelta(minutes=29))
    assert _is_signed_in(client)
    # Used at 29 minutes: idle counts from there.
    clock.advance(dt.timedelta(minutes=29))
    assert _is_signed_in(client)
    clock.advance(dt.timedelta(minutes=30))
    expired = client.get("/reports/")
    assert expired.status_code == 302
    assert expired["Location"].startswith("/account/login/?next=/reports/")
    followed = client.get(expired["Location"])
    assert b"session expired" in followed.content
    # Logged out for good, not only redirected once.
    assert "_auth_user_id" not in client.session
    assert client.get("/reports/").status_code == 302


def test_a_session_ends_after_the_absolute_limit_however_busy(settings: Any) -> None:
    settings.EMBARGO_SESSION_IDLE_MINUTES = 30
    settings.EMBARGO_SESSION_MAX_HOURS = 12
    clock.freeze(START)
    client = _signed_in()
    for _ in range(12 * 4 - 1):  # a request every 15 minutes: never idle
        clock.advance(dt.timedelta(minutes=15))
        assert _is_signed_in(client)
    clock.advance(dt.timedelta(minutes=15))  # 12 hours since the log-in
    assert client.get("/reports/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_new_log_in_starts_a_new_session(settings: Any) -> None:
    clock.freeze(START)
    client = _signed_in()
    clock.advance(dt.timedelta(hours=1))
    assert client.get("/reports/").status_code == 302  # idle
    assert client.post("/account/login/", {"username": "alice@example.org", "password": PASSWORD}).status_code == 302
    assert _is_signed_in(client)


def test_the_api_is_not_timed_out_by_sessions(settings: Any) -> None:
    clock.freeze(START)
    _, api = make_user("bot@example.org")
    assert api.get("/api/v1/reports/mine").status == 200
    clock.advance(dt.timedelta(days=2))
    assert api.get("/api/v1/reports/mine").status == 200


def test_over_https_cookies_are_secure_and_hsts_is_sent(settings: Any) -> None:
    secure = transport_security("https://embargo.example.org", [])
    assert secure["SESSION_COOKIE_SECURE"] is True
    assert secure["CSRF_COOKIE_SECURE"] is True
    assert secure["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert secure["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    # X-Forwarded-Proto is believed only from trusted proxies.
    assert "SECURE_PROXY_SSL_HEADER" not in secure
    assert transport_security("https://embargo.example.org", ["10.0.0.1"])["SECURE_PROXY_SSL_HEADER"] == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )
    for name, value in secure.items():
        setattr(settings, name, value)
    client = _signed_in()
    login = client.cookies
    assert login["sessionid"]["secure"] is True
    assert login["sessionid"]["httponly"] is True
    assert login["sessionid"]["samesite"] == "Lax"
    response = Client().get("/account/login/", secure=True)
    assert response.cookies["csrftoken"]["secure"] is True
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_over_http_nothing_of_it(settings: Any) -> None:
    plain = transport_security("http://127.0.0.1:8000", ["10.0.0.1"])
    assert plain == {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0}
    for name, value in plain.items():
        setattr(settings, name, value)
    client = _signed_in()
    assert not client.cookies["sessionid"]["secure"]
    assert client.cookies["sessionid"]["httponly"] is True
    response = Client().get("/account/login/")
    assert "Strict-Transport-Security" not in response


# --- the Content-Security-Policy on every kind of response ----------------------------------------------------


def test_every_kind_of_response_carries_the_strict_csp(team: dict[str, Api]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    report_id = submit(team["reporter"])["id"]
    attached = team["reporter"].post(
        f"/api/v1/reports/{report_id}/attachments", files={"file": SimpleUploadedFile("poc.txt", b"proof")}
    )
    assert attached.status == 201, attached.text
    client = Client()
    client.force_login(User.objects.get(email="reporter@example.org"))
    responses = {
        "home": Client().get("/"),
        "form page": Client().get("/account/login/"),
        "project page": Client().get("/projects/requests/"),
        "not found page": Client().get("/no/such/page/"),
        "report page": client.get(f"/reports/{report_id}/"),
        "file download": client.get(f"/reports/{report_id}/attachments/{attached.json['id']}/"),
        "security.txt": Client().get("/.well-known/security.txt"),
        "API answer": team["reporter"].client.get("/api/v1/reports/mine", headers=team["reporter"]._headers()),
        "API error": Client().get("/api/v1/no-such-route"),
    }
    download = responses.pop("file download")
    assert download.status_code == 200
    # A downloaded file gets a stricter policy still: nothing may load, and it runs sandboxed if opened.
    assert "default-src 'none'" in download["Content-Security-Policy"]
    assert "sandbox" in download["Content-Security-Policy"]
    for kind, response in responses.items():
        policy = response.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, kind
        assert "script-src 'self'" in policy, kind
        assert "frame-ancestors 'none'" in policy, kind
        assert "unsafe-inline" not in policy, kind
        assert "unsafe-eval" not in policy, kind
    assert responses["API answer"].status_code == 200
    assert responses["not found page"].status_code == 404


def test_the_settings_follow_the_base_url(tmp_path: Any) -> None:
    """Guards the `globals().update(transport_security(…))` line of settings.py, in a fresh interpreter."""
    import os
    import subprocess
    import sys

    script = (
        "from django.conf import settings; "
        "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBARGO_")}
    env.update(DJANGO_SETTINGS_MODULE="embargo.settings", EMBARGO_DATA_DIR=str(tmp_path))
    for base_url, expected in (
        ("https://embargo.example.org", "True True 31536000"),
        ("http://localhost", "False False 0"),
    ):
        result = subprocess.run(
            [sys.executable, "-c", script], env={**env, "EMBARGO_BASE_URL": base_url},
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        assert result.stdout.strip() == expected, result.stderr
