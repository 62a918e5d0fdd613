"""security.txt for the instance and for each project, served from the configuration and the project's data,
and the project's SECURITY.md that its Policy field points to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.test import Client, override_settings

from embargo import clock
from embargo.accounts.models import User
from embargo.projects.keys import do_generate_project_key
from embargo.projects.models import Project
from tests.formats.test_securitytxt import rfc9116_problems
from tests.helpers import Api

pytestmark = pytest.mark.django_db
BASE = "https://embargo.example"
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _instance() -> Iterator[None]:
    clock.freeze(NOW)
    with override_settings(EMBARGO_BASE_URL=BASE, EMBARGO_SECURITY_CONTACT=[BASE + "/"],
                           EMBARGO_SECURITY_POLICY_URL="", EMBARGO_SECURITY_LANGUAGES=["en"]):  # fmt: skip
        yield


def fields(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        found.setdefault(name, []).append(value)
    return found


def test_the_instance_file_names_its_operators_and_is_plain_text() -> None:
    response = Client().get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert rfc9116_problems(text, now=NOW, served_at=BASE + "/.well-known/security.txt") == []
    assert fields(text) == {
        "Contact": [BASE + "/"],
        "Expires": ["2027-11-29T00:00:00Z"],
        "Preferred-Languages": ["en"],
        "Canonical": [BASE + "/.well-known/security.txt"],
    }


def test_the_instance_contact_and_policy_come_from_the_configuration() -> None:
    with override_settings(
        EMBARGO_SECURITY_CONTACT=["mailto:security@embargo.example", BASE + "/contact"],
        EMBARGO_SECURITY_POLICY_URL=BASE + "/policy",
    ):
        text = Client().get("/.well-known/security.txt").content.decode()
    assert fields(text)["Contact"] == ["mailto:security@embargo.example", BASE + "/contact"]
    assert fields(text)["Policy"] == [BASE + "/policy"]
    assert rfc9116_problems(text, now=NOW) == []


def test_a_project_file_sends_reports_to_its_form_and_points_to_its_policy(team: dict[str, Api]) -> None:
    response = Client().get("/projects/requests/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert rfc9116_problems(text, now=NOW, served_at=BASE + "/projects/requests/security.txt") == []
    found = fields(text)
    assert found["Contact"] == [BASE + "/projects/requests/"]
    assert found["Policy"] == [BASE + "/projects/requests/SECURITY.md"]
    assert found["Acknowledgments"] == [BASE + "/projects/requests/security"]
    assert "Encryption" not in found  # no key yet
    # Every URL it names answers (the acknowledgments page belongs to publication, built elsewhere).
    for url in (*found["Contact"], *found["Policy"], *found["Canonical"]):
        assert Client().get(url.removeprefix(BASE)).status_code == 200, url


def test_a_project_with_a_key_points_to_it_for_encryption(team: dict[str, Api]) -> None:
    do_generate_project_key(
        Project.objects.get(slug="requests"), acting_user=User.objects.get(email="owner@example.org")
    )
    text = Client().get("/projects/requests/security.txt").content.decode()
    assert fields(text)["Encryption"] == [BASE + "/projects/requests/pgp-key.asc"]
    assert Client().get("/projects/requests/pgp-key.asc").status_code == 200
    assert rfc9116_problems(text, now=NOW) == []


def test_expires_moves_with_the_clock(team: dict[str, Api]) -> None:
    clock.freeze(NOW + dt.timedelta(days=200))
    text = Client().get("/projects/requests/security.txt").content.decode()
    assert fields(text)["Expires"] == ["2028-06-16T00:00:00Z"]
    assert rfc9116_problems(text, now=clock.now()) == []


def test_an_unknown_project_has_no_file() -> None:
    assert Client().get("/projects/nothing/security.txt").status_code == 404
    assert Client().get("/projects/nothing/SECURITY.md").status_code == 404


def test_the_security_md_is_the_projects_policy(team: dict[str, Api]) -> None:
    changed = team["owner"].call("PUT", "/api/v1/projects/requests/policy", {
        "response_target_hours": 24, "response_limit_hours": 72, "fix_target_days": 30, "packager_lead_days": 10,
        "release_weekdays": ["tue", "wed", "thu"],
    })  # fmt: skip
    assert changed.status == 200, changed.text
    response = Client().get("/projects/requests/SECURITY.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("# Security policy of Requests\n")
    assert "within three days at the outside, usually within one day" in text
    assert "within 30 days of the report" in text
    assert "At least ten days before the release" in text
    assert "Tuesday to Thursday" in text


@pytest.mark.parametrize("path", ["/.well-known/security.txt", "/projects/requests/security.txt"])
def test_the_files_pass_the_sectxt_validator(team: dict[str, Api], path: str) -> None:
    """The same files through an independent RFC 9116 validator (the `sectxt` package)."""
    import sectxt

    content = Client().get(path).content
    parsed = sectxt.Parser(content, urls=BASE + path, is_local=True)
    assert parsed.is_valid(), parsed.errors
    assert parsed.errors == []
