"""Reporter-facing text goes through Django's translation machinery: the report form follows the browser's
language, e-mails to a reporter are written in the reporter's language when Embargo has a catalogue for it, and
the shipped English catalogue is what `make messages` makes of the code."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django.utils.translation import trans_real

from embargo.notifications import delivery
from embargo.notifications.models import OutboxMessage
from embargo.reports.forms import ReportForm
from tests.helpers import Api, make_project, submit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "embargo"
SHIPPED_EN = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"

# A few real msgids of the report form, its pages and two reporter e-mails, in French.
FRENCH = {
    "%(name)s: report a vulnerability": "%(name)s : signaler une vulnérabilité",
    "Your private report": "Votre signalement privé",
    "Your e-mail address": "Votre adresse électronique",
    "Title": "Titre",
    "One line that names the problem.": "Une ligne qui nomme le problème.",
    "Recognise it for me": "Reconnaissez-la pour moi",
    "Send the report privately": "Envoyer le signalement en privé",
    "Report sent": "Signalement envoyé",
    "Thank you: your report reached %(name)s": "Merci : votre signalement est parvenu à %(name)s",
    "Hello,": "Bonjour,",
    "Report %(report_ref)s received": "Signalement %(report_ref)s reçu",
    "thank you: %(project_name)s received your private report %(report_ref)s.": (
        "merci : %(project_name)s a reçu votre signalement privé %(report_ref)s."
    ),
    "Embargo for %(project_name)s at %(base_url)s": "Embargo pour %(project_name)s sur %(base_url)s",
    "Report %(report_ref)s: new message": "Signalement %(report_ref)s : nouveau message",
    "%(author)s wrote a new message on report %(report_ref)s to %(project_name)s. Read it here:": (
        "%(author)s a écrit un nouveau message sur le signalement %(report_ref)s à %(project_name)s. Lisez-le ici :"
    ),
    "The team": "L'équipe",
    "Report %(report_ref)s is %(state)s": "Le signalement %(report_ref)s est %(state)s",
    "confirmed": "confirmé",
}


def _po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def msgids(po: Path) -> set[str]:
    """The msgids of a .po file (continuation lines joined), without the header's empty one."""
    ids: set[str] = set()
    current: list[str] | None = None
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("msgid "):
            current = [line[len("msgid ") :]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            text = "".join(part[1:-1] for part in current)
            ids.add(re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text))
            current = None
    return ids - {""}


@pytest.fixture
def french(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """Embargo with a French catalogue (compiled with msgfmt, as `make messages` does) beside English."""
    folder = tmp_path / "locale" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    header = (
        'msgid ""\nmsgstr ""\n"Project-Id-Version: Embargo tests\\n"\n"PO-Revision-Date: 2026-01-01 00:00+0000\\n"\n'
        '"Last-Translator: Tests <tests@example.org>\\n"\n"Language-Team: French\\n"\n'
        '"Language: fr\\n"\n"MIME-Version: 1.0\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n"Content-Transfer-Encoding: 8bit\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n'
    )
    entries = "".join(f"\nmsgid {_po_string(k)}\nmsgstr {_po_string(v)}\n" for k, v in FRENCH.items())
    (folder / "django.po").write_text(header + entries, encoding="utf-8")
    subprocess.run(["msgfmt", "--check", "-o", str(folder / "django.mo"), str(folder / "django.po")], check=True)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    settings.LANGUAGES = [("en", "English"), ("fr", "French")]
    _forget_translations()
    yield tmp_path / "locale"
    _forget_translations()


def _forget_translations() -> None:
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = trans_real.Local()
    # Django caches which catalogues exist and which languages are supported; the names moved between versions.
    for name in (
        "translation_catalog_exists",
        "check_for_language",
        "get_languages",
        "_get_supported_language_variant",
    ):
        cache_clear = getattr(getattr(trans_real, name, None), "cache_clear", None)
        if cache_clear is not None:
            cache_clear()


def _mails(template: str, to: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template, to_email=to).order_by("id"))


# --- the report form --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_report_form_speaks_french_to_a_french_browser(french: Path) -> None:
    make_project("requests", owner="owner")
    page = Client().get("/projects/requests/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        "Requests : signaler une vulnérabilité",
        "Votre signalement privé",
        "Votre adresse électronique",
        "Une ligne qui nomme le problème.",
        "Reconnaissez-la pour moi",
        "Envoyer le signalement en privé",
    ):
        assert text in html
    assert "Your private report" not in html
    assert page.headers["Content-Language"] == "fr"
    assert "Accept-Language" in page.headers["Vary"]


