"""The report routes of the HTTP API. Handlers parse, call one action or query, and serialise."""

from __future__ import annotations

from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field, StringConstraints

from embargo import clock, ratelimit
from embargo.accounts.access import (
    NotFound,
    Permission,
    ReportAccess,
    access_project_by_slug,
    access_report_by_id,
    report_actors,
)
from embargo.accounts.actions import do_find_or_add_contact
from embargo.accounts.models import User
from embargo.api.errors import ApiError, invalid
from embargo.api.pagination import Key, paginate
from embargo.audit.models import Event
from embargo.audit.reads import Kind, record_read
from embargo.domain import workflow
from embargo.domain.workflow import State
from embargo.languages import queries as language_queries
from embargo.languages.schemas import translation_out
from embargo.reports import actions, queries, timing, transfers
from embargo.reports.http import attachment_response, clean_filename
from embargo.reports.models import Attachment, Collaborator, Message, Report, ReportTransfer
from embargo.reports.schemas import (
    AttachmentOut,
    AttachmentPage,
    CollaboratorIn,
    CollaboratorOut,
    CollaboratorPage,
    EventPage,
    MessageIn,
    MessageOut,
    MessagePage,
    ReportIn,
    ReportOut,
    ReportPage,
    ReportPatch,
    TransferIn,
    TransferOut,
    TransferPage,
    TransitionIn,
)

router = Router(tags=["reports"])

INBOX_ORDER = (Key("next_due_at", nullable=True, is_datetime=True), Key("id"))
NEWEST_FIRST = (Key("created_at", descending=True, is_datetime=True), Key("id", descending=True))
OLDEST_FIRST = (Key("created_at", is_datetime=True), Key("id"))


class Page(Schema):
    limit: int | None = None
    cursor: str | None = None


class InboxFilters(Page):
    state: str | None = None
    assignee: str | None = None
    overdue: bool | None = None
    spam: bool = Field(default=False, description="list the reports marked as spam (left out otherwise)")
    held: bool = Field(default=False, description="list the reports held for review (left out otherwise)")


# --- serialisation -------------------------------------------------------------------------------


def person(user: User | None, *, show_email: bool, role: str | None = None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.public_id,
        "name": user.display_name,
        "email": user.email if show_email else None,
        "role": role,
    }


def summary(report: Report, *, team_view: bool) -> dict[str, Any]:
    moment = clock.now()
    return {
        "id": report.public_id,
        "project": report.project.slug,
        "state": report.state,
        "title": report.title,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "response_target_at": report.response_target_at,
        "response_due_at": report.response_due_at,
        "fix_due_at": report.fix_due_at,
        "first_response_at": report.first_response_at,
        "next_due_at": report.next_due_at,
        "overdue": report.next_due_at is not None and report.next_due_at <= moment,
        "assignee": person(report.assignee, show_email=team_view) if team_view else None,
        "language": report.language or None,
    }


def detail(access: ReportAccess) -> dict[str, Any]:
    report = access.report
    out = summary(report, team_view=access.is_team)
    out.update(
        description=report.description,
        affected_versions=report.affected_versions,
        reproduction=report.reproduction,
        impact=report.impact,
        severity_proposed=report.severity_proposed,
        credit_name=report.credit_name,
        credit_consent=report.credit_consent,
        reporter=person(report.reporter, show_email=access.is_team or access.is_reporter, role="reporter"),
        duplicate_of=report.duplicate_of.public_id if report.duplicate_of else None,
        closed_at=report.closed_at,
        viewer_roles=sorted(access.actors),
        clocks=[
            {
                "name": c.name,
                "state": c.state,
                "started_at": c.started_at,
                "target_at": c.target_at,
                "due_at": c.due_at,
                "stopped_at": c.stopped_at,
            }
            for c in timing.report_clocks(report)
            if access.is_team or c.name != "packagers"
        ],
        needs_info_seconds=int(timing.needs_info_total(report).total_seconds()),
        reporter_deadline=report.reporter_deadline.date() if report.reporter_deadline else None,
        allowed_transitions=(
            workflow.allowed_targets(State(report.state), access.actors, requestable_only=True)
            if access.can(Permission.REQUEST_TRANSITION)
            else []
        ),
        language_confidence=report.language_confidence,
        language_source=report.language_source or None,
        preferred_language=report.preferred_language or None,
        translations=[translation_out(t) for t in language_queries.of_report_fields(access).values()],
    )
    return out


# --- project-scoped routes ----------------------------------------------------------------------


