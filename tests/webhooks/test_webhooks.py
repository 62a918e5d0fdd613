"""Webhooks against a real local receiver (allowed by the operator settings): what is sent, signed how, retried
when, refused where; and who may manage them."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from embargo import clock
from embargo.accounts.models import User
from embargo.notifications import worker
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Project
from embargo.reports.actions import Submission, do_submit_report
from embargo.webhooks import delivery
from embargo.webhooks.models import Webhook, WebhookDelivery
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, submit
from tests.webhooks.receiver import Receiver, self_signed, tls_context

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/projects/requests/webhooks"
MESSAGE = "Marmot-6620: the patch is on its way"
ALL_EVENTS = ["report.received", "report.state_changed", "message.posted", "reminder", "advisory.published"]
MOMENT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """The receiver on 127.0.0.1, over plain http: both allowed by the operator for it only."""
    settings.EMBARGO_SMTP_URL = ""
    settings.EMBARGO_ALLOW_PRIVATE_NETWORK = False
    settings.EMBARGO_WEBHOOK_ALLOW_HTTP = True
    settings.EMBARGO_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1/32"]
    running = Receiver()
    yield running
    running.close()


def add_hook(api: Api, url: str, **fields: Any) -> dict[str, Any]:
    response = api.post(HOOKS, {"url": url, "events": ALL_EVENTS, **fields})
    assert response.status == 201, response.text
    return response.json


def deliveries(team: dict[str, Api], hook_id: str) -> list[dict[str, Any]]:
    response = team["owner"].get(f"{HOOKS}/{hook_id}/deliveries")
    assert response.status == 200, response.text
    return response.json["items"]


# --- what is sent ---------------------------------------------------------------------------------------------


def test_a_new_report_and_a_message_reach_the_hook_signed_and_without_report_text(
    team: dict[str, Api], receiver: Receiver
) -> None:
    hook = add_hook(team["owner"], receiver.url)
    assert hook["secret"].startswith("whsec_")
    report_id = submit(team["reporter"])["id"]
    posted = team["maintainer"].post(f"/api/v1/reports/{report_id}/messages", {"body": MESSAGE})
    assert posted.status == 201, posted.text
    internal = team["maintainer"].post(
        f"/api/v1/reports/{report_id}/messages", {"body": MESSAGE + " (internal)", "internal": True}
    )
    assert internal.status == 201, internal.text

    worker.run_pass()

    events = [r.json["event"] for r in receiver.received]
    assert events == ["report.received", "message.posted", "message.posted"]
    for request in receiver.received:
        assert request.path == "/hooks/embargo"
        assert request.verifies_with(hook["secret"])
        assert not request.verifies_with("whsec_someone-else")
        assert request.headers["X-Embargo-Event"] == request.json["event"]
        assert request.headers["X-Embargo-Delivery"] == request.json["id"]
        assert request.headers["Content-Type"].startswith("application/json")
        for secret in (SECRET_TITLE, SECRET_TEXT, MESSAGE, "Marmot"):
            assert secret not in request.body.decode()
    received, message, note = (r.json for r in receiver.received)
    assert received["report"] == {"id": report_id, "url": f"http://127.0.0.1:8000/reports/{report_id}/"}
    assert received["project"]["slug"] == "requests"
    assert received["content_included"] is False
    assert message["data"]["author"] == "team"
    assert (message["data"]["internal"], note["data"]["internal"]) == (False, True)
    assert "body" not in message["data"]
    log = deliveries(team, hook["id"])
    assert [(row["status_code"], row["attempt"], row["ok"]) for row in log] == [(200, 1, True)] * 3
    assert all(row["duration_ms"] is not None for row in log)
    # The receiver's answer is kept as a short excerpt, printable characters only.
    assert "Heron-1203 seen" in log[0]["response_excerpt"]
    assert "\x07" not in log[0]["response_excerpt"]


def test_with_content_included_the_title_and_the_message_are_sent(team: dict[str, Api], receiver: Receiver) -> None:
    hook = add_hook(team["owner"], receiver.url, include_content=True, events=["report.received", "message.posted"])
    report_id = submit(team["reporter"])["id"]
    team["reporter"].post(f"/api/v1/reports/{report_id}/messages", {"body": MESSAGE})
    # The outbox holds no content: it is read from the sealed records when delivered.
    for row in OutboxMessage.objects.filter(template="webhook"):
        assert SECRET_TITLE not in str(row.context)
        assert MESSAGE not in str(row.context)
    worker.run_pass()
    received, message = (r.json for r in receiver.received)
    assert received["report"]["title"] == SECRET_TITLE
    assert message["report"]["title"] == SECRET_TITLE
    assert message["data"]["body"] == MESSAGE
    assert message["data"]["author"] == "reporter"
    assert SECRET_TEXT not in receiver.received[0].body.decode()  # the title, not the description
    assert all(r.verifies_with(hook["secret"]) for r in receiver.received)


def test_a_report_transferred_in_is_a_new_report_for_the_receiving_projects_hooks(
    team: dict[str, Api], receiver: Receiver
) -> None:
    from embargo.projects.models import Membership

    Membership.objects.filter(project__slug="other", user__email="stranger@example.org").update(role="owner")
    sending = add_hook(team["owner"], receiver.url, events=["report.received"])
    receiving = add_hook_to(team["stranger"], "other", receiver.url, events=["report.received"])
    report_id = submit(team["reporter"])["id"]
    worker.run_pass()
    assert [r.json["project"]["slug"] for r in receiver.received] == ["requests"]

    moved = team["maintainer"].post(f"/api/v1/reports/{report_id}/transfer", {"project": "other"})
    assert moved.status == 201, moved.text
    worker.run_pass()
    arrived = receiver.received[1]
    assert (arrived.json["event"], arrived.json["project"]["slug"]) == ("report.received", "other")
    assert arrived.json["report"]["id"] == report_id
    assert arrived.verifies_with(receiving["secret"])
    assert not arrived.verifies_with(sending["secret"])
    assert SECRET_TITLE not in arrived.body.decode()
    assert len(receiver.received) == 2  # the sending project's hook hears nothing more


def add_hook_to(api: Api, slug: str, url: str, **fields: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/projects/{slug}/webhooks", {"url": url, "events": ALL_EVENTS, **fields})
    assert response.status == 201, response.text
    return response.json


def test_state_changes_and_reminders_are_delivered(team: dict[str, Api], receiver: Receiver) -> None:
    clock.freeze(MOMENT)
    add_hook(team["owner"], receiver.url, events=["report.state_changed", "reminder"])
    report_id = submit(team["reporter"])["id"]
    moved = team["maintainer"].post(f"/api/v1/reports/{report_id}/transitions", {"to": "needs_info", "comment": "?"})
    assert moved.status == 200, moved.text
    worker.run_pass(MOMENT)
    [change] = [r.json for r in receiver.received]
    assert (change["event"], change["data"]["from"], change["data"]["to"]) == (
        "report.state_changed", "received", "needs_info",
    )  # fmt: skip
    # Days later the reporter's question is still open: the policy's reminder goes to the hook too.
    later = clock.advance(dt.timedelta(days=20))
    worker.run_pass(later)
    reminders = [r.json for r in receiver.received if r.json["event"] == "reminder"]
    assert reminders, [r.json["event"] for r in receiver.received]
    assert {"clock", "step", "due_at"} <= set(reminders[0]["data"])


def test_a_held_report_is_announced_when_an_owner_lets_it_in(team: dict[str, Api], receiver: Receiver) -> None:
    add_hook(team["owner"], receiver.url, events=["report.received"])
    assert team["owner"].patch("/api/v1/projects/requests", {"hold_new_accounts": True}).status == 200
    held = submit(team["reporter"])["id"]  # a new account's report waits for an owner's review
    hook = Webhook.objects.get()
    hook.events = ALL_EVENTS
    hook.include_content = True
    hook.save()
    assert team["reporter"].post(f"/api/v1/reports/{held}/messages", {"body": MESSAGE}).status == 201
    worker.run_pass()
    assert receiver.received == []  # neither the report nor what its sender adds while it is held
    hook.events = ["report.received"]
    hook.save()
    assert team["owner"].post(f"/api/v1/reports/{held}/release-hold", {}).status == 200
    worker.run_pass()
    [announced] = [r.json for r in receiver.received]
    assert (announced["event"], announced["report"]["id"]) == ("report.received", held)


def test_a_published_advisory_is_delivered_with_its_public_link(team: dict[str, Api], receiver: Receiver) -> None:
    """The event as the publish action records it (tests/releases goes through publication itself)."""
    from embargo.audit.actions import record_event
    from embargo.audit.tags import Audience, Tag

    add_hook(team["owner"], receiver.url, format="slack", events=["advisory.published"])
    with transaction.atomic():
        record_event(
            Tag.ADVISORY_PUBLISHED, actor=None, project=Project.objects.get(slug="requests"),
            audience=Audience.PARTICIPANTS, data={"id": "EMB-2026-0007", "cve_id": "CVE-2026-4242"},
        )  # fmt: skip
    worker.run_pass()
    [published] = receiver.received
    assert published.headers["X-Embargo-Event"] == "advisory.published"
    assert published.json["text"] == (
        "[requests] Advisory EMB-2026-0007 (CVE-2026-4242) published.\n"
        "<http://127.0.0.1:8000/advisories/EMB-2026-0007|EMB-2026-0007>"
    )


@pytest.mark.parametrize("include_content", [False, True])
def test_slack_and_matrix_formats_have_their_shape(
    team: dict[str, Api], receiver: Receiver, include_content: bool
) -> None:
    add_hook(team["owner"], receiver.url, format="slack", events=["report.received"], include_content=include_content)
    add_hook(team["owner"], receiver.url, format="matrix", events=["report.received"], include_content=include_content)
    report_id = submit(team["reporter"], title="<b>Zebra-7741</b> & co")["id"]
    worker.run_pass()
    bodies = sorted((r.json for r in receiver.received), key=len)
    slack = next(b for b in bodies if set(b) == {"text"})
    matrix = next(b for b in bodies if set(b) == {"text", "format", "html"})
    assert f"New report {report_id} received" in slack["text"]
    assert f"<http://127.0.0.1:8000/reports/{report_id}/|open the report>" in slack["text"]
    assert matrix["format"] == "org.matrix.custom.html"
    assert f'<a href="http://127.0.0.1:8000/reports/{report_id}/">' in matrix["html"]
    assert f"New report {report_id} received" in matrix["text"]
    if include_content:
        assert "*&lt;b&gt;Zebra-7741&lt;/b&gt; &amp; co*" in slack["text"]
        assert "<strong>&lt;b&gt;Zebra-7741&lt;/b&gt; &amp; co</strong>" in matrix["html"]
        assert "<b>Zebra-7741</b> & co" in matrix["text"]
    else:
        for body in (slack, matrix):
            assert "Zebra" not in str(body)


# --- retries, failures and transactions -------------------------------------------------------------------------


def test_a_500_is_retried_with_back_off_and_the_log_shows_both_attempts(
    team: dict[str, Api], receiver: Receiver
) -> None:
    clock.freeze(MOMENT)
    hook = add_hook(team["owner"], receiver.url, events=["report.received"])
    submit(team["reporter"])
    receiver.statuses = [500]
    first = worker.run_pass(MOMENT)
    assert first.retried >= 1
    assert len(receiver.received) == 1
    assert worker.run_pass(MOMENT + dt.timedelta(seconds=10)).sent == 0  # not due before its back-off
    assert len(receiver.received) == 1
    later = clock.advance(worker.backoff(1))
    worker.run_pass(later)
    assert len(receiver.received) == 2
    one, two = receiver.received
    assert one.headers["X-Embargo-Delivery"] == two.headers["X-Embargo-Delivery"]  # stable across retries
    assert one.body == two.body
    assert two.verifies_with(hook["secret"])
    log = deliveries(team, hook["id"])
    assert [(row["attempt"], row["status_code"], row["ok"]) for row in log] == [(2, 200, True), (1, 500, False)]
    assert "answered 500" in log[1]["error"]
    row = OutboxMessage.objects.get(template="webhook")
    assert row.sent_at is not None
    assert row.attempts == 2


@pytest.mark.parametrize("status", [400, 410, 302])
def test_a_refusal_is_logged_and_not_retried(team: dict[str, Api], receiver: Receiver, status: int) -> None:
    clock.freeze(MOMENT)
    hook = add_hook(team["owner"], receiver.url, events=["report.received"])
    submit(team["reporter"])
    receiver.statuses = [status]
    worker.run_pass(MOMENT)
    row = OutboxMessage.objects.get(template="webhook")
    assert row.failed_at is not None
    assert row.sent_at is None
    worker.run_pass(MOMENT + worker.BACKOFF_CAP)
    assert len(receiver.received) == 1
    [logged] = deliveries(team, hook["id"])
    assert (logged["status_code"], logged["ok"]) == (status, False)
    assert "not retried" in logged["error"]


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_busy_receiver_is_tried_again(team: dict[str, Api], receiver: Receiver, status: int) -> None:
    clock.freeze(MOMENT)
    add_hook(team["owner"], receiver.url, events=["report.received"])
    submit(team["reporter"])
    receiver.statuses = [status]
    worker.run_pass(MOMENT)
    worker.run_pass(clock.advance(worker.backoff(1)))
    assert len(receiver.received) == 2
    assert OutboxMessage.objects.get(template="webhook").sent_at is not None


def test_a_rolled_back_action_delivers_nothing(team: dict[str, Api], receiver: Receiver) -> None:
    add_hook(team["owner"], receiver.url)
    reporter = User.objects.get(email="reporter@example.org")
    project = Project.objects.get(slug="requests")
    queued = []

    def failing_action() -> None:
        with transaction.atomic():
            do_submit_report(project, Submission(title=SECRET_TITLE, description=SECRET_TEXT), acting_user=reporter)
            queued.append(OutboxMessage.objects.filter(template="webhook").count())
            raise RuntimeError("the action fails after the event was recorded")

    with pytest.raises(RuntimeError):
        failing_action()
    assert queued == [1]  # queued with the report …
    assert OutboxMessage.objects.filter(template="webhook").count() == 0  # … and gone with it
    worker.run_pass()
    assert receiver.received == []


def test_a_paused_hook_gets_nothing_and_a_removed_one_drops_its_queue(team: dict[str, Api], receiver: Receiver) -> None:
    paused = add_hook(team["owner"], receiver.url, events=["report.received"], active=False)
    removed = add_hook(team["owner"], receiver.url, events=["report.received"])
    submit(team["reporter"])
    assert OutboxMessage.objects.filter(template="webhook").count() == 1  # the paused hook queues nothing
    assert team["owner"].delete(f"{HOOKS}/{removed['id']}").status == 204
    worker.run_pass()
    assert receiver.received == []
    assert OutboxMessage.objects.get(template="webhook").failed_at is not None
    assert team["owner"].get(f"{HOOKS}/{paused['id']}").json["active"] is False


# --- which URLs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook", "https://10.0.0.5/hook",
            "https://169.254.169.254/latest"],
)  # fmt: skip
def test_a_url_resolving_to_a_private_address_is_refused_at_save(team: dict[str, Api], settings: Any, url: str) -> None:
    settings.EMBARGO_ALLOW_PRIVATE_NETWORK = False
    settings.EMBARGO_WEBHOOK_ALLOWED_HOSTS = []
    response = team["owner"].post(HOOKS, {"url": url, "events": ["report.received"]})
    assert response.status == 422, response.text
    error = response.json["error"]
    assert error["field"] == "url"
    assert "private, local or reserved address" in error["message"]
    assert Webhook.objects.count() == 0


def test_plain_http_is_refused_unless_the_operator_allows_it(team: dict[str, Api], settings: Any) -> None:
    settings.EMBARGO_ALLOW_PRIVATE_NETWORK = False
    settings.EMBARGO_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.EMBARGO_WEBHOOK_ALLOW_HTTP = False
    response = team["owner"].post(HOOKS, {"url": "http://127.0.0.1:9/hook", "events": ["report.received"]})
    assert response.status == 422, response.text
    assert "must start with https://" in response.json["error"]["message"]
    settings.EMBARGO_WEBHOOK_ALLOW_HTTP = True
    assert team["owner"].post(HOOKS, {"url": "http://127.0.0.1:9/hook", "events": ["report.received"]}).status == 201


@pytest.mark.parametrize(
    "url", ["https://user:pass@hooks.example/x", "https://hooks.example/x?token=1", "ftp://hooks.example/x", ""]
)
def test_malformed_urls_are_refused_with_a_clear_error(team: dict[str, Api], url: str) -> None:
    response = team["owner"].post(HOOKS, {"url": url, "events": ["report.received"]})
    assert response.status == 422, response.text
    assert response.json["error"]["field"] == "url"


def test_a_url_no_longer_allowed_is_refused_at_delivery(
    team: dict[str, Api], receiver: Receiver, settings: Any
) -> None:
    hook = add_hook(team["owner"], receiver.url, events=["report.received"])
    submit(team["reporter"])
    settings.EMBARGO_WEBHOOK_ALLOWED_HOSTS = []  # the operator withdrew the exception (or the name moved)
    worker.run_pass()
    assert receiver.received == []
    [logged] = deliveries(team, hook["id"])
    assert logged["status_code"] is None
    assert "127.0.0.1 is not allowed" in logged["error"]
    assert "/hooks/embargo" not in logged["error"]  # the URL's path may be a credential: only the host is named
    assert OutboxMessage.objects.get(template="webhook").failed_at is not None


def test_https_goes_to_the_checked_address_with_the_host_name_in_tls(
    team: dict[str, Api], receiver: Receiver, settings: Any, tmp_path: Path
) -> None:
    """A receiver with a certificate for `localhost` only: the call connects to the address the check approved
    and still checks the certificate against the host name (an unknown CA is refused)."""
    cert, key = self_signed(tmp_path, "localhost")
    secure = Receiver(tls=tls_context(cert, key))
    try:
        url = f"https://localhost:{secure.port}/hooks/embargo"
        hook = add_hook(team["owner"], url, events=["report.received"])
        submit(team["reporter"])
        worker.run_pass()  # the certificate's issuer is not trusted
        assert secure.received == []
        assert "could not be reached (SSLError)" in deliveries(team, hook["id"])[0]["error"]
        settings.EMBARGO_WEBHOOK_CA_BUNDLE = str(cert)
        worker.run_pass(clock.now() + worker.BACKOFF_CAP)
        [request] = secure.received
        assert request.headers["Host"] == f"localhost:{secure.port}"
        assert request.verifies_with(hook["secret"])
    finally:
        secure.close()


def test_a_name_that_changes_its_answer_after_the_check_does_not_redirect_the_call(
    team: dict[str, Api], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: `hooks.rebind.test` resolves to the allowed receiver when checked, and to another (internal)
    address right after. The delivery goes where the check approved."""
    internal = Receiver(host="127.0.0.2", port=receiver.port)  # the same port on an address not allowed
    answers = {"hooks.rebind.test": "127.0.0.1"}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    real_check = delivery.check_webhook_url

    def check_then_rebind(url: str) -> Any:
        checked = real_check(url)
        answers["hooks.rebind.test"] = "127.0.0.2"
        return checked

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(delivery, "check_webhook_url", check_then_rebind)
    try:
        hook = add_hook(team["owner"], f"http://hooks.rebind.test:{receiver.port}/hooks/embargo")
        submit(team["reporter"])
        worker.run_pass()
        assert internal.received == []
        [request] = receiver.received
        assert request.headers["Host"] == f"hooks.rebind.test:{receiver.port}"
        assert deliveries(team, hook["id"])[0]["status_code"] == 200
    finally:
        internal.close()


