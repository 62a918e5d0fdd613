"""Who may open which page and use which form of the report page, as one table read from the URL configuration.

Every named page outside the API must have a rule here, and so must every `action` the report page takes, so
a new one without a rule fails. For each page and each kind of visitor, the allowed ones succeed; the others
are sent to log in (anonymous, on pages behind a login), get 404 and learn nothing of the report, or — when
they see the report but the form is not theirs — get the report page again with the error; none changes
anything. The reporter's private link (`/r/<id>/<token>/`) stands for the reporter, and only while valid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from embargo import clock
from embargo.accounts.access import Permission, access_report_by_id
from embargo.accounts.models import User
from embargo.accounts.verification import verification_tokens
from embargo.advisories.models import Advisory
from embargo.audit.models import Event
from embargo.fixes.models import Fix, Patch, Reproduction
from embargo.languages.models import Translation
from embargo.projects.models import Packager, Project
from embargo.releases import links as release_links
from embargo.releases.models import PackagerNotice, SecurityRelease
from embargo.reports import links
from embargo.reports.actions import do_revoke_reporter_links
from embargo.reports.models import Attachment, Collaborator, Message, Report, ReportTransfer
from embargo.reports.views import HANDLERS
from tests.helpers import (
    SECRET_TEXT,
    SECRET_TITLE,
    Api,
    report_awaiting_confirmation,
    transferred_in,
    turn_translation_on,
)
from tests.vault import keys as test_keys

pytestmark = pytest.mark.django_db

INTERNAL_NOTE = "Kiwi-9001: internal note, the fix needs a new urllib3"
PUBLIC_ANSWER = "Thanks, we reproduced it (Lemur-4410)."
ATTACHMENT = b"Axolotl-2207 proof of concept"
SECRETS = (SECRET_TITLE, SECRET_TEXT, INTERNAL_NOTE, PUBLIC_ANSWER, ATTACHMENT.decode())

ROLES = ("anonymous", "outsider", "stranger", "reporter", "collaborator", "maintainer", "owner")
REPORT_ROLES = (*ROLES, "link", "revoked_link")  # plus the reporter's private link, valid or revoked
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
TEAM = frozenset({"maintainer", "owner"})
PARTICIPANTS = TEAM | {"reporter", "collaborator"}
SEES_REPORT = PARTICIPANTS | {"link"}
REPORTER = frozenset({"reporter", "link"})  # in person or by private link
PACKAGER_ROLES = (*ROLES, "packager_link")  # plus a packager with the links of its embargo notice
PACKAGER = frozenset({"packager_link"})

Data = Callable[[str, dict[str, str]], dict[str, Any]]  # (role, scenario params) -> POST data


def nothing(role: str, params: dict[str, str]) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Rule:
    path: str  # formatted with the scenario's params, some of which depend on the role
    allowed: frozenset[str]  # answered `status`; the others are refused
    roles: tuple[str, ...] = ROLES
    method: str = "GET"
    status: int = 200
    goes_to: str = ""  # where an allowed request is redirected to (formatted like `path`)
    login: bool = True  # a refused anonymous visitor is sent to log in (else: 404)
    shows: frozenset[str] = frozenset()  # roles whose page lists the report (by its title)
    thread: bool = False  # a 200 answer is the report page with its conversation
    error_for: frozenset[str] = frozenset()  # refused roles shown the page again with the form's error
    data: Data = nothing
    changes: str = ""  # what an allowed POST changes (a key of Scenario.snapshot)


REPORT, LINK = "/reports/{report_id}/", "{link}"
PAGE_RULES: dict[str, Rule] = {
    "home": Rule("/", EVERYONE),
    "project": Rule("/projects/{slug}/", EVERYONE),
    "signup": Rule("/account/signup/", EVERYONE),
    "verify-email": Rule("/account/verify/{uid}/{verify_token}/", EVERYONE),  # a GET only asks to confirm
    "login": Rule("/account/login/", EVERYONE),
    "logout": Rule("/account/logout/", EVERYONE, method="POST", status=302, goes_to="/"),  # GET: 405
    "reset": Rule("/account/reset/", EVERYONE),
    "reset-sent": Rule("/account/reset/sent/", EVERYONE),
    "reset-confirm": Rule(
        "/account/reset/{uid}/{reset_token}/", EVERYONE, status=302, goes_to="/account/reset/{uid}/set-password/"
    ),
    "account": Rule("/account/", SIGNED_IN),
    "account-export": Rule("/account/export/", SIGNED_IN),
    "account-delete": Rule("/account/delete/", SIGNED_IN),
    "second-factor": Rule("/account/2fa/", SIGNED_IN),
    "account-tokens": Rule("/account/tokens/", SIGNED_IN),
    "account-key": Rule("/account/key/", SIGNED_IN),
    "reauth": Rule("/account/confirm/", SIGNED_IN),
    # The QR code of a second factor being set up: there is none once it is on, as for everyone here (signed in
    # through `force_login`, which gives a factor); tests/accounts/test_second_factor.py shows it while set up.
    "second-factor-qr": Rule("/account/2fa/qr.svg", frozenset()),
    # Asks for a code only of a session that has not given one: the others go on to where they were going.
    "second-factor-verify": Rule("/account/2fa/verify/", SIGNED_IN, status=302, goes_to="/reports/"),
    "my-reports": Rule("/reports/", SIGNED_IN, shows=frozenset({"reporter"})),
    "inbox": Rule("/projects/{slug}/inbox/", TEAM, shows=TEAM),
    "dashboard": Rule("/projects/{slug}/dashboard/", TEAM),
    "project-settings": Rule("/projects/{slug}/settings/", frozenset({"owner"})),
    "project-packagers": Rule("/projects/{slug}/settings/packagers/", frozenset({"owner"})),
    "project-reads": Rule("/projects/{slug}/settings/reads/", frozenset({"owner"})),
    "project-webhooks": Rule("/projects/{slug}/settings/webhooks/", frozenset({"owner"})),
    "project-webhook": Rule("/projects/{slug}/settings/webhooks/{webhook_id}/", frozenset({"owner"})),
    "packager-join": Rule("/projects/{slug}/packagers/join/", EVERYONE),  # no account needed
    "project-key": Rule("/projects/{slug}/pgp-key.asc", EVERYONE, login=False),
    "security-txt": Rule("/.well-known/security.txt", EVERYONE, login=False),
    "project-security-txt": Rule("/projects/{slug}/security.txt", EVERYONE, login=False),
    "project-security-md": Rule("/projects/{slug}/SECURITY.md", EVERYONE, login=False),
    # Published advisories in public. The scenario's advisory is under embargo, so its page, records and OSV
    # entry are absent for everyone (404; tests/advisories/test_public.py shows them once published); the
    # project's lists exist for everyone and do not name it.
    "advisory": Rule("/advisories/{advisory_id}", frozenset(), login=False),
    "advisory-osv": Rule("/advisories/{advisory_id}.json", frozenset(), login=False),
    "advisory-cve": Rule("/advisories/{advisory_id}.cve.json", frozenset(), login=False),
    "advisory-csaf": Rule("/advisories/{advisory_id}.csaf.json", frozenset(), login=False),
    "osv-vuln": Rule("/osv/v1/vulns/x_{advisory_id}", frozenset(), login=False),
    "project-security": Rule("/projects/{slug}/security", EVERYONE, login=False),
    "advisories-feed": Rule("/projects/{slug}/advisories.atom", EVERYONE, login=False),
    "osv-all": Rule("/osv/all.zip", EVERYONE, login=False),
    # The OSV API takes JSON: anyone may ask, and a form post (all this table sends) is a 400 in OSV's shape.
    "osv-query": Rule("/osv/v1/query", EVERYONE, method="POST", status=400, login=False),
    "osv-querybatch": Rule("/osv/v1/querybatch", EVERYONE, method="POST", status=400, login=False),
    # A packager's personal links from an embargo notice: the link is the credential, whoever else one is.
    "packager-ack": Rule("{ack}", PACKAGER, PACKAGER_ROLES, login=False),
    "packager-access": Rule("{access}", PACKAGER, PACKAGER_ROLES, login=False),
    "packager-patch": Rule("{access}patches/{patch_id}/", PACKAGER, PACKAGER_ROLES, login=False),
    "packager-advisory": Rule("{access}advisories/{advisory_id}.txt", PACKAGER, PACKAGER_ROLES, login=False),
    "packager-osv": Rule("{access}advisories/{advisory_id}.osv.json", PACKAGER, PACKAGER_ROLES, login=False),
    "packager-calendar": Rule("{access}release.ics", PACKAGER, PACKAGER_ROLES, login=False),
    "releases": Rule("/projects/{slug}/releases/", TEAM),
    "release": Rule("/projects/{slug}/releases/{release_id}/", TEAM, shows=TEAM),  # names the release's reports
    "report": Rule(REPORT, PARTICIPANTS, thread=True),
    "download": Rule(REPORT + "attachments/{attachment_id}/", PARTICIPANTS),
    # Transfers (tests/reports/test_transfers.py): the team hands the report on, or stops the notices of the team it
    # came from (the project `other`, whose stubs are its maintainer's — the `stranger` here).
    "report-transfer": Rule(
        REPORT + "transfer/",
        TEAM,
        method="POST",
        status=302,
        goes_to="",
        data=lambda r, p: {"project": "other"},
        changes="project",
    ),
    "transfer-stop-informing": Rule(
        REPORT + "transfers/{transfer_id}/stop-informing/",
        TEAM,
        method="POST",
        status=302,
        goes_to=REPORT,
        changes="transfers",
    ),
    "transfers": Rule("/projects/{slug}/transfers/", TEAM),
    "transfer-stub": Rule("/projects/other/transfers/{transfer_id}/", frozenset({"stranger"})),
    "report-link": Rule(LINK, frozenset({"link"}), REPORT_ROLES, login=False, thread=True),
    "download-link": Rule(LINK + "attachments/{attachment_id}/", frozenset({"link"}), REPORT_ROLES, login=False),
}


def action(allowed: frozenset[str], changes: str, data: Data) -> Rule:
    """A form of the report page, posted to the page as the role reaches it (by session or by link)."""
    return Rule(
        "{page}",
        allowed,
        REPORT_ROLES,
        method="POST",
        status=302,
        goes_to="{page}",
        thread=True,
        error_for=SEES_REPORT - allowed,
        data=data,
        changes=changes,
    )


def upload(role: str, params: dict[str, str]) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("more.txt", b"more", content_type="text/plain")}


def withdraw_or_acknowledge(role: str, params: dict[str, str]) -> dict[str, Any]:
    """The scenario's report waits for the reporter's confirmation of a fix (fix_ready)."""
    return {"to": "withdrawn"} if role in REPORTER else {"to": "confirmed", "comment": "Not quite yet."}


def held(role: str, report_id: str) -> dict[str, Any]:
    """Only a held report can be let in: for the team, whose post must succeed, the scenario's report is held."""
    if role in TEAM:
        Report.objects.filter(public_id=report_id).update(held_at=clock.now())
    return {}


