"""The project's disclosure policy as a SECURITY.md: the reference policy's structure, the project's numbers;
and `embargo policy render`, which writes it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from embargo.cli import main
from embargo.domain.policy import REFERENCE
from embargo.formats.policy_document import PolicyDocument, PolicyPackager, days, hours, render_markdown, weekdays
from tests.helpers import Api

SITE = "https://embargo.example/projects/requests"


def document(**changes: object) -> PolicyDocument:
    base = PolicyDocument(
        project_name="Requests",
        policy=REFERENCE,
        report_url=SITE + "/",
        join_url=SITE + "/packagers/join/",
        package="PyPI:requests",
        repository_url="https://github.com/psf/requests",
        security_page_url=SITE + "/security",
        packagers=[PolicyPackager("Red Hat", "Python Maintenance Team"), PolicyPackager("Debian", "Daniele Tricoli")],
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def test_the_document_follows_the_reference_policys_structure() -> None:
    text = render_markdown(document())
    assert headings(text) == [
        "# Security policy of Requests",
        "## Reporting a vulnerability",
        "## Credit",
        "## Process",
        "### Timeline",
        "### Release day",
        "### Packagers",
        "### Publication",
    ]


def test_the_reference_numbers_read_as_the_reference_policy_says_them() -> None:
    text = render_markdown(document())
    assert "within two days at the outside, usually within 12 hours" in text
    assert "release a fix within two weeks of the report" in text
    assert "At least one week before the release" in text
    assert "always falls on a weekday, Monday to Friday, in the project's time zone (UTC)." in text
    assert "report it privately through the report form at <https://embargo.example/projects/requests/>" in text
    assert "only with their permission" in text
    assert "CVE identifier for every confirmed vulnerability once a fix exists" in text
    assert "push the fix to the public repository (<https://github.com/psf/requests>)" in text
    assert "release the fixed version to PyPI" in text


def test_the_packager_list_names_organisations_and_how_to_join_but_no_addresses() -> None:
    text = render_markdown(document())
    assert "- Debian (Daniele Tricoli)\n- Red Hat (Python Maintenance Team)\n" in text  # sorted
    assert f"ask to join at <{SITE}/packagers/join/>" in text
    assert "@" not in text
    assert "No packager is on our list yet." in render_markdown(document(packagers=[]))


def test_a_stricter_policy_gives_other_words() -> None:
    policy = dataclasses.replace(
        REFERENCE, response_target_hours=4, response_limit_hours=24, fix_target_days=30, packager_lead_days=5,
        release_weekdays=(1, 3), holiday_calendar="US", timezone="Europe/Paris", cve_required=False,
    )  # fmt: skip
    text = render_markdown(document(policy=policy))
    assert "within one day at the outside, usually within four hours" in text
    assert "within 30 days of the report" in text
    assert "At least five days before the release" in text
    assert "always falls on Tuesday and Thursday in the project's time zone (Europe/Paris), and never on a " \
        "public holiday of the calendar US." in text  # fmt: skip
    assert "for every confirmed vulnerability" not in text
    assert "we request it only once a fix exists" in text


def test_the_key_is_named_only_when_the_project_has_one() -> None:
    assert "OpenPGP" not in render_markdown(document())
    text = render_markdown(document(key_url=SITE + "/pgp-key.asc", key_fingerprint="ABCD 0123"))
    assert f"OpenPGP key (fingerprint `ABCD 0123`) is at <{SITE}/pgp-key.asc>" in text


def test_the_languages_and_the_translation_service_are_named() -> None:
    text = " ".join(render_markdown(document()).split())
    assert "English is welcome but not required" in text
    assert "we will translate it" in text
    text = " ".join(
        render_markdown(
            document(team_languages=["English", "German"], translation_service="LibreTranslate at https://t.example")
        ).split()
    )
    assert "English and German are welcome but not required" in text
    assert "machine translation by LibreTranslate at https://t.example, beside your original" in text
    assert "we will translate it" not in text


@pytest.mark.parametrize(
    ("value", "words"), [(1, "one hour"), (12, "12 hours"), (48, "two days"), (36, "36 hours"), (24, "one day")]
)
def test_hours(value: int, words: str) -> None:
    assert hours(value) == words


def test_days_and_weekdays() -> None:
    assert (days(14), days(10), days(1)) == ("two weeks", "ten days", "one day")
    assert weekdays((0, 1, 2, 3, 4)) == "Monday to Friday"
    assert weekdays((4, 0)) == "Monday and Friday"
    assert weekdays((0, 2, 4)) == "Monday, Wednesday and Friday"


# --- the command ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_prints_the_projects_policy(team: dict[str, Api], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "render", "requests"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Security policy of Requests\n")
    assert "within two days at the outside" in out


@pytest.mark.django_db
def test_the_command_writes_a_file(team: dict[str, Api], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "SECURITY.md"
    assert main(["policy", "render", "requests", "--format", "md", "--output", str(target)]) == 0
    assert target.read_text().startswith("# Security policy of Requests\n")
    assert capsys.readouterr().out == ""


@pytest.mark.django_db
def test_an_unknown_project_fails_and_a_wrong_format_is_a_usage_error(
    team: dict[str, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "render", "nothing"]) == 1
    assert "no project 'nothing'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["policy", "render", "requests", "--format", "html"])
    assert exit_.value.code == 2
