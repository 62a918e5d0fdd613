"""The project's OpenPGP key: owners generate or upload it, rotation retires the old one (still published),
everyone can fetch the public keys, and the secret key never leaves the vault. Also the announcement lists."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import ProjectKey
from embargo.vault.openpgp import fingerprint_display
from tests.helpers import Api
from tests.vault import keys
from tests.vault.keys import gpg_home

pytestmark = pytest.mark.django_db
PROJECT = "/api/v1/projects/requests"
SIGNING_KEY = PROJECT + "/signing-key"
KEY_FILE = "/projects/requests/pgp-key.asc"


def owner_browser() -> Client:
    client = Client()
    client.force_login(User.objects.get(email="owner@example.org"))
    return client


def secret_lines(armored: str) -> list[str]:
    """Lines of the secret key's armour that would betray it anywhere (its body, not the header)."""
    return [line for line in armored.splitlines() if len(line) > 40]


def test_an_owner_generates_the_key_and_gets_its_public_part(team: dict[str, Api]) -> None:
    made = team["owner"].post(SIGNING_KEY, {"generate": True})
    assert made.status == 201, made.text
    assert set(made.json) == {"fingerprint", "created_at", "expires_at", "public_key"}
    assert made.json["public_key"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert made.json["expires_at"] is None
    project = team["owner"].get(PROJECT).json
    assert project["signing_key"] == {k: made.json[k] for k in ("fingerprint", "created_at", "expires_at")}
    assert project["retired_keys"] == []
    event = Event.objects.get(tag="project:key_generated")
    assert event.data == {"fingerprint": made.json["fingerprint"], "expires_at": None, "retired": None}


def test_a_project_without_a_key_says_so_and_serves_no_key_file(team: dict[str, Api]) -> None:
    assert team["owner"].get(PROJECT).json["signing_key"] is None
    assert Api().get(KEY_FILE).status == 404
    page = Client().get("/projects/requests/").content.decode()
    assert "ask to join the embargo list" in page
    assert "pgp-key.asc" not in page


def test_rotation_retires_the_old_key_and_the_key_file_serves_both(team: dict[str, Api]) -> None:
    first = team["owner"].post(SIGNING_KEY, {"generate": True}).json
    uploaded = team["owner"].post(SIGNING_KEY, {"secret_key": keys.project_key().secret_armored})
    assert uploaded.status == 201, uploaded.text
    assert uploaded.json["fingerprint"] == keys.project_key().fingerprint

    project = team["owner"].get(PROJECT).json
    assert project["signing_key"]["fingerprint"] == keys.project_key().fingerprint
    assert [k["fingerprint"] for k in project["retired_keys"]] == [first["fingerprint"]]
    assert project["retired_keys"][0]["retired_at"] is not None
    assert ProjectKey.objects.filter(retired_at__isnull=True).count() == 1
    event = Event.objects.get(tag="project:key_uploaded")
    assert event.data["retired"] == first["fingerprint"]

    served = Api().get(KEY_FILE)  # anyone, no account
    assert served.status == 200
    assert served.headers["Content-Type"] in ("application/pgp-keys", "text/plain; charset=utf-8")
    assert served.headers["Content-Disposition"].startswith("attachment;")
    comments = [line for line in served.text.splitlines() if line.startswith("#")]
    assert len(comments) == 2
    assert fingerprint_display(keys.project_key().fingerprint) in comments[0]
    assert "active" in comments[0]
    assert fingerprint_display(first["fingerprint"]) in comments[1]
    assert "retired" in comments[1]
    assert "created" in comments[1]
    # A packager imports the file as it is and gets both keys.
    with gpg_home() as gpg:
        imported = gpg.import_keys(served.text)
        assert set(imported.fingerprints) == {first["fingerprint"], keys.project_key().fingerprint}
    page = Client().get("/projects/requests/").content.decode()
    assert 'href="/projects/requests/pgp-key.asc"' in page


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (keys.protected_secret, "protected by a passphrase"),
        (lambda: keys.packager_key().public_armored, "not an ASCII-armoured OpenPGP secret key"),
        (lambda: "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nZ2FyYmFnZQ==\n-----END PGP PRIVATE KEY BLOCK-----",
         "not an OpenPGP key"),
    ],
    ids=["passphrase", "public-key", "garbage"],
)  # fmt: skip
def test_an_uploaded_key_that_cannot_sign_is_refused_with_the_reason(
    team: dict[str, Api], secret: Any, reason: str
) -> None:
    refused = team["owner"].post(SIGNING_KEY, {"secret_key": secret()})
    assert refused.status == 422, refused.text
    assert refused.json["error"]["code"] == "key_refused"
    assert refused.json["error"]["field"] == "secret_key"
    assert reason in refused.json["error"]["message"]
    assert not ProjectKey.objects.exists()


@pytest.mark.parametrize("body", [{}, {"generate": False}, {"generate": True, "secret_key": "x"}, {"other": 1}])
def test_the_route_takes_either_generate_or_a_secret_key(team: dict[str, Api], body: dict[str, Any]) -> None:
    assert team["owner"].post(SIGNING_KEY, body).status == 422
    assert not ProjectKey.objects.exists()