def a_public_key(role: str, params: dict[str, str]) -> dict[str, Any]:
    return {"public_key": test_keys.packager_key().public_armored}


def key_on_file(role: str, params: dict[str, str]) -> dict[str, Any]:
    """The reporter has a key to remove (given by the reporter's roles only: for the others nothing may change)."""
    if role in REPORTER:
        from embargo.accounts.actions import do_set_openpgp_key

        reporter = User.objects.get(email="reporter@example.org")
        do_set_openpgp_key(reporter, test_keys.packager_key().public_armored, acting_user=reporter)
    return {}


def key_offered(role: str, params: dict[str, str]) -> dict[str, Any]:
    """The key the report's e-mail was signed with, offered to the reporter (as mail-in keeps it)."""
    from embargo.mailin.actions import _keep
    from embargo.mailin.models import Outcome

    key = test_keys.packager_key()
    report = Report.objects.get(public_id=params["report_id"])
    _keep(b"Subject: signed\r\n\r\nSigned.\r\n", envelope_from="reporter@example.org", recipient="security@example.org",
          sender="reporter@example.org", outcome=Outcome.REPORT, note="", project=report.project, report=report,
          proposed=(key.public_armored, key.fingerprint))  # fmt: skip
    return {"fingerprint": key.fingerprint}