@router.post("/projects/{slug}/reports", response={201: ReportOut}, summary="Send a private report")
def submit_report(request: HttpRequest, slug: str, payload: ReportIn) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    ratelimit.enforce(request, "report", account=str(user.pk))
    project, _ = access_project_by_slug(user, slug, Permission.SUBMIT_REPORT)
    report = actions.do_submit_report(project, actions.Submission(**payload.dict()), acting_user=user)
    return Status(201, detail(ReportAccess(report, user, report_actors(user, report))))


@router.get("/projects/{slug}/reports", response=ReportPage, summary="The team's inbox, nearest due first")
def project_reports(request: HttpRequest, slug: str, filters: Query[InboxFilters]) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    project, _ = access_project_by_slug(user, slug, Permission.LIST_PROJECT_REPORTS)
    state = None
    if filters.state is not None:
        try:
            state = State(filters.state)
        except ValueError:
            raise invalid("state", f"`state` is one of: {', '.join(State)}.") from None
    assignee = None
    if filters.assignee is not None:
        assignee = queries.team_member_by_email(project, filters.assignee)
        if assignee is None:
            return {"items": [], "next_cursor": None}
    reports = queries.project_inbox(
        project,
        state=state,
        assignee=assignee,
        overdue_at=clock.now() if filters.overdue else None,
        spam=filters.spam,
        held=filters.held,
    )
    return paginate(
        reports, INBOX_ORDER, limit=filters.limit, cursor=filters.cursor,
        serialize=lambda r: summary(r, team_view=True),
    )  # fmt: skip


@router.get("/reports/mine", response=ReportPage, summary="The reports you sent")
def my_reports(request: HttpRequest, page: Query[Page]) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    return paginate(
        queries.reports_of_reporter(user), NEWEST_FIRST, limit=page.limit, cursor=page.cursor,
        serialize=lambda r: summary(r, team_view=False),
    )  # fmt: skip


# --- one report ------------------------------------------------------------------------------------


def _access(request: HttpRequest, report_id: str, permission: Permission) -> ReportAccess:
    return access_report_by_id(request.auth, report_id, permission)  # type: ignore[attr-defined]


@router.get("/reports/{report_id}", response=ReportOut, summary="A report")
def get_report(request: HttpRequest, report_id: str) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    record_read(request, Kind.REPORT, report=access.report, user=access.user)
    return detail(access)


@router.patch("/reports/{report_id}", response=ReportOut, summary="Change the credit (reporter) or assignee (team)")
def patch_report(request: HttpRequest, report_id: str, payload: ReportPatch) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.VIEW_REPORT)
    given = payload.model_fields_set
    if not given:
        raise invalid("", "Nothing to change: send `credit_name`, `credit_consent`, `reporter_deadline` or `assignee`.")
    # Check every permission before changing anything, so that a refused field changes nothing.
    if "assignee" in given:
        access.require(Permission.ASSIGN, "Only the project's team assigns reports (`assignee`).")
    if given & {"credit_name", "credit_consent", "reporter_deadline"}:
        access.require(
            Permission.EDIT_CREDIT, "Only the reporter chooses their credit and disclosure date (`credit_*`)."
        )
    if "assignee" in given:
        assignee = None
        if payload.assignee:
            assignee = queries.team_member_by_email(access.report.project, payload.assignee)
            if assignee is None:
                raise invalid("assignee", "The assignee must be a member of the project's team (by e-mail).")
        actions.do_assign(access, assignee, acting_user=user)
    if given & {"credit_name", "credit_consent", "reporter_deadline"}:
        actions.do_change_credit(
            access,
            credit_name=payload.credit_name,
            credit_consent=payload.credit_consent,
            reporter_deadline=payload.reporter_deadline if "reporter_deadline" in given else ...,
            acting_user=user,
        )
    return detail(access)


@router.post("/reports/{report_id}/transitions", response=ReportOut, summary="Move a report through the workflow")
def transition(request: HttpRequest, report_id: str, payload: TransitionIn) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.REQUEST_TRANSITION)
    actions.do_transition(
        access, payload.to, comment=payload.comment, duplicate_of=payload.duplicate_of, acting_user=user
    )
    return detail(access)


class NotVulnerabilityIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, StringConstraints(max_length=10_000)] = Field(
        default="", description="added to the standard message that tells the reporter where to file it instead"
    )


@router.post(
    "/reports/{report_id}/not-a-vulnerability",
    response=ReportOut,
    summary="Close as not a vulnerability: rejected, and the reporter is told to file a public issue (team)",
)
def not_a_vulnerability(request: HttpRequest, report_id: str, payload: NotVulnerabilityIn) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.MODERATE)
    actions.do_close_not_a_vulnerability(access, note=payload.note, acting_user=user)
    return detail(access)


