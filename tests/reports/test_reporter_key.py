"""A reporter who only has e-mail — a report sent by mail, or through the form without an account — gives their
OpenPGP key on the report's page, through their private link (which proves the address), and the key their mail
was signed with is offered there, never set from the mail alone. Real GnuPG keys, the real pages."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client

from embargo.accounts.access import Permission, access_report_by_id
from embargo.accounts.actions import do_set_openpgp_key
from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.mailin import actions as mail_actions
from embargo.mailin.models import InboundMail
from embargo.notifications import delivery
from embargo.notifications.models import OutboxMessage
from embargo.projects.actions import do_change_project
from embargo.projects.keys import do_generate_project_key
from embargo.projects.models import Project, ProjectKey
from embargo.reports import links
from embargo.reports.actions import do_revoke_reporter_links
from embargo.reports.models import Report
from embargo.vault import openpgp
from tests.helpers import Api, submit
from tests.vault import keys as test_keys

pytestmark = pytest.mark.django_db

INTAKE = "security@requests.example"
ADA = "ada@example.net"
ANSWER = "Walrus-5521: we reproduced it with the proxy on port 3128."
SECTION = "Encrypted e-mail"


@pytest.fixture(scope="module")
def ada_key() -> openpgp.GeneratedKey:
    return openpgp.generate_key("Ada", ADA)


@pytest.fixture(scope="module")
def mallory_key() -> openpgp.GeneratedKey:
    return openpgp.generate_key("Ada (not really)", ADA)


@pytest.fixture
def project(team: dict[str, Api]) -> Project:
    project = Project.objects.get(slug="requests")
    do_change_project(project, {"intake_address": INTAKE}, acting_user=_user("owner@example.org"))
    return project


def _user(address: str) -> User:
    return User.objects.get(email=address)


def _mail(*, sender: str = ADA, subject: str = "Ibex-3307 proxy credentials leak") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = INTAKE
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid()
    message.set_content("Jackal-8120: the Proxy-Authorization header survives a redirect.")
    return message


def _signed(
    signer: openpgp.GeneratedKey, *, subject: str = "Signed report", carried: openpgp.GeneratedKey | None = None
) -> bytes:
    """A mail "from" Ada signed as a mail program does (RFC 3156), carrying a public key as an attachment (the
    signer's, unless told)."""
    inner = _mail(subject=subject)
    inner.add_attachment((carried or signer).public_armored.encode(), maintype="application", subtype="pgp-keys",
                         filename="key.asc")  # fmt: skip
    outer = openpgp.sign_mime(inner, secret_armored=signer.secret_armored)
    for name in ("From", "To", "Subject", "Message-ID"):
        outer[name] = str(inner[name])
    return outer.as_bytes()


def _report_by_mail(raw: bytes | None = None, *, sender: str = ADA) -> Report:
    """A report sent to the intake address, as `embargo mail-in` takes it; its sender has no password."""
    data = raw if raw is not None else _mail(sender=sender).as_bytes()
    answer = mail_actions.receive(data, envelope_from=sender, recipient=INTAKE)
    assert answer.startswith("250 2.0.0 Received as report"), answer
    return Report.objects.filter(reporter__email=sender).order_by("-id").first()  # type: ignore[return-value]


def _set_key(client: Client, path: str, armored: str, **extra: Any) -> Any:
    return client.post(path, {"action": "set_key", "public_key": armored}, **extra)


def _decrypted(row: OutboxMessage, key: openpgp.GeneratedKey) -> tuple[EmailMessage, str]:
    """The notification as the worker would send it, and its text decrypted with the recipient's secret key."""
    raw = delivery.render(row).message().as_bytes()
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(sent, EmailMessage)
    signer = ProjectKey.objects.get(project=row.report.project)  # type: ignore[union-attr]
    inner, fingerprint = openpgp.decrypt_mime(sent, secret_armored=key.secret_armored, signer_armored=signer.public_key)
    assert fingerprint == signer.fingerprint
    body = inner.get_body(("plain",)) if isinstance(inner, EmailMessage) else None
    return sent, (body.get_content() if body is not None else "")


# --- the key through the private link -------------------------------------------------------------------------


def test_a_reporter_by_mail_gives_their_key_through_the_link_and_the_next_notice_is_encrypted(
    project: Project, team: dict[str, Api], ada_key: openpgp.GeneratedKey
) -> None:
    do_generate_project_key(project, acting_user=_user("owner@example.org"))
    report = _report_by_mail()
    ada = _user(ADA)
    assert not ada.has_usable_password()
    path = links.private_path(report)
    page = Client().get(path).content.decode()
    assert SECTION in page
    assert "No key on file." in page
    saved = _set_key(Client(), path, ada_key.public_armored, follow=True)
    assert saved.redirect_chain == [(path, 302)]
    html = saved.content.decode()
    assert "Your key is saved" in html
    assert openpgp.fingerprint_display(ada_key.fingerprint) in html
    ada.refresh_from_db()
    assert ada.openpgp_fingerprint == ada_key.fingerprint
    # The audit log shows the reporter themselves as the one who set it.
    event = Event.objects.get(tag="user:openpgp_key_set")
    assert (event.actor_id, event.object_id) == (ada.pk, ada.public_id)
    # The team's next message reaches her with its content, encrypted to the key she gave.
    assert team["maintainer"].post(f"/api/v1/reports/{report.public_id}/messages", {"body": ANSWER}).status == 201
    row = OutboxMessage.objects.get(template="report_message", to_email=ADA)
    sent, text = _decrypted(row, ada_key)
    assert sent.get_content_type() == "multipart/encrypted"
    assert b"Walrus-5521" not in sent.as_bytes()
    assert ANSWER in text


def test_the_reporter_removes_the_key_through_the_link(
    project: Project, team: dict[str, Api], ada_key: openpgp.GeneratedKey
) -> None:
    do_generate_project_key(project, acting_user=_user("owner@example.org"))
    report = _report_by_mail()
    path = links.private_path(report)
    _set_key(Client(), path, ada_key.public_armored)
    removed = Client().post(path, {"action": "remove_key"}, follow=True)
    assert "Your key is removed" in removed.content.decode()
    assert _user(ADA).openpgp_key == ""
    assert Event.objects.get(tag="user:openpgp_key_removed").actor_id == _user(ADA).pk
    team["maintainer"].post(f"/api/v1/reports/{report.public_id}/messages", {"body": ANSWER})
    notice = delivery.render(OutboxMessage.objects.get(template="report_message", to_email=ADA))
    assert b"multipart/encrypted" not in notice.message().as_bytes()
    assert "Walrus-5521" not in str(notice.body)


def test_a_reporter_without_an_account_uses_the_link_of_the_web_form_too(
    team: dict[str, Api], ada_key: openpgp.GeneratedKey
) -> None:
    sent = Client().post(
        "/projects/requests/", {"email": "bea@example.net", "title": "Overflow", "description": "It overflows."}
    )
    assert sent.status_code == 200
    report = Report.objects.get(reporter__email="bea@example.net")
    assert not _user("bea@example.net").has_usable_password()
    assert _set_key(Client(), links.private_path(report), ada_key.public_armored).status_code == 302
    assert _user("bea@example.net").openpgp_fingerprint == ada_key.fingerprint


@pytest.mark.parametrize("how", ["tampered", "revoked", "another_reports_token"])
def test_a_wrong_or_revoked_link_cannot_set_a_key(project: Project, ada_key: openpgp.GeneratedKey, how: str) -> None:
    report = _report_by_mail()
    path = links.private_path(report)
    if how == "tampered":
        path = path[:-3] + ("0" if path[-3] != "0" else "1") + "/"
    elif how == "revoked":
        owner = _user("owner@example.org")
        do_revoke_reporter_links(access_report_by_id(owner, report.public_id, Permission.VIEW_REPORT),
                                 acting_user=owner)  # fmt: skip
    else:
        other = _report_by_mail(sender="bob@example.net")
        path = f"/r/{report.public_id}/{links.private_path(other).rstrip('/').rsplit('/', 1)[1]}/"
    assert _set_key(Client(), path, ada_key.public_armored).status_code == 404
    assert Client().post(path, {"action": "remove_key"}).status_code == 404
    assert _user(ADA).openpgp_key == ""
    assert not Event.objects.filter(tag="user:openpgp_key_set").exists()


def test_another_reporters_link_changes_only_their_own_key(
    project: Project, ada_key: openpgp.GeneratedKey, mallory_key: openpgp.GeneratedKey
) -> None:
    ada_report = _report_by_mail()
    _set_key(Client(), links.private_path(ada_report), ada_key.public_armored)
    bob_path = links.private_path(_report_by_mail(sender="bob@example.net"))
    # Bob's link stands for Bob: whatever he posts through it, Ada's key stays hers.
    assert _set_key(Client(), bob_path, mallory_key.public_armored).status_code == 302
    assert Client().post(bob_path, {"action": "remove_key"}).status_code == 302
    assert _user(ADA).openpgp_fingerprint == ada_key.fingerprint
    assert _user("bob@example.net").openpgp_key == ""
    assert SECTION in Client().get(bob_path).content.decode()
    assert openpgp.fingerprint_display(ada_key.fingerprint) not in Client().get(bob_path).content.decode()


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("hello, this is my key", "This key cannot be used: this is not an ASCII-armoured OpenPGP public key"),
        ("", "This field is required."),
        (test_keys.revoked_public, "This key cannot be used: the key was revoked by its owner"),
        (test_keys.signing_only_public, "This key cannot be used: the key cannot encrypt"),
    ],
)
def test_garbage_is_refused_with_a_clear_error_and_nothing_changes(
    project: Project, ada_key: openpgp.GeneratedKey, given: object, says: str
) -> None:
    text = given() if callable(given) else str(given)
    report = _report_by_mail()
    path = links.private_path(report)
    _set_key(Client(), path, ada_key.public_armored)
    refused = _set_key(Client(), path, text)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert says in html
    if text:  # what was pasted is kept in the form, to correct
        assert text.splitlines()[0] in html
    assert _user(ADA).openpgp_fingerprint == ada_key.fingerprint
    assert Event.objects.filter(tag="user:openpgp_key_set").count() == 1


