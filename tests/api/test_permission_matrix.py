"""Who may call which route of the API, as one table read from the URL configuration.

Every served (method, path) must have a rule here, so a new route without one fails. For each route and
each kind of caller, the allowed ones succeed; the others get 404 (401 when anonymous, 403 when they see
the report but a field is not theirs to change), learn nothing of the report and change nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from embargo import clock
from embargo.accounts.actions import do_create_token
from embargo.accounts.models import ApiToken, User
from embargo.advisories.models import Advisory
from embargo.api import api
from embargo.audit.models import Event
from embargo.domain import tokens
from embargo.fixes.models import Fix, Patch, Reproduction
from embargo.languages.models import Translation
from embargo.projects.models import Membership, Packager, PackagerRequest, Project, ProjectKey
from embargo.releases.models import PackagerNotice, SecurityRelease
from embargo.reports.models import Attachment, Collaborator, Message, Report, ReportTransfer
from embargo.webhooks.models import Webhook
from tests.helpers import (
    SECRET_TEXT,
    SECRET_TITLE,
    Api,
    report_awaiting_confirmation,
    submit,
    transferred_in,
    turn_translation_on,
)
from tests.releases.planning import release_date
from tests.vault import keys as test_keys

pytestmark = pytest.mark.django_db

INTERNAL_NOTE = "Kiwi-9001: internal note, the fix needs a new urllib3"
PUBLIC_ANSWER = "Thanks, we reproduced it (Lemur-4410)."
ATTACHMENT = b"Axolotl-2207 proof of concept"
SECRETS = (SECRET_TITLE, SECRET_TEXT, INTERNAL_NOTE, PUBLIC_ANSWER, ATTACHMENT.decode())

# The owner also calls with a read-only token and with a `write` one (domain/tokens.py): they reach what the owner
# reaches, minus changes (read) or publication (write), which their tokens' scope refuses with 403 `token_scope`.
ROLES = (
    "anonymous", "outsider", "stranger", "reporter", "collaborator", "maintainer", "owner", "owner_read", "owner_write",
)  # fmt: skip
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
TEAM = frozenset({"maintainer", "owner"})
PARTICIPANTS = TEAM | {"reporter", "collaborator"}  # everyone who sees the report

Request = Callable[[str], dict[str, Any]]  # the caller's role -> keyword arguments of Api.call


def nothing(role: str) -> dict[str, Any]:
    return {}


def send(body: dict[str, Any]) -> Request:
    return lambda role: {"body": body}


def credit_or_assignee(role: str) -> dict[str, Any]:
    """A change that is the caller's to make if anyone's: the reporter's credit, or the team's assignee."""
    body = {"assignee": "maintainer@example.org"} if role in TEAM else {"credit_name": "Ada L."}
    return {"body": body}


def withdraw_or_acknowledge(role: str) -> dict[str, Any]:
    """The scenario's report waits for the reporter's confirmation (fix_ready): the reporter may withdraw
    it, the team may take it back to confirmed."""
    body = {"to": "withdrawn"} if role == "reporter" else {"to": "confirmed", "comment": "Not quite yet."}
    return {"body": body}


ADVISORY = {
    "summary": "Proxy credentials leak on cross-host redirects",
    "details": "The header survives a redirect to another host.",
    "affected": [{"ecosystem": "PyPI", "package": "requests", "ranges": [{"introduced": "0", "fixed": "2.32.0"}]}],
    "references": [{"type": "FIX", "url": "https://example.org/requests/commit/a1b2c3d4"}],
}


def osv_upload(role: str) -> dict[str, Any]:
    events = [{"introduced": "0"}, {"fixed": "2.0"}]
    package = {"ecosystem": "PyPI", "name": "requests"}
    record = {
        "id": "PYSEC-2026-1",
        "modified": "2026-01-02T03:04:05Z",
        "summary": "Imported",
        "affected": [{"package": package, "ranges": [{"type": "ECOSYSTEM", "events": events}]}],
    }
    return {"files": {"file": SimpleUploadedFile("pysec.json", json.dumps(record).encode())}}


def patch_upload(role: str) -> dict[str, Any]:
    return {"files": {"file": SimpleUploadedFile("b.patch", b"--- a/y\n+++ b/y\n"), "branch": "main"}}


def upload(role: str) -> dict[str, Any]:
    return {"files": {"file": SimpleUploadedFile("more.txt", b"more", content_type="text/plain")}}


def new_release(role: str) -> dict[str, Any]:
    """A release of the scenario's second report (fix_ready, in no release yet)."""
    second = Report.objects.filter(state="fix_ready", release_entry__isnull=True).values_list("public_id", flat=True)
    return {"body": {"reports": list(second), "versions": ["2.32.4"]}}