@router.post(
    "/reports/{report_id}/spam",
    response=ReportOut,
    summary="Mark as spam: closed without a word to the sender, out of the inbox, counted against the sender (team)",
)
def mark_spam(request: HttpRequest, report_id: str) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.MODERATE)
    actions.do_mark_spam(access, acting_user=user)
    return detail(access)


@router.post(
    "/reports/{report_id}/release-hold",
    response=ReportOut,
    summary="Let a report held for review into the inbox (team)",
)
def release_hold(request: HttpRequest, report_id: str) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.MODERATE)
    actions.do_release_hold(access, acting_user=user)
    return detail(access)


def _message_out(message: Message, report: Report, team: set[int], guests: set[int], team_view: bool) -> dict:
    role = queries.role_of(message.author_id, report, team, guests)
    return {
        "id": message.public_id,
        "author": person(message.author, show_email=team_view, role=role),
        "body": message.body,
        "internal": message.internal,
        "transition_to": message.transition_to or None,
        "created_at": message.created_at,
        "language": message.language or None,
        "translate_to": message.translate_to or None,
        "translations": [translation_out(t) for t in getattr(message, "visible_translations", [])],
    }


@router.get("/reports/{report_id}/messages", response=MessagePage, summary="The thread")
def list_messages(request: HttpRequest, report_id: str, page: Query[Page]) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    team, guests = queries.people_of(access.report)
    return paginate(
        queries.thread(access), OLDEST_FIRST, limit=page.limit, cursor=page.cursor,
        serialize=lambda m: _message_out(m, access.report, team, guests, access.is_team),
    )  # fmt: skip


@router.post("/reports/{report_id}/messages", response={201: MessageOut}, summary="Write in the thread")
def post_message(request: HttpRequest, report_id: str, payload: MessageIn) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    ratelimit.enforce(request, "message", account=str(user.pk))
    access = _access(request, report_id, Permission.POST_MESSAGE)
    message = actions.do_post_message(
        access, payload.body, internal=payload.internal, translate=payload.translate, acting_user=user
    )
    message = queries.thread(access).get(pk=message.pk)
    team, guests = queries.people_of(access.report)
    return Status(201, _message_out(message, access.report, team, guests, access.is_team))


# --- attachments -----------------------------------------------------------------------------------


def _attachment_out(attachment: Attachment, report: Report, team_view: bool) -> dict[str, Any]:
    return {
        "id": attachment.public_id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": attachment.created_at,
        "uploaded_by": person(attachment.uploaded_by, show_email=team_view),
        "download_url": f"/api/v1/reports/{report.public_id}/attachments/{attachment.public_id}",
        "is_poc": attachment.is_poc,
    }


@router.get("/reports/{report_id}/attachments", response=AttachmentPage, summary="The report's files")
def list_attachments(request: HttpRequest, report_id: str, page: Query[Page]) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    return paginate(
        queries.attachments(access), OLDEST_FIRST, limit=page.limit, cursor=page.cursor,
        serialize=lambda a: _attachment_out(a, access.report, access.is_team),
    )  # fmt: skip


@router.post("/reports/{report_id}/attachments", response={201: AttachmentOut}, summary="Attach a file")
def add_attachment(request: HttpRequest, report_id: str, file: File[UploadedFile], poc: Form[bool] = False) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.ADD_ATTACHMENT)
    limit = settings.EMBARGO_MAX_ATTACHMENT_BYTES
    if file.size is None or file.size > limit:
        raise ApiError(413, "too_large", f"An attachment is at most {limit} bytes.", "file")
    content = file.read()
    attachment = actions.do_add_attachment(
        access,
        filename=clean_filename(file.name or ""),
        content_type=(file.content_type or "application/octet-stream")[:200],
        content=content,
        acting_user=user,
        is_poc=poc,
    )
    return Status(201, _attachment_out(attachment, access.report, access.is_team))


@router.get(
    "/reports/{report_id}/attachments/{attachment_id}",
    response={200: None},
    summary="Download an attachment (always as a download, never shown inline)",
)
def download_attachment(request: HttpRequest, report_id: str, attachment_id: str) -> HttpResponse:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    attachment = queries.attachment(access, attachment_id)
    if attachment is None:
        raise NotFound
    record_read(request, Kind.ATTACHMENT, report=access.report, user=access.user, object_id=attachment_id)
    return attachment_response(attachment)


# --- collaborators ---------------------------------------------------------------------------------


