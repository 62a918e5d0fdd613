"""Notifications: written in the action's transaction, delivered by the worker, and free of report text."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from embargo import clock
from embargo.notifications import worker
from embargo.notifications.models import OutboxMessage
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, submit
from tests.smtp import SmtpServer, text_of

pytestmark = pytest.mark.django_db


def queued(template: str | None = None) -> list[tuple[str, str]]:
    rows = OutboxMessage.objects.order_by("id")
    if template:
        rows = rows.filter(template=template)
    return [(r.template, r.to_email) for r in rows]


def test_a_new_report_tells_the_reporter_and_the_team(team: dict[str, Api]) -> None:
    submit(team["reporter"])
    assert sorted(queued()) == [
        ("report_receipt", "reporter@example.org"),
        ("report_received_team", "maintainer@example.org"),
        ("report_received_team", "owner@example.org"),
    ]


def test_a_reporter_who_is_in_the_team_is_not_told_twice(team: dict[str, Api]) -> None:
    submit(team["maintainer"])
    assert sorted(queued()) == [
        ("report_receipt", "maintainer@example.org"),
        ("report_received_team", "owner@example.org"),
    ]


def test_the_reporter_hears_of_each_step_and_the_team_of_replies(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    OutboxMessage.objects.all().delete()
    team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "acknowledged", "comment": "On it."})
    assert queued() == [("report_state_changed", "reporter@example.org")]
    team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "needs_info", "comment": "Version?"})
    assert queued("report_question") == [("report_question", "reporter@example.org")]
    OutboxMessage.objects.all().delete()
    team["reporter"].post(f"/api/v1/reports/{rid}/messages", {"body": "2.31.0"})
    assert sorted(queued()) == [
        ("report_message", "maintainer@example.org"),
        ("report_message", "owner@example.org"),
    ]


def test_internal_notes_tell_nobody(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    OutboxMessage.objects.all().delete()
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": "between us", "internal": True})
    assert queued() == []


def test_a_refused_action_queues_nothing(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    OutboxMessage.objects.all().delete()
    response = team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "fix_ready"})
    assert response.status == 409
    assert queued() == []


def test_optional_notifications_can_be_turned_off_but_questions_cannot(team: dict[str, Api]) -> None:
    from embargo.accounts.models import User

    User.objects.filter(email="reporter@example.org").update(notify_optional=False)
    rid = submit(team["reporter"])["id"]
    team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "acknowledged", "comment": "Seen."})
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": "Status update"})
    team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "needs_info", "comment": "Which OS?"})
    to_reporter = [t for t, to in queued() if to == "reporter@example.org"]
    assert to_reporter == ["report_receipt", "report_question"]


def test_assignment_and_invitation_are_told_to_the_person_concerned(team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    OutboxMessage.objects.all().delete()
    team["owner"].patch(f"/api/v1/reports/{rid}", {"assignee": "maintainer@example.org"})
    team["owner"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"})
    assert queued() == [
        ("report_assigned", "maintainer@example.org"),
        ("collaborator_invited", "collaborator@example.org"),
    ]


def _eml_files() -> list[Path]:
    return sorted((Path(django_settings.EMBARGO_DATA_DIR) / "mail").glob("*.eml"))


def test_without_smtp_the_worker_writes_eml_files_that_carry_no_report_text(team: dict[str, Api], settings) -> None:
    settings.EMBARGO_SMTP_URL = ""
    before = set(_eml_files())
    rid = submit(team["reporter"], reproduction="import requests  # Wombat-5512")["id"]
    team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": "Kiwi-9001: we reproduced it"})
    result = worker.run_pass()
    assert result.sent == 4
    new = [p for p in _eml_files() if p not in before]
    assert len(new) == 4
    for path in new:
        assert path.stat().st_mode & 0o077 == 0
        raw = path.read_bytes()
        for secret in (SECRET_TITLE, SECRET_TEXT, "Wombat-5512", "Kiwi-9001"):
            assert secret.encode() not in raw
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert rid in str(message["Subject"])
        assert message["References"] == f"<report-{rid}@127.0.0.1>"
    assert worker.run_pass().claimed == 0


def test_smtp_delivery_threads_per_report_with_stable_message_ids(team: dict[str, Api], settings) -> None:
    with SmtpServer() as smtp:
        settings.EMBARGO_SMTP_URL = smtp.url
        rid = submit(team["reporter"])["id"]
        team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "acknowledged", "comment": "Seen."})
        result = worker.run_pass()
        assert result.sent == 4
        messages = smtp.mailbox.wait_for(4)
    assert len(messages) == 4
    ids = {m["Message-ID"] for m in messages}
    assert ids == set(OutboxMessage.objects.values_list("message_id", flat=True))
    assert {m["In-Reply-To"] for m in messages} == {f"<report-{rid}@127.0.0.1>"}
    for message in messages:
        assert SECRET_TITLE not in text_of(message)
        assert "Seen." not in text_of(message)
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_a_failing_server_is_retried_with_back_off_then_given_up(team: dict[str, Api], settings) -> None:
    from tests.smtp import free_port

    settings.EMBARGO_SMTP_URL = f"smtp://127.0.0.1:{free_port()}?timeout=2"  # nobody listens there
    moment = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    clock.freeze(moment)
    submit(team["reporter"])
    first = worker.run_pass(moment)
    assert (first.sent, first.retried) == (0, 3)
    row = OutboxMessage.objects.order_by("id").first()
    assert row is not None
    assert row.attempts == 1
    assert row.due_at == moment + worker.backoff(1)
    assert "Error" in row.last_error or "refused" in row.last_error.lower()
    # Not due again before its back-off, then tried until the attempts run out.
    assert worker.run_pass(moment + dt.timedelta(seconds=10)).claimed == 0
    first_three = list(OutboxMessage.objects.order_by("id").values_list("id", flat=True)[:3])
    later = moment
    for _ in range(worker.MAX_ATTEMPTS - 1):
        later += worker.BACKOFF_CAP
        worker.run_pass(later)
    given_up = OutboxMessage.objects.filter(id__in=first_three, failed_at__isnull=False)
    assert given_up.count() == 3
    assert all(row.attempts == worker.MAX_ATTEMPTS for row in given_up)


def test_back_off_doubles_and_is_capped() -> None:
    assert [worker.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert worker.backoff(30) == worker.BACKOFF_CAP


def test_a_lease_that_expired_is_claimed_again(team: dict[str, Api], settings) -> None:
    settings.EMBARGO_SMTP_URL = ""
    moment = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    clock.freeze(moment)
    submit(team["reporter"])
    claimed = worker.claim(moment, "dead-worker", 100)  # a worker that claims and then dies
    assert len(claimed) == 3
    assert worker.run_pass(moment + dt.timedelta(seconds=30)).claimed == 0
    again = worker.run_pass(moment + worker.LEASE + dt.timedelta(seconds=1))
    assert again.sent == 3


def test_an_idle_pass_costs_the_same_few_queries_however_many_reports(team: dict[str, Api], settings) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.EMBARGO_SMTP_URL = ""
    moment = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    counts = []
    for n in (3, 30):
        clock.freeze(moment)
        for _ in range(n):
            submit(team["reporter"])
        worker.run_pass(moment)  # delivers the receipts
        with CaptureQueriesContext(connection) as queries:
            result = worker.run_pass(moment + dt.timedelta(hours=1))  # before any reminder is due
        assert (result.reminders, result.claimed) == (0, 0)
        counts.append(len(queries))
    # Reminders, outbox, one look at each kind of fix job and one at each kind of language job, one at the
    # reports due for purging (retention) and one at the latest audit checkpoint (is one due?).
    assert counts[0] == counts[1] <= 16