def test_a_secret_key_is_refused(project: Project, ada_key: openpgp.GeneratedKey) -> None:
    refused = _set_key(Client(), links.private_path(_report_by_mail()), ada_key.secret_armored)
    assert "this is a secret key: give the public key only" in refused.content.decode()
    assert _user(ADA).openpgp_key == ""


# --- the key the mail was signed with ---------------------------------------------------------------------------


def test_the_key_a_signed_mail_carried_is_offered_and_one_post_adopts_it(
    project: Project, team: dict[str, Api], ada_key: openpgp.GeneratedKey
) -> None:
    do_generate_project_key(project, acting_user=_user("owner@example.org"))
    report = _report_by_mail(_signed(ada_key))
    assert InboundMail.objects.get(report=report).proposed_fingerprint == ada_key.fingerprint
    # Only offered: the account has no key until the reporter says so.
    assert _user(ADA).openpgp_key == ""
    path = links.private_path(report)
    offer = f"Your mail was signed with key <code>{openpgp.fingerprint_display(ada_key.fingerprint)}</code>"
    assert offer in Client().get(path).content.decode()
    # A button for another key than the one shown sets nothing.
    stale = Client().post(path, {"action": "adopt_key", "fingerprint": "0" * 40})
    assert "That key is not offered any more" in stale.content.decode()
    assert _user(ADA).openpgp_key == ""
    adopted = Client().post(path, {"action": "adopt_key", "fingerprint": ada_key.fingerprint}, follow=True)
    assert "Your key is saved" in adopted.content.decode()
    assert offer not in adopted.content.decode()
    assert _user(ADA).openpgp_fingerprint == ada_key.fingerprint
    assert Event.objects.get(tag="user:openpgp_key_set").actor_id == _user(ADA).pk
    team["maintainer"].post(f"/api/v1/reports/{report.public_id}/messages", {"body": ANSWER})
    _, text = _decrypted(OutboxMessage.objects.get(template="report_message", to_email=ADA), ada_key)
    assert ANSWER in text


