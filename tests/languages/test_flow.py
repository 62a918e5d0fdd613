"""A report in Chinese: detected by the worker, translated for the team through the real LibreTranslate client
(against a local stand-in), answered in English and received by the reporter in Chinese beside the English
original — and everything that must not happen when translation is off or the service fails."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from embargo import clock
from embargo.accounts.models import User
from embargo.audit.models import Event
from embargo.languages import detection
from embargo.languages.models import Detection, Translation
from embargo.notifications.worker import run_pass
from embargo.projects.models import Project
from embargo.reports.models import Report
from tests.helpers import Api
from tests.languages.standins import (
    EN_REPLY,
    EN_TITLE,
    PROTECTED,
    ZH_REPLY,
    ZH_REPORT,
    ZH_TITLE,
    LibreTranslateStandIn,
)
from tests.smtp import SmtpServer, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(settings: Any, libretranslate: LibreTranslateStandIn) -> LibreTranslateStandIn:
    settings.EMBARGO_TRANSLATION_PROVIDER = "libretranslate"
    settings.EMBARGO_TRANSLATION_URL = libretranslate.url
    settings.EMBARGO_ALLOW_PRIVATE_NETWORK = True
    return libretranslate


def _turn_on(team: dict[str, Api]) -> None:
    response = team["owner"].call("PATCH", "/api/v1/projects/requests", {"translation_enabled": True})
    assert response.status == 200, response.text
    assert response.json["translation_enabled"] is True
    assert response.json["translation_service"].startswith("LibreTranslate at http://127.0.0.1:")


def _chinese_report(team: dict[str, Api], **fields: Any) -> str:
    body = {"title": ZH_TITLE, "description": ZH_REPORT, **fields}
    response = team["reporter"].post("/api/v1/projects/requests/reports", body)
    assert response.status == 201, response.text
    return str(response.json["id"])


def _pass(later: dt.timedelta = dt.timedelta(0)) -> None:
    run_pass(clock.now() + later, run_jobs=False)


def _browser(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def test_a_chinese_report_is_read_in_english_and_answered_in_chinese(
    team: dict[str, Api], service: LibreTranslateStandIn, settings: Any
) -> None:
    _turn_on(team)
    report_id = _chinese_report(team)
    # The web request only queued the detection: the detector lives in the worker.
    assert Detection.objects.filter(report__public_id=report_id, status="queued").count() == 1
    assert Report.objects.get(public_id=report_id).language == ""

    with SmtpServer() as smtp:
        settings.EMBARGO_SMTP_URL = smtp.url
        _pass()
        report = team["maintainer"].get(f"/api/v1/reports/{report_id}").json
        assert report["language"] == "zh"
        assert report["language_source"] == "detected"
        assert report["language_confidence"] > 0.5
        assert report["title"] == ZH_TITLE
        assert report["description"] == ZH_REPORT
        by_field = {t["field"]: t for t in report["translations"]}
        assert set(by_field) == {"title", "description"}
        assert by_field["title"]["text"] == EN_TITLE
        assert by_field["title"]["machine"] is True
        assert by_field["title"]["provider"] == "LibreTranslate"
        description = by_field["description"]["text"]
        for verbatim in PROTECTED:
            # Code, inline code, links and the traceback come back byte for byte, and never went out.
            assert verbatim.encode() in description.encode()
            assert verbatim.encode() not in service.received
        assert "复现" not in description

        # The team reads both on the report page, the translation labelled with its service.
        page = _browser("maintainer@example.org").get(f"/reports/{report_id}/").content.decode()
        assert ZH_TITLE in page
        assert EN_TITLE in page
        assert "Machine translation" in page
        assert "by LibreTranslate" in page
        assert "Send it translated into Chinese (中文) too" in page
        assert "sent text to the translation service (title, into English)" in page  # the timeline

        # The answer in English, sent translated.
        before = len(smtp.mailbox.messages)
        sent = team["maintainer"].post(f"/api/v1/reports/{report_id}/messages", {"body": EN_REPLY, "translate": True})
        assert sent.status == 201, sent.text
        assert sent.json["translate_to"] == "zh"
        _pass()
        mail = [m for m in smtp.mailbox.wait_for(before + 1)[before:] if "reporter@example.org" in str(m["To"])]
        assert len(mail) == 1
        assert EN_REPLY not in text_of(mail[0])
        assert ZH_REPLY not in text_of(mail[0])
        assert "message" in text_of(mail[0]).lower()

    thread = team["reporter"].get(f"/api/v1/reports/{report_id}/messages").json["items"]
    reply = next(m for m in thread if m["body"] == EN_REPLY)
    assert [(t["purpose"], t["target_language"], t["text"]) for t in reply["translations"]] == [
        ("reporter", "zh", ZH_REPLY)
    ]
    # The reporter sees no team-only translation of their own text.
    assert team["reporter"].get(f"/api/v1/reports/{report_id}").json["translations"] == []
    listed = team["reporter"].get(f"/api/v1/reports/{report_id}/translations").json["items"]
    assert [t["purpose"] for t in listed] == ["reporter"]

    page = _browser("reporter@example.org").get(f"/reports/{report_id}/").content.decode()
    assert ZH_REPLY in page
    assert EN_REPLY in page
    assert page.index(ZH_REPLY) < page.index(EN_REPLY)  # the translation first, then the original
    assert "as the team wrote it" in page

    # Every request to the service is in the audit log, without the text.
    sent_events = Event.objects.filter(report__public_id=report_id, tag="translation:sent")
    assert sent_events.count() == 3
    assert all(e.data["outcome"] == "translated" and e.data["provider"] == "LibreTranslate" for e in sent_events)
    assert not any(ZH_TITLE in str(e.data) or EN_REPLY in str(e.data) for e in Event.objects.all())


def test_with_translation_off_no_text_leaves(team: dict[str, Api], service: LibreTranslateStandIn) -> None:
    report_id = _chinese_report(team)
    _pass()
    report = Report.objects.get(public_id=report_id)
    assert report.language == "zh"  # detection is local: it runs anyway
    assert not Translation.objects.exists()
    assert service.requests == []
    refused = team["maintainer"].post(f"/api/v1/reports/{report_id}/translations", {"field": "title"})
    assert refused.status == 409
    assert refused.json["error"]["code"] == "translation_off"
    refused = team["maintainer"].post(f"/api/v1/reports/{report_id}/messages", {"body": "Hi", "translate": True})
    assert refused.status == 409, refused.text
    page = _browser("maintainer@example.org").get(f"/reports/{report_id}/").content.decode()
    assert "Machine translation is off for this project" in page
    assert service.requests == []


def test_turning_translation_off_stops_queued_work(team: dict[str, Api], service: LibreTranslateStandIn) -> None:
    _turn_on(team)
    report_id = _chinese_report(team, language="zh")  # named by the reporter: translations queued at once
    assert Translation.objects.filter(report__public_id=report_id, status="queued").count() == 2
    assert team["owner"].call("PATCH", "/api/v1/projects/requests", {"translation_enabled": False}).status == 200
    _pass()
    assert service.requests == []
    rows = Translation.objects.filter(report__public_id=report_id)
    assert {r.status for r in rows} == {"error"}
    assert all("turned off" in r.error for r in rows)


def test_a_service_failure_is_retried_and_the_original_stays_readable(
    team: dict[str, Api], service: LibreTranslateStandIn
) -> None:
    _turn_on(team)
    report_id = _chinese_report(team, language="zh")
    service.fail_next(2, 503)
    _pass()
    title = Translation.objects.get(report__public_id=report_id, field="title")
    assert title.status == "queued"
    assert title.error
    page = _browser("maintainer@example.org").get(f"/reports/{report_id}/").content.decode()
    assert ZH_TITLE in page
    assert "the worker tries again" in page
    _pass(dt.timedelta(minutes=5))
    title.refresh_from_db()
    assert title.status == "done"
    assert title.text == EN_TITLE
    assert title.error == ""
    outcomes = list(
        Event.objects.filter(tag="translation:sent", report__public_id=report_id).values_list(
            "data__outcome", flat=True
        )
    )
    assert outcomes.count("unavailable") >= 2
    assert outcomes.count("translated") == 2


def test_a_refused_key_ends_in_error_and_the_team_retries(
    team: dict[str, Api], service: LibreTranslateStandIn, settings: Any
) -> None:
    _turn_on(team)
    service.key = "right-key"
    settings.EMBARGO_TRANSLATION_KEY = "wrong-key"
    report_id = _chinese_report(team, language="zh")
    _pass()
    title = Translation.objects.get(report__public_id=report_id, field="title")
    assert title.status == "error"
    assert "key" in title.error.lower()
    page = _browser("maintainer@example.org").get(f"/reports/{report_id}/").content.decode()
    assert "The translation failed" in page
    assert "Retry the translation" in page

    settings.EMBARGO_TRANSLATION_KEY = "right-key"
    again = team["maintainer"].post(f"/api/v1/reports/{report_id}/translations", {"translation": title.public_id})
    assert again.status == 202
    assert again.json["status"] == "queued"
    _pass()
    title.refresh_from_db()
    assert title.status == "done"
    assert title.text == EN_TITLE


def test_the_team_corrects_a_translation_by_hand(team: dict[str, Api], service: LibreTranslateStandIn) -> None:
    _turn_on(team)
    report_id = _chinese_report(team, language="zh")
    _pass()
    title = Translation.objects.get(report__public_id=report_id, field="title")
    fixed = "requests leaks Proxy-Authorization when a redirect changes host"
    response = team["maintainer"].call(
        "PUT", f"/api/v1/reports/{report_id}/translations/{title.public_id}", {"text": fixed}
    )
    assert response.status == 200, response.text
    assert response.json["text"] == fixed
    assert response.json["machine"] is False
    assert Report.objects.get(public_id=report_id).title == ZH_TITLE
    event = Event.objects.get(tag="translation:corrected", report__public_id=report_id)
    assert fixed not in str(event.data)
    assert event.data["field"] == "title"
    page = _browser("maintainer@example.org").get(f"/reports/{report_id}/").content.decode()
    assert fixed in page
    assert "Translated by hand" in page
    # A stranger's translation ID gets nothing.
    assert (
        team["reporter"]
        .call("PUT", f"/api/v1/reports/{report_id}/translations/{title.public_id}", {"text": "x"})
        .status
        == 404
    )


def test_the_reporter_corrects_the_detected_language(team: dict[str, Api], service: LibreTranslateStandIn) -> None:
    _turn_on(team)
    body = {
        "title": "Ein Fehler in der Proxy-Behandlung",
        "description": "Die Kopfzeile wird bei Weiterleitungen nicht entfernt.",
    }
    report_id = team["reporter"].post("/api/v1/projects/requests/reports", body).json["id"]
    _pass()
    assert Report.objects.get(public_id=report_id).language == "de"
    # The reporter says it is Dutch and wants answers in French.
    response = team["reporter"].call(
        "PUT", f"/api/v1/reports/{report_id}/language", {"language": "nl", "preferred_language": "fr"}
    )
    assert response.status == 200, response.text
    assert (response.json["language"], response.json["language_source"], response.json["preferred_language"]) == (
        "nl", "reporter", "fr",
    )  # fmt: skip
    assert Translation.objects.filter(report__public_id=report_id, source_language="nl", status="queued").count() == 2
    assert Event.objects.filter(tag="report:language_set", report__public_id=report_id).count() == 1
    # A later detection does not overrule the reporter.
    Detection.objects.create(report=Report.objects.get(public_id=report_id), created_at=clock.now(), due_at=clock.now())
    _pass()
    assert Report.objects.get(public_id=report_id).language == "nl"
    bad = team["reporter"].call("PUT", f"/api/v1/reports/{report_id}/language", {"language": "xx"})
    assert bad.status == 422
    assert "ISO 639-1" in bad.json["error"]["message"]


def test_a_reporter_message_in_another_language_is_translated(
    team: dict[str, Api], service: LibreTranslateStandIn
) -> None:
    _turn_on(team)
    report_id = _chinese_report(team, language="zh")
    posted = team["reporter"].post(f"/api/v1/reports/{report_id}/messages", {"body": ZH_REPLY})
    assert posted.status == 201
    _pass()
    thread = team["maintainer"].get(f"/api/v1/reports/{report_id}/messages").json["items"]
    message = next(m for m in thread if m["body"] == ZH_REPLY)
    assert message["language"] == "zh"
    assert [(t["purpose"], t["text"]) for t in message["translations"]] == [("team", EN_REPLY)]
    # The reporter's own view of the thread carries no team translation.
    mine = team["reporter"].get(f"/api/v1/reports/{report_id}/messages").json["items"]
    assert next(m for m in mine if m["body"] == ZH_REPLY)["translations"] == []


def test_the_inbox_shows_the_language_and_the_settings_name_the_service(
    team: dict[str, Api], service: LibreTranslateStandIn
) -> None:
    _chinese_report(team)
    _pass()
    owner = _browser("owner@example.org")
    inbox = owner.get("/projects/requests/inbox/").content.decode()
    assert '<abbr title="Chinese (中文)">zh</abbr>' in inbox
    settings_page = owner.get("/projects/requests/settings/").content.decode()
    assert f"LibreTranslate at {service.url}" in settings_page
    assert "Translation is off" in settings_page
    response = owner.post(
        "/projects/requests/settings/",
        {"action": "languages", "team_languages": "en, de", "translation_enabled": "on"},
    )
    assert response.status_code == 302
    project = Project.objects.get(slug="requests")
    assert project.team_languages == ["en", "de"]
    assert project.translation_enabled
    response = owner.post("/projects/requests/settings/", {"action": "languages", "team_languages": "en, klingon"})
    assert response.status_code == 200
    assert "not a language code" in response.content.decode()


def test_enabling_needs_an_instance_service(team: dict[str, Api], settings: Any) -> None:
    settings.EMBARGO_TRANSLATION_PROVIDER = ""
    response = team["owner"].call("PATCH", "/api/v1/projects/requests", {"translation_enabled": True})
    assert response.status == 422
    assert "EMBARGO_TRANSLATION_PROVIDER" in response.json["error"]["message"]
    assert team["maintainer"].call("PATCH", "/api/v1/projects/requests", {"translation_enabled": True}).status == 404


def test_the_web_process_builds_no_detector(team: dict[str, Api]) -> None:
    detection.reset()
    _chinese_report(team)
    assert detection._cached is None
