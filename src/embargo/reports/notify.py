"""Who hears of what happens to a report. Called by the report actions inside their transaction; every
e-mail says what happened and links to the report, and carries no report text (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Iterable

from embargo.accounts.models import User
from embargo.notifications.emails import CLOCK_PROMISES, STATE_NEWS
from embargo.notifications.outbox import queue_email
from embargo.projects.models import Membership
from embargo.reports import links
from embargo.reports.models import Collaborator, Message, Report


def reference(report: Report) -> str:
    """How e-mail names a report: its opaque ID, never its title."""
    return report.public_id


def _base(report: Report) -> dict[str, str]:
    return {
        "project_name": report.project.name,
        "report_ref": reference(report),
        "link": links.report_url(report),
    }


def _reporter_link(report: Report) -> tuple[str, bool]:
    """A reporter who has no password follows the report through their private link."""
    reporter = report.reporter
    if reporter is not None and not reporter.has_usable_password():
        return links.private_link(report), True
    return links.report_url(report), False


def team_members(report: Report) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(project_id=report.project_id, user__email_verified_at__isnull=False)
        .select_related("user")
        .order_by("id")
    ]


def collaborators(report: Report) -> list[User]:
    return [
        c.user
        for c in Collaborator.objects.filter(report=report, user__email_verified_at__isnull=False)
        .select_related("user")
        .order_by("id")
    ]


def _others(people: Iterable[User | None], actor: User | None) -> list[User]:
    seen: set[int] = set()
    result = []
    for person in people:
        if person is None or person.pk in seen or (actor is not None and person.pk == actor.pk):
            continue
        seen.add(person.pk)
        result.append(person)
    return result


# E-mails to the reporter carry "language": report.reply_language, the language they are rendered in at delivery
# (notifications.delivery.render); the team's and collaborators' e-mails stay in the site's language.


def _owner_ids(report: Report) -> set[int]:
    from embargo.projects.models import Role

    return set(
        Membership.objects.filter(project_id=report.project_id, role=Role.OWNER).values_list("user_id", flat=True)
    )


def _tell_team_of_new(report: Report, people: Iterable[User], actor: User | None) -> None:
    for member in _others(people, actor):
        queue_email(
            "report_received_team",
            to=member,
            report=report,
            context={
                **_base(report),
                "response_target_at": f"{report.response_target_at:%Y-%m-%d %H:%M} UTC",
                "response_due_at": f"{report.response_due_at:%Y-%m-%d %H:%M} UTC",
            },
        )


def report_let_in(report: Report, *, actor: User) -> None:
    """A held report reaches the inbox: the maintainers hear of it now (the owners did when it came)."""
    owners = _owner_ids(report)
    _tell_team_of_new(report, [p for p in team_members(report) if p.pk not in owners], actor)


def report_submitted(report: Report, *, actor: User, by_link: bool) -> None:
    link, private = _reporter_link(report)
    if by_link:
        link, private = links.private_link(report), True
    policy = report.project.policy
    queue_email(
        "report_receipt",
        to=actor,
        report=report,
        context={
            **_base(report),
            "link": link,
            "private_link": private,
            "language": report.reply_language,
            "response_target_hours": policy.response_target_hours,
            "response_limit_hours": policy.response_limit_hours,
        },
    )
    people = team_members(report)
    if report.held_at is not None:
        # Held for review (a new account's report): the owners look first; the maintainers hear of it once let in.
        owners = _owner_ids(report)
        people = [p for p in people if p.pk in owners]
    _tell_team_of_new(report, people, actor)


def report_transitioned(report: Report, *, actor: User) -> None:
    state = report.state
    link, _ = _reporter_link(report)
    if state == "needs_info":
        if report.reporter is not None and report.reporter != actor:
            queue_email(
                "report_question",
                to=report.reporter,
                report=report,
                context={**_base(report), "link": link, "language": report.reply_language},
            )
        return
    if state == "fix_ready" and report.reporter is not None and report.reporter != actor:
        days = report.project.policy.reporter_confirmation_days
        queue_email(
            "fix_confirmation_request", to=report.reporter, report=report,
            context={**_base(report), "link": link, "days": days, "language": report.reply_language},
        )  # fmt: skip
        for guest in _others(collaborators(report), actor):
            label, next_step = STATE_NEWS["fix_ready"]
            queue_email(
                "report_state_changed", to=guest, report=report,
                context={**_base(report), "state_label": label, "next_step": next_step},
            )  # fmt: skip
        return
    label, next_step = STATE_NEWS.get(state, (state, ""))
    news = {"state_label": label, "next_step": next_step}
    if report.reporter is not None and report.reporter != actor:
        queue_email(
            "report_state_changed",
            to=report.reporter,
            report=report,
            context={**_base(report), **news, "link": link, "language": report.reply_language},
        )
    for guest in _others(collaborators(report), actor):
        queue_email("report_state_changed", to=guest, report=report, context={**_base(report), **news})


def message_posted(report: Report, *, author: User, author_is_team: bool, message: Message | None = None) -> None:
    """A non-internal message: the reporter and collaborators hear of it; the team hears of replies. The row names
    the message by its ID only: a recipient with an OpenPGP key gets its text encrypted (notifications.encrypted)."""
    link, _ = _reporter_link(report)
    label = "The team" if author_is_team else ("The reporter" if author == report.reporter else "A collaborator")
    about = {"message": message.public_id} if message is not None else {}
    if report.reporter is not None and report.reporter != author:
        queue_email(
            "report_message",
            to=report.reporter,
            report=report,
            context={**_base(report), **about, "link": link, "author_label": label, "language": report.reply_language},
        )
    people = collaborators(report) + ([] if author_is_team else team_members(report))
    for person in _others(people, author):
        if person == report.reporter:
            continue
        queue_email(
            "report_message", to=person, report=report, context={**_base(report), **about, "author_label": label}
        )


def report_assigned(report: Report, *, actor: User) -> None:
    if report.assignee is not None and report.assignee != actor:
        queue_email(
            "report_assigned",
            to=report.assignee,
            report=report,
            context={**_base(report), "actor_name": actor.display_name},
        )


def collaborator_invited(report: Report, guest: User) -> None:
    queue_email(
        "collaborator_invited",
        to=guest,
        report=report,
        context={
            **_base(report),
            "needs_account": not guest.email_verified,
            "signup_link": f"{links.report_url(report).split('/reports/')[0]}/account/signup/",
        },
    )


def _role(report: Report, user: User) -> str | None:
    return Membership.objects.filter(project_id=report.project_id, user=user).values_list("role", flat=True).first()


def reminder(report: Report, *, clock: str, step: str, due_at: str, audiences: tuple[str, ...]) -> None:
    """A promise of the policy falls due: remind, escalate, or tell the truth about being late."""
    promise = CLOCK_PROMISES.get(clock, clock)
    facts = {**_base(report), "clock": clock, "step": step, "due_at": due_at, "promise": promise}
    team: list[User] = []
    if "maintainers" in audiences:
        team += team_members(report)
    if "owners" in audiences:
        team += [m for m in team_members(report) if _role(report, m) == "owner"]
    for person in _others(team, None):
        queue_email("clock_reminder", to=person, report=report, context=facts)
    if "reporter" in audiences and report.reporter is not None:
        link, _ = _reporter_link(report)
        template = "question_reminder" if clock == "needs_info" else "clock_late"
        queue_email(
            template,
            to=report.reporter,
            report=report,
            context={**facts, "link": link, "language": report.reply_language},
        )


def fix_confirmation_answered(report: Report, *, fixed: bool, actor: User) -> None:
    for member in _others(team_members(report), actor):
        queue_email("fix_confirmation_answered", to=member, report=report, context={**_base(report), "fixed": fixed})
