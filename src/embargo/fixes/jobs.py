"""The worker's fix jobs: does a patch apply, do the project's tests pass with it (private CI), and does the
reporter's proof of concept reproduce on the affected and on the fixed code. Untrusted code (the project's
tests, the proof of concept) runs only in the sandbox; git runs only through fixes/git.py.

Each job is its own row, claimed with a lease like an outbox row; a job that keeps failing is marked `error`
with the reason, and the worker goes on."""

from __future__ import annotations

import datetime as dt
import logging
import shlex
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q

from embargo import clock
from embargo.audit.actions import record_event
from embargo.audit.tags import Audience, Tag
from embargo.fixes import actions, git, sandbox
from embargo.fixes.models import JobStatus, Patch, Reproduction, Target

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=20)
MAX_ATTEMPTS = 3
OUTPUT_KEPT = 64 * 1024


def _git_options() -> dict[str, Any]:
    return {
        "allowed_paths": settings.EMBARGO_GIT_ALLOWED_PATHS,
        "allow_private": settings.EMBARGO_ALLOW_PRIVATE_NETWORK,
    }


def _claim[M: models.Model](model: type[M], status_field: str, now: dt.datetime, owner: str) -> M | None:
    """One queued job of `model`, leased to `owner` (SKIP LOCKED on PostgreSQL)."""
    with transaction.atomic():
        rows = model.objects.filter(  # type: ignore[attr-defined]
            Q(**{status_field: JobStatus.QUEUED}) | Q(**{status_field: JobStatus.RUNNING, "leased_until__lt": now})
        ).order_by("created_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        row = rows.first()
        if row is None:
            return None
        model.objects.filter(pk=row.pk).update(  # type: ignore[attr-defined]
            **{status_field: JobStatus.RUNNING}, leased_until=now + LEASE, lease_owner=owner, attempts=F("attempts") + 1
        )
    return model.objects.select_related("data_key").get(pk=row.pk)  # type: ignore[attr-defined]


# --- does the patch apply? -------------------------------------------------------------------------


def check_next_patch(now: dt.datetime, owner: str) -> bool:
    patch = _claim(Patch, "check_status", now, owner)
    if patch is None:
        return False
    fix = patch.fix
    project = fix.report.project
    try:
        result = git.check_patch(project.repository_url, patch.branch, actions.read_patch(patch), **_git_options())
    except git.GitError as e:
        result = None
        message = str(e)
    with transaction.atomic():
        if result is None:
            patch.applies, patch.check_message, patch.files, patch.diffstat = False, message, [], ""
        else:
            patch.applies, patch.head_sha, patch.files = result.applies, result.head_sha, result.files
            patch.diffstat, patch.check_message = result.diffstat, result.message
        patch.check_status, patch.checked_at, patch.leased_until = JobStatus.DONE, clock.now(), None
        if not patch.applies and patch.ci_status == JobStatus.QUEUED:
            patch.ci_status = JobStatus.NONE  # nothing to test
        patch.save(
            update_fields=["applies", "head_sha", "files", "diffstat", "check_message", "check_status", "checked_at",
                           "leased_until", "ci_status"]
        )  # fmt: skip
        record_event(
            Tag.PATCH_CHECKED, actor=None, target=patch, project=project, report=fix.report,
            audience=Audience.TEAM if fix.team_only else Audience.PARTICIPANTS,
            data={"applies": patch.applies, "branch": patch.branch, "head": patch.head_sha, "files": len(patch.files)},
        )  # fmt: skip
    return True


# --- the sandboxed runs ------------------------------------------------------------------------------


def _dependencies(checkout: Path, extras: str) -> list[str]:
    """The project's declared dependencies (and those of its test extras), from pyproject.toml."""
    pyproject = checkout / "pyproject.toml"
    if not pyproject.exists():
        return []
    data = tomllib.loads(pyproject.read_text())
    project = data.get("project", {})
    wanted = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in [e.strip() for e in extras.split(",") if e.strip()]:
        wanted += optional.get(extra, [])
    return wanted


def _download(requirements: list[str], wheels: Path) -> None:
    """Dependencies are fetched outside the sandbox (which has no network), from the configured index."""
    if not requirements:
        return
    import subprocess
    import sys

    command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--python-version", "3.11",
               "--dest", str(wheels), *requirements]  # fmt: skip
    if settings.EMBARGO_PACKAGE_INDEX_URL:
        command[4:4] = ["--index-url", settings.EMBARGO_PACKAGE_INDEX_URL]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603 - argv list
    if done.returncode != 0:
        raise sandbox.SandboxUnavailable(f"could not download the dependencies: {done.stderr.strip()[-500:]}")