def test_a_spoofed_signed_mail_does_not_change_the_victims_key(
    project: Project, team: dict[str, Api], ada_key: openpgp.GeneratedKey, mallory_key: openpgp.GeneratedKey
) -> None:
    earlier = _report_by_mail()  # Ada's own report, unsigned: she has no key on file
    # Mallory writes "from" Ada, signed with Mallory's key, which the mail carries.
    spoofed = _report_by_mail(_signed(mallory_key, subject="Spoofed"))
    assert _user(ADA).openpgp_key == ""
    mallory_offer = openpgp.fingerprint_display(mallory_key.fingerprint)
    # The offer is on the spoofed report's page only, whose link went to Ada's mailbox, not to Mallory.
    assert mallory_offer not in Client().get(links.private_path(earlier)).content.decode()
    assert mallory_offer in Client().get(links.private_path(spoofed)).content.decode()
    # The team's next message on Ada's report still goes out content-free.
    do_generate_project_key(project, acting_user=_user("owner@example.org"))
    assert team["maintainer"].post(f"/api/v1/reports/{earlier.public_id}/messages", {"body": ANSWER}).status == 201
    notice = delivery.render(OutboxMessage.objects.get(template="report_message", to_email=ADA))
    assert b"multipart/encrypted" not in notice.message().as_bytes()
    # With a key on file, another key a mail carries is not even offered.
    do_set_openpgp_key(_user(ADA), ada_key.public_armored, acting_user=_user(ADA))
    third = _report_by_mail(_signed(mallory_key, subject="Again"))
    assert InboundMail.objects.get(report=third).proposed_key == ""
    assert mallory_offer not in Client().get(links.private_path(third)).content.decode()
    assert _user(ADA).openpgp_fingerprint == ada_key.fingerprint