def test_the_secret_key_is_never_in_a_response_a_log_or_an_event(
    team: dict[str, Api], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = [
        team["owner"].post(SIGNING_KEY, {"generate": True}).text,
        team["owner"].post(SIGNING_KEY, {"secret_key": keys.project_key().secret_armored}).text,
        team["owner"].get(PROJECT).text,
        team["owner"].patch(PROJECT, {"announce_lists": ["announce@example.org"]}).text,
        Api().get(KEY_FILE).text,
        owner_browser().get("/projects/requests/settings/").content.decode(),
        Client().get("/projects/requests/").content.decode(),
    ]
    generated = ProjectKey.objects.exclude(fingerprint=keys.project_key().fingerprint).get()
    secrets = secret_lines(generated.secret_key) + secret_lines(keys.project_key().secret_armored)
    assert len(secrets) > 4
    events = [str(e.data) for e in Event.objects.all()]
    mails = [str(m.context) for m in OutboxMessage.objects.all()]
    for text in [*seen, *events, *mails, caplog.text]:
        assert "END PGP PRIVATE KEY" not in text
        assert not any(line in text for line in secrets)
    # At rest it is sealed: the database holds no armour.
    for raw in ProjectKey.objects.values_list("secret_key", flat=True):
        assert b"PRIVATE KEY" not in bytes(raw)


def test_the_settings_page_shows_the_key_and_rotates_it(team: dict[str, Api]) -> None:
    browser = owner_browser()
    page = browser.get("/projects/requests/settings/").content.decode()
    assert "no key yet" in page
    assert browser.post("/projects/requests/settings/", {"action": "generate_key"}).status_code == 302
    first = ProjectKey.objects.get()
    page = browser.get("/projects/requests/settings/").content.decode()
    assert fingerprint_display(first.fingerprint) in page
    upload = {"action": "upload_key", "secret_key": keys.project_key().secret_armored}
    assert browser.post("/projects/requests/settings/", upload).status_code == 302
    page = browser.get("/projects/requests/settings/").content.decode()
    assert "Retired keys" in page
    assert fingerprint_display(first.fingerprint) in page
    assert fingerprint_display(keys.project_key().fingerprint) in page
    refused = browser.post("/projects/requests/settings/", {"action": "upload_key", "secret_key": "nonsense"})
    assert refused.status_code == 200
    assert "The key was refused: this is not an ASCII-armoured OpenPGP secret key" in refused.content.decode()
    assert ProjectKey.objects.count() == 2


# --- announcement lists ---------------------------------------------------------------------------------------


def test_owners_set_the_announcement_lists(team: dict[str, Api]) -> None:
    lists = {"preannounce_lists": ["distros@example.org", "oss-security@example.org"],
             "announce_lists": ["announce@example.org", "ANNOUNCE@example.org"]}  # fmt: skip
    changed = team["owner"].patch(PROJECT, lists)
    assert changed.status == 200, changed.text
    assert changed.json["preannounce_lists"] == lists["preannounce_lists"]
    assert changed.json["announce_lists"] == ["announce@example.org"]  # the same address once
    assert team["owner"].get(PROJECT).json["preannounce_lists"] == lists["preannounce_lists"]
    event = Event.objects.filter(tag="project:settings_changed").last()
    assert event is not None
    assert event.data["preannounce_lists"] == {"old": [], "new": lists["preannounce_lists"]}


@pytest.mark.parametrize(
    ("lists", "field"),
    [
        ({"preannounce_lists": ["ok@example.org", "not an address"]}, "preannounce_lists.1"),
        ({"announce_lists": ["@example.org"]}, "announce_lists.0"),
        ({"announce_lists": [f"list{i}@example.org" for i in range(21)]}, "announce_lists"),
        ({"announce_lists": "announce@example.org"}, "announce_lists"),
    ],
)
def test_a_bad_list_is_422_naming_the_address(team: dict[str, Api], lists: dict[str, Any], field: str) -> None:
    refused = team["owner"].patch(PROJECT, lists)
    assert refused.status == 422, refused.text
    assert refused.json["error"]["field"] == field
    assert team["owner"].get(PROJECT).json["announce_lists"] == []


def test_the_settings_page_keeps_one_address_a_line(team: dict[str, Api]) -> None:
    browser = owner_browser()
    form = {"action": "lists", "preannounce_lists": "distros@example.org\n\n oss@example.org \n", "announce_lists": ""}
    assert browser.post("/projects/requests/settings/", form).status_code == 302
    assert team["owner"].get(PROJECT).json["preannounce_lists"] == ["distros@example.org", "oss@example.org"]
    bad = browser.post("/projects/requests/settings/", {**form, "announce_lists": "nope"})
    assert bad.status_code == 200
    assert "is not an e-mail address" in bad.content.decode()


def test_key_files_are_not_left_on_disk(team: dict[str, Api], monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import tempfile

    # A temporary folder of this test's own: the other test process (pytest-xdist) makes GnuPG homes meanwhile
    # (failed CI once); short, because gpg-agent's socket path inside the home must stay under 108 characters.
    own = Path(tempfile.mkdtemp(prefix="gk-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(own))
    try:
        generated = team["owner"].post(SIGNING_KEY, {"generate": True})
        assert generated.status < 400, generated.text
        assert list(own.glob("embargo-gpg-*")) == []
    finally:
        shutil.rmtree(own, ignore_errors=True)