def _prepare(url: str, ref: str, patch: bytes | None, workdir: Path, extras: str = "") -> tuple[Path, str]:
    """A checkout of `ref` (with the patch applied) and its dependencies as wheels, in `workdir`."""
    checkout = workdir / "src"
    head = git.clone_branch(url, ref, checkout, **_git_options())
    if patch is not None:
        git.apply_patch(checkout, patch)
    wheels = workdir / "wheels"
    wheels.mkdir()
    _download(_dependencies(checkout, extras), wheels)
    return checkout, head


class SetupFailed(Exception):
    """The job's environment could not be built (not the code under test failing)."""


WORK = "/work"  # where the sandbox shows the job's folder


def _in_checkout(argv: list[str]) -> list[str]:
    return ["/usr/bin/env", "-C", f"{WORK}/src", *argv]


def _setup(workdir: Path, extras: str) -> None:
    """A virtualenv built with Debian's python3 (which an unprivileged uid can run), the checkout put on its
    path (no build step: nothing of the project runs before the tests do), and the project's dependencies
    installed offline from the wheels downloaded outside the sandbox."""
    limits = sandbox.Limits(wall_seconds=300, cpu_seconds=300)
    steps = [["/usr/bin/python3", "-m", "venv", f"{WORK}/venv"]]
    requirements = _dependencies(workdir / "src", extras)
    if requirements:
        steps.append(
            [f"{WORK}/venv/bin/python", "-m", "pip", "install", "--quiet", "--no-index", "--find-links",
             f"{WORK}/wheels", *requirements]
        )  # fmt: skip
    for i, argv in enumerate(steps):
        result = sandbox.run(argv, workdir=workdir, limits=limits)
        if result.exit_code != 0:
            tail = result.output.decode("utf-8", "replace")[-1500:]
            raise SetupFailed(f"preparing the environment failed ({result.killed or result.exit_code}): {tail}")
        if i == 0:
            layout = "src/src" if (workdir / "src" / "src").is_dir() else "src"
            for site in (workdir / "venv" / "lib").glob("python3*/site-packages"):
                (site / "embargo-checkout.pth").write_text(f"{WORK}/{layout}\n")


def _test_steps(command: str) -> list[str]:
    """The project's test command, with a leading `python` meaning the job's virtualenv."""
    argv = shlex.split(command)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = f"{WORK}/venv/bin/python"
    return _in_checkout(argv)


def run_next_ci(now: dt.datetime, owner: str) -> bool:
    patch = (
        Patch.objects.filter(ci_status=JobStatus.QUEUED, check_status=JobStatus.DONE, applies=True)
        .order_by("created_at", "id")
        .first()
    )
    if patch is None:
        return False
    patch = _claim(Patch, "ci_status", now, owner)
    if patch is None:
        return False
    project = patch.fix.report.project
    started = time.monotonic()
    passed, summary, output = False, "", ""
    with tempfile.TemporaryDirectory(prefix="embargo-ci-") as tmp:
        workdir = Path(tmp)
        try:
            sandbox.check_available()
            _prepare(project.repository_url, patch.branch, actions.read_patch(patch), workdir, project.test_extras)
            _setup(workdir, project.test_extras)
            result = sandbox.run(
                _test_steps(project.test_command),
                workdir=workdir,
                limits=sandbox.Limits(wall_seconds=600, cpu_seconds=600),
            )
            output = result.output.decode("utf-8", "replace")
            passed = result.exit_code == 0
            summary = _summary(output, result)
        except (git.GitError, sandbox.SandboxUnavailable, SetupFailed) as e:
            summary, output = f"not run: {e}"[:300], str(e)
            passed = False
    with transaction.atomic():
        patch.ci_status, patch.ci_passed = JobStatus.DONE, passed
        patch.ci_duration, patch.ci_summary, patch.ci_output = (
            round(time.monotonic() - started, 2),
            summary,
            output[-OUTPUT_KEPT:],
        )
        patch.ci_at, patch.leased_until = clock.now(), None
        patch.save(
            update_fields=["ci_status", "ci_passed", "ci_duration", "ci_summary", "ci_output", "ci_at", "leased_until"]
        )
        record_event(
            Tag.PATCH_TESTED, actor=None, target=patch, project=project, report=patch.fix.report,
            audience=Audience.TEAM, data={"passed": passed, "branch": patch.branch, "duration": patch.ci_duration},
        )  # fmt: skip
    return True