def test_the_offer_needs_a_signature_verified_by_the_carried_key(
    project: Project, ada_key: openpgp.GeneratedKey, mallory_key: openpgp.GeneratedKey
) -> None:
    # Signed with one key while carrying another: the signature does not verify, and nothing is offered.
    report = _report_by_mail(_signed(mallory_key, carried=ada_key))
    mail = InboundMail.objects.get(report=report)
    assert (mail.signature, mail.proposed_key) == ("unverified", "")
    assert "Your mail was signed with key" not in Client().get(links.private_path(report)).content.decode()


# --- who sees the section -------------------------------------------------------------------------------------


def test_the_reporter_signed_in_has_the_section_too(team: dict[str, Api], ada_key: openpgp.GeneratedKey) -> None:
    rid = submit(team["reporter"])["id"]
    browser = Client()
    browser.force_login(_user("reporter@example.org"))
    assert SECTION in browser.get(f"/reports/{rid}/").content.decode()
    assert _set_key(browser, f"/reports/{rid}/", ada_key.public_armored).status_code == 302
    assert _user("reporter@example.org").openpgp_fingerprint == ada_key.fingerprint
    assert browser.post(f"/reports/{rid}/", {"action": "remove_key"}).status_code == 302
    assert _user("reporter@example.org").openpgp_key == ""


@pytest.mark.parametrize("role", ["owner", "maintainer", "collaborator"])
def test_nobody_else_on_the_report_sees_or_uses_the_reporters_key_form(
    team: dict[str, Api], ada_key: openpgp.GeneratedKey, role: str
) -> None:
    rid = submit(team["reporter"])["id"]
    grant = team["owner"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"})
    assert grant.status == 201, grant.text
    reporter = _user("reporter@example.org")
    do_set_openpgp_key(reporter, ada_key.public_armored, acting_user=reporter)
    browser = Client()
    browser.force_login(_user(f"{role}@example.org"))
    page = browser.get(f"/reports/{rid}/")
    assert page.status_code == 200
    assert SECTION not in page.content.decode()
    assert 'value="set_key"' not in page.content.decode()
    for posted in ({"action": "set_key", "public_key": ada_key.public_armored}, {"action": "remove_key"},
                   {"action": "adopt_key", "fingerprint": ada_key.fingerprint}):  # fmt: skip
        refused = browser.post(f"/reports/{rid}/", posted)
        assert refused.status_code == 200
        assert "Only the reporter gives, replaces or removes their own OpenPGP key." in refused.content.decode()
    assert _user("reporter@example.org").openpgp_fingerprint == ada_key.fingerprint
    assert _user(f"{role}@example.org").openpgp_key == ""


@pytest.mark.parametrize("role", ["outsider", "stranger"])
def test_outsiders_get_404_and_anonymous_visitors_the_log_in(
    team: dict[str, Api], ada_key: openpgp.GeneratedKey, role: str
) -> None:
    rid = submit(team["reporter"])["id"]
    browser = Client()
    browser.force_login(_user(f"{role}@example.org"))
    assert _set_key(browser, f"/reports/{rid}/", ada_key.public_armored).status_code == 404
    anonymous = _set_key(Client(), f"/reports/{rid}/", ada_key.public_armored)
    assert anonymous.status_code == 302
    assert "/account/login/" in anonymous["Location"]
    assert _user("reporter@example.org").openpgp_key == ""
    assert _user(f"{role}@example.org").openpgp_key == ""
