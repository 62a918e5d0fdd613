"""The track record on the project's public security page (counts only, never a report's details), and the
promises the reporter's status page shows for their report.

Reports are sent and answered through the API on a frozen clock; publication is the release-day work, so its
outcome is set directly here (report `published` with its moment), as tests/advisories/test_public.py does."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from embargo import clock
from embargo.accounts.models import User
from embargo.reports import links
from embargo.reports.models import Report
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, submit

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
PAGE = "/projects/requests/security"


def _report(team: dict[str, Api], received: dt.datetime, answered_after: dt.timedelta | None) -> str:
    clock.freeze(received)
    rid = submit(team["reporter"])["id"]
    if answered_after is not None:
        clock.freeze(received + answered_after)
        posted = team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": "We are on it."})
        assert posted.status == 201, posted.text
    return str(rid)


def _published(rid: str, moment: dt.datetime) -> None:
    Report.objects.filter(public_id=rid).update(state="published", published_at=moment, closed_at=moment)


def _text(html: str) -> str:
    # Inline tags go without a trace (so that "</time>, late" reads ", late"), others leave a space.
    html = re.sub(r"</?(?:time|strong|span|code|q)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_security_page_shows_the_record_of_the_last_12_months(team: dict[str, Api]) -> None:
    fast = _report(team, T0, 2 * H)  # within the 12 h target
    slower = _report(team, T0 + D, 20 * H)  # within the 48 h limit
    late = _report(team, T0 + 2 * D, 60 * H)  # after the limit
    _report(team, T0 + 3 * D, None)  # never answered
    _report(team, T0 - 400 * D, 1 * H)  # older than 12 months: not counted
    _published(fast, T0 + 10 * D)
    _published(slower, T0 + D + 12 * D)
    _published(late, T0 + 2 * D + 20 * D)
    clock.freeze(T0 + 30 * D)
    page = Client().get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    text = _text(html)
    assert "Our record over the last 12 months" in text
    assert "4 reports" in text
    assert "Answered within 12 hours: 25% (1 of 4)" in text
    assert "Answered within 48 hours: 50% (2 of 4)" in text
    assert "Median time from report to released fix: 12.0 days (over 3 released fixes)" in text
    # Counts only: no title, no text, no report ID.
    assert SECRET_TITLE not in html
    assert SECRET_TEXT not in html
    for rid in Report.objects.values_list("public_id", flat=True):
        assert rid not in html


def test_figures_on_fewer_than_three_reports_are_not_shown(team: dict[str, Api]) -> None:
    first = _report(team, T0, 2 * H)
    _report(team, T0 + D, 3 * H)
    _published(first, T0 + 5 * D)
    clock.freeze(T0 + 30 * D)
    text = _text(Client().get(PAGE).content.decode())
    assert "2 reports" in text
    assert "Answered within 12 hours: too few reports to tell (2)" in text
    assert "Median time from report to released fix: too few released fixes to tell (1)" in text
    assert "%" not in text


def test_spam_is_not_counted(team: dict[str, Api]) -> None:
    for day in range(3):
        _report(team, T0 + day * D, 2 * H)
    spam = _report(team, T0 + 4 * D, None)
    Report.objects.filter(public_id=spam).update(spam_at=T0 + 4 * D + H)
    clock.freeze(T0 + 30 * D)
    text = _text(Client().get(PAGE).content.decode())
    assert "3 reports" in text
    assert "Answered within 12 hours: 100% (3 of 3)" in text


def test_the_record_costs_the_page_one_query_whatever_the_number_of_reports(team: dict[str, Api]) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert Client().get(PAGE).status_code == 200
        return len(captured)

    _report(team, T0, H)
    clock.freeze(T0 + 30 * D)
    one = queries()
    for day in range(1, 5):
        _report(team, T0 + day * D, H)
    clock.freeze(T0 + 30 * D)
    assert queries() == one


# --- the reporter's status page -------------------------------------------------------------------------------


def test_the_reporter_sees_which_promises_apply_and_whether_they_are_kept(team: dict[str, Api]) -> None:
    rid = _report(team, T0, 2 * H)
    clock.freeze(T0 + 3 * D)
    browser = Client()
    browser.force_login(User.objects.get(email="reporter@example.org"))
    text = _text(browser.get(f"/reports/{rid}/").content.decode())
    assert "answered 2026-06-01 11:00 UTC, within the usual time — kept" in text
    assert "A released fix within 14 days: due by 2026-06-15 09:00 UTC — on track" in text
    assert "kept private (you have not consented to be named)" in text
    # Past the fix target, unreleased: overdue, said plainly.
    clock.freeze(T0 + 15 * D)
    browser = Client()  # a session ends after a while idle: a new one
    browser.force_login(User.objects.get(email="reporter@example.org"))
    text = _text(browser.get(f"/reports/{rid}/").content.decode())
    assert "overdue since 2026-06-15 09:00 UTC" in text


def test_a_reporter_without_an_answer_sees_when_it_is_expected_through_the_private_link(team: dict[str, Api]) -> None:
    rid = _report(team, T0, None)
    clock.freeze(T0 + 3 * H)
    link = links.private_link(Report.objects.get(public_id=rid)).split("://", 1)[1].split("/", 1)[1]
    text = _text(Client().get("/" + link).content.decode())
    assert "waiting — expected by 2026-06-01 21:00 UTC, at the latest 2026-06-03 09:00 UTC" in text
    clock.freeze(T0 + 49 * H)
    text = _text(Client().get("/" + link).content.decode())
    assert "not answered yet, past the limit" in text


def test_a_late_answer_and_a_release_on_time_are_told_as_they_are(team: dict[str, Api]) -> None:
    rid = _report(team, T0, 50 * H)
    _published(rid, T0 + 9 * D)
    clock.freeze(T0 + 20 * D)
    browser = Client()
    browser.force_login(User.objects.get(email="reporter@example.org"))
    text = _text(browser.get(f"/reports/{rid}/").content.decode())
    assert "answered 2026-06-03 11:00 UTC, late" in text
    assert "released 2026-06-10, in time — kept" in text


def test_the_team_keeps_its_clocks_and_does_not_get_the_reporters_wording(team: dict[str, Api]) -> None:
    rid = _report(team, T0, 2 * H)
    browser = Client()
    browser.force_login(User.objects.get(email="maintainer@example.org"))
    text = _text(browser.get(f"/reports/{rid}/").content.decode())
    assert "The policy's promises" in text
    assert "within the usual time — kept" not in text


def test_the_record_moves_once_a_month_and_never_tells_of_a_new_or_held_report(team: dict[str, Api]) -> None:
    for n in range(3):
        _report(team, T0 + n * D, 2 * H)
    clock.freeze(T0 + 40 * D)  # July 11: the record is as of July 1
    before = _text(Client().get(PAGE).content.decode())
    assert "3 reports" in before
    assert "Answered within 12 hours: 100% (3 of 3)" in before
    # A report this month, answered late, and one held for an owner's review: the page does not change.
    _report(team, T0 + 40 * D, 60 * H)
    held = _report(team, T0 + 31 * D, None)
    Report.objects.filter(public_id=held).update(held_at=T0 + 31 * D)
    clock.freeze(T0 + 45 * D)
    assert _text(Client().get(PAGE).content.decode()) == before
    # From August 1 the late one counts; the held one never does.
    clock.freeze(dt.datetime(2026, 8, 1, 0, 5, tzinfo=dt.UTC))
    after = _text(Client().get(PAGE).content.decode())
    assert "4 reports" in after
    assert "Answered within 12 hours: 75% (3 of 4)" in after
