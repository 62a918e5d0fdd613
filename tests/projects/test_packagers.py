"""The packager list: owners keep it (organisation, addresses, an optional OpenPGP key checked on entry);
anyone may ask to join, without an account; owners approve or decline and the asker is told by e-mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.notifications.delivery import render
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Packager, PackagerRequest
from embargo.vault import openpgp
from tests.helpers import Api
from tests.vault import keys

pytestmark = pytest.mark.django_db
PACKAGERS = "/api/v1/projects/requests/packagers"
REQUESTS = "/api/v1/projects/requests/packager-requests"
DEBIAN = {
    "organisation": "Debian Security Team",
    "contact_name": "Ada",
    "emails": ["security@debian.example.org", "team@debian.example.org"],
}
FEDORA = {"organisation": "Fedora Packagers", "emails": ["packagers@fedora.example.org"]}
ASKING = {
    "organisation": "Gentoo Security",
    "contact_name": "Grace",
    "emails": ["security@gentoo.example.org", "grace@gentoo.example.org"],
    "reason": "We package requests for Gentoo; see https://gentoo.example.org/security.",
}
PACKAGER_FIELDS = {"id", "organisation", "contact_name", "emails", "key_fingerprint", "key_expires_at", "has_key",
                   "created_at"}  # fmt: skip


def owner_browser() -> Client:
    client = Client()
    client.force_login(User.objects.get(email="owner@example.org"))
    return client


def mails(template: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template).order_by("to_email"))


# --- the list -------------------------------------------------------------------------------------------------


def test_an_owner_adds_lists_changes_and_removes_packagers(team: dict[str, Api]) -> None:
    owner = team["owner"]
    debian = owner.post(PACKAGERS, {**DEBIAN, "public_key": keys.packager_key().public_armored})
    assert debian.status == 201, debian.text
    assert set(debian.json) == PACKAGER_FIELDS
    assert debian.json["has_key"] is True
    assert debian.json["key_fingerprint"] == keys.packager_key().fingerprint
    assert debian.json["key_expires_at"] is None
    fedora = owner.post(PACKAGERS, FEDORA)
    assert fedora.status == 201, fedora.text
    assert (fedora.json["has_key"], fedora.json["key_fingerprint"]) == (False, None)

    listed = owner.get(PACKAGERS).json
    assert [p["organisation"] for p in listed["items"]] == ["Debian Security Team", "Fedora Packagers"]
    assert listed["next_cursor"] is None
    assert owner.get(f"{PACKAGERS}/{fedora.json['id']}").json == fedora.json

    changed = owner.patch(f"{PACKAGERS}/{debian.json['id']}", {"emails": ["security@debian.example.org"]})
    assert changed.status == 200, changed.text
    assert changed.json["emails"] == ["security@debian.example.org"]
    # An address taken off the list takes the packager's personal links with it.
    assert Packager.objects.get(public_id=debian.json["id"]).link_version == 2
    keyless = owner.patch(f"{PACKAGERS}/{debian.json['id']}", {"public_key": ""})
    assert (keyless.json["has_key"], keyless.json["key_fingerprint"]) == (False, None)
    rekeyed = owner.patch(f"{PACKAGERS}/{fedora.json['id']}", {"public_key": keys.other_key().public_armored})
    assert rekeyed.json["key_fingerprint"] == keys.other_key().fingerprint

    removed = owner.delete(f"{PACKAGERS}/{fedora.json['id']}")
    assert removed.status == 204, removed.text
    assert [p["organisation"] for p in owner.get(PACKAGERS).json["items"]] == ["Debian Security Team"]
    assert owner.get(f"{PACKAGERS}/{fedora.json['id']}").status == 404
    assert owner.delete(f"{PACKAGERS}/{fedora.json['id']}").status == 404
    row = Packager.objects.get(public_id=fedora.json["id"])
    assert row.removed_at is not None  # kept for the record of earlier notices
    assert row.link_version == 2  # its links stop working

    tags = list(Event.objects.filter(tag__startswith="packager:").values_list("tag", flat=True).order_by("id"))
    assert tags == ["packager:added", "packager:added", "packager:changed", "packager:changed", "packager:changed",
                    "packager:removed"]  # fmt: skip
    change = Event.objects.filter(tag="packager:changed").first()
    assert change is not None
    assert change.data["emails"]["old"] == DEBIAN["emails"]
    assert change.data["links_revoked"] is True


def test_the_list_pages_with_a_cursor(team: dict[str, Api]) -> None:
    for name in ("Cc", "Aa", "Bb"):
        assert team["owner"].post(PACKAGERS, {"organisation": name, "emails": [f"{name}@example.org"]}).status == 201
    first = team["owner"].get(PACKAGERS + "?limit=2").json
    assert [p["organisation"] for p in first["items"]] == ["Aa", "Bb"]
    rest = team["owner"].get(f"{PACKAGERS}?limit=2&cursor={first['next_cursor']}").json
    assert ([p["organisation"] for p in rest["items"]], rest["next_cursor"]) == (["Cc"], None)


def test_a_key_with_an_expiry_gives_it(team: dict[str, Api]) -> None:
    made = openpgp.generate_key("Arch Security", "security@arch.example.org", expire="2031-03-04")
    added = team["owner"].post(PACKAGERS, {**FEDORA, "public_key": made.public_armored})
    assert added.status == 201, added.text
    assert made.expires_at is not None
    assert dt.datetime.fromisoformat(added.json["key_expires_at"]) == made.expires_at


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (keys.expired_public, "the key expired on 2020-01-02"),
        (keys.signing_only_public, "the key cannot encrypt"),
        (keys.revoked_public, "the key was revoked"),
        (lambda: "not a key at all", "not an ASCII-armoured OpenPGP public key"),
        (lambda: keys.packager_key().secret_armored, "this is a secret key"),
    ],
    ids=["expired", "signing-only", "revoked", "garbage", "secret"],
)
def test_a_key_that_cannot_take_encryption_is_refused_with_the_reason(
    team: dict[str, Api], key: Any, reason: str
) -> None:
    refused = team["owner"].post(PACKAGERS, {**FEDORA, "public_key": key()})
    assert refused.status == 422, refused.text
    assert refused.json["error"]["code"] == "key_refused"
    assert refused.json["error"]["field"] == "public_key"
    assert reason in refused.json["error"]["message"]
    assert not Packager.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"emails": []}, "emails"),
        ({"emails": ["ok@example.org", "not an address"]}, "emails.1"),
        ({"emails": [f"p{i}@example.org" for i in range(11)]}, "emails"),
        ({"organisation": ""}, "organisation"),
        ({"organisation": "x" * 201}, "organisation"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_packager_is_422_naming_the_field(team: dict[str, Api], change: dict[str, Any], field: str) -> None:
    refused = team["owner"].post(PACKAGERS, {**FEDORA, **change})
    assert refused.status == 422, refused.text
    assert refused.json["error"]["field"] == field
    assert not Packager.objects.exists()


# --- asking to join -------------------------------------------------------------------------------------------


def ask(body: dict[str, Any] | None = None, api: Api | None = None) -> Any:
    return (api or Api()).post(REQUESTS, body or {**ASKING, "public_key": keys.packager_key().public_armored})


def test_anyone_asks_without_a_token_and_the_owners_are_told(team: dict[str, Api]) -> None:
    asked = ask()
    assert asked.status == 201, asked.text
    assert asked.json["status"] == "pending"
    assert asked.json["key_fingerprint"] == keys.packager_key().fingerprint
    # The answer is about the request only: nothing of the project's list.
    assert set(asked.json) == PACKAGER_FIELDS | {"status"}
    (told,) = mails("packager_request_received")
    assert told.to_email == "owner@example.org"
    body = render(told).body
    assert "Gentoo Security" in body
    assert "/projects/requests/settings/packagers/" in body
    assert ASKING["reason"] not in body
    assert Event.objects.filter(tag="packager:requested", actor=None).count() == 1


def test_the_answer_is_the_same_whether_or_not_the_address_is_on_the_list(team: dict[str, Api]) -> None:
    first = ask({**ASKING, "emails": ["new@distro.example.org"]})
    team["owner"].post(PACKAGERS, {**FEDORA, "emails": ["known@distro.example.org"]})
    second = ask({**ASKING, "emails": ["known@distro.example.org"]})
    assert (first.status, second.status) == (201, 201)

    def shape(answer: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in answer.items() if k not in ("id", "created_at", "emails")}

    assert shape(first.json) == shape(second.json)


def test_owners_approve_and_the_packager_joins_and_is_told_at_each_address(team: dict[str, Api]) -> None:
    team["owner"].post("/api/v1/projects/requests/signing-key", {"secret_key": keys.project_key().secret_armored})
    request_id = ask().json["id"]
    waiting = team["owner"].get(REQUESTS).json["items"]
    assert [(r["id"], r["status"], r["reason"]) for r in waiting] == [(request_id, "pending", ASKING["reason"])]

    decided = team["owner"].post(f"{REQUESTS}/{request_id}/decision", {"approve": True})
    assert decided.status == 200, decided.text
    assert decided.json["status"] == "approved"
    packagers = team["owner"].get(PACKAGERS).json["items"]
    assert [(p["id"], p["organisation"], p["emails"], p["key_fingerprint"]) for p in packagers] == [
        (decided.json["packager_id"], "Gentoo Security", ASKING["emails"], keys.packager_key().fingerprint)
    ]
    approved = mails("packager_request_approved")
    assert sorted(m.to_email for m in approved) == sorted(ASKING["emails"])
    body = render(approved[0]).body
    assert "approved" in body
    assert "/projects/requests/pgp-key.asc" in body
    assert openpgp.fingerprint_display(keys.packager_key().fingerprint) in body
    tags = set(Event.objects.values_list("tag", flat=True))
    assert {"packager:request_approved", "packager:added"} <= tags


def test_owners_decline_with_a_note_that_the_asker_reads(team: dict[str, Api]) -> None:
    request_id = ask().json["id"]
    note = "We could not confirm who you are: write to security@requests.example.org from your distro address."
    decided = team["owner"].post(f"{REQUESTS}/{request_id}/decision", {"approve": False, "note": note})
    assert decided.status == 200, decided.text
    assert (decided.json["status"], decided.json["decision_note"], decided.json["packager_id"]) == (
        "declined",
        note,
        None,
    )
    assert team["owner"].get(PACKAGERS).json["items"] == []
    declined = mails("packager_request_declined")
    assert sorted(m.to_email for m in declined) == sorted(ASKING["emails"])
    assert note in render(declined[0]).body
    again = team["owner"].post(f"{REQUESTS}/{request_id}/decision", {"approve": True})
    assert again.status == 409
    assert again.json["error"]["code"] == "request_decided"
    assert not Packager.objects.exists()


def test_a_second_pending_request_from_the_same_address_is_409(team: dict[str, Api]) -> None:
    first = ask()
    assert first.status == 201
    second = ask({**ASKING, "emails": ["GRACE@gentoo.example.org"]}, api=team["outsider"])  # with a token too
    assert second.status == 409, second.text
    assert second.json["error"]["code"] == "request_pending"
    assert PackagerRequest.objects.count() == 1
    team["owner"].post(f"{REQUESTS}/{first.json['id']}/decision", {"approve": False})
    assert ask().status == 201  # once decided, they may ask again


def test_pending_requests_are_listed_first(team: dict[str, Api]) -> None:
    decided = ask({**ASKING, "emails": ["a@example.org"]}).json["id"]
    team["owner"].post(f"{REQUESTS}/{decided}/decision", {"approve": False})
    waiting = ask({**ASKING, "emails": ["b@example.org"]}).json["id"]
    listed = team["owner"].get(REQUESTS).json["items"]
    assert [r["id"] for r in listed] == [waiting, decided]
    page = team["owner"].get(REQUESTS + "?limit=1").json
    rest = team["owner"].get(f"{REQUESTS}?limit=1&cursor={page['next_cursor']}").json
    assert [r["id"] for r in page["items"] + rest["items"]] == [waiting, decided]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"reason": ""}, "reason", "validation_error"),
        ({"reason": "x" * 2001}, "reason", "validation_error"),
        ({"emails": ["nope"]}, "emails.0", "validation_error"),
        ({"public_key": "garbage"}, "public_key", "key_refused"),
        ({"public_key": None}, "public_key", "validation_error"),
    ],
)
def test_a_bad_request_is_422(team: dict[str, Api], change: dict[str, Any], field: str, code: str) -> None:
    refused = ask({**ASKING, **change})
    assert refused.status == 422, refused.text
    assert (refused.json["error"]["field"], refused.json["error"]["code"]) == (field, code)
    assert not PackagerRequest.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_asking_to_join_an_unknown_project_is_404(team: dict[str, Api]) -> None:
    assert Api().post("/api/v1/projects/nope/packager-requests", ASKING).status == 404


# --- the pages ------------------------------------------------------------------------------------------------


def test_the_join_form_works_without_javascript_or_an_account(team: dict[str, Api]) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/projects/requests/")
    assert 'href="/projects/requests/packagers/join/"' in page.content.decode()
    form = browser.get("/projects/requests/packagers/join/")
    assert form.status_code == 200
    data = {**ASKING, "emails": "\n".join(ASKING["emails"]), "csrfmiddlewaretoken": form.context["csrf_token"]}
    sent = browser.post("/projects/requests/packagers/join/", data)
    assert sent.status_code == 200
    assert "Your request reached Requests" in sent.content.decode()
    assert PackagerRequest.objects.get().emails == ASKING["emails"]
    again = browser.post("/projects/requests/packagers/join/", data)
    assert "waits for the project&#x27;s owners already" in again.content.decode()


def test_the_packagers_page_lists_keys_and_warns_of_a_key_about_to_expire(team: dict[str, Api]) -> None:
    soon = openpgp.generate_key("Soon Expiring", "soon@example.org", expire="10d")
    team["owner"].post(PACKAGERS, {**DEBIAN, "public_key": keys.packager_key().public_armored})
    team["owner"].post(PACKAGERS, {**FEDORA, "public_key": soon.public_armored})
    page = owner_browser().get("/projects/requests/settings/packagers/").content.decode()
    assert openpgp.fingerprint_display(keys.packager_key().fingerprint) in page
    assert openpgp.fingerprint_display(soon.fingerprint) in page
    assert page.count("expires within 30 days") == 1


def test_an_owner_adds_removes_and_decides_on_the_page(team: dict[str, Api]) -> None:
    browser = owner_browser()
    url = "/projects/requests/settings/packagers/"
    added = browser.post(url, {"action": "add", **FEDORA, "emails": "packagers@fedora.example.org"})
    assert added.status_code == 302
    packager = Packager.objects.get()
    refused = browser.post(url, {"action": "add", **FEDORA, "emails": "x@example.org", "public_key": "garbage"})
    assert "The key was refused" in refused.content.decode()
    assert browser.post(url, {"action": "remove", "packager_id": packager.public_id}).status_code == 302
    assert Packager.objects.get().removed_at is not None
    request_id = ask().json["id"]
    assert request_id in browser.get(url).content.decode()
    decided = browser.post(url, {"action": "decide", "request_id": request_id, "approve": "no", "note": "Who?"})
    assert decided.status_code == 302
    assert PackagerRequest.objects.get().status == "declined"
    assert "Who?" in render(mails("packager_request_declined")[0]).body


def test_the_demo_project_has_a_key_and_two_packagers(team: dict[str, Api]) -> None:
    from embargo.projects.demo import load_demo

    assert "project key" in load_demo()["created"]
    listed = team["owner"].get(PACKAGERS).json["items"]
    assert [(p["organisation"], p["has_key"]) for p in listed] == [
        ("Debian Security Team", True), ("Fedora Packagers", False)
    ]  # fmt: skip
    assert all(e.endswith(".example.org") for p in listed for e in p["emails"])
    assert "PRIVATE" not in Packager.objects.get(organisation="Debian Security Team").public_key
    assert load_demo()["created"] == []  # a second run adds nothing
