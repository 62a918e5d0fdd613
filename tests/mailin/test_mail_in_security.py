"""The security review of `embargo mail-in`: a temporary failure for one recipient of a plain-SMTP message is the
answer for all (nothing is lost, nothing comes twice); a team member's e-mail reply reaches the reporter only when
it answers a notice the reporter saw too; reply addresses never reach a log; intake is limited per project."""

from __future__ import annotations

import email.utils
import logging
import smtplib
from email.message import EmailMessage, Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.mailin import actions
from embargo.mailin.models import InboundMail
from embargo.mailin.receiver import TEMPORARY_FAILURE, Handler, server_factory, smtp_answer
from embargo.notifications import delivery
from embargo.notifications.models import OutboxMessage
from embargo.projects.actions import do_change_project
from embargo.projects.models import Project
from embargo.reports import notify
from embargo.reports.models import Message as ReportMessage
from embargo.reports.models import Report
from tests.helpers import Api, submit
from tests.smtp import free_port

pytestmark = pytest.mark.django_db

INTAKE = "security@requests.example"
OTHER_INTAKE = "security@other.example"


@pytest.fixture
def project(team: dict[str, Api]) -> Project:
    project = Project.objects.get(slug="requests")
    do_change_project(project, {"intake_address": INTAKE}, acting_user=User.objects.get(email="owner@example.org"))
    return project


def _mail(body: str, *, sender: str, to: str = INTAKE, subject: str = "Ibex-3307 proxy leak") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid()
    message.set_content(body)
    return message


def deliver(message: Message, to: str = INTAKE, mail_from: str = "ada@example.net") -> str:
    refusal = actions.check_recipient(to)
    return refusal or actions.receive(message.as_bytes(), envelope_from=mail_from, recipient=to)


def _notice(template: str, to: str) -> OutboxMessage:
    return OutboxMessage.objects.filter(template=template, to_email=to).latest("id")


def _reply_address(row: OutboxMessage) -> str:
    return str(delivery.render(row).extra_headers["Reply-To"])


def _answer(row: OutboxMessage, body: str, *, in_reply_to: str | None = None) -> str:
    """`row`'s recipient answers it by e-mail, naming `in_reply_to` (by default the row itself; "" for none)."""
    address = _reply_address(row)
    reply = _mail(f"{body}\n\nOn Mon, 7 Dec 2026, Embargo wrote:\n> earlier\n", sender=row.to_email, to=address)
    named = row.message_id if in_reply_to is None else in_reply_to
    if named:
        reply["In-Reply-To"] = named
        reply["References"] = named
    return deliver(reply, to=address, mail_from=row.to_email)


def _posted(body: str) -> ReportMessage:
    return next(m for m in ReportMessage.objects.order_by("-id") if m.body == body)


def _reporter_sees(api: Api, report_id: str, body: str) -> bool:
    thread = api.get(f"/api/v1/reports/{report_id}/messages").json["items"]
    return any(item["body"] == body for item in thread)


# --- 2. a team member's reply -----------------------------------------------------------------------------------


