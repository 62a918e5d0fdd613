"""The team's security release pages: planning a release, the date rules in words with the dates they allow, the
notices button and its override, the per-packager table, the pre-announcement and the broken embargo; each form for
the team alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from embargo import clock
from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.notifications.models import OutboxMessage
from embargo.projects.models import Packager, Project
from embargo.releases.models import PackagerNotice, SecurityRelease
from embargo.reports.models import Report
from tests.helpers import SECRET_TITLE, Api
from tests.releases.planning import NOW, RELEASES, packagers, ready

pytestmark = pytest.mark.django_db

ROLES = ("outsider", "stranger", "reporter", "collaborator", "maintainer", "owner")
TEAM = ("maintainer", "owner")


@pytest.fixture(autouse=True)
def _frozen() -> None:
    clock.freeze(NOW)


def browser(role: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=f"{role}@example.org"))
    return client


def planned(team: dict[str, Api], reports: list[str], **moment: str) -> str:
    body = {"reports": reports, "versions": ["2.32.4", "2.31.1"], **moment}
    response = team["maintainer"].post(RELEASES, body)
    assert response.status == 201, response.text
    return str(response.json["id"])


def page(release_id: str) -> str:
    return f"/projects/requests/releases/{release_id}/"


def test_the_team_plans_a_release_from_the_list_page(team: dict[str, Api]) -> None:
    first, second = ready(team, 1), ready(team, 2)
    client = browser("maintainer")
    listing = client.get("/projects/requests/releases/").content.decode()
    assert first in listing
    assert second in listing
    assert "Monday, Tuesday, Wednesday, Thursday, Friday" in listing
    form = {"action": "create", "reports": [first, second], "versions": "2.32.4, 2.31.1", "date": "2026-12-08",
            "time": "15:00", "timezone": "Europe/Berlin"}  # fmt: skip
    created = client.post("/projects/requests/releases/", form)
    release = SecurityRelease.objects.get()
    assert created.status_code == 302
    assert created["Location"] == page(release.public_id)
    assert release.versions == ["2.32.4", "2.31.1"]
    assert release.release_at == dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.UTC)
    assert release.public_id in client.get("/projects/requests/releases/").content.decode()


def test_a_refused_date_is_shown_in_words_with_the_dates_the_policy_allows(team: dict[str, Api]) -> None:
    rid = ready(team, 1)
    client = browser("owner")
    form = {"action": "create", "reports": [rid], "versions": "2.32.4", "date": "2026-12-12", "time": "10:00"}
    shown = client.post("/projects/requests/releases/", form)
    body = shown.content.decode()
    assert shown.status_code == 200
    assert 'id="error"' in body
    assert "2026-12-12 is a Saturday" in body
    assert "Monday 2026-12-14" in body
    assert f'value="{rid}" checked' in body
    assert not SecurityRelease.objects.exists()
    release = planned(team, [rid])
    too_soon = client.post(page(release), {"action": "moment", "date": "2026-12-04", "time": "10:00"}).content.decode()
    assert "at least 7 days before the release" in too_soon
    assert "Monday 2026-12-07" in too_soon


def test_the_release_page_shows_the_moment_the_reports_and_each_packagers_notice(team: dict[str, Api]) -> None:
    a, _, _ = packagers()
    first = ready(team, 1)
    release = planned(team, [first], date="2026-12-08", time="15:00", timezone="Europe/Berlin")
    client = browser("maintainer")
    body = client.get(page(release)).content.decode()
    assert "2026-12-08 14:00 UTC" in body
    assert "Tuesday 2026-12-08 15:00" in body
    assert "Notify packagers by" in body
    assert "2026-12-01 14:00 UTC" in body
    assert SECRET_TITLE in body
    assert "Send embargo notices" in body
    assert 'name="override_confirmation"' not in body.split('value="notify"')[1].split("</form>")[0]
    assert client.post(page(release), {"action": "notify"})["Location"] == page(release)
    PackagerNotice.objects.filter(packager=a).update(delivered_at=NOW, acknowledged_at=NOW + dt.timedelta(hours=2))
    after = client.get(page(release)).content.decode()
    assert "Send embargo notices" not in after
    table = after.split('id="notices-title"')[1].split("</table>")[0]
    assert "Distro A" in table
    assert "Distro B" in table
    assert "Gone" not in table
    assert table.count("2026-11-30 11:00 UTC") == 1  # A acknowledged two hours later
    assert table.count("not yet") == 2  # B: neither delivered nor acknowledged
    assert Report.objects.get(public_id=first).state == "scheduled"


def test_the_notices_button_asks_for_a_reason_while_a_reporter_has_not_confirmed(team: dict[str, Api]) -> None:
    waiting = ready(team, 1, confirm=False)
    release = planned(team, [waiting], date="2026-12-08", time="15:00")
    client = browser("maintainer")
    body = client.get(page(release)).content.decode()
    assert f"Waiting for the reporter to confirm the fix of {waiting}" in body
    assert 'name="override_confirmation"' in body
    refused = client.post(page(release), {"action": "notify", "override_confirmation": ""})
    assert refused.status_code == 200
    assert 'id="error"' in refused.content.decode()
    assert SecurityRelease.objects.get().notices_sent_at is None
    sent = client.post(page(release), {"action": "notify", "override_confirmation": "The reporter is away."})
    assert sent.status_code == 302
    assert SecurityRelease.objects.get().confirmation_override == "The reporter is away."


def test_the_pre_announcement_is_edited_and_approved_on_the_page(team: dict[str, Api]) -> None:
    Project.objects.filter(slug="requests").update(preannounce_lists=["announce@lists.example.org"])
    release = planned(team, [ready(team, 1)], date="2026-12-08", time="10:00")
    client = browser("owner")
    body = client.get(page(release)).content.decode()
    assert "1 issue: 1 high." in body
    assert client.post(page(release), {"action": "preannouncement", "text": "Requests 2.32.4 on 8 December."})[
        "Location"
    ] == page(release)
    assert client.post(page(release), {"action": "approve"}).status_code == 302
    assert list(OutboxMessage.objects.filter(template="preannouncement").values_list("to_email", "context__text")) == [
        ("announce@lists.example.org", "Requests 2.32.4 on 8 December.")
    ]
    assert "Requests 2.32.4 on 8 December." in Client().get("/projects/requests/").content.decode()


def test_the_broken_embargo_form_needs_a_reason(team: dict[str, Api]) -> None:
    release = planned(team, [ready(team, 1)])
    client = browser("maintainer")
    assert 'id="error"' in client.post(page(release), {"action": "embargo_broken", "reason": ""}).content.decode()
    assert client.post(page(release), {"action": "embargo_broken", "reason": "On a blog."}).status_code == 302
    body = client.get(page(release)).content.decode()
    assert "recorded as broken" in body
    assert "On a blog." in body


def test_the_team_finds_the_releases_from_its_inbox_and_dashboard(team: dict[str, Api]) -> None:
    client = browser("maintainer")
    for path in ("/projects/requests/inbox/", "/projects/requests/dashboard/"):
        assert 'href="/projects/requests/releases/"' in client.get(path).content.decode()


FORMS: dict[str, Any] = {
    "moment": {"date": "2026-12-09", "time": "10:00"},
    "versions": {"versions": "2.32.5"},
    "add_report": {"report_id": "{second}"},
    "remove_report": {"report_id": "{first}"},
    "notify": {},
    "embargo_broken": {"reason": "Leaked."},
    "preannouncement": {"text": "Soon."},
    "approve": {},
}


def _state() -> dict[str, Any]:
    release = SecurityRelease.objects.get()
    return {
        "release": SecurityRelease.objects.values().get(),
        "reports": sorted(release.entries.values_list("report__public_id", flat=True)),
        "events": Event.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


@pytest.mark.parametrize("action", sorted(FORMS))
@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_only_the_team_uses_the_release_page(team: dict[str, Api], role: str, action: str) -> None:
    """Everyone but the team gets 404 (anonymous visitors are sent to log in) and changes nothing."""
    first, second = ready(team, 1), ready(team, 2)
    team["owner"].post(f"/api/v1/reports/{first}/collaborators", {"email": "collaborator@example.org"})
    release = planned(team, [first], date="2026-12-08", time="10:00")
    client = Client() if role == "anonymous" else browser(role)
    before = _state()
    form = {k: v.format(first=first, second=second) for k, v in FORMS[action].items()}
    response = client.post(page(release), {"action": action, **form})
    if role in TEAM:
        assert response.status_code == 302, response.content.decode()
        assert _state() != before
        return
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/account/login/")
    else:
        assert response.status_code == 404
        assert SECRET_TITLE not in response.content.decode()
    assert _state() == before
    created = Client() if role == "anonymous" else browser(role)
    listing = created.post("/projects/requests/releases/", {"action": "create", "reports": [second]})
    assert listing.status_code in ((302,) if role == "anonymous" else (404,))
    assert SecurityRelease.objects.count() == 1


def test_the_list_page_costs_the_same_whatever_the_number_of_releases(team: dict[str, Api]) -> None:
    client = browser("maintainer")
    planned(team, [ready(team, 1)], date="2026-12-08", time="10:00")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/projects/requests/releases/").status_code == 200
    for n in range(2, 6):
        planned(team, [ready(team, n)])
    with CaptureQueriesContext(connection) as five:
        assert client.get("/projects/requests/releases/").status_code == 200
    assert len(five) == len(one)


def test_an_unknown_action_is_not_found(team: dict[str, Api]) -> None:
    release = planned(team, [ready(team, 1)])
    assert browser("owner").post(page(release), {"action": "delete"}).status_code == 404
    assert Packager.objects.count() == 0


def test_the_report_page_shows_the_release_date_to_the_reporter_but_not_to_a_collaborator(
    team: dict[str, Api],
) -> None:
    rid = ready(team, 1)
    grant = team["owner"].post(f"/api/v1/reports/{rid}/collaborators", {"email": "collaborator@example.org"})
    assert grant.status == 201, grant.text
    planned(team, [rid], date="2026-12-08", time="15:00", timezone="Europe/Berlin")
    for role in ("reporter", "maintainer"):
        body = browser(role).get(f"/reports/{rid}/").content.decode()
        assert "Tuesday 2026-12-08 14:00 UTC" in body
        assert "Tuesday 2026-12-08 15:00 Europe/Berlin" in body
        assert "2.32.4, 2.31.1" in body
    assert "/projects/requests/releases/" in browser("maintainer").get(f"/reports/{rid}/").content.decode()
    assert "/projects/requests/releases/" not in browser("reporter").get(f"/reports/{rid}/").content.decode()
    seen_by_guest = browser("collaborator").get(f"/reports/{rid}/").content.decode()
    assert "2026-12-08 14:00" not in seen_by_guest
    assert "Security release" not in seen_by_guest
