"""Who may do what: the one place that decides. The API and the pages both ask it.

A protected object is loaded only through an `access_*` function, which answers the same
(`NotFound`) whether the object is missing or the user may not see it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from embargo.domain.workflow import TEAM, Actor

if TYPE_CHECKING:
    from embargo.accounts.models import User
    from embargo.projects.models import Project
    from embargo.reports.models import Report


class NotFound(Exception):
    """Missing, or not for this user's eyes: the two are never told apart."""


class Forbidden(Exception):
    """The user sees the object but may not do this to it."""


class Permission(StrEnum):
    # On a project
    SUBMIT_REPORT = "submit_report"
    LIST_PROJECT_REPORTS = "list_project_reports"
    MANAGE_PROJECT = "manage_project"
    # On a report
    VIEW_REPORT = "view_report"
    VIEW_INTERNAL = "view_internal"
    POST_MESSAGE = "post_message"
    POST_INTERNAL = "post_internal"
    ADD_ATTACHMENT = "add_attachment"
    REQUEST_TRANSITION = "request_transition"
    ASSIGN = "assign"
    EDIT_CREDIT = "edit_credit"
    MANAGE_COLLABORATORS = "manage_collaborators"
    MANAGE_FIXES = "manage_fixes"
    REQUEST_REPRODUCTION = "request_reproduction"
    CONFIRM_FIX = "confirm_fix"
    # Security releases: the team plans them (on the project, or through one of their reports); a reporter
    # sees the release facts of their own report.
    MANAGE_RELEASES = "manage_releases"
    VIEW_RELEASE = "view_release"
    # The report's language and the reporter's: the reporter corrects a detection, the team too.
    SET_LANGUAGE = "set_language"
    # Machine translations of the reporter's text for the team: asking again, correcting by hand.
    MANAGE_TRANSLATIONS = "manage_translations"
    # Closing a report as "not a vulnerability" or as spam.
    MODERATE = "moderate"
    # Handing the report to another project, and stopping a sending team's state notices (reports/transfers.py).
    TRANSFER_REPORT = "transfer_report"
    # The reporter's own OpenPGP key, from the report's page: their private link proves the address it is for
    # (reports/reporter_key.py). Nobody else's: the team never sets a reporter's key.
    SET_OWN_KEY = "set_own_key"


_PARTICIPANT = frozenset({Permission.VIEW_REPORT, Permission.POST_MESSAGE, Permission.ADD_ATTACHMENT})
_TEAM_ON_REPORT = _PARTICIPANT | {
    Permission.VIEW_INTERNAL,
    Permission.POST_INTERNAL,
    Permission.REQUEST_TRANSITION,
    Permission.ASSIGN,
    Permission.MANAGE_COLLABORATORS,
    Permission.MANAGE_FIXES,
    Permission.REQUEST_REPRODUCTION,
    Permission.MANAGE_RELEASES,
    Permission.VIEW_RELEASE,
    Permission.SET_LANGUAGE,
    Permission.MANAGE_TRANSLATIONS,
    Permission.MODERATE,
    Permission.TRANSFER_REPORT,
}
GRANTS: dict[Actor, frozenset[Permission]] = {
    Actor.OWNER: _TEAM_ON_REPORT | {Permission.LIST_PROJECT_REPORTS, Permission.MANAGE_PROJECT},
    Actor.MAINTAINER: _TEAM_ON_REPORT | {Permission.LIST_PROJECT_REPORTS},
    # The workflow narrows a reporter's transitions to withdrawing (and, later, "still vulnerable").
    Actor.REPORTER: _PARTICIPANT
    | {
        Permission.EDIT_CREDIT,
        Permission.REQUEST_TRANSITION,
        Permission.CONFIRM_FIX,
        Permission.VIEW_RELEASE,
        Permission.SET_LANGUAGE,
        Permission.SET_OWN_KEY,
    },
    Actor.COLLABORATOR: _PARTICIPANT,
}


def permissions_of(actors: frozenset[Actor]) -> frozenset[Permission]:
    granted: frozenset[Permission] = frozenset()
    for actor in actors:
        granted |= GRANTS.get(actor, frozenset())
    return granted


def team_role(user: User | None, project: Project) -> Actor | None:
    if user is None or not user.is_authenticated:
        return None
    from embargo.projects.models import Membership

    role = (
        Membership.objects.filter(project=project, user=user, user__email_verified_at__isnull=False)
        .values_list("role", flat=True)
        .first()
    )
    return Actor(role) if role else None