def another_date(role: str) -> dict[str, Any]:
    return {"body": {"date": release_date(1), "time": "11:00"}}


def broken_then_publish(role: str) -> dict[str, Any]:
    """The scenario's release is planned for a later day: for the team, whose call must succeed, the embargo is
    recorded as broken first (the one way to publish before the moment). Refused callers change nothing."""
    if role in TEAM:
        SecurityRelease.objects.update(embargo_broken_at=clock.now())
    return {"body": {"overrides": {}}}


def held_then_let_in(role: str) -> dict[str, Any]:
    """Only a held report can be let in: for the team, whose call must succeed, the scenario's reports are held."""
    if role in TEAM:
        Report.objects.update(held_at=clock.now())
    return {"body": {}}


def published_then_withdraw(role: str) -> dict[str, Any]:
    """Only a published advisory can be withdrawn: the scenario's is set published first, as the publish action
    leaves it (its draft and `updated_at`, which a withdrawal would change, stay as they were)."""
    Advisory.objects.filter(cve_id="CVE-2026-4242").update(state="published", published_at=clock.now())
    return {"body": {"reason": "Not a vulnerability after all: the behaviour is documented."}}


# The scenario's report waits for its reporter's confirmation: the team goes ahead with a written reason.
OVERRIDE = {"override_confirmation": "The reporter is travelling; our CI proves the fix."}


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    request: Request = nothing
    # The answer to a participant who sees the report but may not do this: 404 when the route itself
    # needs the permission, 403 when only a field of the request does.
    refused: int = 404
    # Path parameters taken from another of the scenario's objects (e.g. a report that has no CVE ID yet).
    use: tuple[tuple[str, str], ...] = ()


