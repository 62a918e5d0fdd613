"""Reporters and teams in the browser: sign-up, the report form, the inbox, the report page, private links."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import pyotp
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from embargo.projects.models import Project
from tests.browser.conftest import Inbox
from tests.helpers import make_project, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def project(live_server: Any) -> Project:
    from django.conf import settings

    settings.EMBARGO_BASE_URL = live_server.url
    user, _ = make_user("maintainer@example.org", name="Mia Maintainer")
    user.set_password(PASSWORD)
    user.save()
    # Team members use a second factor: the maintainer's authenticator app (pyotp in log_in).
    TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    return make_project("requests", maintainer="maintainer")


def log_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """The log-in form, then the code of the person's authenticator app when they have one."""
    page.goto(base + "/account/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button.primary")
    page.wait_for_load_state()
    if "/account/2fa/verify/" in page.url:
        device = TOTPDevice.objects.get(user__email=email, confirmed=True)
        page.fill("#id_code", pyotp.TOTP(b32encode(device.bin_key).decode()).now())
        page.click("button.primary")
    page.wait_for_url("**/reports/")


def test_a_reporter_signs_up_reports_and_reads_the_answer(
    browser: Any, live_server: Any, project: Project, inbox: Inbox
) -> None:
    base = live_server.url
    reporter = browser.new_context().new_page()
    reporter.goto(base + "/account/signup/")
    reporter.fill("#id_email", "ada@example.net")
    reporter.fill("#id_name", "Ada")
    reporter.fill("#id_password", PASSWORD)
    reporter.fill("#id_password_again", PASSWORD)
    reporter.click("button.primary")
    assert "Check your e-mail" in reporter.content()

    reporter.goto(inbox.link("ada@example.net", r"http://\S+/account/verify/\S+/"))
    reporter.click("button.primary")
    log_in(reporter, base, "ada@example.net")

    reporter.goto(base + "/projects/requests/")
    reporter.fill("#id_title", "Proxy credentials leak on redirect")
    reporter.fill("#id_description", "The `Proxy-Authorization` header is resent to another host.")
    reporter.fill("#id_reproduction", "import requests\nrequests.get('http://127.0.0.1:1/')")
    reporter.click("button.primary")
    reporter.wait_for_url("**/reports/*/")
    report_url = reporter.url
    assert "Proxy credentials leak on redirect" in reporter.inner_text("h1")

    team = browser.new_context().new_page()
    log_in(team, base, "maintainer@example.org")
    team.goto(base + "/projects/requests/inbox/")
    team.click("text=Proxy credentials leak on redirect")
    team.check("input[name=to][value=acknowledged]")
    team.fill("#transition-comment", "Thank you, Ada: we are reproducing it.")
    team.click("#transition-submit")
    assert "The report is now acknowledged" in team.content()

    reporter.goto(report_url)
    assert "Thank you, Ada: we are reproducing it." in reporter.inner_text("#thread-title + *, main")
    assert "acknowledged" in reporter.inner_text(".state")


def test_a_transition_without_its_message_keeps_what_was_typed(
    browser: Any, live_server: Any, project: Project
) -> None:
    base = live_server.url
    team = browser.new_context().new_page()
    log_in(team, base, "maintainer@example.org")
    team.goto(base + "/projects/requests/")
    team.fill("#id_title", "A report by the team itself")
    team.fill("#id_description", "Found in review.")
    team.click("button.primary")
    team.wait_for_url("**/reports/*/")
    team.check("input[name=to][value=needs_info]")
    team.click("#transition-submit")
    assert "write it in `comment`" in team.inner_text("#error")
    team.fill("#message-body", "draft that must survive")
    team.check("input[name=to][value=acknowledged]")
    team.click("#transition-submit")
    assert team.locator("#error").count() == 1


