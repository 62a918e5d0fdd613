"""The worker's fix jobs on real repositories built here: does each patch apply to its branch, do the
project's tests pass with it (private CI), and does the reporter's proof of concept reproduce on the
affected release and stop with the fix — in the sandbox, without network."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from embargo.fixes import jobs, sandbox
from embargo.fixes.models import Patch, Reproduction
from embargo.projects.models import Project
from tests.helpers import Api, submit

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

PYPROJECT = """[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "tinyreq"
version = "{version}"
"""
VULNERABLE = '''def redirect_headers(headers, same_host):
    """The headers kept on a redirect."""
    return dict(headers)
'''
FIXED = '''def redirect_headers(headers, same_host):
    """The headers kept on a redirect."""
    kept = dict(headers)
    if not same_host:
        kept.pop("Authorization", None)
    return kept
'''
TESTS = """import unittest

from tinyreq import redirect_headers


class RedirectTests(unittest.TestCase):
    def test_same_host_keeps_headers(self):
        self.assertEqual(redirect_headers({"A": "1"}, True), {"A": "1"})
"""
POC = """from tinyreq import redirect_headers

leaked = "Authorization" in redirect_headers({"Authorization": "secret"}, same_host=False)
print("VULNERABLE" if leaked else "safe")
raise SystemExit(1 if leaked else 0)
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """tinyreq: 2.30.0 is vulnerable (tagged v2.30.0); main and the maintained branch 2.30.x differ."""
    repo = tmp_path / "tinyreq"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, {"pyproject.toml": PYPROJECT.format(version="2.30.0"), "tinyreq/__init__.py": VULNERABLE,
                 "tests/test_redirects.py": TESTS})  # fmt: skip
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "2.30.0")
    git(repo, "tag", "v2.30.0")
    git(repo, "branch", "2.30.x")
    write(repo, {"pyproject.toml": PYPROJECT.format(version="2.31.0.dev0"), "NEWS": "main moves on\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start 2.31")
    return repo


def make_patch(repo: Path, branch: str, files: dict[str, str]) -> bytes:
    git(repo, "checkout", "-q", branch)
    write(repo, files)
    diff = git(repo, "diff").encode()
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "checkout", "-q", "main")
    return diff


@pytest.fixture
def project(upstream: Path, settings, team: dict[str, Api]) -> Project:
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as e:
        pytest.skip(f"no sandbox here: {e}")
    settings.EMBARGO_GIT_ALLOWED_PATHS = [upstream.parent]
    project = Project.objects.get(slug="requests")
    project.repository_url = str(upstream)
    project.supported_branches = ["main", "2.30.x"]
    project.test_command = "python -m unittest discover -s tests -q"
    project.save()
    return project


def run_jobs() -> None:
    for _ in range(6):
        if not jobs.run(jobs.clock.now(), "test-worker"):
            return


def _fix(team: dict[str, Api], rid: str) -> str:
    fix = team["maintainer"].post(f"/api/v1/reports/{rid}/fixes", {"kind": "patch", "description": "Strip it."})
    assert fix.status == 201, fix.text
    return fix.json["id"]


def _attach(team: dict[str, Api], rid: str, fix_id: str, branch: str, diff: bytes) -> str:
    url = f"/api/v1/reports/{rid}/fixes/{fix_id}/patches"
    response = team["maintainer"].post(url, files={"file": SimpleUploadedFile("fix.patch", diff), "branch": branch})
    assert response.status == 201, response.text
    return response.json["id"]