@dataclass(frozen=True)
class ReportAccess:
    """A report together with what the user is to it (possibly several things at once)."""

    report: Report
    user: User
    actors: frozenset[Actor]

    @property
    def is_team(self) -> bool:
        return bool(self.actors & TEAM)

    @property
    def is_reporter(self) -> bool:
        return Actor.REPORTER in self.actors

    def can(self, permission: Permission) -> bool:
        if self.report.purged_at is not None and permission not in READ_ONLY:
            return False  # a purged report is a stub: it takes no more text (reports/retention.py)
        return permission in permissions_of(self.actors)

    def require(self, permission: Permission, message: str = "") -> None:
        if not self.can(permission):
            if self.report.purged_at is not None and permission in permissions_of(self.actors):
                raise Forbidden("This report was purged under the project's retention rule: it takes no more changes.")
            raise Forbidden(message or f"You may not {permission.replace('_', ' ')} on this report.")


# What may still be done with a purged report: read its stub and its timeline.
READ_ONLY = frozenset({Permission.VIEW_REPORT, Permission.VIEW_INTERNAL, Permission.VIEW_RELEASE})


def report_actors(user: User, report: Report) -> frozenset[Actor]:
    from embargo.reports.models import Collaborator

    actors: set[Actor] = set()
    role = team_role(user, report.project)
    if role:
        actors.add(role)
    if report.reporter_id is not None and report.reporter_id == user.pk:
        actors.add(Actor.REPORTER)
    # A grant takes effect only for a verified address (whoever controls it is the invited person).
    if user.email_verified and Collaborator.objects.filter(report=report, user=user).exists():
        actors.add(Actor.COLLABORATOR)
    return frozenset(actors)


def access_report_by_id(user: User | None, public_id: str, permission: Permission) -> ReportAccess:
    """Loads a report for `user` if they hold `permission` on it; NotFound otherwise (whatever the cause)."""
    from embargo.reports.models import Report

    if user is None or not user.is_authenticated or not isinstance(public_id, str):
        raise NotFound
    report = (
        Report.objects.select_related("project", "project__policy", "data_key", "reporter", "assignee")
        .filter(public_id=public_id)
        .first()
    )
    if report is None:
        raise NotFound
    if not token_reaches(user, report.project_id):
        raise NotFound
    access = ReportAccess(report=report, user=user, actors=report_actors(user, report))
    if not access.can(permission):
        raise NotFound
    _second_factor(user, access.actors, report.project)
    return access


def token_reaches(user: Any, project_id: int) -> bool:
    """An API token limited to some projects reaches only those (a user loaded otherwise reaches all)."""
    projects = getattr(user, "token_projects", None)
    return projects is None or project_id in projects


def _second_factor(user: User, actors: frozenset[Actor], project: Project) -> None:
    """Team members (and collaborators, where the project asks) reach reports in a browser only after a second
    factor; see accounts/second_factor.py."""
    from embargo.accounts.second_factor import SecondFactorRequired, session_verified

    needs = bool(actors & TEAM) or (Actor.COLLABORATOR in actors and project.require_2fa_collaborators)
    if needs and not session_verified(user):
        raise SecondFactorRequired


def access_project_by_slug(user: User | None, slug: str, permission: Permission) -> tuple[Project, Actor | None]:
    """Loads a project for a permission on it. Any signed-in user may submit a report to any project;
    the rest needs a team role."""
    from embargo.projects.models import Project

    if user is None or not user.is_authenticated:
        raise NotFound
    project = Project.objects.select_related("policy").filter(slug=slug).first()
    if project is None:
        raise NotFound
    if not token_reaches(user, project.pk):
        raise NotFound
    role = team_role(user, project)
    if permission is Permission.SUBMIT_REPORT:
        return project, role
    if role is None or permission not in GRANTS[role]:
        raise NotFound
    _second_factor(user, frozenset({role}), project)
    return project, role


def visible_reports_filter(user: User) -> Q:
    """The reports `user` may see, as one filter with no joins that would repeat rows."""
    from embargo.projects.models import Membership
    from embargo.reports.models import Collaborator

    if not user.email_verified:
        return Q(reporter=user)
    return (
        Q(reporter=user)
        | Q(Exists(Membership.objects.filter(project=OuterRef("project"), user=user)))
        | Q(Exists(Collaborator.objects.filter(report=OuterRef("pk"), user=user)))
    )


def restrict_reports(queryset: QuerySet[Report], user: User) -> QuerySet[Report]:
    return queryset.filter(visible_reports_filter(user))


def signed_in_user(request: Any) -> User:
    """The request's user, for views that `login_required` already guards."""
    from embargo.accounts.models import User

    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotFound
    return user
