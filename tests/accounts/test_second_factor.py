"""The second factor, through the real pages, with codes computed by pyotp as an authenticator app would: team
members see no report in a browser without it, the log-in asks for it, recovery codes work once, reporters may
turn it on and off, a project may ask it of collaborators."""

from __future__ import annotations

import datetime as dt
import re
import time
from base64 import b32encode

import pyotp
import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.projects.models import Project
from tests.helpers import SECRET_TITLE, Api, submit

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def _password_session(email: str) -> Client:
    """Signed in with the password through the log-in form (the first step only)."""
    user = User.objects.get(email=email)
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    response = client.post("/account/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _app(device: TOTPDevice) -> pyotp.TOTP:
    return pyotp.TOTP(b32encode(device.bin_key).decode())


def _set_up(client: Client, email: str) -> list[str]:
    page = client.get("/account/2fa/").content.decode()
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert secret is not None
    qr = client.get("/account/2fa/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml"
    assert b'<svg xmlns="http://www.w3.org/2000/svg"' in qr.content  # a document an <img> can show
    wrong = client.post("/account/2fa/", {"action": "confirm", "code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    code = pyotp.TOTP(secret.group(1)).now()
    done = client.post("/account/2fa/", {"action": "confirm", "code": code}).content.decode()
    codes = re.findall(r"<li><code>(\w+)</code></li>", done)
    assert len(codes) == 10
    assert TOTPDevice.objects.filter(user__email=email, confirmed=True).count() == 1
    return codes


def test_a_maintainer_sees_no_report_before_setting_up_a_second_factor(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    client = _password_session("maintainer@example.org")
    for path in (f"/reports/{report_id}/", "/projects/requests/inbox/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/account/2fa/?next=")
    assert SECRET_TITLE not in client.get(f"/reports/{report_id}/", follow=True).content.decode()
    # An API token is a credential of its own: not asked for codes.
    assert team["maintainer"].get(f"/api/v1/reports/{report_id}").status == 200

    _set_up(client, "maintainer@example.org")
    page = client.get(f"/reports/{report_id}/")
    assert page.status_code == 200
    assert SECRET_TITLE in page.content.decode()
    assert Event.objects.filter(tag="user:second_factor_enabled", actor__email="maintainer@example.org").count() == 1


def test_the_log_in_asks_for_a_code_and_a_recovery_code_works_once(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    codes = _set_up(_password_session("maintainer@example.org"), "maintainer@example.org")
    device = TOTPDevice.objects.get(user__email="maintainer@example.org", confirmed=True)

    client = _password_session("maintainer@example.org")
    asked = client.get(f"/reports/{report_id}/")
    assert asked.status_code == 302
    assert asked["Location"].startswith("/account/2fa/verify/?next=")
    # Even pages that are not about reports wait for the code.
    assert client.get("/account/")["Location"].startswith("/account/2fa/verify/")
    refused = client.post("/account/2fa/verify/", {"code": "123456", "next": f"/reports/{report_id}/"})
    assert "That code is not right." in refused.content.decode()
    # The next window's code (the set-up used this one; a code is never accepted twice).
    code = _app(device).at(time.time() + 30)
    # After a wrong code the device backs off (django-otp's throttling): even the right one waits.
    throttled = client.post("/account/2fa/verify/", {"code": code, "next": f"/reports/{report_id}/"})
    assert throttled.status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=10)
    )  # ten seconds later
    passed = client.post("/account/2fa/verify/", {"code": code, "next": f"/reports/{report_id}/"})
    assert passed.status_code == 302
    assert passed["Location"] == f"/reports/{report_id}/"
    assert SECRET_TITLE in client.get(f"/reports/{report_id}/").content.decode()

    lost_phone = _password_session("maintainer@example.org")
    assert lost_phone.post("/account/2fa/verify/", {"code": codes[0]}).status_code == 302
    assert lost_phone.get(f"/reports/{report_id}/").status_code == 200
    again = _password_session("maintainer@example.org")
    assert "That code is not right." in again.post("/account/2fa/verify/", {"code": codes[0]}).content.decode()
    assert Event.objects.filter(tag="user:recovery_code_used").count() == 1


def test_reporters_may_turn_it_on_and_off_team_members_may_not_turn_it_off(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    reporter = _password_session("reporter@example.org")
    assert reporter.get(f"/reports/{report_id}/").status_code == 200  # optional for reporters
    _set_up(reporter, "reporter@example.org")
    device = TOTPDevice.objects.get(user__email="reporter@example.org", confirmed=True)
    off = reporter.post("/account/2fa/", {"action": "off", "code": _app(device).at(time.time() + 30)})
    assert off.status_code == 302
    assert not TOTPDevice.objects.filter(user__email="reporter@example.org").exists()

    maintainer = _password_session("maintainer@example.org")
    _set_up(maintainer, "maintainer@example.org")
    device = TOTPDevice.objects.get(user__email="maintainer@example.org", confirmed=True)
    kept = maintainer.post("/account/2fa/", {"action": "off", "code": _app(device).at(time.time() + 30)})
    assert "Team members keep their second factor" in kept.content.decode()
    assert TOTPDevice.objects.filter(user__email="maintainer@example.org", confirmed=True).exists()


def test_a_project_may_ask_it_of_collaborators(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    invited = team["maintainer"].post(
        f"/api/v1/reports/{report_id}/collaborators", {"email": "collaborator@example.org"}
    )
    assert invited.status == 201, invited.text
    User.objects.filter(email="collaborator@example.org").update(email_verified_at="2026-01-01T00:00:00Z")
    client = _password_session("collaborator@example.org")
    assert client.get(f"/reports/{report_id}/").status_code == 200
    Project.objects.filter(slug="requests").update(require_2fa_collaborators=True)
    response = client.get(f"/reports/{report_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/")