def test_events_and_format_are_checked(team: dict[str, Api], receiver: Receiver) -> None:
    for body, field in (
        ({"url": receiver.url, "events": []}, "events"),
        ({"url": receiver.url, "events": ["report.deleted"]}, "events.0"),
        ({"url": receiver.url, "events": ["reminder"], "format": "xml"}, "format"),
        ({"url": receiver.url, "events": ["reminder"], "include_content": "yes"}, "include_content"),
    ):
        response = team["owner"].post(HOOKS, body)
        assert response.status == 422, response.text
        assert response.json["error"]["field"] == field
    assert Webhook.objects.count() == 0


# --- the API ------------------------------------------------------------------------------------------------------


def test_owners_list_change_rotate_and_remove_hooks(team: dict[str, Api], receiver: Receiver) -> None:
    hook = add_hook(team["owner"], receiver.url, description="#security")
    listed = team["owner"].get(HOOKS).json
    assert [h["id"] for h in listed["items"]] == [hook["id"]]
    assert listed["next_cursor"] is None
    changed = team["owner"].patch(f"{HOOKS}/{hook['id']}", {"format": "slack", "rotate_secret": True})
    assert changed.status == 200, changed.text
    assert changed.json["format"] == "slack"
    assert changed.json["secret"] != hook["secret"]
    assert team["owner"].patch(f"{HOOKS}/{hook['id']}", {}).status == 422
    assert team["owner"].patch(f"{HOOKS}/{hook['id']}", {"url": "https://127.0.0.2/x"}).status == 422
    assert Webhook.objects.get().host == "127.0.0.1"
    tested = team["owner"].post(f"{HOOKS}/{hook['id']}/test")
    assert tested.status == 202, tested.text
    worker.run_pass()
    [ping] = receiver.received
    assert ping.headers["X-Embargo-Event"] == "ping"
    assert ping.headers["X-Embargo-Delivery"] == tested.json["delivery_id"]
    assert "Test delivery from Embargo" in ping.json["text"]  # the slack format now
    assert ping.verifies_with(changed.json["secret"])
    assert team["owner"].delete(f"{HOOKS}/{hook['id']}").status == 204
    assert team["owner"].get(f"{HOOKS}/{hook['id']}").status == 404
    assert WebhookDelivery.objects.count() == 0


