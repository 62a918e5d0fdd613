"""The embargo notice as a packager receives it, through the real worker and a real SMTP server: encrypted to a
packager with a key and signed with the project's key; signed in clear to one without; carrying every advisory,
every patch of every branch byte for byte and a calendar event. Then the packager's personal links."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
from collections.abc import Iterator
from email.message import EmailMessage, Message
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from icalendar import Calendar

from embargo import clock
from embargo.accounts.actions import do_create_token
from embargo.notifications.models import OutboxMessage
from embargo.notifications.outbox import queue_email
from embargo.notifications.worker import run_pass
from embargo.projects.models import Packager, ProjectKey
from embargo.releases.models import PackagerNotice, ReleaseEntry, SecurityRelease
from embargo.reports.models import Report
from embargo.vault import openpgp
from tests.helpers import Api, make_project, make_user
from tests.releases import scenario
from tests.smtp import SmtpServer
from tests.vault.keys import give_project_key

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # a Monday
RELEASE_AT = dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.UTC)  # Tuesday 15:00 in Berlin


@pytest.fixture(scope="module")
def keys() -> dict[str, openpgp.GeneratedKey]:
    return {
        "project": openpgp.generate_key("Requests security team", "security@requests.example.org"),
        "packager": openpgp.generate_key("Distro security", "security@distro.example.org"),
    }


def _caller(api: Api) -> scenario.Call:
    return lambda method, path, body=None: api.call(method, path, body)


def _uploader(api: Api) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(path: str, branch: str, filename: str, content: bytes) -> Any:
        return api.post(path, files={"file": SimpleUploadedFile(filename, content), "branch": branch})

    return upload


@pytest.fixture
def world(keys: dict[str, openpgp.GeneratedKey]) -> Iterator[dict[str, Any]]:
    clock.freeze(NOW)
    project = make_project("requests", owner="owner", maint="maintainer")
    project.supported_branches = list(scenario.BRANCHES)
    project.save()
    owner = project.memberships.get(role="owner").user
    _, reporter = make_user("reporter@example.net")
    team = Api(do_create_token(owner, acting_user=None))
    reports = [
        scenario.ready_report(
            n=n, slug="requests", reporter=_caller(reporter), team=_caller(team), upload=_uploader(team)
        )
        for n in (1, 2)
    ]
    give_project_key(project, keys["project"])
    with_key = Packager.objects.create(
        project=project, organisation="Distro Security",
        emails=["security@distro.example.org", "oncall@distro.example.org"],
        public_key=keys["packager"].public_armored, key_fingerprint=keys["packager"].fingerprint, created_at=NOW,
    )  # fmt: skip
    clear = Packager.objects.create(
        project=project, organisation="Clear Packagers", emails=["pkg@clear.example.org"], created_at=NOW
    )
    release = SecurityRelease.objects.create(
        project=project, versions=["2.32.4", "2.31.1"], release_at=RELEASE_AT, timezone="Europe/Berlin",
        created_by=owner, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    with transaction.atomic():
        for report in reports:
            ReleaseEntry.objects.create(
                release=release, report=Report.objects.get(public_id=report["id"]), added_at=NOW
            )
        notices = {}
        for packager, ids in ((with_key, [r["id"] for r in reports]), (clear, [reports[0]["id"]])):
            notice = PackagerNotice.objects.create(
                release=release, packager=packager, round=1, reason="first", report_ids=ids,
                encrypted=bool(packager.public_key), created_at=NOW,
            )  # fmt: skip
            notices[packager.organisation] = notice
            for address in packager.emails:
                queue_email("packager_notice", to=address, context={"notice": notice.public_id})
    yield {"reports": reports, "release": release, "notices": notices, "with_key": with_key, "clear": clear}
    clock.freeze(None)


def _deliver(smtp: SmtpServer) -> list[EmailMessage]:
    with override_settings(EMBARGO_SMTP_URL=smtp.url):
        result = run_pass(clock.now(), run_jobs=False)
    assert not result.errors, result.errors
    return [m for m in smtp.mailbox.wait_for(0) if str(m["Subject"]).startswith("[EMBARGOED]")]


def _files(inner: Message) -> dict[str, bytes]:
    return {
        part.get_filename(): part.get_payload(decode=True) for part in inner.walk() if part.get_filename() is not None
    }


def _text(inner: Message) -> str:
    for part in inner.walk():
        if part.get_content_type() == "text/plain" and part.get_filename() is None:
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def _check_content(files: dict[str, bytes], text: str, reports: list[dict[str, Any]]) -> None:
    for report in reports:
        name = report["advisory_id"]
        assert report["cve_id"] in text
        osv = json.loads(files[f"{name}.osv.json"])
        assert report["cve_id"] in osv["aliases"]
        assert report["cve_id"] in files[f"{name}.txt"].decode()
        for filename, content in report["patches"].items():
            matching = [f for f in files if f.endswith(filename)]
            assert len(matching) == 1, (filename, list(files))
            assert files[matching[0]] == content  # byte for byte
    event = Calendar.from_ical(files["release.ics"]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == RELEASE_AT
    assert "Tuesday 2026-12-08 14:00 UTC" in text
    assert "15:00 Europe/Berlin" in text


def test_packagers_get_every_advisory_and_patch_signed_and_encrypted_where_possible(
    world: dict[str, Any], keys: dict[str, openpgp.GeneratedKey]
) -> None:
    with SmtpServer() as smtp:
        sent = _deliver(smtp)
    by_address = {str(m["To"]): m for m in sent}
    assert set(by_address) == {"security@distro.example.org", "oncall@distro.example.org", "pkg@clear.example.org"}

    encrypted = email.message_from_bytes(
        by_address["security@distro.example.org"].as_bytes(), policy=email.policy.default
    )
    assert encrypted.get_content_type() == "multipart/encrypted"
    for report in world["reports"]:  # nothing readable outside the encryption
        assert report["cve_id"].encode() not in encrypted.as_bytes()
        assert scenario.patch_bytes(1, "main") not in encrypted.as_bytes()
    inner, signer = openpgp.decrypt_mime(
        encrypted, secret_armored=keys["packager"].secret_armored, signer_armored=keys["project"].public_armored
    )
    assert signer == keys["project"].fingerprint
    _check_content(_files(inner), _text(inner), world["reports"])
    assert len([f for f in _files(inner) if f.endswith(".patch")]) == 4
    assert openpgp.fingerprint_display(keys["project"].fingerprint) in _text(inner)  # to check the signer by hand

    clear = by_address["pkg@clear.example.org"]
    assert clear.get_content_type() == "multipart/signed"
    assert (
        openpgp.verify_signed_mime(clear, public_armored=keys["project"].public_armored) == keys["project"].fingerprint
    )
    signed_part = clear.get_payload()[0]
    files = _files(signed_part)
    _check_content(files, _text(signed_part), world["reports"][:1])  # it was sent the first report only
    assert not any(world["reports"][1]["advisory_id"] in name for name in files)

    for notice in world["notices"].values():
        notice.refresh_from_db()
        assert notice.delivered_at is not None
    assert not OutboxMessage.objects.filter(template="packager_notice", sent_at__isnull=True).exists()


def test_nothing_goes_out_unsigned(world: dict[str, Any]) -> None:
    ProjectKey.objects.all().delete()
    with SmtpServer() as smtp:
        with override_settings(EMBARGO_SMTP_URL=smtp.url):
            result = run_pass(clock.now(), run_jobs=False)
        assert not [m for m in smtp.mailbox.wait_for(0) if str(m["Subject"]).startswith("[EMBARGOED]")]
    assert result.retried == 3
    assert "no OpenPGP key" in result.errors[0]
    assert all(n.delivered_at is None for n in PackagerNotice.objects.all())


def _links(notice: PackagerNotice) -> tuple[str, str]:
    from embargo.releases import links

    return links.ack_path(notice), links.access_path(notice.packager, notice.release)


def test_an_acknowledgement_link_works_once_and_only_for_its_packager(world: dict[str, Any]) -> None:
    distro, clear = world["notices"]["Distro Security"], world["notices"]["Clear Packagers"]
    ack, _ = _links(distro)
    client = Client()
    page = client.get(ack)
    assert page.status_code == 200
    assert b"Acknowledge receipt" in page.content
    distro.refresh_from_db()
    assert distro.acknowledged_at is None  # a GET (a mail scanner) acknowledges nothing
    assert client.post(ack).status_code == 200
    distro.refresh_from_db()
    first = distro.acknowledged_at
    assert first == NOW
    clock.advance(dt.timedelta(hours=1))
    again = client.post(ack)
    assert b"the link has been used" in again.content
    distro.refresh_from_db()
    assert distro.acknowledged_at == first
    # Distro's token on the other packager's notice
    token = ack.rstrip("/").rsplit("/", 1)[1]
    assert client.post(f"/packagers/ack/{clear.public_id}/{token}/").status_code == 404
    clear.refresh_from_db()
    assert clear.acknowledged_at is None


def test_a_packager_sees_only_what_it_was_sent(world: dict[str, Any]) -> None:
    client = Client()
    first, second = world["reports"]
    _, distro_access = _links(world["notices"]["Distro Security"])
    _, clear_access = _links(world["notices"]["Clear Packagers"])
    page = client.get(distro_access)
    assert page.status_code == 200
    assert first["advisory_id"].encode() in page.content
    assert second["advisory_id"].encode() in page.content
    page = client.get(clear_access)
    assert page.status_code == 200
    assert first["advisory_id"].encode() in page.content
    assert second["advisory_id"].encode() not in page.content

    patch_ids = re.findall(r"patches/([A-Za-z0-9]+)/", client.get(distro_access).content.decode())
    assert len(patch_ids) == 4
    downloads = {client.get(f"{distro_access}patches/{pid}/") for pid in patch_ids}
    contents = {b"".join(r.streaming_content) if r.streaming else r.content for r in downloads}
    assert contents == {c for r in world["reports"] for c in r["patches"].values()}
    for response in downloads:
        assert response["Content-Disposition"].startswith("attachment")
    # The clear packager was sent the first report only: the second's patches are not there for it.
    second_ids = re.findall(r"patches/([A-Za-z0-9]+)/", client.get(clear_access).content.decode())
    assert len(second_ids) == 2
    for pid in set(patch_ids) - set(second_ids):
        assert client.get(f"{clear_access}patches/{pid}/").status_code == 404
    assert client.get(f"{clear_access}advisories/{second['advisory_id']}.osv.json").status_code == 404
    osv = client.get(f"{clear_access}advisories/{first['advisory_id']}.osv.json")
    assert osv.status_code == 200
    assert first["cve_id"].encode() in osv.content
    # A forged token, or another packager's token for this release
    assert client.get(distro_access.replace(distro_access.rstrip("/").rsplit("/", 1)[1], "0" * 32)).status_code == 404


def test_a_removed_packagers_links_stop_working(world: dict[str, Any]) -> None:
    client = Client()
    ack, access = _links(world["notices"]["Distro Security"])
    assert client.get(access).status_code == 200
    Packager.objects.filter(pk=world["with_key"].pk).update(removed_at=NOW, link_version=2)
    assert client.get(access).status_code == 404
    assert client.get(ack).status_code == 404
    assert client.post(ack).status_code == 404


def test_links_close_at_publication(world: dict[str, Any]) -> None:
    client = Client()
    _, access = _links(world["notices"]["Clear Packagers"])
    SecurityRelease.objects.filter(pk=world["release"].pk).update(published_at=NOW)
    assert client.get(access).status_code == 404


def test_a_notice_queued_for_a_packager_removed_since_is_not_sent(world: dict[str, Any]) -> None:
    """The notice is put together at delivery: a packager taken off the list (or one of its addresses) in between
    gets nothing, and the rows are closed without retries."""
    Packager.objects.filter(pk=world["with_key"].pk).update(removed_at=NOW, link_version=2)
    Packager.objects.filter(pk=world["clear"].pk).update(emails=["new@clear.example.org"])
    with SmtpServer() as smtp:
        with override_settings(EMBARGO_SMTP_URL=smtp.url):
            result = run_pass(clock.now(), run_jobs=False)
        assert not [m for m in smtp.mailbox.wait_for(0) if str(m["Subject"]).startswith("[EMBARGOED]")]
    assert result.cancelled == 3
    rows = OutboxMessage.objects.filter(template="packager_notice")
    assert {r.last_error.split(":")[0] for r in rows} == {"cancelled"}
    assert all(r.failed_at is not None and r.sent_at is None for r in rows)


def test_team_only_patches_and_later_ones_are_not_sent(world: dict[str, Any]) -> None:
    from embargo.fixes.models import Fix, Patch

    first = Report.objects.get(public_id=world["reports"][0]["id"])
    Fix.objects.filter(report=first).update(team_only=True)
    later = Patch.objects.filter(fix__report__public_id=world["reports"][1]["id"]).first()
    assert later is not None
    Patch.objects.filter(pk=later.pk).update(created_at=NOW + dt.timedelta(minutes=5))
    client = Client()
    _, access = _links(world["notices"]["Distro Security"])
    page = client.get(access).content.decode()
    shown = set(re.findall(r"patches/([A-Za-z0-9]+)/", page))
    assert later.public_id not in shown
    assert not shown & set(Patch.objects.filter(fix__report=first).values_list("public_id", flat=True))
    assert len(shown) == 1
    assert client.get(f"{access}patches/{later.public_id}/").status_code == 404


def test_the_notice_names_the_projects_zone_when_the_release_is_set_in_another(world: dict[str, Any]) -> None:
    from embargo.releases import notices

    world["release"].project.policy.timezone = "America/New_York"
    world["release"].project.policy.save()
    words = notices.moment(SecurityRelease.objects.select_related("project__policy").get(pk=world["release"].pk))
    assert words["local"] == "Tuesday 2026-12-08 15:00 Europe/Berlin"
    assert words["project"] == "Tuesday 2026-12-08 09:00 America/New_York"