def _summary(output: str, result: sandbox.Result) -> str:
    if result.killed:
        return f"stopped: {result.killed}"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if any(word in line for word in ("passed", "failed", "error", "OK", "FAILED")):
            return line[:300]
    return f"exit code {result.exit_code}"


def run_next_reproduction(now: dt.datetime, owner: str) -> bool:
    run = _claim(Reproduction, "status", now, owner)
    if run is None:
        return False
    report = run.report
    project = report.project
    started = time.monotonic()
    fields: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="embargo-poc-") as tmp:
        workdir = Path(tmp)
        try:
            sandbox.check_available()
            if run.target == Target.FIXED:
                patch = run.fix.patches.filter(branch=run.branch).order_by("-created_at").first() if run.fix else None
                if patch is None:
                    raise git.GitError("the fix has no patch for this branch")
                _, head = _prepare(project.repository_url, run.branch, actions.read_patch(patch), workdir)
            else:
                ref = run.ref or (project.supported_branches or ["main"])[0]
                _, head = _prepare(project.repository_url, ref, None, workdir)
            (workdir / "poc.py").write_text(_poc_source(report))
            _setup(workdir, "")
            poc = _in_checkout([f"{WORK}/venv/bin/python", f"{WORK}/poc.py"])
            result = sandbox.run(poc, workdir=workdir, limits=sandbox.Limits(wall_seconds=120))
            text = result.output.decode("utf-8", "replace")
            marker = report.poc_marker
            reproduced = (marker in text) if marker else (result.exit_code not in (0, None) or bool(result.killed))
            fields = {
                "status": JobStatus.DONE, "reproduced": reproduced, "exit_code": result.exit_code,
                "output": text[:OUTPUT_KEPT], "versions": {"ref": run.ref or run.branch, "head": head},
                "error": f"stopped: {result.killed}" if result.killed else "",
            }  # fmt: skip
        except (git.GitError, sandbox.SandboxUnavailable, SetupFailed) as e:
            fields = {"status": JobStatus.ERROR, "error": str(e)[:2000]}
    with transaction.atomic():
        for name, value in {**fields, "duration": round(time.monotonic() - started, 2), "finished_at": clock.now(),
                            "leased_until": None}.items():  # fmt: skip
            setattr(run, name, value)
        run.save()
        record_event(
            Tag.REPRODUCTION_FINISHED, actor=None, target=run, project=project, report=report,
            audience=Audience.PARTICIPANTS,
            data={"target": run.target, "status": run.status, "reproduced": run.reproduced, "exit_code": run.exit_code},
        )  # fmt: skip
    return True


def _poc_source(report: Any) -> str:
    poc = report.attachments.filter(is_poc=True).order_by("-created_at").first()
    if poc is not None:
        from embargo.reports.actions import read_attachment

        return read_attachment(poc).decode("utf-8", "replace")
    return str(report.reproduction)


def run(now: dt.datetime, owner: str) -> int:
    """One of each kind of job, at most, per pass: a long test run must not hold up the e-mail."""
    done = 0
    for job in (check_next_patch, run_next_reproduction, run_next_ci):
        try:
            done += bool(job(now, owner))
        except Exception:
            # The job keeps its lease and is claimed again after it; the worker goes on meanwhile.
            log.exception("a fix job failed")
    return done