def test_the_audit_log_keeps_neither_the_url_nor_the_secret(team: dict[str, Api], receiver: Receiver) -> None:
    from embargo.audit.models import Event

    hook = add_hook(team["owner"], receiver.url)
    team["owner"].patch(f"{HOOKS}/{hook['id']}", {"rotate_secret": True, "description": "chat"})
    recorded = str(list(Event.objects.filter(tag__startswith="webhook:").values_list("data", flat=True)))
    assert "webhook:added" in set(Event.objects.values_list("tag", flat=True))
    assert receiver.url not in recorded
    assert hook["secret"] not in recorded
    assert "127.0.0.1" in recorded


OTHERS = ("maintainer", "reporter", "collaborator", "outsider", "stranger")


def _invite_collaborator(team: dict[str, Api]) -> str:
    report_id = submit(team["reporter"])["id"]
    granted = team["owner"].post(f"/api/v1/reports/{report_id}/collaborators", {"email": "collaborator@example.org"})
    assert granted.status == 201, granted.text
    return report_id


@pytest.mark.parametrize("role", [*OTHERS, "anonymous"])
def test_only_owners_reach_the_webhook_api(team: dict[str, Api], receiver: Receiver, role: str) -> None:
    _invite_collaborator(team)
    hook = add_hook(team["owner"], receiver.url)
    api = Api() if role == "anonymous" else team[role]
    base = f"{HOOKS}/{hook['id']}"
    calls = [
        ("GET", HOOKS, None), ("POST", HOOKS, {"url": receiver.url, "events": ["reminder"]}), ("GET", base, None),
        ("PATCH", base, {"active": False}), ("DELETE", base, None), ("POST", base + "/test", None),
        ("GET", base + "/deliveries", None),
    ]  # fmt: skip
    for method, path, body in calls:
        response = api.call(method, path, body)
        expected = (401, "unauthenticated") if role == "anonymous" else (404, "not_found")
        assert (response.status, response.json["error"]["code"]) == expected, (method, path, response.text)
        assert hook["secret"] not in response.text
    assert Webhook.objects.get().active is True
    assert OutboxMessage.objects.filter(template="webhook", context__event="ping").count() == 0