def _collaborator_out(grant: Collaborator, team_view: bool) -> dict[str, Any]:
    return {
        "user": person(grant.user, show_email=team_view, role="collaborator"),
        "created_at": grant.created_at,
    }


@router.get("/reports/{report_id}/collaborators", response=CollaboratorPage, summary="Who else was invited")
def list_collaborators(request: HttpRequest, report_id: str, page: Query[Page]) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    return paginate(
        queries.collaborators(access), OLDEST_FIRST, limit=page.limit, cursor=page.cursor,
        serialize=lambda g: _collaborator_out(g, access.is_team),
    )  # fmt: skip


@router.post("/reports/{report_id}/collaborators", response={201: CollaboratorOut}, summary="Invite a collaborator")
def add_collaborator(request: HttpRequest, report_id: str, payload: CollaboratorIn) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.MANAGE_COLLABORATORS)
    # Someone without an account is invited all the same; the grant takes effect once they verify the address.
    invitee = do_find_or_add_contact(payload.email, acting_user=user)
    if not invitee.is_active:
        raise invalid("email", "This account is disabled.")
    grant = actions.do_add_collaborator(access, invitee, acting_user=user)
    return Status(201, _collaborator_out(grant, team_view=True))


@router.delete("/reports/{report_id}/collaborators/{user_id}", response={204: None}, summary="Remove a collaborator")
def remove_collaborator(request: HttpRequest, report_id: str, user_id: str) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.MANAGE_COLLABORATORS)
    actions.do_remove_collaborator(access, user_id, acting_user=user)
    return Status(204, None)


# --- timeline --------------------------------------------------------------------------------------


def _event_out(event: Event, team_view: bool) -> dict[str, Any]:
    return {
        "tag": event.tag,
        "actor": person(event.actor, show_email=team_view),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
        "created_at": event.created_at,
    }


@router.get("/reports/{report_id}/events", response=EventPage, summary="The audit timeline of a report")
def list_events(request: HttpRequest, report_id: str, page: Query[Page]) -> dict[str, Any]:
    access = _access(request, report_id, Permission.VIEW_REPORT)
    return paginate(
        queries.timeline(access), (Key("id"),), limit=page.limit, cursor=page.cursor,
        serialize=lambda e: _event_out(e, access.is_team),
    )  # fmt: skip


# --- transfers (reports/transfers.py) --------------------------------------------------------------


TRANSFERS_NEWEST_FIRST = (Key("at", descending=True, is_datetime=True), Key("id", descending=True))


def _transfer_out(transfer: ReportTransfer) -> dict[str, Any]:
    return {
        "id": transfer.public_id,
        "report": transfer.report.public_id,
        "from_project": transfer.from_project.slug,
        "to_project": transfer.to_project.slug,
        "to_project_name": transfer.to_project.name,
        "by": person(transfer.by, show_email=True),
        "at": transfer.at,
        "note": transfer.note,
        "keep_informed": transfer.keep_informed,
        "informing": transfer.informing,
        "report_state": transfer.report.state if transfer.informing else None,
    }


@router.post(
    "/reports/{report_id}/transfer", response={201: TransferOut}, summary="Hand the report to another project (team)"
)
def transfer_report(request: HttpRequest, report_id: str, payload: TransferIn) -> Status:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.TRANSFER_REPORT)
    to_project = transfers.find_project(payload.project)
    transfer = transfers.do_transfer_report(
        access, to_project, acting_user=user, note=payload.note, keep_informed=payload.keep_informed
    )
    return Status(201, _transfer_out(transfer))


@router.post(
    "/reports/{report_id}/transfers/{transfer_id}/stop-informing",
    response=TransferOut,
    summary="Stop the state notices of the team the report came from (team)",
)
def stop_informing(request: HttpRequest, report_id: str, transfer_id: str) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    access = _access(request, report_id, Permission.TRANSFER_REPORT)
    return _transfer_out(transfers.do_stop_informing(access, transfer_id, acting_user=user))


@router.get(
    "/projects/{slug}/transfers", response=TransferPage, summary="The reports the project handed on: stubs (team)"
)
def project_transfers(request: HttpRequest, slug: str, page: Query[Page]) -> dict[str, Any]:
    project, _ = access_project_by_slug(request.auth, slug, Permission.LIST_PROJECT_REPORTS)  # type: ignore[attr-defined]
    stubs = transfers.transfers_out(project).select_related("from_project", "data_key")
    return paginate(stubs, TRANSFERS_NEWEST_FIRST, limit=page.limit, cursor=page.cursor, serialize=_transfer_out)
