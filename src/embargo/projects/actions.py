"""Every write to projects, their policies and their teams."""

from __future__ import annotations

import re

from django.db import transaction

from embargo import clock
from embargo.accounts.models import User
from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.domain import policy as domain_policy
from embargo.errors import ActionError
from embargo.projects.models import Membership, Policy, Project, Role

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$|^[a-z0-9]$")
# OSV's ecosystem names for the package ecosystems Embargo knows.
KNOWN_ECOSYSTEMS = {"PyPI", "npm", "crates.io", "Go", "Maven", "NuGet", "RubyGems", "Packagist", "Hex", "Pub"}


class ProjectError(ActionError):
    pass


def parse_package(spec: str) -> tuple[str, str]:
    """`ECOSYSTEM:NAME` (e.g. `PyPI:requests`) into its two parts."""
    ecosystem, sep, name = spec.partition(":")
    if not sep or not ecosystem or not name:
        raise ProjectError(f"package {spec!r} is not ECOSYSTEM:NAME (e.g. PyPI:requests)")
    matches = [e for e in KNOWN_ECOSYSTEMS if e.lower() == ecosystem.lower()]
    if not matches:
        raise ProjectError(f"unknown ecosystem {ecosystem!r}; known: {', '.join(sorted(KNOWN_ECOSYSTEMS))}")
    return matches[0], name


def do_create_project(
    slug: str,
    *,
    name: str,
    repository_url: str = "",
    package: str = "",
    acting_user: User | None,
) -> Project:
    if not SLUG.match(slug):
        raise ProjectError(f"slug {slug!r}: use lower-case letters, digits and hyphens (at most 64)")
    if not name.strip():
        raise ProjectError("a project needs a name")
    if repository_url and not repository_url.startswith(("https://", "http://")):
        raise ProjectError(f"repository {repository_url!r} is not an http(s) URL")
    ecosystem, package_name = parse_package(package) if package else ("", "")
    with transaction.atomic():
        if Project.objects.filter(slug=slug).exists():
            raise ProjectError(f"a project {slug!r} exists already")
        project = Project.objects.create(
            slug=slug,
            name=name.strip(),
            repository_url=repository_url,
            package_ecosystem=ecosystem,
            package_name=package_name,
            created_at=clock.now(),
        )
        Policy.objects.create(project=project, release_weekdays=[0, 1, 2, 3, 4])
        record_event(
            Tag.PROJECT_CREATED,
            actor=acting_user,
            target=project,
            project=project,
            data={"slug": slug, "name": project.name, "package": package},
        )
    return project


def do_add_member(project: Project, user: User, role: str, *, acting_user: User | None) -> Membership:
    """Adds `user` to the team, or changes their role if they are already in it."""
    if role not in Role.values:
        raise ProjectError(f"role {role!r}: choose one of {', '.join(Role.values)}")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
        if membership is None:
            membership = Membership.objects.create(project=project, user=user, role=role, created_at=clock.now())
            record_event(
                Tag.MEMBER_ADDED, actor=acting_user, target=project, project=project,
                data={"user": user.public_id, "role": role},
            )  # fmt: skip
        elif membership.role != role:
            old = membership.role
            membership.role = role
            membership.save(update_fields=["role"])
            record_event(
                Tag.MEMBER_ROLE_CHANGED, actor=acting_user, target=project, project=project,
                data={"user": user.public_id, "old": old, "new": role},
            )  # fmt: skip
    return membership


def known_timezones() -> set[str]:
    import zoneinfo

    return set(zoneinfo.available_timezones())


def known_calendars() -> set[str]:
    import holidays

    return set(holidays.list_supported_countries())


def do_change_policy(
    project: Project, policy: domain_policy.Policy, *, acting_user: User | None
) -> domain_policy.Policy:
    """Keeps the project's new promises and recomputes the due times of its open reports."""
    from embargo.reports import timing
    from embargo.reports.models import Report

    found = domain_policy.problems(policy, known_timezones=known_timezones(), known_calendars=known_calendars())
    if found:
        field, message = found[0]
        raise ProjectError(f"`{field}`: {message}.", field=field)
    with transaction.atomic():
        row = Policy.objects.select_for_update().get(project=project)
        old = row.as_domain()
        changes = {
            name: {"old": getattr(old, name), "new": getattr(policy, name)}
            for name in policy.__dataclass_fields__
            if getattr(old, name) != getattr(policy, name)
        }
        if not changes:
            return old
        for name in policy.__dataclass_fields__:
            setattr(row, name, list(policy.release_weekdays) if name == "release_weekdays" else getattr(policy, name))
        row.save()
        project.policy = row
        recomputed = 0
        for report in Report.objects.filter(project=project, closed_at__isnull=True).select_related("project__policy"):
            timing.refresh(report, policy)
            report.save(update_fields=list(timing.REFRESHED_FIELDS))
            recomputed += 1
        record_event(
            Tag.POLICY_CHANGED, actor=acting_user, target=project, project=project,
            data={"changes": {k: {"old": _plain(v["old"]), "new": _plain(v["new"])} for k, v in changes.items()},
                  "reports_recomputed": recomputed},
        )  # fmt: skip
    return policy


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def check_repository(url: str) -> None:
    """An https:// URL on a public address, or a local path the operator allowed (see fixes/git.py)."""
    from django.conf import settings

    from embargo.fixes import git

    try:
        git.check_repository(
            url, allowed_paths=settings.EMBARGO_GIT_ALLOWED_PATHS, allow_private=settings.EMBARGO_ALLOW_PRIVATE_NETWORK
        )
    except git.GitError as e:
        raise ProjectError(f"`repository_url`: {e}", field="repository_url") from None


def do_change_project(project: Project, changes: dict[str, object], *, acting_user: User | None) -> Project:
    """The owners' settings: name, repository, supported branches, private CI's test command and extras."""
    from embargo.fixes import git

    if changes.get("repository_url"):
        check_repository(str(changes["repository_url"]))
    if "supported_branches" in changes:
        branches = list(dict.fromkeys(changes["supported_branches"] or []))  # type: ignore[call-overload]
        for i, branch in enumerate(branches):
            if not git.is_branch_name(branch):
                raise ProjectError(
                    f"`supported_branches.{i}`: {branch!r} is not a branch name.", field=f"supported_branches.{i}"
                )
        changes["supported_branches"] = branches
    with transaction.atomic():
        data = {}
        for name, value in changes.items():
            old = getattr(project, name)
            if old != value:
                data[name] = {"old": old, "new": value}
                setattr(project, name, value)
        if data:
            project.save(update_fields=list(data))
            record_event(Tag.PROJECT_SETTINGS_CHANGED, actor=acting_user, target=project, project=project, data=data)
    return project