def patch_upload(role: str, params: dict[str, str]) -> dict[str, Any]:
    return {"fix_id": params["fix_id"], "branch": "main", "file": SimpleUploadedFile("b.patch", b"--- a/y\n+++ b/y\n")}


ACTION_RULES: dict[str, Rule] = {
    "message": action(SEES_REPORT, "messages", lambda role, p: {"body": "One more thing."}),
    "attach": action(SEES_REPORT, "attachments", upload),
    "credit": action(REPORTER, "credit_name", lambda role, p: {"credit_name": "Ada L.", "credit_consent": "on"}),
    "transition": action(TEAM | REPORTER, "state", withdraw_or_acknowledge),
    "assign": action(TEAM, "assignee", lambda role, p: {"assignee": p["maintainer_id"]}),
    "invite": action(TEAM, "collaborators", lambda role, p: {"email": "stranger@example.org"}),
    "uninvite": action(TEAM, "collaborators", lambda role, p: {"user_id": p["collaborator_id"]}),
    "revoke_links": action(TEAM, "link_version", nothing),
    "add_fix": action(TEAM, "fixes", lambda role, p: {"kind": "interim", "description": "Disable it."}),
    "add_patch": action(TEAM, "patches", patch_upload),
    "reproduce": action(TEAM, "reproductions", lambda role, p: {"target": "affected", "ref": "v2.31.0"}),
    "confirm_fix": action(REPORTER, "confirmation_answered_at", lambda role, p: {"fixed": "yes"}),
    "advisory": action(TEAM, "advisories", lambda role, p: {"summary": "Proxy credentials leak", "affected": "[]"}),
    "not_a_vulnerability": action(TEAM, "state", lambda role, p: {"note": ""}),
    "spam": action(TEAM, "spam", nothing),
    "release_hold": action(TEAM, "events", lambda role, p: held(role, p["report_id"])),
    "language": action(TEAM | REPORTER, "languages", lambda role, p: {"language": "fr", "preferred_language": "de"}),
    "translate": action(TEAM, "translations", lambda role, p: {"field": "title"}),
    "correct_translation": action(
        TEAM, "translations", lambda role, p: {"translation": p["translation_id"], "text": "Corrected by hand."}
    ),
    # The reporter's own OpenPGP key (tests/reports/test_reporter_key.py).
    "set_key": action(REPORTER, "openpgp_keys", a_public_key),
    "remove_key": action(REPORTER, "events", key_on_file),
    "adopt_key": action(REPORTER, "openpgp_keys", key_offered),
}