OWNER = frozenset({"owner"})
EVERYONE = frozenset(ROLES)
PACKAGER = "/api/v1/projects/{slug}/packagers/{packager_id}"
WEBHOOKS = "/api/v1/projects/{slug}/webhooks"
WEBHOOK = WEBHOOKS + "/{webhook_id}"
JOIN_REQUEST = {
    "organisation": "Arch Security", "emails": ["security@arch.example.org"], "reason": "We package requests.",
}  # fmt: skip
STRICTER_POLICY = {
    "response_target_hours": 6, "response_limit_hours": 24, "fix_target_days": 10, "packager_lead_days": 5,
    "release_weekdays": ["tue", "wed", "thu"], "holiday_calendar": "", "cve_required": True, "cve_after_fix": True,
    "reporter_confirmation_days": 5, "timezone": "Europe/Berlin",
}  # fmt: skip
REPORT = "/api/v1/reports/{report_id}"
RELEASE = "/api/v1/projects/{slug}/security-releases/{release_id}"
RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/projects/{slug}/reports"): Rule(
        SIGNED_IN, send({"title": "Another one", "description": "More."})
    ),
    ("GET", "/api/v1/projects/{slug}/reports"): Rule(TEAM),
    ("GET", "/api/v1/reports/mine"): Rule(SIGNED_IN),
    ("GET", REPORT): Rule(PARTICIPANTS),
    ("PATCH", REPORT): Rule(PARTICIPANTS - {"collaborator"}, credit_or_assignee, refused=403),
    ("POST", REPORT + "/transitions"): Rule(TEAM | {"reporter"}, withdraw_or_acknowledge),
    ("GET", REPORT + "/messages"): Rule(PARTICIPANTS),
    ("POST", REPORT + "/messages"): Rule(PARTICIPANTS, send({"body": "One more thing."})),
    ("GET", REPORT + "/attachments"): Rule(PARTICIPANTS),
    ("POST", REPORT + "/attachments"): Rule(PARTICIPANTS, upload),
    ("GET", REPORT + "/attachments/{attachment_id}"): Rule(PARTICIPANTS),
    ("GET", REPORT + "/collaborators"): Rule(PARTICIPANTS),
    ("POST", REPORT + "/collaborators"): Rule(TEAM, send({"email": "stranger@example.org"})),
    ("DELETE", REPORT + "/collaborators/{user_id}"): Rule(TEAM),
    ("GET", REPORT + "/events"): Rule(PARTICIPANTS),
    ("GET", "/api/v1/projects/{slug}/policy"): Rule(TEAM),
    ("PUT", "/api/v1/projects/{slug}/policy"): Rule(OWNER, send(STRICTER_POLICY)),
    ("GET", "/api/v1/projects/{slug}/metrics"): Rule(TEAM),
    ("GET", "/api/v1/projects/{slug}"): Rule(OWNER),
    ("PATCH", "/api/v1/projects/{slug}"): Rule(OWNER, send({"test_command": "python -m pytest -x -q"})),
    ("POST", REPORT + "/fixes"): Rule(TEAM, send({"kind": "interim", "description": "Disable the feature."})),
    ("GET", REPORT + "/fixes"): Rule(PARTICIPANTS),
    ("GET", REPORT + "/fixes/{fix_id}"): Rule(PARTICIPANTS),
    ("PATCH", REPORT + "/fixes/{fix_id}"): Rule(TEAM, send({"description": "Strip it everywhere."})),
    ("POST", REPORT + "/fixes/{fix_id}/patches"): Rule(TEAM, patch_upload),
    ("GET", REPORT + "/fixes/{fix_id}/patches/{patch_id}"): Rule(PARTICIPANTS),
    ("POST", REPORT + "/reproductions"): Rule(TEAM, send({"target": "affected"})),
    ("GET", REPORT + "/reproductions"): Rule(PARTICIPANTS),
    ("POST", REPORT + "/fix-confirmation"): Rule(frozenset({"reporter"}), send({"fixed": True})),
    ("GET", REPORT + "/advisory"): Rule(PARTICIPANTS),
    ("PUT", REPORT + "/advisory"): Rule(TEAM, send(ADVISORY)),
    ("POST", REPORT + "/cve"): Rule(TEAM, send({"cve_id": "CVE-2026-7777"}), use=(("report_id", "second_report_id"),)),
    ("GET", REPORT + "/advisory/cve.json"): Rule(TEAM),
    ("GET", REPORT + "/advisory/osv.json"): Rule(TEAM),
    ("GET", REPORT + "/advisory/csaf.json"): Rule(TEAM),
    ("POST", REPORT + "/advisory/withdraw"): Rule(TEAM, published_then_withdraw),
    ("POST", "/api/v1/projects/{slug}/advisories/import"): Rule(OWNER, osv_upload),
    ("GET", "/api/v1/projects/{slug}/security-releases"): Rule(TEAM),
    ("POST", "/api/v1/projects/{slug}/security-releases"): Rule(TEAM, new_release),
    ("GET", RELEASE): Rule(TEAM),
    ("PATCH", RELEASE): Rule(TEAM, send({"versions": ["2.32.5", "2.31.2"]})),
    ("POST", RELEASE + "/notify-packagers"): Rule(TEAM, send(OVERRIDE)),
    ("POST", RELEASE + "/embargo-broken"): Rule(TEAM, send({"reason": "Posted on a public tracker."})),
    ("GET", RELEASE + "/preannouncement"): Rule(TEAM),
    ("PUT", RELEASE + "/preannouncement"): Rule(TEAM, send({"text": "Requests 2.32.5 is coming."})),
    ("POST", RELEASE + "/preannouncement/approve"): Rule(TEAM),
    # The reporter sees the date of their report's release; collaborators do not (a team-only plan).
    ("GET", REPORT + "/release"): Rule(TEAM | {"reporter"}),
    ("PUT", REPORT + "/release"): Rule(TEAM, another_date),
    ("POST", REPORT + "/release/notify-packagers"): Rule(TEAM, send(OVERRIDE)),
    ("POST", REPORT + "/release/embargo-broken"): Rule(TEAM, send({"reason": "Posted on a public tracker."})),
    # Release day: the checks, publishing (the whole release), and the changelog entry, for the team only.
    ("GET", REPORT + "/publication-checks"): Rule(TEAM),
    ("POST", REPORT + "/publish"): Rule(TEAM, broken_then_publish),
    ("GET", REPORT + "/changelog"): Rule(TEAM),
    ("GET", RELEASE + "/publication-checks"): Rule(TEAM),
    ("POST", RELEASE + "/publish"): Rule(TEAM, broken_then_publish),
    ("POST", "/api/v1/projects/{slug}/signing-key"): Rule(OWNER, send({"generate": True})),
    ("GET", "/api/v1/projects/{slug}/packagers"): Rule(OWNER),
    ("GET", "/api/v1/projects/{slug}/reads"): Rule(OWNER),
    ("POST", "/api/v1/projects/{slug}/packagers"): Rule(
        OWNER, send({"organisation": "Arch Security", "emails": ["security@arch.example.org"]})
    ),
    ("GET", PACKAGER): Rule(OWNER),
    ("PATCH", PACKAGER): Rule(OWNER, send({"contact_name": "Ada"})),
    ("DELETE", PACKAGER): Rule(OWNER),
    # Webhooks: the owners' alone (tests/webhooks shows what they deliver).
    ("GET", WEBHOOKS): Rule(OWNER),
    ("POST", WEBHOOKS): Rule(OWNER, send({"url": "https://93.184.215.14/other", "events": ["report.received"]})),
    ("GET", WEBHOOK): Rule(OWNER),
    ("PATCH", WEBHOOK): Rule(OWNER, send({"active": False})),
    ("DELETE", WEBHOOK): Rule(OWNER),
    ("POST", WEBHOOK + "/test"): Rule(OWNER),
    ("GET", WEBHOOK + "/deliveries"): Rule(OWNER),
    # Languages: the reporter and the team set them; the team asks for and corrects translations; everyone who
    # sees the report lists the translations they may read (tests/languages shows which).
    ("GET", "/api/v1/account/export"): Rule(SIGNED_IN),
    # One's own tokens: everyone lists theirs; the scenario's token is the owner's, so only the owner revokes it.
    ("GET", "/api/v1/account/tokens"): Rule(SIGNED_IN),
    ("DELETE", "/api/v1/account/tokens/{token_id}"): Rule(OWNER),
    # One's own OpenPGP key (tests/notifications/test_encrypted_mail.py): everyone sets, reads and removes their own.
    ("GET", "/api/v1/account/openpgp-key"): Rule(SIGNED_IN),
    ("PUT", "/api/v1/account/openpgp-key"): Rule(
        SIGNED_IN, lambda role: {"body": {"public_key": test_keys.other_key().public_armored}}
    ),
    ("DELETE", "/api/v1/account/openpgp-key"): Rule(SIGNED_IN),
    ("DELETE", "/api/v1/projects/{slug}/members/{member_id}"): Rule(OWNER),
    ("POST", REPORT + "/not-a-vulnerability"): Rule(TEAM, send({"note": "Ask in the forum."})),
    ("POST", REPORT + "/spam"): Rule(TEAM),
    # Transfers (tests/reports/test_transfers.py): the team hands the report on (the scenario's is fix_ready, in a
    # release not yet sent), stops the notices of the team it came from, and lists its own stubs.
    ("POST", REPORT + "/transfer"): Rule(TEAM, send({"project": "other", "note": "It is in other's code."})),
    ("POST", REPORT + "/transfers/{transfer_id}/stop-informing"): Rule(TEAM),
    ("GET", "/api/v1/projects/{slug}/transfers"): Rule(TEAM),
    ("POST", REPORT + "/release-hold"): Rule(TEAM, held_then_let_in),
    ("PUT", REPORT + "/language"): Rule(TEAM | {"reporter"}, send({"preferred_language": "de"})),
    ("GET", REPORT + "/translations"): Rule(PARTICIPANTS),
    ("POST", REPORT + "/translations"): Rule(TEAM, send({"field": "title"})),
    ("PUT", REPORT + "/translations/{translation_id}"): Rule(TEAM, send({"text": "Corrected by hand."})),
    # Anyone may ask to join the packager list, with an account or without.
    ("POST", "/api/v1/projects/{slug}/packager-requests"): Rule(EVERYONE, send(JOIN_REQUEST)),
    ("GET", "/api/v1/projects/{slug}/packager-requests"): Rule(OWNER),
    ("POST", "/api/v1/projects/{slug}/packager-requests/{request_id}/decision"): Rule(
        OWNER, send({"approve": False, "note": "Who are you?"})
    ),
}

