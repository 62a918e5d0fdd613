"""Every write to fixes, patches and reproductions, and the reporter's confirmation of a fix."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from embargo import clock
from embargo.accounts.access import Permission, ReportAccess
from embargo.accounts.models import User
from embargo.audit.actions import fingerprint, record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain.workflow import Actor, State
from embargo.errors import ActionError
from embargo.fixes.models import Fix, FixKind, JobStatus, Patch, Reproduction, Target
from embargo.reports import notify
from embargo.reports.models import Report
from embargo.vault import files


class FixError(ActionError):
    pass


def _audience(fix: Fix) -> str:
    return Audience.TEAM if fix.team_only else Audience.PARTICIPANTS


def _touch(report: Report) -> None:
    Report.objects.filter(pk=report.pk).update(updated_at=clock.now())


def do_add_fix(
    access: ReportAccess,
    *,
    kind: str,
    description: str,
    team_only: bool,
    commits: Sequence[dict[str, str]] = (),
    acting_user: User,
) -> Fix:
    access.require(Permission.MANAGE_FIXES, "Only the project's team records fixes.")
    if kind not in FixKind.values:
        raise FixError(f"`kind` is one of: {', '.join(FixKind.values)}.", field="kind")
    if kind == FixKind.COMMIT and not commits:
        raise FixError("A fix of kind `commit` names its commits: [{repository, sha, branch}].", field="commits")
    report = access.report
    moment = clock.now()
    with transaction.atomic():
        fix = Fix.objects.create(
            report=report, kind=kind, description=description, team_only=team_only, commits=list(commits),
            created_by=acting_user, created_at=moment, updated_at=moment,
        )  # fmt: skip
        data = {"kind": kind, "team_only": team_only, "description": fingerprint(description), "commits": list(commits)}
        record_event(
            Tag.FIX_ADDED, actor=acting_user, target=fix, project=report.project, report=report,
            audience=_audience(fix), data=data,
        )  # fmt: skip
        _touch(report)
    return fix


def do_change_fix(
    fix: Fix,
    access: ReportAccess,
    *,
    changes: dict[str, Any],
    acting_user: User,
) -> Fix:
    """Records the public commits once the fix landed (publication checks them), or edits the description."""
    access.require(Permission.MANAGE_FIXES, "Only the project's team changes fixes.")
    with transaction.atomic():
        data: dict[str, Any] = {}
        if "public_commits" in changes:
            data["public_commits"] = {"old": fix.public_commits, "new": changes["public_commits"]}
            fix.public_commits = changes["public_commits"]
        if "description" in changes and changes["description"] != fix.description:
            data["description"] = "changed " + fingerprint(changes["description"])
            fix.description = changes["description"]
        if "team_only" in changes and changes["team_only"] != fix.team_only:
            data["team_only"] = {"old": fix.team_only, "new": changes["team_only"]}
            fix.team_only = changes["team_only"]
        if data:
            fix.updated_at = clock.now()
            fix.save(update_fields=["public_commits", "description", "team_only", "updated_at"])
            record_event(
                Tag.FIX_CHANGED, actor=acting_user, target=fix, project=access.report.project, report=access.report,
                audience=_audience(fix), data=data,
            )  # fmt: skip
    return fix


def patch_context(patch: Patch) -> str:
    return f"fixes.patch:{patch.public_id}"


def do_add_patch(
    fix: Fix, access: ReportAccess, *, branch: str, filename: str, content: bytes, acting_user: User
) -> Patch:
    access.require(Permission.MANAGE_FIXES, "Only the project's team adds patches.")
    project = access.report.project
    branches = project.supported_branches or []
    if branches and branch not in branches:
        raise FixError(f"`branch` is one of the project's supported branches: {', '.join(branches)}.", field="branch")
    if not branch or branch.startswith("-") or ".." in branch or any(c.isspace() for c in branch):
        raise FixError("`branch` is not a branch name.", field="branch")
    if not content.strip():
        raise FixError("The patch is empty.", field="file")
    limit = settings.EMBARGO_MAX_ATTACHMENT_BYTES
    if len(content) > limit:
        raise FixError(f"A patch is at most {limit} bytes.", field="file", code="too_large", status=413)
    digest = hashlib.sha256(content).hexdigest()
    patch = Patch(
        fix=fix, branch=branch, filename=filename, size=len(content), sha256=digest, uploaded_by=acting_user,
        created_at=clock.now(), check_status=JobStatus.QUEUED if project.repository_url else JobStatus.NONE,
        ci_status=JobStatus.QUEUED if project.repository_url and project.test_command else JobStatus.NONE,
    )  # fmt: skip
    with transaction.atomic():
        patch.save()
        name = files.save(patch.data_key, f"patches/{patch.public_id}", content, patch_context(patch))
        try:
            patch.storage_name = name
            patch.save(update_fields=["storage_name"])
            data = {"fix": fix.public_id, "branch": branch, "sha256": digest, "size": len(content)}
            record_event(
                Tag.PATCH_ADDED, actor=acting_user, target=patch, project=project, report=access.report,
                audience=_audience(fix), data=data,
            )  # fmt: skip
        except BaseException:
            files.delete(name)
            raise
        _touch(access.report)
    return patch


def read_patch(patch: Patch) -> bytes:
    return files.read(patch.data_key, patch.storage_name, patch_context(patch))


def do_request_reproduction(
    access: ReportAccess,
    *,
    target: str,
    ref: str = "",
    fix: Fix | None = None,
    branch: str = "",
    acting_user: User,
) -> Reproduction:
    access.require(Permission.REQUEST_REPRODUCTION, "Only the project's team runs the proof of concept.")
    report = access.report
    if target not in Target.values:
        raise FixError("`target` is `affected` or `fixed`.", field="target")
    if not report.project.repository_url:
        raise FixError(
            "The project has no repository to run the proof of concept against.", code="no_repository", status=409
        )
    if not (report.reproduction.strip() or report.attachments.filter(is_poc=True).exists()):
        raise FixError(
            "The report has no proof of concept: a Python script in `reproduction`, or an attachment marked as one.",
            code="no_proof_of_concept", status=409,
        )  # fmt: skip
    if target == Target.FIXED:
        if fix is None:
            raise FixError("A run against the fixed code names `fix_id`.", field="fix_id")
        if not branch or not fix.patches.filter(branch=branch).exists():
            raise FixError("`branch` must be a branch this fix has a patch for.", field="branch")
    elif ref.startswith("-") or ".." in ref or any(c.isspace() for c in ref):
        raise FixError("`ref` is not a git ref.", field="ref")
    with transaction.atomic():
        run = Reproduction.objects.create(
            report=report, target=target, ref=ref, fix=fix, branch=branch, requested_by=acting_user,
            created_at=clock.now(),
        )  # fmt: skip
        record_event(
            Tag.REPRODUCTION_REQUESTED, actor=acting_user, target=run, project=report.project, report=report,
            audience=Audience.PARTICIPANTS, data={"target": target, "ref": ref, "branch": branch,
                                                  "fix": fix.public_id if fix else None},
        )  # fmt: skip
    return run


def do_confirm_fix(access: ReportAccess, *, fixed: bool, comment: str, acting_user: User) -> Report:
    """The reporter says whether the fix works for them. "Still vulnerable" takes the report back to
    `confirmed` (with the comment in the thread); either answer stops the confirmation clock."""
    from embargo.reports import actions as report_actions

    access.require(Permission.CONFIRM_FIX, "Only the reporter confirms the fix.")
    report = access.report
    if State(report.state) not in (State.FIX_READY, State.SCHEDULED):
        raise FixError(
            "There is no fix to confirm: the report is not fix_ready or scheduled.", code="not_fix_ready", status=409
        )
    if State(report.state) is State.SCHEDULED and fixed:
        raise FixError("The fix was confirmed already, or the team went ahead.", code="already_scheduled", status=409)
    with transaction.atomic():
        report_actions._locked(report)
        report.confirmation_answered_at = clock.now()
        fields = ["confirmation_answered_at"]
        if comment.strip():
            report_actions._post(report, acting_user, comment, internal=False)
        if fixed:
            record_event(
                Tag.FIX_CONFIRMED, actor=acting_user, target=report, project=report.project, report=report,
                audience=Audience.PARTICIPANTS, data={"comment": fingerprint(comment) if comment else None},
            )  # fmt: skip
        else:
            from embargo.domain import workflow

            workflow.check(State(report.state), State.CONFIRMED, {Actor.REPORTER}, workflow.Context(fixes=1))
            report_actions._move(report, State.CONFIRMED, acting_user, reason="reporter_still_vulnerable")
            # Out of its security release; the packagers are told if the notices went out.
            from embargo.releases.actions import take_out_of_release

            take_out_of_release(report, acting_user=acting_user, reason="still_vulnerable")
            record_event(
                Tag.FIX_DISPUTED, actor=acting_user, target=report, project=report.project, report=report,
                audience=Audience.PARTICIPANTS, data={"comment": fingerprint(comment) if comment else None},
            )  # fmt: skip
            fields += ["state", "closed_at"]
        report_actions._save(report, *fields)
        notify.fix_confirmation_answered(report, fixed=fixed, actor=acting_user)
    return report
