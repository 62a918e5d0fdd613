"""Issue 7 end to end, with real processes (`embargo serve`, `embargo worker`) and a real SMTP server: a team plans
a weekday release of two fixes on two branches; two packagers (one with a key made here) get the notices, signed,
and encrypted where possible; acknowledgement links work once and only for their packager; a moved date and a
report added afterwards notify both again; the release page shows who acknowledged."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable
from email.message import EmailMessage, Message
from typing import Any

import pytest
from icalendar import Calendar

from embargo.domain.policy import Policy
from embargo.domain.releases import next_allowed_dates
from embargo.vault import openpgp
from tests.e2e.conftest import EMBARGO, Instance, Response, Server
from tests.releases import scenario
from tests.smtp import SmtpServer

pytestmark = pytest.mark.e2e

SLUG = "requests9"
DISTRO = "security@distro.example.org"
CLEAR = "packages@clear.example.org"


def _token(instance: Instance, email_address: str) -> str:
    return instance.run("token", "create", email_address).stdout.strip()


def _upload(server: Server, token: str) -> Callable[[str, str, str, bytes], Response]:
    def upload(path: str, branch: str, filename: str, content: bytes) -> Response:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="branch"\r\n\r\n{branch}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return server.call(
            "POST", path, raw=body, token=token, content_type=f"multipart/form-data; boundary={boundary}"
        )

    return upload


def _caller(server: Server, token: str) -> scenario.Call:
    return lambda method, path, body=None: server.call(method, path, body, token=token)


def _post_form(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, data=b"", method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def _notices(smtp: SmtpServer, address: str, count: int) -> list[EmailMessage]:
    def mine() -> list[EmailMessage]:
        return [m for m in smtp.mailbox.to(address) if str(m["Subject"]).startswith("[EMBARGOED]")]

    deadline = time.monotonic() + 60
    while len(mine()) < count and time.monotonic() < deadline:
        smtp.mailbox.wait_for(len(smtp.mailbox.messages) + 1, timeout=1)
    found = mine()
    assert len(found) == count, [m["Subject"] for m in smtp.mailbox.to(address)]
    return found


def _open(message: EmailMessage, keys: dict[str, openpgp.GeneratedKey]) -> Message:
    """The notice's content: decrypted (and its signature checked) or, in clear, its signature checked."""
    raw = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    if raw.get_content_type() == "multipart/encrypted":
        inner, signer = openpgp.decrypt_mime(
            raw, secret_armored=keys["packager"].secret_armored, signer_armored=keys["project_public"]
        )
    else:
        assert raw.get_content_type() == "multipart/signed"
        signer = openpgp.verify_signed_mime(raw, public_armored=keys["project_public"])  # type: ignore[arg-type]
        inner = raw.get_payload()[0]
    assert signer == keys["project_fingerprint"]  # type: ignore[comparison-overlap]
    return inner


def _content(inner: Message) -> tuple[str, dict[str, bytes]]:
    files = {p.get_filename(): p.get_payload(decode=True) for p in inner.walk() if p.get_filename()}
    text = next(
        p.get_payload(decode=True).decode()
        for p in inner.walk()
        if p.get_content_type() == "text/plain" and not p.get_filename()
    )
    return text, files


def _check(inner: Message, reports: list[dict[str, Any]], release_at: dt.datetime) -> str:
    text, files = _content(inner)
    for report in reports:
        assert report["cve_id"] in text
        assert report["cve_id"] in json.loads(files[f"{report['advisory_id']}.osv.json"])["aliases"]
        for filename, content in report["patches"].items():
            (name,) = [f for f in files if f.endswith(filename)]
            assert files[name] == content
    assert len([f for f in files if f.endswith(".patch")]) == 2 * len(reports)
    assert Calendar.from_ical(files["release.ics"]).walk("VEVENT")[0].decoded("dtstart") == release_at
    return text