def _page_names(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str | None]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(("api/", "static/")):
            continue
        if isinstance(pattern, URLResolver):
            yield from _page_names(pattern.url_patterns, route)
        else:
            yield pattern.name


def test_every_page_has_a_rule() -> None:
    names = list(_page_names(get_resolver().url_patterns))
    assert len(names) == len(set(names)), "two pages share a name"
    assert set(names) == set(PAGE_RULES)


def test_every_action_of_the_report_page_has_a_rule() -> None:
    assert set(HANDLERS) == set(ACTION_RULES)


@dataclass
class Scenario:
    """A report by the reporter, with a collaborator, an internal note, an answer and an attachment; and a
    browser for the role: signed in, or anonymous with the reporter's private link (revoked for
    `revoked_link`, forged for everyone else)."""

    client: Client
    params: dict[str, str]

    @classmethod
    def build(cls, team: dict[str, Api], role: str, settings: Any) -> Scenario:
        made = report_awaiting_confirmation(
            team, internal_note=INTERNAL_NOTE, public_answer=PUBLIC_ANSWER, attachment=ATTACHMENT
        )
        report_id = made["report_id"]
        # The report in a security release (its forms have their own ladder in tests/releases/test_release_pages.py).
        release = team["maintainer"].post(
            "/api/v1/projects/requests/security-releases", {"reports": [report_id], "versions": ["2.32.4"]}
        )
        assert release.status == 201, release.text
        packager_params = _packager_links(team, report_id, release.json["id"], role)

        users = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith="@example.org")}
        report = Report.objects.get(public_id=report_id)
        link = links.private_path(report) if role in ("link", "revoked_link") else f"/r/{report_id}/{'0' * 32}/"
        if role == "revoked_link":
            owner = users["owner"]
            do_revoke_reporter_links(access_report_by_id(owner, report_id, Permission.VIEW_REPORT), acting_user=owner)
            assert links.private_path(Report.objects.get(pk=report.pk)) != link
        client = Client()
        if role in SIGNED_IN:
            client.force_login(users[role])
        reporter = users["reporter"]
        params = {
            "slug": "requests",
            "report_id": report_id,
            "attachment_id": made["attachment_id"],
            "link": link,
            "page": link if role in ("link", "revoked_link") else REPORT.format(report_id=report_id),
            "uid": urlsafe_base64_encode(force_bytes(reporter.pk)),
            "verify_token": verification_tokens.make_token(reporter),
            "reset_token": default_token_generator.make_token(reporter),
            "maintainer_id": users["maintainer"].public_id,
            "collaborator_id": made["collaborator_id"],
            "fix_id": made["fix_id"],
            "release_id": release.json["id"],
            "translation_id": turn_translation_on(settings, report_id),
            "transfer_id": transferred_in(report_id),
            "webhook_id": _webhook(team),
            **packager_params,
        }
        return cls(client=client, params=params)

    def snapshot(self) -> dict[str, Any]:
        """What a refused request (or any GET) must leave as it was."""
        report = Report.objects.get(public_id=self.params["report_id"])
        return {
            "users": User.objects.count(),
            "reports": Report.objects.count(),
            "state": report.state,
            "credit_name": report.credit_name,
            "credit_consent": report.credit_consent,
            "assignee": report.assignee_id,
            "link_version": report.link_version,
            "updated_at": report.updated_at,
            "messages": Message.objects.count(),
            "attachments": Attachment.objects.count(),
            "collaborators": Collaborator.objects.count(),
            "events": Event.objects.count(),
            "fixes": Fix.objects.count(),
            "patches": Patch.objects.count(),
            "reproductions": Reproduction.objects.count(),
            "confirmation_answered_at": report.confirmation_answered_at,
            "advisories": list(Advisory.objects.values_list("readable_id", "draft", "updated_at")),
            "languages": (report.language, report.language_source, report.preferred_language),
            "spam": report.spam_at,
            "translations": list(Translation.objects.values_list("public_id", "status", "corrected_at", "updated_at")),
            "project": report.project_id,
            "transfers": list(ReportTransfer.objects.values_list("public_id", "informing_stopped_at").order_by("id")),
            "openpgp_keys": list(User.objects.order_by("id").values_list("openpgp_fingerprint", flat=True)),
        }