def test_patches_are_checked_against_each_branch(project: Project, upstream: Path, team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    fix_id = _fix(team, rid)
    good = make_patch(upstream, "main", {"tinyreq/__init__.py": FIXED})
    on_main = _attach(team, rid, fix_id, "main", good)
    on_old = _attach(team, rid, fix_id, "2.30.x", make_patch(upstream, "2.30.x", {"tinyreq/__init__.py": FIXED}))
    # A patch made on main that touches what only main has does not apply to the older branch.
    news = make_patch(upstream, "main", {"NEWS": "main moves on\nfixed the redirect leak\n"})
    misfit = _attach(team, rid, fix_id, "2.30.x", news)
    run_jobs()
    patches = {p.public_id: p for p in Patch.objects.all()}
    assert patches[on_main].applies is True
    assert patches[on_main].files == ["tinyreq/__init__.py"]
    assert patches[on_old].applies is True
    assert patches[misfit].applies is False
    assert "NEWS" in patches[misfit].check_message
    shown = team["reporter"].get(f"/api/v1/reports/{rid}/fixes/{fix_id}").json["patches"]
    assert {p["id"]: p["applies"] for p in shown} == {on_main: True, on_old: True, misfit: False}


def test_private_ci_reports_passing_and_failing_patches(project: Project, upstream: Path, team: dict[str, Api]) -> None:
    rid = submit(team["reporter"])["id"]
    fix_id = _fix(team, rid)
    good = _attach(team, rid, fix_id, "main", make_patch(upstream, "main", {"tinyreq/__init__.py": FIXED}))
    broken_code = FIXED.replace("return kept", "return {}")
    bad = _attach(team, rid, fix_id, "2.30.x", make_patch(upstream, "2.30.x", {"tinyreq/__init__.py": broken_code}))
    run_jobs()
    patches = {p.public_id: p for p in Patch.objects.all()}
    assert (patches[good].ci_status, patches[good].ci_passed) == ("done", True), patches[good].ci_output
    assert (patches[bad].ci_status, patches[bad].ci_passed) == ("done", False)
    assert "FAILED" in patches[bad].ci_output or "Error" in patches[bad].ci_output


def test_the_proof_of_concept_reproduces_on_the_release_and_not_with_the_fix(
    project: Project, upstream: Path, team: dict[str, Api]
) -> None:
    rid = submit(team["reporter"], reproduction=POC)["id"]
    fix_id = _fix(team, rid)
    _attach(team, rid, fix_id, "2.30.x", make_patch(upstream, "2.30.x", {"tinyreq/__init__.py": FIXED}))
    base = f"/api/v1/reports/{rid}/reproductions"
    affected = team["maintainer"].post(base, {"target": "affected", "ref": "v2.30.0"})
    assert affected.status == 201, affected.text
    fixed = team["maintainer"].post(base, {"target": "fixed", "fix_id": fix_id, "branch": "2.30.x"})
    assert fixed.status == 201, fixed.text
    run_jobs()
    runs = {r.public_id: r for r in Reproduction.objects.all()}
    on_release, with_fix = runs[affected.json["id"]], runs[fixed.json["id"]]
    assert (on_release.status, on_release.reproduced, on_release.exit_code) == ("done", True, 1), on_release.error
    assert "VULNERABLE" in on_release.output
    assert (with_fix.status, with_fix.reproduced, with_fix.exit_code) == ("done", False, 0), with_fix.error
    listed = team["reporter"].get(base).json["items"]
    assert sorted((r["target"], r["reproduced"]) for r in listed) == [("affected", True), ("fixed", False)]
    from django.test import Client

    from embargo.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email="reporter@example.org"))
    page = client.get(f"/reports/{rid}/").content.decode()
    assert "Reproduced on affected, not reproduced on fixed." in page


def test_a_marker_names_what_the_proof_of_concept_prints(
    project: Project, upstream: Path, team: dict[str, Api]
) -> None:
    printing = POC.replace("raise SystemExit(1 if leaked else 0)\n", "")
    rid = submit(team["reporter"], reproduction=printing, poc_marker="VULNERABLE")["id"]
    run = team["maintainer"].post(f"/api/v1/reports/{rid}/reproductions", {"target": "affected", "ref": "v2.30.0"})
    run_jobs()
    done = Reproduction.objects.get(public_id=run.json["id"])
    assert (done.reproduced, done.exit_code) == (True, 0)