def test_a_team_members_answer_to_a_reminder_is_an_internal_note(project: Project, team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    report = Report.objects.get(public_id=report_id)
    notify.reminder(report, clock="response", step="remind", due_at="2026-12-08 10:00 UTC", audiences=("maintainers",))
    reminder = _notice("clock_reminder", "maintainer@example.org")
    answer = _answer(reminder, "Owner, can you take this one? I am away.")
    assert answer.startswith("250 2.0.0 Your reply is in the report's thread as an internal note"), answer
    assert _posted("Owner, can you take this one? I am away.").internal
    assert not _reporter_sees(team["reporter"], report_id, "Owner, can you take this one? I am away.")
    assert not OutboxMessage.objects.filter(template="report_message", to_email="reporter@example.org").exists()
    assert Report.objects.get(public_id=report_id).first_response_at is None  # an internal note stops no clock


def test_a_team_members_answer_to_the_reporters_message_reaches_the_reporter(
    project: Project, team: dict[str, Api]
) -> None:
    report_id = submit(team["reporter"])["id"]
    assert team["reporter"].post(f"/api/v1/reports/{report_id}/messages", {"body": "Any news?"}).status == 201
    notice = _notice("report_message", "maintainer@example.org")
    answer = _answer(notice, "Reproduced; a fix is on its way.")
    assert answer.startswith("250 2.0.0 Your reply is in the report's thread."), answer
    assert not _posted("Reproduced; a fix is on its way.").internal
    assert _reporter_sees(team["reporter"], report_id, "Reproduced; a fix is on its way.")
    assert Report.objects.get(public_id=report_id).first_response_at is not None
    # The References header alone names the notice as well (some clients send no In-Reply-To).
    row = _notice("report_message", "maintainer@example.org")
    address = _reply_address(row)
    reply = _mail("And a second answer.", sender="maintainer@example.org", to=address)
    reply["References"] = f"<unrelated@example.net> {row.message_id}"
    assert deliver(reply, to=address, mail_from="maintainer@example.org").startswith("250 2.0.0 Your reply is in")
    assert not _posted("And a second answer.").internal


def test_a_team_members_reply_without_in_reply_to_is_an_internal_note(project: Project, team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    assert team["reporter"].post(f"/api/v1/reports/{report_id}/messages", {"body": "Any news?"}).status == 201
    notice = _notice("report_message", "maintainer@example.org")
    assert _answer(notice, "Looking at it.", in_reply_to="").startswith("250 2.0.0 Your reply is in the report's "
                                                                          "thread as an internal note")  # fmt: skip
    assert _posted("Looking at it.").internal
    assert not _reporter_sees(team["reporter"], report_id, "Looking at it.")


def test_a_reply_naming_another_persons_notice_is_an_internal_note(project: Project, team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    assert team["reporter"].post(f"/api/v1/reports/{report_id}/messages", {"body": "Any news?"}).status == 201
    mine = _notice("report_message", "maintainer@example.org")
    owners = _notice("report_message", "owner@example.org")
    answer = _answer(mine, "Forged thread.", in_reply_to=owners.message_id)
    assert "internal note" in answer
    assert _posted("Forged thread.").internal
    # Nor does a notice about another report, though sent to the same person.
    other_id = submit(team["reporter"])["id"]
    assert team["reporter"].post(f"/api/v1/reports/{other_id}/messages", {"body": "And here?"}).status == 201
    elsewhere = _notice("report_message", "maintainer@example.org")
    assert elsewhere.report_id != mine.report_id
    assert "internal note" in _answer(mine, "Wrong report.", in_reply_to=elsewhere.message_id)
    assert _posted("Wrong report.").internal


def test_the_reporters_reply_stays_public_without_in_reply_to(project: Project, team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    receipt = _notice("report_receipt", "reporter@example.org")
    answer = _answer(receipt, "One more detail.", in_reply_to="")
    assert answer.startswith("250 2.0.0 Your reply is in the report's thread."), answer
    assert not _posted("One more detail.").internal
    assert _reporter_sees(team["reporter"], report_id, "One more detail.")


# --- 3. reply addresses are credentials -------------------------------------------------------------------------


def test_an_automatic_answer_to_a_reply_address_keeps_the_address_out_of_the_audit_log(
    project: Project, team: dict[str, Api]
) -> None:
    report_id = submit(team["reporter"])["id"]
    address = _reply_address(_notice("report_receipt", "reporter@example.org"))
    auto = _mail("I am on holiday.", sender="reporter@example.org", to=address)
    auto["Auto-Submitted"] = "auto-replied"
    assert deliver(auto, to=address, mail_from="reporter@example.org").startswith("250 ")
    event = Event.objects.get(tag="mail:kept")
    assert event.data["recipient"] == f"reply address (report {report_id})"
    assert address.partition("@")[0] not in str(event.data)


# --- 4. intake per project --------------------------------------------------------------------------------------


@pytest.mark.rate_limits
def test_intake_is_limited_per_project_whatever_the_senders(project: Project, settings: Any) -> None:
    settings.EMBARGO_RATE_LIMITS = {**settings.EMBARGO_RATE_LIMITS, "mail_in": {"project": "2/1h"}}
    Project.objects.filter(slug="other").update(intake_address=OTHER_INTAKE)
    for n in range(2):
        sender = f"sender{n}@example.net"
        assert deliver(_mail("Flood", sender=sender), mail_from=sender).startswith("250 ")
    answer = deliver(_mail("Flood", sender="sender9@example.net"), mail_from="sender9@example.net")
    assert answer.startswith("451 4.7.1 This project takes no more reports by e-mail for now"), answer
    assert Report.objects.filter(project=project).count() == 2
    # Another project's intake is counted on its own.
    assert deliver(_mail("Elsewhere", sender="bob@example.net", to=OTHER_INTAKE), to=OTHER_INTAKE).startswith("250")


# --- 1. plain SMTP, several recipients ---------------------------------------------------------------------------


def test_a_temporary_failure_for_any_recipient_is_the_smtp_answer() -> None:
    taken, refused, later = "250 2.0.0 Received", "550 5.1.1 no such address", "451 4.7.1 Too many"
    assert smtp_answer([taken, later]) == later
    assert smtp_answer([later, taken, refused]) == later
    assert smtp_answer([refused, taken]) == taken
    assert smtp_answer([refused, "550 5.7.1 other"]) == refused
    assert smtp_answer([taken, TEMPORARY_FAILURE]) == TEMPORARY_FAILURE


class _Server(Controller):
    def __init__(self, handler: Handler) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=free_port())
        self._make = server_factory(handler)

    def factory(self) -> Any:
        return self._make()


@pytest.fixture
def smtp_server() -> Any:
    server = _Server(Handler())
    server.start()
    yield server
    server.stop()
    server.handler.executor.shutdown(wait=True)


@pytest.mark.rate_limits
@pytest.mark.django_db(transaction=True)
def test_one_recipients_temporary_failure_makes_the_sender_retry_and_nothing_comes_twice(
    team: dict[str, Api], smtp_server: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="embargo.mailin.receiver")
    Project.objects.filter(slug="requests").update(intake_address=INTAKE)
    Project.objects.filter(slug="other").update(intake_address=OTHER_INTAKE)
    settings.EMBARGO_RATE_LIMITS = {**settings.EMBARGO_RATE_LIMITS, "mail_in": {"project": "1/1h"}}
    with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as client:
        # `other` takes its one mail of the hour...
        client.sendmail("bob@example.net", [OTHER_INTAKE], _mail("First", sender="bob@example.net").as_bytes())
        # ... so a message to both projects is taken by `requests` only, and the answer asks for a retry.
        both = _mail("To both", sender="ada@example.net", to=f"{INTAKE}, {OTHER_INTAKE}").as_bytes()
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("ada@example.net", [INTAKE, OTHER_INTAKE], both)
        assert refused.value.smtp_code == 451
        assert b"takes no more reports by e-mail" in refused.value.smtp_error
        assert Report.objects.filter(project__slug="requests").count() == 1
        assert Report.objects.filter(project__slug="other").count() == 1
        # The sending server tries again later: `other` takes it now, `requests` knows it already.
        settings.EMBARGO_RATE_LIMITS = {**settings.EMBARGO_RATE_LIMITS, "mail_in": {"project": "10/1h"}}
        assert client.sendmail("ada@example.net", [INTAKE, OTHER_INTAKE], both) == {}
    assert Report.objects.filter(project__slug="requests").count() == 1
    assert Report.objects.filter(project__slug="other").count() == 2
    # What `requests` answered the second time (the bytes as the server took them: smtplib sends CRLF lines).
    (kept,) = InboundMail.objects.filter(recipient=INTAKE)
    assert actions.receive(actions.read_raw(kept), envelope_from="ada@example.net", recipient=INTAKE) == (
        "250 2.0.0 Already received."
    )
    assert [r.getMessage() for r in caplog.records if r.name == "embargo.mailin.receiver"][-2:] == [
        f"mail-in: message for {INTAKE}: 250",
        f"mail-in: message for {OTHER_INTAKE}: 250",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_server_never_logs_a_reply_address(
    team: dict[str, Api], smtp_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    report_id = submit(team["reporter"])["id"]
    address = _reply_address(_notice("report_receipt", "reporter@example.org"))
    reply = _mail("Squid 6.1.", sender="reporter@example.org", to=address)
    with caplog.at_level(logging.DEBUG), smtplib.SMTP(smtp_server.hostname, smtp_server.port) as client:
        assert client.sendmail("reporter@example.org", [address], reply.as_bytes()) == {}
    assert Report.objects.get(public_id=report_id).messages.count() == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"mail-in: message for reply address (report {report_id}): 250" in logged
    assert address.partition("@")[0] not in logged
    assert "reporter@example.org" not in logged