def _webhook(team: dict[str, Api]) -> str:
    """A webhook of the project's (to a public address given as such: nothing is looked up)."""
    hook = team["owner"].post(
        "/api/v1/projects/requests/webhooks", {"url": "https://93.184.215.14/hooks/embargo", "events": ["reminder"]}
    )
    assert hook.status == 201, hook.text
    return str(hook.json["id"])


def _packager_links(team: dict[str, Api], report_id: str, release_id: str, role: str) -> dict[str, str]:
    """The project's signing key, a patch and an advisory for the report, and a packager sent an embargo notice
    of the release; its links are good for `packager_link` and forged (on the same objects) for everyone else."""
    project = Project.objects.get(slug="requests")
    test_keys.give_project_key(project)
    base = f"/api/v1/reports/{report_id}"
    fix_id = team["maintainer"].get(f"{base}/fixes").json["items"][0]["id"]
    patch = team["maintainer"].post(f"{base}/fixes/{fix_id}/patches", files={
        "file": SimpleUploadedFile("fix.patch", b"--- a/x\n+++ b/x\n"), "branch": "main"})  # fmt: skip
    assert patch.status == 201, patch.text
    advisory = team["maintainer"].call("PUT", f"{base}/advisory", {"summary": "Proxy credentials leak"})
    assert advisory.status == 200, advisory.text
    release = SecurityRelease.objects.get(public_id=release_id)
    release.release_at = clock.now() + dt.timedelta(days=10)
    release.save()
    packager = Packager.objects.create(
        project=project, organisation="Distro Security", emails=["security@distro.example.org"], created_at=clock.now()
    )
    notice = PackagerNotice.objects.create(
        release=release, packager=packager, round=1, reason="first", report_ids=[report_id], created_at=clock.now()
    )
    good = role == "packager_link"
    forged = "0" * 32
    return {
        "ack": release_links.ack_path(notice) if good else f"/packagers/ack/{notice.public_id}/{forged}/",
        "access": release_links.access_path(packager, release)
        if good
        else f"/packagers/{packager.public_id}/releases/{release_id}/{forged}/",
        "patch_id": patch.json["id"],
        "advisory_id": advisory.json["id"],
    }