def test_a_reporter_without_an_account_follows_the_private_link_until_it_is_revoked(
    browser: Any, live_server: Any, project: Project, inbox: Inbox
) -> None:
    base = live_server.url
    anonymous = browser.new_context().new_page()
    anonymous.goto(base + "/projects/requests/")
    anonymous.fill("#id_email", "grace@example.net")
    anonymous.fill("#id_title", "Header injection in cookies")
    anonymous.fill("#id_description", "A newline in a cookie value splits the header.")
    anonymous.click("button.primary")
    assert "We sent a private link to" in anonymous.content()

    link = inbox.link("grace@example.net", r"http://\S+/r/\S+/")
    anonymous.goto(link)
    assert "Header injection in cookies" in anonymous.inner_text("h1")
    anonymous.fill("#message-body", "I can also share a pcap if useful.")
    anonymous.click("form:has(#message-body) button.primary")
    assert "I can also share a pcap if useful." in anonymous.content()

    team = browser.new_context().new_page()
    log_in(team, base, "maintainer@example.org")
    team.goto(base + "/projects/requests/inbox/")
    team.click("text=Header injection in cookies")
    assert "I can also share a pcap if useful." in team.content()
    team.on("dialog", lambda dialog: dialog.accept())
    team.click("text=Revoke the reporter's links")
    assert "stopped working" in team.content()

    response = anonymous.goto(link)
    assert response is not None
    assert response.status == 404
    assert "Header injection in cookies" not in anonymous.content()


XSS = {
    "script": "<script>window.__xss = 'script'</script>",
    "img": "<img src=x onerror=\"window.__xss = 'img'\">",
    "svg": "<svg onload=\"window.__xss='svg'\"></svg>",
    "link": "[click me](javascript:window.__xss='link')",
    "html_link": "<a href=\"javascript:window.__xss='a'\">a</a>",
    "iframe": "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
    "style": '<style>body{display:none}</style><div style="display:none">hidden</div>',
    "break_out": "</textarea></code></pre><script>window.__xss='breakout'</script>",
}
PAYLOAD = "\n\n".join(XSS.values())


def _assert_nothing_ran(page: Any) -> None:
    for link in page.locator(".rendered a").all():
        href = link.get_attribute("href") or ""
        assert not href.lower().startswith("javascript"), href
    found = page.evaluate(
        """() => {
        const bad = [];
        for (const el of document.querySelectorAll('*')) {
          for (const attr of el.attributes) { if (attr.name.startsWith('on')) bad.push(el.tagName + ' ' + attr.name); }
          if (el.tagName === 'SCRIPT' && !el.src) bad.push('inline script');
          if (['IFRAME', 'SVG', 'STYLE', 'OBJECT', 'EMBED'].includes(el.tagName.toUpperCase())) bad.push(el.tagName);
        }
        return {flag: window.__xss || null, bad};
    }"""
    )
    assert found == {"flag": None, "bad": []}


def test_stored_xss_runs_nowhere(browser: Any, live_server: Any, project: Project, inbox: Inbox) -> None:
    base = live_server.url
    dialogs: list[str] = []
    anonymous = browser.new_context().new_page()
    anonymous.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    anonymous.goto(base + "/projects/requests/")
    anonymous.fill("#id_email", "mallory@example.net")
    anonymous.fill("#id_title", XSS["script"][:200])
    for field in ("description", "affected_versions", "reproduction", "impact"):
        anonymous.fill(f"#id_{field}", PAYLOAD)
    anonymous.fill("#id_credit_name", XSS["img"])
    anonymous.click("button.primary")
    link = inbox.link("mallory@example.net", r"http://\S+/r/\S+/")
    anonymous.goto(link)
    anonymous.fill("#message-body", PAYLOAD)
    anonymous.click("form:has(#message-body) button.primary")
    _assert_nothing_ran(anonymous)
    assert "window.__xss" in anonymous.inner_text("main")  # shown as text, not dropped silently

    team = browser.new_context().new_page()
    team.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(team, base, "maintainer@example.org")
    team.goto(base + "/projects/requests/inbox/")
    _assert_nothing_ran(team)
    team.click("table a")
    team.fill("#message-body", PAYLOAD)
    team.check("input[name=internal]")
    team.click("form:has(#message-body) button.primary")
    _assert_nothing_ran(team)
    assert dialogs == []