@pytest.mark.django_db
def test_a_browser_in_a_language_without_a_catalogue_gets_english(french: Path) -> None:
    make_project("requests", owner="owner")
    page = Client().get("/projects/requests/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    html = page.content.decode()
    assert "Your private report" in html
    assert "Your e-mail address" in html
    assert page.headers["Content-Language"] == "en"


@pytest.mark.django_db
def test_a_french_reporter_sends_the_form_and_hears_back_in_french(french: Path) -> None:
    make_project("requests", owner="owner")
    browser = Client()
    form = {
        "email": "anne@example.org",
        "title": "Une faille",
        "description": "Le proxy laisse fuir.",
        "language": "fr",
    }
    empty = browser.post("/projects/requests/", {"title": ""}, headers={"Accept-Language": "fr"})
    # Django's own French catalogue names the missing fields; ours names the form.
    assert "Ce champ est obligatoire." in empty.content.decode()
    sent = browser.post("/projects/requests/", form, headers={"Accept-Language": "fr"})
    assert sent.status_code == 200
    assert "Merci : votre signalement est parvenu à Requests" in sent.content.decode()
    [receipt] = _mails("report_receipt", "anne@example.org")
    assert receipt.context["language"] == "fr"
    mail = delivery.render(receipt)
    assert mail.subject.startswith("[Requests] Signalement ")
    assert mail.subject.endswith(" reçu")
    assert mail.body.startswith("Bonjour,\n\nmerci : Requests a reçu votre signalement privé ")
    assert "Embargo pour Requests sur " in mail.body


# --- e-mails ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mail_to_a_reporter_follows_their_language_and_the_team_stays_english(
    team: dict[str, Api], french: Path
) -> None:
    report_id = submit(team["reporter"], language="fr")["id"]
    [receipt] = _mails("report_receipt", "reporter@example.org")
    assert delivery.render(receipt).subject == f"[Requests] Signalement {report_id} reçu"

    answer = team["maintainer"].post(f"/api/v1/reports/{report_id}/messages", {"body": "Merci.", "internal": False})
    assert answer.status == 201, answer.text
    [message] = _mails("report_message", "reporter@example.org")
    mail = delivery.render(message)
    assert mail.subject == f"[Requests] Signalement {report_id} : nouveau message"
    assert f"L'équipe a écrit un nouveau message sur le signalement {report_id} à Requests. Lisez-le ici :" in mail.body

    # The team's own e-mails about the same report stay in the site's language.
    [to_team] = _mails("report_received_team", "maintainer@example.org")
    team_mail = delivery.render(to_team)
    assert team_mail.subject == f"[Requests] New report {report_id}"
    assert "Embargo for Requests at " in team_mail.body
    assert "language" not in to_team.context


@pytest.mark.django_db
def test_a_state_label_stored_in_english_is_translated_when_the_mail_is_rendered(
    team: dict[str, Api], french: Path
) -> None:
    report_id = submit(team["reporter"], language="fr")["id"]
    moved = team["maintainer"].post(
        f"/api/v1/reports/{report_id}/transitions", {"to": "confirmed", "comment": "Reproduit."}
    )
    assert moved.status == 200, moved.text
    [news] = _mails("report_state_changed", "reporter@example.org")
    assert news.context["state_label"] == "confirmed"  # the outbox row keeps the msgid
    assert delivery.render(news).subject == f"[Requests] Le signalement {report_id} est confirmé"


@pytest.mark.django_db
def test_mail_to_a_reporter_in_a_language_without_a_catalogue_is_english(team: dict[str, Api], french: Path) -> None:
    report_id = submit(team["reporter"], language="de")["id"]
    [receipt] = _mails("report_receipt", "reporter@example.org")
    assert receipt.context["language"] == "de"
    mail = delivery.render(receipt)
    assert mail.subject == f"[Requests] Report {report_id} received"
    assert mail.body.startswith(f"Hello,\n\nthank you: Requests received your private report {report_id}.\n")
    # Rendering leaves the worker's own language as it was.
    assert translation.get_language() == "en"


def test_a_mail_language_is_one_with_a_catalogue(french: Path) -> None:
    assert delivery.mail_language("fr") == "fr"
    assert delivery.mail_language("fr-ca") == "fr"
    assert delivery.mail_language("de") == "en"
    assert delivery.mail_language("") == "en"


# --- the shipped catalogue and `make messages` ------------------------------------------------------------------


def test_the_shipped_english_catalogue_is_valid_and_holds_the_form() -> None:
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(SHIPPED_EN)], check=True)
    ids = msgids(SHIPPED_EN)
    form = ReportForm(anonymous=True)
    for field in form.fields.values():
        assert str(field.label) in ids
        assert str(field.help_text) in ids
    for text in ("Send the report privately", "Report %(report_ref)s received", "acknowledged by the team"):
        assert text in ids


def _messages_options() -> list[str]:
    """The options `make messages` passes to makemessages, read from the Makefile so that both stay one."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^MESSAGES_OPTIONS = (.+)$", makefile, re.MULTILINE)
    assert match, "the Makefile defines MESSAGES_OPTIONS for `make messages`"
    return match.group(1).split()


def test_make_messages_regenerates_the_shipped_catalogue(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same extraction as `make messages`, run on a copy of the package so the shipped catalogue is not touched.
    copy = tmp_path / "embargo"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", *_messages_options(), "-l", "en", verbosity=0)
    regenerated = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(regenerated)], check=True)
    missing, stale = msgids(regenerated) - msgids(SHIPPED_EN), msgids(SHIPPED_EN) - msgids(regenerated)
    assert not missing, f"run `make messages`: the shipped catalogue lacks {sorted(missing)}"
    assert not stale, f"run `make messages`: the shipped catalogue still has {sorted(stale)}"
