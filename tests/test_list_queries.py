"""Every list route costs what its page costs: the same number of queries with 3 items as with 30.

Table-driven: each case seeds items of one kind through the real actions and the real API, then reads one list
route (a web page or an API list). A missing select_related / prefetch_related (an N+1) makes the count at 30
larger than at 3, and the test fails with both counts and the queries of the larger run. The advisory lists
(advisories, OSV, feeds) are tested with their own module."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext

from embargo import clock
from embargo.accounts.access import Permission, access_report_by_id
from embargo.accounts.actions import do_create_token, do_create_user
from embargo.accounts.models import User
from embargo.api.pagination import Key, _order
from embargo.domain.workflow import State
from embargo.fixes.actions import do_add_fix, do_request_reproduction
from embargo.languages.actions import do_request_translation
from embargo.projects.actions import do_add_packager, do_request_packager
from embargo.projects.models import Project
from embargo.releases import queries as release_queries
from embargo.releases.actions import do_create_release
from embargo.reports import queries as report_queries
from embargo.reports.actions import (
    Submission,
    do_add_attachment,
    do_assign,
    do_mark_spam,
    do_post_message,
    do_submit_report,
)
from embargo.reports.api import INBOX_ORDER, NEWEST_FIRST
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, make_project, make_user, submit, turn_translation_on

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30


@dataclass
class World:
    """The `team` fixture's project with one report of the reporter's, and a counter that keeps seeded names
    unique across the two rounds."""

    apis: dict[str, Api]
    report_id: str
    settings: Any
    seq: int = 0
    web: dict[str, Client] = field(default_factory=dict)

    def user(self, role: str) -> User:
        return User.objects.get(email=f"{role}@example.org")

    def project(self) -> Project:
        return Project.objects.get(slug="requests")

    def access(self, role: str = "maintainer", report_id: str | None = None) -> Any:
        return access_report_by_id(self.user(role), report_id or self.report_id, Permission.VIEW_REPORT)

    def next(self) -> int:
        self.seq += 1
        return self.seq


# --- seeds: each adds `n` items of one kind, all alike ----------------------------------------------------------


def new_report(w: World) -> str:
    """A report sent by the reporter, through the action the API calls (the API's own path is tested elsewhere,
    and going through it would double this module's time)."""
    submission = Submission(title=SECRET_TITLE, description=f"{SECRET_TEXT} {w.next()}")
    return do_submit_report(w.project(), submission, acting_user=w.user("reporter")).public_id


def seed_reports(w: World, n: int) -> None:
    """Reports in every list of the inbox: one in three assigned, one in three marked as spam, one in three held
    for review (the project holds reports from new accounts for a while), the rest plain."""
    maintainer, owner = w.user("maintainer"), w.user("owner")
    project = w.project()
    for i in range(n):
        if i % 3 == 2:
            Project.objects.filter(pk=project.pk).update(hold_new_accounts=True)
        report_id = new_report(w)
        Project.objects.filter(pk=project.pk).update(hold_new_accounts=False)
        if i % 3 == 0:
            do_assign(w.access(report_id=report_id), maintainer, acting_user=maintainer)
        elif i % 3 == 1:
            do_mark_spam(access_report_by_id(owner, report_id, Permission.VIEW_REPORT), acting_user=owner)


def seed_transfers(w: World, n: int) -> None:
    """Reports handed to the project `other`, every other one with its state kept known to the sending team."""
    from embargo.reports.transfers import do_transfer_report, find_project

    maintainer, other = w.user("maintainer"), find_project("other")
    for i in range(n):
        access = w.access(report_id=new_report(w))
        do_transfer_report(access, other, acting_user=maintainer, note=f"note {w.next()}", keep_informed=i % 2 == 0)


def seed_messages(w: World, n: int) -> None:
    # Alternating authors and audiences, so that each message's author and role are looked up.
    for i in range(n):
        role = ("maintainer", "reporter", "owner")[i % 3]
        do_post_message(w.access(role), f"message {w.next()}", internal=role == "owner", acting_user=w.user(role))


def seed_attachments(w: World, n: int) -> None:
    reporter = w.user("reporter")
    for _ in range(n):
        do_add_attachment(
            w.access("reporter"), filename=f"poc{w.next()}.txt", content_type="text/plain", content=b"proof",
            acting_user=reporter,
        )  # fmt: skip


def seed_collaborators(w: World, n: int) -> None:
    for _ in range(n):
        email = f"guest{w.next()}@example.org"
        do_create_user(email, name="Guest", verified=True, acting_user=None)
        assert w.apis["owner"].post(f"/api/v1/reports/{w.report_id}/collaborators", {"email": email}).status == 201


def seed_fixes(w: World, n: int) -> None:
    maintainer = w.user("maintainer")
    for _ in range(n):
        do_add_fix(w.access(), kind="patch", description=f"fix {w.next()}", team_only=False, acting_user=maintainer)


def seed_reproductions(w: World, n: int) -> None:
    Project.objects.filter(slug="requests").update(repository_url="https://example.org/requests.git")
    maintainer = w.user("maintainer")
    for _ in range(n):
        do_request_reproduction(w.access(), target="affected", acting_user=maintainer)


def seed_packagers(w: World, n: int) -> None:
    for _ in range(n):
        i = w.next()
        do_add_packager(w.project(), organisation=f"Distro {i}", emails=[f"sec{i}@distro.example"], acting_user=None)


def seed_packager_requests(w: World, n: int) -> None:
    for _ in range(n):
        i = w.next()
        do_request_packager(
            w.project(), organisation=f"Distro {i}", emails=[f"ask{i}@distro.example"], reason="We ship it."
        )


def seed_releases(w: World, n: int) -> None:
    maintainer = w.user("maintainer")
    for _ in range(n):
        report_id = new_report(w)
        do_create_release(w.project(), report_ids=[report_id], acting_user=maintainer, any_open=True)


def seed_reads(w: World, n: int) -> None:
    # Each read of a report by a team member is recorded; different reports, different readers.
    for i in range(n):
        report_id = new_report(w)
        reader = ("owner", "maintainer")[i % 2]
        assert w.apis[reader].get(f"/api/v1/reports/{report_id}").status == 200


def seed_tokens(w: World, n: int) -> None:
    owner = w.user("owner")
    for _ in range(n):
        do_create_token(owner, name=f"token {w.next()}", projects=[w.project()], acting_user=owner)


def seed_translations(w: World, n: int) -> None:
    if not w.project().translation_enabled:
        turn_translation_on(w.settings, w.report_id)
    maintainer = w.user("maintainer")
    for _ in range(n):
        message = do_post_message(w.access(), f"message {w.next()}", internal=False, acting_user=maintainer)
        do_request_translation(w.access(), message_id=message.public_id, acting_user=maintainer)


# --- the routes, grouped by what they list (a group shares its seeding) ------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    path: Callable[[World], str]
    caller: str = "maintainer"
    web: bool = False  # a page, read signed in; else the API with the caller's token


@dataclass(frozen=True)
class Group:
    name: str
    seed: Callable[[World, int], None]
    routes: tuple[Route, ...]


def _report(suffix: str) -> Callable[[World], str]:
    return lambda w: f"/api/v1/reports/{w.report_id}/{suffix}"


def _const(path: str) -> Callable[[World], str]:
    return lambda w: path


def _assignee_filter(w: World) -> str:
    return f"/projects/requests/inbox/?assignee={w.user('maintainer').public_id}"


INBOX = "/api/v1/projects/requests/reports"
PACKAGERS_PAGE = "/projects/requests/settings/packagers/"
GROUPS = [
    Group("reports", seed_reports, (
        Route("web inbox", _const("/projects/requests/inbox/"), web=True),
        Route("web inbox ?state", _const("/projects/requests/inbox/?state=received"), web=True),
        Route("web inbox ?assignee", _assignee_filter, web=True),
        Route("web inbox ?overdue", _const("/projects/requests/inbox/?overdue=1"), web=True),
        Route("web inbox ?held", _const("/projects/requests/inbox/?held=1"), web=True),
        Route("web my reports", _const("/reports/"), caller="reporter", web=True),
        Route("web dashboard", _const("/projects/requests/dashboard/"), web=True),
        Route("api inbox", _const(INBOX)),
        Route("api inbox ?state", _const(INBOX + "?state=received")),
        Route("api inbox ?assignee", _const(INBOX + "?assignee=maintainer@example.org")),
        Route("api inbox ?overdue", _const(INBOX + "?overdue=true")),
        Route("api inbox ?spam", _const(INBOX + "?spam=true")),
        Route("api inbox ?held", _const(INBOX + "?held=true")),
        Route("api my reports", _const("/api/v1/reports/mine"), caller="reporter"),
    )),
    Group("messages", seed_messages, (
        Route("api messages", _report("messages")),
        Route("api messages (reporter)", _report("messages"), caller="reporter"),
        Route("api events", _report("events")),
        Route("api events (reporter)", _report("events"), caller="reporter"),
    )),
    Group("attachments", seed_attachments, (Route("api attachments", _report("attachments")),)),
    Group("transfers", seed_transfers, (
        Route("web transfers", _const("/projects/requests/transfers/"), web=True),
        Route("web inbox (its stubs)", _const("/projects/requests/inbox/"), web=True),
        Route("api transfers", _const("/api/v1/projects/requests/transfers")),
    )),
    Group("collaborators", seed_collaborators, (Route("api collaborators", _report("collaborators")),)),
    Group("fixes", seed_fixes, (Route("api fixes", _report("fixes")),)),
    Group("reproductions", seed_reproductions, (Route("api reproductions", _report("reproductions")),)),
    Group("translations", seed_translations, (Route("api translations", _report("translations")),)),
    Group("packagers", seed_packagers, (
        Route("web packagers", _const(PACKAGERS_PAGE), caller="owner", web=True),
        Route("api packagers", _const("/api/v1/projects/requests/packagers"), caller="owner"),
    )),
    Group("packager requests", seed_packager_requests, (
        Route("web packager requests", _const(PACKAGERS_PAGE), caller="owner", web=True),
        Route("api packager requests", _const("/api/v1/projects/requests/packager-requests"), caller="owner"),
    )),
    Group("releases", seed_releases, (
        Route("web releases", _const("/projects/requests/releases/"), web=True),
        Route("api releases", _const("/api/v1/projects/requests/security-releases")),
    )),
    Group("reads", seed_reads, (
        Route("web reads", _const("/projects/requests/settings/reads/"), caller="owner", web=True),
        Route("api reads", _const("/api/v1/projects/requests/reads"), caller="owner"),
    )),
    Group("tokens", seed_tokens, (
        Route("web tokens", _const("/account/tokens/"), caller="owner", web=True),
        Route("api tokens", _const("/api/v1/account/tokens"), caller="owner"),
    )),
]  # fmt: skip


def _read(w: World, route: Route) -> None:
    path = route.path(w)
    if route.web:
        client = w.web.get(route.caller)
        if client is None:
            client = w.web[route.caller] = Client()
            client.force_login(w.user(route.caller))
        response = client.get(path)
        status, body = response.status_code, response.content
    else:
        answer = w.apis[route.caller].get(path)
        status, body = answer.status, answer.body
    assert status == 200, (route.name, path, status, body[:500])


def _count(w: World, route: Route) -> tuple[int, list[str]]:
    """The queries of the second of two identical reads: the first warms the per-process caches (content types,
    the session's device) that a running server has warm anyway."""
    _read(w, route)
    with CaptureQueriesContext(connection) as queries:
        _read(w, route)
    return len(queries), [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("group", GROUPS, ids=[g.name for g in GROUPS])
def test_each_list_costs_the_same_queries_at_3_and_at_30_items(group: Group, team: dict[str, Api], settings) -> None:
    moment = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # a Monday
    clock.freeze(moment)
    settings.EMBARGO_SPAM_LIMIT = 10**6  # the reporter's reports are marked as spam by the dozen here
    # The report whose thread, files, fixes… are listed; with a proof of concept, which reproductions run.
    w = World(apis=team, report_id=submit(team["reporter"], reproduction="import sys")["id"], settings=settings)
    counts: dict[str, list[int]] = {r.name: [] for r in group.routes}
    listings: dict[str, list[str]] = {}
    seeded = 0
    for total in (SMALL, LARGE):
        clock.freeze(moment)
        group.seed(w, total - seeded)
        seeded = total
        # Read three days later: the reports' response clocks are overdue, so `overdue` lists them.
        clock.freeze(moment + dt.timedelta(days=3))
        for route in group.routes:
            count, listings[route.name] = _count(w, route)
            counts[route.name].append(count)
    grown = {name: c for name, c in counts.items() if c[0] != c[1]}
    report = "\n\n".join(
        f"{name}: {c[0]} queries with {SMALL} items, {c[1]} with {LARGE}:\n" + "\n".join(listings[name])
        for name, c in grown.items()
    )
    assert not grown, report


# --- the indexes behind the lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    name: str
    query: Callable[[Project, User], QuerySet[Any]]
    keys: tuple[Key, ...]
    indexes: tuple[str, ...]  # any one of them (SQLite and PostgreSQL may choose differently)


SERVED = [
    Served("inbox", lambda p, u: report_queries.project_inbox(p), INBOX_ORDER, ("report_inbox",)),
    Served(
        # Either index gives the page order; with a few rows PostgreSQL's planner sometimes takes the shorter one.
        "inbox ?state", lambda p, u: report_queries.project_inbox(p, state=State.RECEIVED), INBOX_ORDER,
        ("report_inbox_state", "report_inbox"),
    ),
    Served(
        "inbox ?overdue", lambda p, u: report_queries.project_inbox(p, overdue_at=clock.now()), INBOX_ORDER,
        ("report_inbox",),
    ),
    Served("inbox ?spam", lambda p, u: report_queries.project_inbox(p, spam=True), INBOX_ORDER, ("report_inbox_spam",)),
    Served("inbox ?held", lambda p, u: report_queries.project_inbox(p, held=True), INBOX_ORDER, ("report_inbox_held",)),
    # PostgreSQL: the NULLS LAST twins of the descending indexes (reports/migrations/0005_list_indexes.py).
    Served(
        "my reports", lambda p, u: report_queries.reports_of_reporter(u), NEWEST_FIRST,
        ("report_mine", "report_mine_pg"),
    ),
    Served("releases", lambda p, u: release_queries.releases_of(p), NEWEST_FIRST, ("release_list", "release_list_pg")),
]  # fmt: skip


@pytest.mark.parametrize("served", SERVED, ids=[s.name for s in SERVED])
def test_each_list_reads_its_index_in_page_order(served: Served) -> None:
    """The plan of the list's first page names the list's index and, on PostgreSQL, sorts nothing: the index gives
    the page's order (SQLite may still sort rows of equal `next_due_at`, the 'right part' of the order)."""
    owner, _ = make_user("owner@example.org")
    project = make_project("requests", owner="owner")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a near-empty table would be scanned otherwise
            # On a few rows a sort costs next to nothing, and the planner may pick a narrower index (e.g. the project's
            # foreign key) and sort (failed CI once). Sorting made dear, it reads an index in page order if one gives
            # it: what this test asks. Without such an index the plan still sorts, and the test fails.
            cursor.execute("SET LOCAL enable_sort = off")
    plan = served.query(project, owner).order_by(*_order(served.keys))[:51].explain()
    assert any(re.search(rf"\b{index}\b", plan) for index in served.indexes), f"{served.name}:\n{plan}"
    if connection.vendor == "postgresql":
        assert "Sort" not in plan, f"{served.name}: the page is sorted, not read in the index's order:\n{plan}"
    else:
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, f"{served.name}: the list is sorted in full:\n{plan}"
