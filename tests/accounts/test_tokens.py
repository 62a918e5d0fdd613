"""Scoped API tokens (read / write / publish, per project), their expiry, revocation and last use; and the
browser asking for the password again before a sensitive change (a new token, the policy, the packagers)."""

from __future__ import annotations

import datetime as dt
from base64 import b32encode

import pyotp
import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from embargo import clock
from embargo.accounts.actions import do_create_token
from embargo.accounts.models import ApiToken, User
from embargo.projects.models import Project
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def _token(email: str, **options: object) -> Api:
    return Api(do_create_token(User.objects.get(email=email), acting_user=None, **options))  # type: ignore[arg-type]


def test_a_read_token_reads_and_changes_nothing(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    reader = _token("maintainer@example.org", scope="read")
    assert reader.get(f"/api/v1/reports/{report_id}").status == 200
    refused = reader.post(f"/api/v1/reports/{report_id}/messages", {"body": "Hello"})
    assert refused.status == 403
    assert refused.json["error"]["code"] == "token_scope"
    assert "only read" in refused.json["error"]["message"]


def test_a_write_token_changes_things_but_does_not_publish(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    writer = _token("maintainer@example.org", scope="write")
    assert writer.post(f"/api/v1/reports/{report_id}/messages", {"body": "Hello"}).status == 201
    refused = writer.post(f"/api/v1/reports/{report_id}/publish", {})
    assert refused.status == 403
    assert "publish" in refused.json["error"]["message"]
    # A publish token passes the scope (the publication itself is refused for its own reasons here).
    publisher = _token("maintainer@example.org", scope="publish")
    assert publisher.post(f"/api/v1/reports/{report_id}/publish", {}).json["error"]["code"] != "token_scope"


def test_a_token_limited_to_a_project_reaches_no_other(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    other = Project.objects.get(slug="other")
    limited = _token("maintainer@example.org", projects=[other])
    assert limited.get(f"/api/v1/reports/{report_id}").status == 404
    assert limited.get("/api/v1/projects/requests/reports").status == 404
    assert (
        _token("maintainer@example.org", projects=[Project.objects.get(slug="requests")])
        .get(f"/api/v1/reports/{report_id}")
        .status
        == 200
    )


def test_tokens_expire_and_are_revoked_and_show_their_last_use(team: dict[str, Api]) -> None:
    expiring = _token("reporter@example.org", expires_at=clock.now() + dt.timedelta(days=1))
    assert expiring.get("/api/v1/reports/mine").status == 200
    clock.freeze(clock.now() + dt.timedelta(days=2))
    assert expiring.get("/api/v1/reports/mine").status == 401
    clock.freeze(None)

    listed = team["reporter"].get("/api/v1/account/tokens").json
    assert [t["last_used_at"] is not None for t in listed].count(True) >= 1
    assert all("token_hash" not in t for t in listed)
    mine = next(t for t in listed if t["prefix"] == team["reporter"].token[:10])  # the one this client uses
    assert mine["last_used_at"] is not None
    assert team["reporter"].call("DELETE", f"/api/v1/account/tokens/{mine['id']}").status == 204
    assert team["reporter"].get("/api/v1/reports/mine").status == 401
    someone_elses = ApiToken.objects.filter(user__email="owner@example.org").first()
    assert team["outsider"].call("DELETE", f"/api/v1/account/tokens/{someone_elses.pk}").status == 404


def _signed_in(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def test_a_new_token_in_the_browser_needs_a_recent_log_in(team: dict[str, Api]) -> None:
    owner = User.objects.get(email="owner@example.org")
    owner.set_password(PASSWORD)
    owner.save()
    client = _signed_in("owner@example.org")
    form = {"action": "create", "name": "CI", "scope": "read", "projects": ["requests"], "expires_in_days": "30"}
    made = client.post("/account/tokens/", form)
    assert made.status_code == 200
    assert "shown only now" in made.content.decode()
    row = ApiToken.objects.get(user=owner, name="CI")
    assert row.scope == "read"
    assert [p.slug for p in row.projects.all()] == ["requests"]

    clock.freeze(clock.now() + dt.timedelta(minutes=11))  # the log-in is no longer recent
    stale = client.post("/account/tokens/", {**form, "name": "CI 2"})
    assert stale.status_code == 302
    assert stale["Location"] == "/account/confirm/?next=%2Faccount%2Ftokens%2F"
    assert not ApiToken.objects.filter(name="CI 2").exists()
    wrong = client.post("/account/confirm/", {"password": "nope", "code": "000000", "next": "/account/tokens/"})
    assert "The password is not right." in wrong.content.decode()
    device = TOTPDevice.objects.get(user=owner, confirmed=True)
    code = pyotp.TOTP(b32encode(device.bin_key).decode()).now()
    confirmed = client.post("/account/confirm/", {"password": PASSWORD, "code": code, "next": "/account/tokens/"})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/account/tokens/"
    assert client.post("/account/tokens/", {**form, "name": "CI 2"}).status_code == 200
    assert ApiToken.objects.filter(name="CI 2").exists()


def test_project_settings_and_packagers_need_a_recent_log_in(team: dict[str, Api]) -> None:
    client = _signed_in("owner@example.org")
    clock.freeze(clock.now() + dt.timedelta(minutes=30))
    for path, data in (
        ("/projects/requests/settings/", {"action": "intake", "public_issues_url": "https://example.org/issues"}),
        ("/projects/requests/settings/packagers/", {"action": "add", "organisation": "Distro"}),
    ):
        response = client.post(path, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/account/confirm/")
    assert Project.objects.get(slug="requests").public_issues_url == ""