# Not routes: the OpenAPI document is public by design, and ninja's placeholder at the API's base URL
# answers 404 to everything (asserted below).
NOT_ROUTES = {"openapi-json": "/api/v1/openapi.json", "api-root": "/api/v1/"}


def _api_paths(patterns: list[URLPattern | URLResolver], prefix: str = "/") -> Iterator[str]:
    """The API's path templates in the URL configuration, `<report_id>` written `{report_id}`."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_paths(pattern.url_patterns, prefix + str(pattern.pattern))
        elif prefix.startswith("/api/") and pattern.name not in NOT_ROUTES:
            yield re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + str(pattern.pattern))


def served_routes() -> set[tuple[str, str]]:
    """(METHOD, path template) of every route the URL configuration serves. The methods come from the
    route itself: asked with a method it does not take (OPTIONS), it answers 405 naming the ones it does."""
    routes = set()
    for template in set(_api_paths(get_resolver().url_patterns)):
        probe = Api().call("OPTIONS", re.sub(r"\{\w+\}", "x", template))
        assert probe.status == 405, f"OPTIONS {template} is served: give it a rule"
        routes |= {(method.strip(), template) for method in probe.headers["Allow"].split(",")}
    return routes


def test_every_served_route_has_a_rule() -> None:
    assert served_routes() == set(RULES)


def test_the_api_document_lists_exactly_the_served_routes() -> None:
    paths = api.get_openapi_schema()["paths"]
    assert {(m.upper(), path) for path, ops in paths.items() for m in ops} == set(RULES)


def test_the_api_base_url_serves_nothing() -> None:
    for method in ("GET", "POST"):
        assert Api().call(method, NOT_ROUTES["api-root"]).status == 404


@dataclass
class Scenario:
    """A report by the reporter, with a collaborator, an internal note, an answer and an attachment."""

    apis: dict[str, Api]
    params: dict[str, str]

    @classmethod
    def build(cls, team: dict[str, Api], settings: Any) -> Scenario:
        made = report_awaiting_confirmation(
            team, internal_note=INTERNAL_NOTE, public_answer=PUBLIC_ANSWER, attachment=ATTACHMENT
        )
        report_id = made["report_id"]
        base = f"/api/v1/reports/{report_id}"
        patch = team["maintainer"].post(
            f"{base}/fixes/{made['fix_id']}/patches",
            files={"file": SimpleUploadedFile("fix.patch", b"--- a/x\n+++ b/x\n"), "branch": "main"},
        )
        assert patch.status == 201, patch.text
        Project.objects.filter(slug="requests").update(cna_org_id="b3476cb9-2e3d-41a6-98d0-0f47421a65b6")
        assert team["maintainer"].call("PUT", f"{base}/advisory", ADVISORY).status == 200
        assert team["maintainer"].post(f"{base}/cve", {"cve_id": "CVE-2026-4242"}).status == 201
        # A second report at fix_ready, without a CVE ID, for the route that assigns one.
        second = submit(team["reporter"])["id"]
        for step in ({"to": "confirmed", "comment": "Yes."}, None, {"to": "fix_ready"}):
            if step is None:
                team["maintainer"].post(f"/api/v1/reports/{second}/fixes", {"kind": "interim"})
                continue
            assert team["maintainer"].post(f"/api/v1/reports/{second}/transitions", step).status == 200
        # The project's signing key, a packager on the list, and a pending request to join it.
        test_keys.give_project_key(Project.objects.get(slug="requests"))
        packager = team["owner"].post(
            "/api/v1/projects/requests/packagers",
            {"organisation": "Debian Security Team", "emails": ["security@debian.example.org"]},
        )
        assert packager.status == 201, packager.text
        asked = Api().post(
            "/api/v1/projects/requests/packager-requests", {**JOIN_REQUEST, "emails": ["security@gentoo.example.org"]}
        )
        assert asked.status == 201, asked.text
        # A webhook of the project's (to a public address given as such: nothing is looked up).
        webhook = team["owner"].post(
            "/api/v1/projects/requests/webhooks", {"url": "https://93.184.215.14/hooks/embargo", "events": ["reminder"]}
        )
        assert webhook.status == 201, webhook.text
        # The report in a security release with its moment set and not sent yet.
        release = team["maintainer"].post(
            "/api/v1/projects/requests/security-releases",
            {"reports": [report_id], "versions": ["2.32.4"], "date": release_date(), "time": "10:00"},
        )
        assert release.status == 201, release.text
        params = {
            "slug": "requests",
            "report_id": report_id,
            "translation_id": turn_translation_on(settings, report_id),
            "member_id": User.objects.get(email="maintainer@example.org").public_id,
            "token_id": str(ApiToken.objects.filter(user__email="owner@example.org").order_by("id").first().pk),
            "release_id": release.json["id"],
            "attachment_id": made["attachment_id"],
            "user_id": made["collaborator_id"],
            "fix_id": made["fix_id"],
            "patch_id": patch.json["id"],
            "second_report_id": second,
            "packager_id": packager.json["id"],
            "request_id": asked.json["id"],
            "transfer_id": transferred_in(report_id),
            "webhook_id": webhook.json["id"],
        }
        owner = User.objects.get(email="owner@example.org")
        scoped = {
            f"owner_{scope}": Api(do_create_token(owner, scope=scope, acting_user=None)) for scope in ("read", "write")
        }
        return cls(apis={**team, **scoped, "anonymous": Api()}, params=params)

    def snapshot(self) -> dict[str, Any]:
        """What a refused request must leave as it was."""
        report = Report.objects.get(public_id=self.params["report_id"])
        return {
            "reports": Report.objects.count(),
            "state": report.state,
            "credit_name": report.credit_name,
            "assignee": report.assignee_id,
            "updated_at": report.updated_at,
            "messages": Message.objects.count(),
            "attachments": Attachment.objects.count(),
            "collaborators": Collaborator.objects.count(),
            "events": Event.objects.count(),
            "fixes": Fix.objects.count(),
            "patches": Patch.objects.count(),
            "reproductions": Reproduction.objects.count(),
            "advisories": list(Advisory.objects.values_list("readable_id", "cve_id", "draft", "updated_at")),
            "project": Project.objects.filter(slug="requests").values().get(),
            "policy": report.project.policy.as_domain(),
            "packagers": list(Packager.objects.values_list("public_id", "contact_name", "removed_at", "link_version")),
            "packager_requests": list(PackagerRequest.objects.values_list("public_id", "status")),
            "project_keys": list(ProjectKey.objects.values_list("fingerprint", "retired_at")),
            "releases": list(SecurityRelease.objects.values().order_by("id")),
            "release_entries": list(Report.objects.values_list("public_id", "release_entry__release_id")),
            "notices": PackagerNotice.objects.count(),
            "languages": (report.language, report.language_source, report.preferred_language),
            "spam": (report.spam_at, list(User.objects.values_list("spam_reports", flat=True))),
            "members": list(Membership.objects.values_list("project_id", "user_id", "role").order_by("id")),
            "sessions": list(User.objects.values_list("session_version", flat=True).order_by("id")),
            "tokens": list(ApiToken.objects.values_list("pk", "revoked_at").order_by("id")),
            "translations": list(Translation.objects.values_list("public_id", "status", "corrected_at", "updated_at")),
            "report_project": report.project_id,
            "transfers": list(ReportTransfer.objects.values_list("public_id", "informing_stopped_at").order_by("id")),
            "webhooks": list(Webhook.objects.values_list("public_id", "active", "secret", "updated_at").order_by("id")),
        }


def expected_status(rule: Rule, role: str, method: str = "GET", path: str = "") -> tuple[int, str] | None:
    """None for success (any 2xx); else the refusal's status and error code. `path`: the concrete path."""
    # A scoped token of the owner's is refused by its scope first (routes open to anyone read no token).
    scoped = role.startswith("owner_") and "anonymous" not in rule.allowed
    if scoped and tokens.refusal(role.removeprefix("owner_"), method, path) is not None:
        return 403, "token_scope"
    if role.startswith("owner_"):
        role = "owner"
    if role in rule.allowed:
        return None
    if role == "anonymous":
        return 401, ERROR_CODES[401]
    if role in PARTICIPANTS:
        return rule.refused, ERROR_CODES[rule.refused]
    return 404, ERROR_CODES[404]


