"""Handing a report to another project of the instance (e.g. the vulnerable code is in a dependency).

The whole case moves: the report's `project` changes, and with it go the thread (internal notes included), the
attachments, the fixes and the advisory draft, which all hang on the report. What belonged to the sending
project is cut: the assignee (a member of the sending team), the report's place in a security release. The clocks
keep running from the moment the reporter wrote, under the receiving project's policy (timing.refresh); reminders
already sent are not sent again.

The sending team loses the report: its members are not members of the receiving project, so every access rule
(accounts/access.py) now answers 404 for them, and the collaborators it invited lose their invitations. What it
keeps is a stub, the `ReportTransfer` row: where the report went, when, by whom and why, shown in its inbox and on a
page of its own, without any report content.

"Staying informed" is the one grant this module makes, and it is a narrow one: the sending team asks for it when it
transfers (`keep_informed`), and it then receives a content-free e-mail at each later state change of the report
(the state's name only) and sees the current state on its stub. The receiving team may stop it at any time from the
report's page. Anything more — reading the thread, writing in it — is what the receiving team grants by inviting
chosen people of the sending team as collaborators on the report, with the existing collaborator mechanism.

The reporter is told (`report_transferred`); their private link is bound to the report, not the project
(reports/links.py), so it keeps working and shows the new project. The receiving team gets the usual "new report"
notice."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from embargo import clock
from embargo.accounts.access import Permission, ReportAccess
from embargo.accounts.models import User
from embargo.audit.actions import fingerprint, record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain import transfers as domain
from embargo.domain.workflow import State
from embargo.notifications.emails import STATE_NEWS
from embargo.notifications.outbox import queue_email
from embargo.projects.models import Membership, Project
from embargo.reports import links, notify
from embargo.reports.actions import ReportError, _locked, _save
from embargo.reports.models import Collaborator, Report, ReportTransfer

NOTE_LIMIT = 10_000


def find_project(slug: str) -> Project:
    """The receiving project by its slug. Any project of the instance will do: projects, their slugs and names are
    public (each has a public page), and the sending team need not be members of it."""
    project = Project.objects.select_related("policy").filter(slug=(slug or "").strip().lower()).first()
    if project is None:
        raise ReportError(
            "No project with this slug on this instance: give the slug of the receiving project (as in its address, "
            "/projects/<slug>/).",
            field="project",
        )
    return project


def do_transfer_report(
    access: ReportAccess, to_project: Project, *, acting_user: User, note: str = "", keep_informed: bool = False
) -> ReportTransfer:
    """The team of the report's project hands it to `to_project` (see the module's docstring for what moves)."""
    access.require(Permission.TRANSFER_REPORT, "Only the project's team transfers its reports.")
    if len(note) > NOTE_LIMIT:
        raise ReportError(f"The note is at most {NOTE_LIMIT:,} characters.", field="note")
    report = access.report
    with transaction.atomic():
        _locked(report)
        flags = Report.objects.filter(pk=report.pk).values("held_at", "spam_at", "purged_at", "project_id").get()
        from_project = report.project
        if flags["project_id"] != from_project.pk:  # transferred meanwhile by someone else
            raise ReportError("The report was transferred meanwhile.", code="conflict", status=409)
        try:
            domain.check_transfer(
                domain.TransferFacts(
                    state=State(report.state),
                    same_project=to_project.pk == from_project.pk,
                    held=flags["held_at"] is not None,
                    spam=flags["spam_at"] is not None,
                    purged=flags["purged_at"] is not None,
                )
            )
        except domain.TransferRefused as refusal:
            status = 422 if refusal.field else 409
            raise ReportError(refusal.message, field=refusal.field, code=refusal.code, status=status) from None

        # What belonged to the sending project is cut: its release, its member as assignee.
        from embargo.releases.actions import take_out_of_release

        take_out_of_release(report, acting_user=acting_user, reason="transferred")
        old_assignee = report.assignee
        report.assignee = None
        # The sending team's invitations end too: its collaborators were chosen for its handling of the report, and
        # the receiving team decides whom to let in (it may invite them again).
        ended = Collaborator.objects.filter(report=report).delete()[0]
        report.project = to_project
        _save(report, "project", "assignee")  # the clocks, under the receiving project's policy
        # The advisory draft follows its report (a published one cannot: the report would be closed).
        from embargo.advisories.models import Advisory

        Advisory.objects.filter(report=report).update(project=to_project, updated_at=clock.now())

        transfer = ReportTransfer(
            report=report,
            from_project=from_project,
            to_project=to_project,
            by=acting_user,
            at=clock.now(),
            keep_informed=keep_informed,
        )
        transfer.note = note.strip()
        transfer.save()

        facts = {"report": report.public_id, "transfer": transfer.public_id, "keep_informed": keep_informed}
        record_event(
            Tag.REPORT_TRANSFERRED, actor=acting_user, target=report, project=to_project, report=report,
            audience=Audience.PARTICIPANTS,
            data={
                "from": from_project.slug, "to": to_project.slug, "transfer": transfer.public_id,
                "keep_informed": keep_informed,
                **({"note": fingerprint(transfer.note)} if transfer.note else {}),
            },
        )  # fmt: skip
        record_event(
            Tag.REPORT_TRANSFERRED_OUT, actor=acting_user, target=transfer, project=from_project,
            # Who was assigned stays with the sending team's record (the report's timeline is the reporter's too).
            data={**facts, "to": to_project.slug, "unassigned": old_assignee.public_id if old_assignee else None},
        )  # fmt: skip
        record_event(
            Tag.REPORT_TRANSFERRED_IN, actor=acting_user, target=transfer, project=to_project,
            data={**facts, "from": from_project.slug, "collaborators_ended": ended},
        )  # fmt: skip
        _tell_reporter(report, from_project)
        # The receiving team hears of it as of any new report (its response clock may be running already).
        _tell_receiving_team(report, acting_user)
    return transfer


def _tell_reporter(report: Report, from_project: Project) -> None:
    if report.reporter is None:
        return
    reporter = report.reporter
    private = not reporter.has_usable_password()
    queue_email(
        "report_transferred",
        to=reporter,
        report=report,
        context={
            "project_name": report.project.name,
            "from_project_name": from_project.name,
            "report_ref": notify.reference(report),
            "link": links.private_link(report) if private else links.report_url(report),
            "private_link": private,
            "language": report.reply_language,
        },
    )


def _tell_receiving_team(report: Report, actor: User) -> None:
    notify._tell_team_of_new(report, notify.team_members(report), actor)


def do_stop_informing(access: ReportAccess, transfer_id: str, *, acting_user: User) -> ReportTransfer:
    """The receiving team (the report's current team) stops the state notices a sending team asked for."""
    access.require(Permission.TRANSFER_REPORT, "Only the project's team decides who hears of its reports.")
    report = access.report
    with transaction.atomic():
        _locked(report)
        transfer = (
            ReportTransfer.objects.select_for_update()
            .select_related("from_project")
            .filter(report=report, public_id=transfer_id, keep_informed=True)
            .first()
        )
        if transfer is None:
            raise ReportError("No transfer of this report keeps a team informed with this id.", code="not_found",
                              status=404)  # fmt: skip
        if transfer.informing_stopped_at is not None:
            raise ReportError("The other team is no longer informed already.", code="conflict", status=409)
        transfer.informing_stopped_at = clock.now()
        transfer.informing_stopped_by = acting_user
        transfer.save(update_fields=["informing_stopped_at", "informing_stopped_by"])
        record_event(
            Tag.TRANSFER_INFORMING_STOPPED, actor=acting_user, target=report, project=report.project, report=report,
            audience=Audience.TEAM, data={"transfer": transfer.public_id, "team": transfer.from_project.slug},
        )  # fmt: skip
    return transfer


def state_changed(report: Report, target: State) -> None:
    """Called by every state change (reports.actions._move), inside its transaction: the sending teams that stay
    informed hear of the new state — its name only. People who are on the report's current team hear of it there."""
    transfers = list(
        ReportTransfer.objects.filter(report=report, keep_informed=True, informing_stopped_at__isnull=True)
        .select_related("from_project")
        .order_by("id")
    )
    if not transfers:
        return
    current = set(Membership.objects.filter(project_id=report.project_id).values_list("user_id", flat=True))
    label = STATE_NEWS.get(str(target), (str(target), ""))[0]
    told: set[int] = set()
    for transfer in transfers:
        members = (
            Membership.objects.filter(project_id=transfer.from_project_id, user__email_verified_at__isnull=False)
            .select_related("user")
            .order_by("id")
        )
        for member in members:
            if member.user_id in current or member.user_id in told:
                continue
            told.add(member.user_id)
            queue_email(
                "transfer_state_changed",
                to=member.user,
                context={
                    "project_name": report.project.name,
                    "from_project_name": transfer.from_project.name,
                    "report_ref": notify.reference(report),
                    "state_label": label,
                    "link": stub_url(transfer),
                },
            )


def stub_url(transfer: ReportTransfer) -> str:
    from django.conf import settings

    return f"{settings.EMBARGO_BASE_URL}/projects/{transfer.from_project.slug}/transfers/{transfer.public_id}/"


# --- reads ---------------------------------------------------------------------------------------------------------


def transfers_out(project: Project) -> QuerySet[ReportTransfer]:
    """The stubs of a project's transferred reports, newest first. The caller checked LIST_PROJECT_REPORTS on it.
    The report is joined for its public ID and state only (never its sealed text)."""
    return (
        ReportTransfer.objects.filter(from_project=project)
        .select_related("to_project", "by", "report")
        .defer(*(f"report__{name}" for name in _REPORT_TEXT))
        .order_by("-at", "-id")
    )


def transfer_stub(project: Project, transfer_id: str) -> ReportTransfer | None:
    """One stub of `project` (the caller checked LIST_PROJECT_REPORTS on it), with its note."""
    return (
        ReportTransfer.objects.filter(from_project=project, public_id=transfer_id)
        .select_related("to_project", "from_project", "by", "data_key", "report", "informing_stopped_by")
        .defer(*(f"report__{name}" for name in _REPORT_TEXT))
        .first()
    )


def transfers_of_report(report: Report) -> QuerySet[ReportTransfer]:
    """Where the report came from, oldest first, for its current team (the caller checked VIEW_INTERNAL)."""
    return (
        ReportTransfer.objects.filter(report=report)
        .select_related("from_project", "to_project", "by", "data_key")
        .order_by("at", "id")
    )


_REPORT_TEXT = ("title", "description", "affected_versions", "reproduction", "impact", "severity_proposed")
