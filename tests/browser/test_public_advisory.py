"""A published advisory in the browser: anyone reads its credits and fixing commits; an advisory still under
embargo cannot be reached, from its address or from the project's security page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.advisories.test_public import DRAFT, FIX_SHA, advisory_for_report, publish
from tests.helpers import Api, submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_public_advisory_page_shows_credits_and_fixing_commits_and_hides_an_embargoed_one(
    browser: Any, live_server: Any, team: dict[str, Api]
) -> None:
    rid, published_id = advisory_for_report(team)
    publish(rid)
    embargoed_rid = submit(team["reporter"])["id"]
    saved = team["maintainer"].call(
        "PUT", f"/api/v1/reports/{embargoed_rid}/advisory", {**DRAFT, "summary": "Still under embargo"}
    )
    assert saved.status == 200, saved.text
    embargoed_id = saved.json["id"]

    page = browser.new_context().new_page()
    response = page.goto(f"{live_server.url}/advisories/{published_id}")
    assert response is not None
    assert response.status == 200
    assert DRAFT["summary"] in page.inner_text("h1")
    credits = page.inner_text("ul.credits")
    assert "Ada L." in credits
    assert "Example Security Team" in credits
    commit = page.locator("ul.commits a")
    assert commit.inner_text() == FIX_SHA
    assert commit.get_attribute("href") == f"https://example.org/psf/requests/commit/{FIX_SHA}"

    page.goto(f"{live_server.url}/projects/requests/security")
    page.click(f"text={published_id}")
    page.wait_for_url(f"**/advisories/{published_id}")
    page.goto(f"{live_server.url}/projects/requests/security")
    assert embargoed_id not in page.content()
    assert "Still under embargo" not in page.content()

    for path in (f"/advisories/{embargoed_id}", f"/advisories/{embargoed_id}.json"):
        hidden = page.goto(live_server.url + path)
        assert hidden is not None
        assert hidden.status == 404
        assert "Still under embargo" not in page.content()