ERROR_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}


def _calls(method: str, path: str, role: str) -> bool:
    """Every caller calls every route; the owner's scoped tokens only where their scope could make a difference
    (elsewhere they are the owner, whose cases are above): a read token on routes that change things, a write
    token on the routes that publish."""
    if role == "owner_read":
        return method not in tokens.SAFE_METHODS
    if role == "owner_write":
        return bool(tokens.PUBLISH_ROUTES.match(re.sub(r"\{\w+\}", "x", path)))
    return True


CASES = [
    pytest.param(method, path, role, id=f"{method} {path} as {role}")
    for (method, path) in RULES
    for role in ROLES
    if _calls(method, path, role)
]


@pytest.mark.parametrize(("method", "path", "role"), CASES)
def test_permission_matrix(team: dict[str, Api], settings: Any, method: str, path: str, role: str) -> None:
    rule = RULES[method, path]
    scenario = Scenario.build(team, settings)
    params = {**scenario.params, **{name: scenario.params[other] for name, other in rule.use}}
    concrete = path.format(**params)
    acting_as = "owner" if role.startswith("owner_") else role  # a scoped token of the owner's
    # The request is made first: for the team, some rules prepare the scenario so that the call can succeed.
    request = rule.request(acting_as)
    before = scenario.snapshot()
    response = scenario.apis[role].call(method, concrete, **request)

    expected = expected_status(rule, role, method, concrete)
    if expected is None:
        assert 200 <= response.status < 300, response.text
        if acting_as not in TEAM:
            assert INTERNAL_NOTE not in response.text
        if path == "/api/v1/reports/mine":
            assert (SECRET_TITLE in response.text) == (acting_as == "reporter")
        return
    status, code = expected
    assert response.status == status, response.text
    assert set(response.json) == {"error"}
    assert response.json["error"]["code"] == code
    assert isinstance(response.json["error"]["message"], str)
    for secret in SECRETS:
        assert secret not in response.text
    assert scenario.snapshot() == before