def outcome(rule: Rule, role: str) -> str:
    if role in rule.allowed:
        return "allowed"
    if role in rule.error_for:
        return "error"
    if role == "anonymous" and rule.login:
        return "login"
    return "not found"


CASES = [
    *(
        pytest.param(rule, {}, role, id=f"{rule.method} {name} as {role}")
        for name, rule in PAGE_RULES.items()
        for role in rule.roles
    ),
    *(
        pytest.param(rule, {"action": name}, role, id=f"POST report action={name} as {role}")
        for name, rule in ACTION_RULES.items()
        for role in rule.roles
    ),
]


@pytest.mark.parametrize(("rule", "form", "role"), CASES)
def test_page_permissions(team: dict[str, Api], settings: Any, rule: Rule, form: dict[str, str], role: str) -> None:
    scenario = Scenario.build(team, role, settings)
    params = scenario.params
    path = rule.path.format(**params)
    before = scenario.snapshot()

    if rule.method == "GET":
        response = scenario.client.get(path)
    else:
        response = scenario.client.post(path, {**form, **rule.data(role, params)})
    raw = b"".join(response.streaming_content) if response.streaming else response.content  # e.g. /osv/all.zip
    body = raw.decode("utf-8", "replace")
    after = scenario.snapshot()

    expected = outcome(rule, role)
    if expected == "allowed":
        assert response.status_code == rule.status, body
        if rule.goes_to:
            assert response["Location"] == rule.goes_to.format(**params)
        if rule.changes:
            assert after[rule.changes] != before[rule.changes]
        else:
            assert after == before
        if rule.path.endswith("attachments/{attachment_id}/"):
            assert raw == ATTACHMENT
    elif expected == "error":
        assert response.status_code == 200, body
        assert 'id="error"' in body
        assert after == before
    elif expected == "login":
        assert response.status_code == 302, body
        assert response["Location"] == f"/account/login/?next={path}"
        assert after == before
    else:
        assert response.status_code == 404, body
        for secret in SECRETS:
            assert secret not in body
        assert after == before

    if response.status_code == 200 and not rule.path.endswith("attachments/{attachment_id}/"):
        assert (SECRET_TITLE in body) == (rule.thread or role in rule.shows)
        assert (INTERNAL_NOTE in body) == (rule.thread and role in TEAM)
        if rule.thread:
            assert SECRET_TEXT in body
            assert PUBLIC_ANSWER in body


def test_an_unknown_action_is_not_found(team: dict[str, Api], settings: Any) -> None:
    scenario = Scenario.build(team, "owner", settings)
    before = scenario.snapshot()
    response = scenario.client.post(scenario.params["page"], {"action": "delete"})
    assert response.status_code == 404
    assert scenario.snapshot() == before


# A team member whose browser session has not passed a second factor: every page and form the team may use
# sends them to the second factor, shows nothing of the report and changes nothing.
SECOND_FACTOR_CASES = [
    *(
        pytest.param(rule, {}, id=f"{rule.method} {name} without a second factor")
        for name, rule in PAGE_RULES.items()
        if "maintainer" in rule.allowed and "outsider" not in rule.allowed
    ),
    *(
        pytest.param(rule, {"action": name}, id=f"POST report action={name} without a second factor")
        for name, rule in ACTION_RULES.items()
        if "maintainer" in rule.allowed
    ),
]


@pytest.mark.parametrize(("rule", "form"), SECOND_FACTOR_CASES)
def test_a_team_member_without_a_second_factor_sees_nothing(
    team: dict[str, Api], settings: Any, rule: Rule, form: dict[str, str]
) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY

    scenario = Scenario.build(team, "maintainer", settings)
    session = scenario.client.session
    del session[DEVICE_ID_SESSION_KEY]  # signed in with the password only
    session.save()
    params = scenario.params
    path = rule.path.format(**params)
    before = scenario.snapshot()
    if rule.method == "GET":
        response = scenario.client.get(path)
    else:
        response = scenario.client.post(path, {**form, **rule.data("maintainer", params)})
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/")
    for secret in SECRETS:
        assert secret not in response.content.decode("utf-8", "replace")
    assert scenario.snapshot() == before