def test_a_weekday_release_of_two_fixes_reaches_every_packager(
    instance: Instance, serve: Callable[..., Server]
) -> None:
    instance.run("migrate")
    instance.run("project", "create", SLUG, "--name", "Requests9", "--package", "PyPI:" + SLUG)
    for address in ("owner@example.org", "maint@example.org", "reporter@example.net"):
        instance.run("user", "create", address)
    instance.run("project", "add-member", SLUG, "owner@example.org", "--role", "owner")
    instance.run("project", "add-member", SLUG, "maint@example.org", "--role", "maintainer")
    owner, maint, reporter = (
        _token(instance, a) for a in ("owner@example.org", "maint@example.org", "reporter@example.net")
    )
    packager_key = openpgp.generate_key("Distro Security", DISTRO)

    with SmtpServer() as smtp:
        instance.env["EMBARGO_SMTP_URL"] = smtp.url
        server = serve("--no-worker")
        worker = subprocess.Popen(
            [str(EMBARGO), "worker", "--interval", "0.2"], env=instance.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            settings = server.call(
                "PATCH", f"/api/v1/projects/{SLUG}", {"supported_branches": list(scenario.BRANCHES)}, token=owner
            )
            assert settings.status == 200, settings.text
            generated = server.call("POST", f"/api/v1/projects/{SLUG}/signing-key", {"generate": True}, token=owner)
            assert generated.status in (200, 201), generated.text
            public = server.call("GET", f"/projects/{SLUG}/pgp-key.asc")
            assert public.status == 200
            keys: dict[str, Any] = {
                "packager": packager_key,
                "project_public": public.text,
                "project_fingerprint": generated.json["fingerprint"],
            }
            for body in (
                {"organisation": "Distro Security", "emails": [DISTRO], "public_key": packager_key.public_armored},
                {"organisation": "Clear Packagers", "emails": [CLEAR]},
            ):
                added = server.call("POST", f"/api/v1/projects/{SLUG}/packagers", body, token=owner)
                assert added.status == 201, added.text

            team, upload = _caller(server, maint), _upload(server, maint)
            reports = [
                scenario.ready_report(n=n, slug=SLUG, reporter=_caller(server, reporter), team=team, upload=upload)
                for n in (1, 2)
            ]
            policy = Policy()
            today = dt.datetime.now(dt.UTC).date()
            first_date, second_date = next_allowed_dates(
                today + dt.timedelta(days=policy.packager_lead_days + 1), policy, 2
            )
            created = server.call(
                "POST", f"/api/v1/projects/{SLUG}/security-releases",
                {"reports": [r["id"] for r in reports], "versions": ["2.32.4", "2.31.1"],
                 "date": first_date.isoformat(), "time": "15:00", "timezone": "UTC"},
                token=maint,
            )  # fmt: skip
            assert created.status == 201, created.text
            release = f"/api/v1/projects/{SLUG}/security-releases/{created.json['id']}"
            sent = server.call("POST", f"{release}/notify-packagers", {}, token=maint)
            assert sent.status == 200, sent.text
            release_at = dt.datetime.combine(first_date, dt.time(15, 0), dt.UTC)

            # Round 1: one notice each, encrypted to the packager with a key, signed in clear to the other.
            (encrypted,) = _notices(smtp, DISTRO, 1)
            (clear,) = _notices(smtp, CLEAR, 1)
            assert encrypted.get_content_type() == "multipart/encrypted"
            assert reports[0]["cve_id"].encode() not in encrypted.as_bytes()
            assert clear.get_content_type() == "multipart/signed"
            distro_text = _check(_open(encrypted, keys), reports, release_at)
            clear_text = _check(_open(clear, keys), reports, release_at)

            # Acknowledgements: once, and only for their own packager.
            distro_ack = re.search(r"https?://\S+/packagers/ack/(\S+?)/(\S+?)/", distro_text)
            clear_ack = re.search(r"https?://\S+/packagers/ack/(\S+?)/(\S+?)/", clear_text)
            assert distro_ack
            assert clear_ack
            local = lambda url: server.base_url + url[url.index("/packagers/") :]  # noqa: E731
            crossed = f"{server.base_url}/packagers/ack/{clear_ack.group(1)}/{distro_ack.group(2)}/"
            assert _post_form(crossed)[0] == 404
            status, page = _post_form(local(distro_ack.group(0)))
            assert status == 200
            assert "acknowledgement is recorded" in page
            status, page = _post_form(local(distro_ack.group(0)))
            assert status == 200
            assert "the link has been used" in page
            shown = server.call("GET", release, token=maint).json
            by_org = {p["organisation"]: p for p in shown["packagers"]}
            assert by_org["Distro Security"]["acknowledged_at"]
            assert by_org["Clear Packagers"]["acknowledged_at"] is None
            assert by_org["Distro Security"]["delivered_at"]
            assert by_org["Clear Packagers"]["delivered_at"]
            assert {r["state"] for r in shown["reports"]} == {"scheduled"}

            # A moved date notifies both again, with the new moment.
            moved = server.call("PATCH", release, {"date": second_date.isoformat(), "time": "15:00"}, token=maint)
            assert moved.status == 200, moved.text
            new_at = dt.datetime.combine(second_date, dt.time(15, 0), dt.UTC)
            _check(_open(_notices(smtp, DISTRO, 2)[1], keys), reports, new_at)
            _check(_open(_notices(smtp, CLEAR, 2)[1], keys), reports, new_at)

            # A report added after the notices went out notifies both again, with all three.
            third = scenario.ready_report(n=3, slug=SLUG, reporter=_caller(server, reporter), team=team, upload=upload)
            added = server.call("PATCH", release, {"add_reports": [third["id"]]}, token=maint)
            assert added.status == 200, added.text
            everything = [*reports, third]
            _check(_open(_notices(smtp, DISTRO, 3)[2], keys), everything, new_at)
            _check(_open(_notices(smtp, CLEAR, 3)[2], keys), everything, new_at)

        finally:
            worker.send_signal(signal.SIGTERM)
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        assert worker.returncode == 0, output
    assert server.stop() == 0
