"""Encrypted mail out: a person with an OpenPGP key on file gets the content of their notifications, encrypted to
their key and signed with the project's; everyone else keeps the content-free notice (DESIGN.md "Secrets in
e-mail"). Real GnuPG keys, the real worker, a real SMTP server."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage, Message

import pytest
from django.test import Client

from embargo import clock
from embargo.accounts.actions import do_set_openpgp_key
from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.notifications import worker
from embargo.notifications.models import OutboxMessage
from embargo.projects.keys import do_generate_project_key
from embargo.projects.models import Project, ProjectKey
from embargo.vault import openpgp
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, submit
from tests.smtp import SmtpServer, text_of
from tests.vault import keys as test_keys

pytestmark = pytest.mark.django_db

ANSWER = "Walrus-5521: we reproduced it with the proxy on port 3128."
QUESTION = "Narwhal-0912: which version of urllib3 do you run?"


@pytest.fixture(scope="module")
def reporter_key() -> openpgp.GeneratedKey:
    return openpgp.generate_key("Reporter", "reporter@example.org")


@pytest.fixture(scope="module")
def owner_key() -> openpgp.GeneratedKey:
    return openpgp.generate_key("Owner", "owner@example.org")


def _user(local: str) -> User:
    return User.objects.get(email=f"{local}@example.org")


def _project_key() -> ProjectKey:
    return do_generate_project_key(Project.objects.get(slug="requests"), acting_user=_user("owner"))


def _deliver(settings, smtp: SmtpServer, moment: dt.datetime | None = None) -> list[EmailMessage]:
    settings.EMBARGO_SMTP_URL = smtp.url
    expected = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    worker.run_pass(moment)
    assert OutboxMessage.objects.filter(sent_at__isnull=True, failed_at__isnull=True).count() == 0
    return smtp.mailbox.wait_for(expected)


def _to(messages: list[EmailMessage], local: str) -> list[EmailMessage]:
    return [m for m in messages if f"{local}@example.org" in str(m["To"])]


def _decrypted_text(message: Message, key: openpgp.GeneratedKey, signer: ProjectKey) -> tuple[str, str | None]:
    inner, fingerprint = openpgp.decrypt_mime(message, secret_armored=key.secret_armored,
                                              signer_armored=signer.public_key)  # fmt: skip
    body = inner.get_body(("plain",)) if isinstance(inner, EmailMessage) else None
    return (body.get_content() if body is not None else ""), fingerprint


def test_a_reporter_with_a_key_gets_the_message_encrypted_and_signed(team: dict[str, Api], settings,
                                                                     reporter_key) -> None:  # fmt: skip
    signer = _project_key()
    do_set_openpgp_key(_user("reporter"), reporter_key.public_armored, acting_user=_user("reporter"))
    rid = submit(team["reporter"])["id"]
    assert team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": ANSWER}).status == 201
    # The content is read from the sealed thread at delivery: the outbox row names the message only.
    row = OutboxMessage.objects.get(template="report_message", to_email="reporter@example.org")
    assert ANSWER not in str(row.context)
    with SmtpServer() as smtp:
        messages = _deliver(settings, smtp)
    notification = next(m for m in _to(messages, "reporter") if m["Message-ID"] == row.message_id)
    raw = notification.as_bytes()
    assert notification.get_content_type() == "multipart/encrypted"
    assert notification.get_param("protocol") == "application/pgp-encrypted"
    assert b"Walrus-5521" not in raw
    assert SECRET_TITLE.encode() not in raw
    assert notification["In-Reply-To"] == f"<report-{rid}@127.0.0.1>"
    text, fingerprint = _decrypted_text(notification, reporter_key, signer)
    assert ANSWER in text
    assert "The team wrote:" in text
    assert fingerprint == signer.fingerprint


def test_a_team_member_with_a_key_gets_the_new_report_and_one_without_gets_the_notice(
    team: dict[str, Api], settings, owner_key
) -> None:
    signer = _project_key()
    do_set_openpgp_key(_user("owner"), owner_key.public_armored, acting_user=_user("owner"))
    submit(team["reporter"])
    with SmtpServer() as smtp:
        messages = _deliver(settings, smtp)
    [to_owner] = _to(messages, "owner")
    text, fingerprint = _decrypted_text(to_owner, owner_key, signer)
    assert SECRET_TITLE in text
    assert SECRET_TEXT in text
    assert fingerprint == signer.fingerprint
    # The maintainer has no key: the same notice, without the report's text, in clear.
    [to_maintainer] = _to(messages, "maintainer")
    assert to_maintainer.get_content_type() == "text/plain"
    raw = to_maintainer.as_bytes()
    assert b"Zebra-7741" not in raw
    assert b"Quokka-3389" not in raw
    # Nor is it in the reporter's receipt (the reporter has no key here).
    assert b"Quokka-3389" not in _to(messages, "reporter")[0].as_bytes()


def test_the_question_to_the_reporter_is_encrypted_to_their_key(team: dict[str, Api], settings, reporter_key) -> None:
    signer = _project_key()
    do_set_openpgp_key(_user("reporter"), reporter_key.public_armored, acting_user=_user("reporter"))
    rid = submit(team["reporter"])["id"]
    moved = team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "needs_info", "comment": QUESTION})
    assert moved.status == 200, moved.text
    row = OutboxMessage.objects.get(template="report_question")
    with SmtpServer() as smtp:
        messages = _deliver(settings, smtp)
    question = next(m for m in messages if m["Message-ID"] == row.message_id)
    assert b"Narwhal-0912" not in question.as_bytes()
    text, _ = _decrypted_text(question, reporter_key, signer)
    assert QUESTION in text


def test_an_expired_key_at_delivery_gives_the_content_free_notice(team: dict[str, Api], settings) -> None:
    _project_key()
    short = openpgp.generate_key("Reporter", "reporter@example.org", expire="1")  # a day
    do_set_openpgp_key(_user("reporter"), short.public_armored, acting_user=_user("reporter"))
    rid = submit(team["reporter"])["id"]
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": ANSWER})
    later = clock.now() + dt.timedelta(days=2)
    clock.freeze(later)
    with SmtpServer() as smtp:
        messages = _deliver(settings, smtp, later)
    to_reporter = _to(messages, "reporter")
    assert {m.get_content_type() for m in to_reporter} == {"text/plain"}
    assert all(b"Walrus-5521" not in m.as_bytes() for m in to_reporter)
    assert any("message" in text_of(m).lower() for m in to_reporter)


def test_without_a_project_key_the_notice_stays_content_free(team: dict[str, Api], settings, reporter_key) -> None:
    do_set_openpgp_key(_user("reporter"), reporter_key.public_armored, acting_user=_user("reporter"))
    rid = submit(team["reporter"])["id"]
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": ANSWER})
    with SmtpServer() as smtp:
        messages = _deliver(settings, smtp)
    for message in _to(messages, "reporter"):
        assert message.get_content_type() == "text/plain"
        assert b"Walrus-5521" not in message.as_bytes()


def test_a_collaborator_removed_before_delivery_gets_no_content(team: dict[str, Api], settings, owner_key) -> None:
    # A person who no longer sees the report gets the notice only, even with a key.
    _project_key()
    guest = _user("collaborator")
    do_set_openpgp_key(guest, owner_key.public_armored, acting_user=guest)
    rid = submit(team["reporter"])["id"]
    grant = team["owner"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"})
    assert grant.status == 201, grant.text
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": ANSWER})
    assert OutboxMessage.objects.filter(template="report_message", to_email="collaborator@example.org").exists()
    removed = team["owner"].delete(f"/api/v1/reports/{rid}/collaborators/{grant.json['user']['id']}")
    assert removed.status in (200, 204), removed.text
    with SmtpServer() as smtp:
        messages = _deliver(settings, smtp)
    for message in _to(messages, "collaborator"):
        assert message.get_content_type() != "multipart/encrypted"
        assert b"Walrus-5521" not in message.as_bytes()


# --- the key on the account: page and API ------------------------------------------------------------------------


def test_the_api_takes_shows_and_removes_a_key(team: dict[str, Api], reporter_key) -> None:
    put = team["reporter"].call("PUT", "/api/v1/account/openpgp-key", {"public_key": reporter_key.public_armored})
    assert put.status == 200, put.text
    assert put.json["fingerprint"] == reporter_key.fingerprint
    assert team["reporter"].get("/api/v1/account/openpgp-key").json["fingerprint"] == reporter_key.fingerprint
    assert Event.objects.filter(tag="user:openpgp_key_set", object_id=_user("reporter").public_id).exists()
    # Someone else's view of their own account shows nothing of it.
    assert team["maintainer"].get("/api/v1/account/openpgp-key").json["fingerprint"] is None
    assert team["reporter"].delete("/api/v1/account/openpgp-key").status == 204
    assert _user("reporter").openpgp_key == ""
    assert Event.objects.filter(tag="user:openpgp_key_removed").count() == 1


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("hello, this is my key", "not an ASCII-armoured OpenPGP public key"),
        ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n", "not an OpenPGP key"),
        ("", "no key was given"),
    ],
)
def test_the_api_refuses_garbage_with_a_clear_error(team: dict[str, Api], given: str, says: str) -> None:
    refused = team["reporter"].call("PUT", "/api/v1/account/openpgp-key", {"public_key": given})
    assert refused.status == 422, refused.text
    assert refused.json["error"]["field"] == "public_key"
    assert says in refused.json["error"]["message"]
    assert _user("reporter").openpgp_key == ""


def test_a_secret_key_and_an_expired_key_are_refused(team: dict[str, Api], reporter_key) -> None:
    secret = team["reporter"].call("PUT", "/api/v1/account/openpgp-key", {"public_key": reporter_key.secret_armored})
    assert secret.status == 422
    assert "secret key" in secret.json["error"]["message"]
    short = openpgp.generate_key("Reporter", "reporter@example.org", expire="1")
    clock.freeze(clock.now() + dt.timedelta(days=2))
    expired = team["reporter"].call("PUT", "/api/v1/account/openpgp-key", {"public_key": short.public_armored})
    assert expired.status == 422
    assert "expired" in expired.json["error"]["message"]
    assert _user("reporter").openpgp_key == ""


def test_the_api_needs_a_token_and_a_read_token_cannot_change_the_key(team: dict[str, Api], reporter_key) -> None:
    anonymous = Api()
    assert anonymous.get("/api/v1/account/openpgp-key").status == 401
    assert (
        anonymous.call("PUT", "/api/v1/account/openpgp-key", {"public_key": reporter_key.public_armored}).status == 401
    )
    assert anonymous.delete("/api/v1/account/openpgp-key").status == 401
    from embargo.accounts.actions import do_create_token

    reader = Api(do_create_token(_user("reporter"), scope="read", acting_user=None))
    refused = reader.call("PUT", "/api/v1/account/openpgp-key", {"public_key": reporter_key.public_armored})
    assert refused.status == 403
    assert _user("reporter").openpgp_key == ""


def test_nobody_sets_or_removes_another_persons_key(team: dict[str, Api], reporter_key) -> None:
    from embargo.errors import ActionError

    do_set_openpgp_key(_user("reporter"), reporter_key.public_armored, acting_user=_user("reporter"))
    with pytest.raises(ActionError):
        do_set_openpgp_key(_user("reporter"), reporter_key.public_armored, acting_user=_user("owner"))
    from embargo.accounts.actions import do_remove_openpgp_key

    with pytest.raises(ActionError):
        do_remove_openpgp_key(_user("reporter"), acting_user=_user("owner"))
    assert _user("reporter").openpgp_fingerprint == reporter_key.fingerprint


def test_the_account_page_takes_a_key_shows_its_fingerprint_and_removes_it(team: dict[str, Api], reporter_key) -> None:
    browser = Client()
    browser.force_login(_user("reporter"))
    page = browser.get("/account/key/")
    assert page.status_code == 200
    saved = browser.post("/account/key/", {"action": "set", "public_key": reporter_key.public_armored}, follow=True)
    assert saved.status_code == 200
    html = saved.content.decode()
    assert openpgp.fingerprint_display(reporter_key.fingerprint) in html
    assert "Expires" in html
    assert "never" in html
    # Another person's page shows their own account only.
    other = Client()
    other.force_login(_user("maintainer"))
    assert openpgp.fingerprint_display(reporter_key.fingerprint) not in other.get("/account/key/").content.decode()
    other.post("/account/key/", {"action": "remove"})
    assert _user("reporter").openpgp_fingerprint == reporter_key.fingerprint
    browser.post("/account/key/", {"action": "remove"})
    assert _user("reporter").openpgp_fingerprint == ""


def test_the_account_page_refuses_garbage_with_a_clear_error(team: dict[str, Api]) -> None:
    browser = Client()
    browser.force_login(_user("reporter"))
    page = browser.post("/account/key/", {"action": "set", "public_key": "not a key at all"})
    assert page.status_code == 200
    assert "This key cannot be used: this is not an ASCII-armoured OpenPGP public key" in page.content.decode()
    assert _user("reporter").openpgp_key == ""


def test_the_key_page_needs_a_log_in() -> None:
    page = Client().get("/account/key/")
    assert page.status_code == 302
    assert "/account/login/" in page["Location"]
    assert Client().post("/account/key/", {"action": "remove"}).status_code == 302


@pytest.mark.parametrize(
    ("made", "says"),
    [
        (test_keys.expired_public, "the key expired on 2020-01-02"),
        (test_keys.expired_subkey_public, "every subkey that can encrypt expired"),
        (test_keys.signing_only_public, "the key cannot encrypt"),
        (test_keys.revoked_public, "revoked"),
    ],
)
def test_a_key_that_cannot_take_encryption_is_refused_with_the_reason(team: dict[str, Api], made, says: str) -> None:
    refused = team["reporter"].call("PUT", "/api/v1/account/openpgp-key", {"public_key": made()})
    assert refused.status == 422, refused.text
    assert says in refused.json["error"]["message"]
    assert _user("reporter").openpgp_key == ""
    assert not Event.objects.filter(tag="user:openpgp_key_set").exists()


def test_a_key_gnupg_refuses_at_delivery_gives_the_content_free_notice(team: dict[str, Api], settings) -> None:
    # A key that was good on entry and whose encryption subkey has expired since: set here as it was stored then
    # (no expiry known), since the action would refuse it today.
    _project_key()
    User.objects.filter(email="reporter@example.org").update(openpgp_key=test_keys.expired_subkey_public())
    rid = submit(team["reporter"])["id"]
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": ANSWER})
    with SmtpServer() as smtp:
        messages = _deliver(settings, smtp)
    to_reporter = _to(messages, "reporter")
    assert len(to_reporter) == 2
    for message in to_reporter:
        assert message.get_content_type() == "text/plain"
        assert b"Walrus-5521" not in message.as_bytes()
