"""Bad input to the routes added for languages, moderation, tokens and team membership: each answer is a 4xx that
says what to fix, and nothing changes."""

from __future__ import annotations

import pytest

from embargo.accounts.models import ApiToken, User
from embargo.languages.models import Translation
from embargo.projects.models import Membership, Project
from embargo.reports.models import Report
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db


def test_a_translation_request_names_exactly_one_thing(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    url = f"/api/v1/reports/{report_id}/translations"
    for body in ({}, {"field": "title", "message": "x"}, {"field": "reproduction"}, {"field": "title", "extra": 1}):
        response = team["maintainer"].post(url, body)
        assert response.status == 422, (body, response.text)
        assert response.json["error"]["message"]
    assert not Translation.objects.exists()


def test_a_correction_needs_text_and_a_language_change_something(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    empty = team["maintainer"].call("PUT", f"/api/v1/reports/{report_id}/translations/nope", {"text": ""})
    assert empty.status == 422
    nothing = team["reporter"].call("PUT", f"/api/v1/reports/{report_id}/language", {})
    assert nothing.status == 422
    assert "language" in nothing.json["error"]["message"]
    unknown = team["maintainer"].call("PUT", f"/api/v1/reports/{report_id}/translations/nope", {"text": "Hello"})
    assert unknown.status == 404
    assert Report.objects.get(public_id=report_id).language_source == ""


def test_the_teams_languages_are_known_codes(team: dict[str, Api]) -> None:
    eleven = ["en", "de", "fr", "es", "it", "nl", "pt", "ru", "zh", "ja", "ko"]
    for value in ([], ["en", "xx"], ["english"], eleven):
        response = team["owner"].call("PATCH", "/api/v1/projects/requests", {"team_languages": value})
        assert response.status == 422, (value, response.text)
        assert "team_languages" in response.json["error"]["message"]
    assert Project.objects.get(slug="requests").team_languages == []


def test_a_report_reassigned_on_removal_goes_to_a_member(team: dict[str, Api]) -> None:
    maintainer = User.objects.get(email="maintainer@example.org")
    url = f"/api/v1/projects/requests/members/{maintainer.public_id}"
    for heir in ("outsider@example.org", "maintainer@example.org", "nobody@example.org"):
        response = team["owner"].call("DELETE", f"{url}?reassign_to={heir}")
        assert response.status == 422, (heir, response.text)
        assert response.json["error"]["field"] == "reassign_to"
    assert team["owner"].call("DELETE", "/api/v1/projects/requests/members/nobody").status == 404
    assert Membership.objects.filter(user=maintainer).exists()


def test_a_long_note_and_a_bad_token_id_are_refused(team: dict[str, Api]) -> None:
    report_id = submit(team["reporter"])["id"]
    long_note = team["maintainer"].post(f"/api/v1/reports/{report_id}/not-a-vulnerability", {"note": "x" * 10_001})
    assert long_note.status == 422
    assert Report.objects.get(public_id=report_id).state == "received"
    bad_id = team["reporter"].call("DELETE", "/api/v1/account/tokens/not-a-number")
    assert bad_id.status == 422
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