# --- the pages ----------------------------------------------------------------------------------------------------


def _browser(role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(User.objects.get(email=f"{role}@example.org"))
    return client


@pytest.mark.parametrize("role", [*OTHERS, "anonymous"])
def test_only_owners_open_the_webhook_pages(team: dict[str, Api], receiver: Receiver, role: str) -> None:
    _invite_collaborator(team)
    hook = add_hook(team["owner"], receiver.url)
    client = _browser(role)
    pages = ["/projects/requests/settings/webhooks/", f"/projects/requests/settings/webhooks/{hook['id']}/"]
    for page in pages:
        for response in (client.get(page), client.post(page, {"action": "test"})):
            if role == "anonymous":
                assert response.status_code == 302
                assert response["Location"].startswith("/account/login/")
            else:
                assert response.status_code == 404
            assert hook["secret"] not in response.content.decode()
    assert OutboxMessage.objects.filter(template="webhook").count() == 0


def test_an_owner_adds_a_hook_from_the_page_and_sends_a_test(team: dict[str, Api], receiver: Receiver) -> None:
    client = _browser("owner")
    settings_page = client.get("/projects/requests/settings/")
    assert b"/projects/requests/settings/webhooks/" in settings_page.content
    refused = client.post("/projects/requests/settings/webhooks/", {
        "url": "https://10.1.2.3/hook", "events": ["report.received"], "format": "json", "active": "on",
    })  # fmt: skip
    assert refused.status_code == 200
    assert "private, local or reserved address" in refused.content.decode()
    added = client.post("/projects/requests/settings/webhooks/", {
        "url": receiver.url, "events": ["report.received", "message.posted"], "format": "matrix", "active": "on",
        "description": "#security",
    })  # fmt: skip
    assert added.status_code == 302, added.content.decode()
    hook = Webhook.objects.get()
    assert added["Location"] == f"/projects/requests/settings/webhooks/{hook.public_id}/"
    page = client.get(added["Location"]).content.decode()
    assert hook.secret in page  # a fresh log-in: the owner sees the secret to give the receiver
    assert "Nothing delivered yet" in page
    tested = client.post(added["Location"], {"action": "test"})
    assert tested.status_code == 302
    worker.run_pass()
    [ping] = receiver.received
    assert set(ping.json) == {"text", "format", "html"}
    assert "Test delivery" in ping.json["text"]
    assert ping.verifies_with(hook.secret)
    page = client.get(added["Location"]).content.decode()
    assert "ping" in page
    assert ">200<" in page
    listed = client.get("/projects/requests/settings/webhooks/").content.decode()
    assert "127.0.0.1" in listed
    assert "#security" in listed


def test_changes_on_the_page_need_a_recent_log_in(team: dict[str, Api], receiver: Receiver) -> None:
    hook = add_hook(team["owner"], receiver.url)
    client = _browser("owner")
    clock.freeze(clock.now() + dt.timedelta(days=1))  # the log-in's proof is old now
    page = f"/projects/requests/settings/webhooks/{hook['id']}/"
    assert hook["secret"] not in client.get(page).content.decode()
    for action in ("save", "remove", "rotate"):
        response = client.post(page, {"action": action, "url": receiver.url, "events": ["reminder"], "format": "json"})
        assert response.status_code == 302
        assert response["Location"].startswith("/account/confirm/")
    assert Webhook.objects.get().events == sorted(ALL_EVENTS)
    assert Webhook.objects.get().secret == hook["secret"]
