"""The report pages: "my reports", one report (for participants, or the reporter's private link), and
attachment downloads. Each form on the report page posts back to it with an `action`; a view parses,
calls one action, and redirects (or shows the form again with its error and the text kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from embargo import ratelimit
from embargo.accounts.access import Forbidden, NotFound, Permission, ReportAccess, access_report_by_id, signed_in_user
from embargo.accounts.actions import do_find_or_add_contact
from embargo.audit.reads import Kind, Via, record_read
from embargo.domain import workflow
from embargo.domain.workflow import Actor, State, TransitionRefused
from embargo.errors import ActionError
from embargo.fixes import queries as fix_queries
from embargo.languages import actions as language_actions
from embargo.mailin import queries as mail_queries
from embargo.notifications.emails import STATE_NEWS
from embargo.projects.models import Membership
from embargo.reports import actions, links, queries, reporter_key, timing, track_record, transfers
from embargo.reports.forms import MessageForm
from embargo.reports.http import attachment_response, clean_filename
from embargo.reports.models import Report

REQUIRES_COMMENT = {
    (m.source, m.target) for m in workflow.MOVES if m.requires_comment
}  # which buttons must carry a message to the reporter


@never_cache
@login_required
@require_GET
def my_reports(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    reports = list(queries.reports_of_reporter(user).order_by("-created_at", "-id")[:200])
    rows = [(r, STATE_NEWS.get(r.state, (r.state, ""))[1]) for r in reports]
    return render(request, "reports/mine.html", {"rows": rows})


def _resolve(request: HttpRequest, report_id: str, token: str | None) -> tuple[ReportAccess, str] | HttpResponse:
    """The viewer's access to the report, from their session or from the reporter's private link."""
    if token is not None:
        report = (
            Report.objects.select_related(*queries.REPORT_RELATED, "project__policy")
            .filter(public_id=report_id)
            .first()
        )
        if report is None or report.reporter is None or not links.is_valid(report, token):
            raise Http404
        # The link stands for the reporter and nobody else, whatever else that person may be.
        return ReportAccess(report, report.reporter, frozenset({Actor.REPORTER})), links.private_path(report)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        access = access_report_by_id(signed_in_user(request), report_id, Permission.VIEW_REPORT)
    except NotFound:
        raise Http404 from None
    return access, f"/reports/{access.report.public_id}/"


Handler = Callable[[HttpRequest, ReportAccess], str]


def _post_message(request: HttpRequest, access: ReportAccess) -> str:
    ratelimit.enforce(request, "message", account=str(access.user.pk))
    form = MessageForm(request.POST)
    if not form.is_valid():
        raise ActionError(" ".join(str(e) for errors in form.errors.values() for e in errors), field="body")
    translate = request.POST.get("translate") == "on"
    actions.do_post_message(
        access,
        form.cleaned_data["body"],
        internal=bool(form.cleaned_data.get("internal")),
        translate=translate,
        acting_user=access.user,
    )
    if translate:
        return "Your message is in the thread; the reporter receives it translated too once the worker has it."
    return "Your message is in the thread."


def _transition(request: HttpRequest, access: ReportAccess) -> str:
    actions.do_transition(
        access,
        request.POST.get("to", ""),
        comment=request.POST.get("comment", ""),
        duplicate_of=request.POST.get("duplicate_of") or None,
        acting_user=access.user,
    )
    return f"The report is now {access.report.state.replace('_', ' ')}."


def _attach(request: HttpRequest, access: ReportAccess) -> str:
    from django.conf import settings

    upload = request.FILES.get("file")
    if not isinstance(upload, UploadedFile):
        raise ActionError("Choose a file to attach.", field="file")
    if upload.size is None or upload.size > settings.EMBARGO_MAX_ATTACHMENT_BYTES:
        raise ActionError(f"An attachment is at most {settings.EMBARGO_MAX_ATTACHMENT_BYTES} bytes.", field="file")
    actions.do_add_attachment(
        access,
        filename=clean_filename(upload.name or ""),
        content_type=(upload.content_type or "application/octet-stream")[:200],
        content=upload.read(),
        acting_user=access.user,
    )
    return "The file is attached."


def _credit(request: HttpRequest, access: ReportAccess) -> str:
    actions.do_change_credit(
        access,
        credit_name=request.POST.get("credit_name", "")[:200],
        credit_consent=request.POST.get("credit_consent") == "on",
        acting_user=access.user,
    )
    return "Your credit is saved."


def _assign(request: HttpRequest, access: ReportAccess) -> str:
    access.require(Permission.ASSIGN)
    wanted = request.POST.get("assignee") or ""
    assignee = None
    if wanted:
        membership = (
            Membership.objects.filter(project=access.report.project, user__public_id=wanted)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise ActionError("Choose a member of the team.", field="assignee")
        assignee = membership.user
    actions.do_assign(access, assignee, acting_user=access.user)
    return "Assignment saved."


def _invite(request: HttpRequest, access: ReportAccess) -> str:
    access.require(Permission.MANAGE_COLLABORATORS)
    guest = do_find_or_add_contact(request.POST.get("email", ""), acting_user=access.user)
    actions.do_add_collaborator(access, guest, acting_user=access.user)
    return f"{guest.email} is invited to this report."


def _uninvite(request: HttpRequest, access: ReportAccess) -> str:
    actions.do_remove_collaborator(access, request.POST.get("user_id", ""), acting_user=access.user)
    return "The collaborator no longer sees this report."


def _revoke_links(request: HttpRequest, access: ReportAccess) -> str:
    actions.do_revoke_reporter_links(access, acting_user=access.user)
    return "Every private link of this report's reporter stopped working. Send them a new one when needed."


def _add_fix(request: HttpRequest, access: ReportAccess) -> str:
    from embargo.fixes import actions as fix_actions

    fix_actions.do_add_fix(
        access,
        kind=request.POST.get("kind", ""),
        description=request.POST.get("description", "")[:100_000],
        team_only=request.POST.get("team_only") == "on",
        acting_user=access.user,
    )
    return "The fix is recorded."


def _add_patch(request: HttpRequest, access: ReportAccess) -> str:
    from embargo.fixes import actions as fix_actions
    from embargo.fixes import queries as fix_queries

    fix = fix_queries.fix(access, request.POST.get("fix_id", ""))
    if fix is None:
        raise ActionError("Choose one of the report's fixes.", field="fix_id")
    upload = request.FILES.get("file")
    if not isinstance(upload, UploadedFile):
        raise ActionError("Choose a patch file (git format-patch or a unified diff).", field="file")
    fix_actions.do_add_patch(
        fix, access, branch=request.POST.get("branch", ""), filename=clean_filename(upload.name or "fix.patch"),
        content=upload.read(), acting_user=access.user,
    )  # fmt: skip
    return "The patch is stored; the worker checks whether it applies and runs the tests."


def _reproduce(request: HttpRequest, access: ReportAccess) -> str:
    from embargo.fixes import actions as fix_actions
    from embargo.fixes import queries as fix_queries

    target = request.POST.get("target", "")
    fix = fix_queries.fix(access, request.POST.get("fix_id", "")) if target == "fixed" else None
    fix_actions.do_request_reproduction(
        access, target=target, ref=request.POST.get("ref", ""), fix=fix, branch=request.POST.get("branch", ""),
        acting_user=access.user,
    )  # fmt: skip
    return "The proof of concept is queued to run in the sandbox."


def _confirm_fix(request: HttpRequest, access: ReportAccess) -> str:
    from embargo.fixes import actions as fix_actions

    fixed = request.POST.get("fixed") == "yes"
    fix_actions.do_confirm_fix(access, fixed=fixed, comment=request.POST.get("comment", ""), acting_user=access.user)
    return "Thank you: the team is told." if fixed else "Thank you: the team is told the problem remains."


def _save_advisory(request: HttpRequest, access: ReportAccess) -> str:
    """The advisory editor: plain fields for the text, the vectors and the weaknesses; JSON for the lists."""
    import json

    import pydantic

    from embargo.advisories import actions as advisory_actions
    from embargo.advisories.schemas import AdvisoryIn

    severity = [
        {"type": kind, "score": request.POST.get(name, "").strip()}
        for kind, name in (("CVSS_V3", "cvss_v3"), ("CVSS_V4", "cvss_v4"))
        if request.POST.get(name, "").strip()
    ]
    data: dict[str, object] = {
        "summary": request.POST.get("summary", ""),
        "details": request.POST.get("details", ""),
        "severity": severity,
        "cwe_ids": [c.strip().upper() for c in request.POST.get("cwe_ids", "").split(",") if c.strip()],
    }
    for name in ("affected", "references", "credits"):
        try:
            data[name] = json.loads(request.POST.get(name) or "[]")
        except ValueError:
            raise ActionError(f"`{name}` is not valid JSON.", field=name) from None
    try:
        checked = AdvisoryIn.model_validate(data).model_dump()
    except pydantic.ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ActionError(f"`{field}`: {first['msg']}.", field=field) from None
    advisory = advisory_actions.do_save_advisory(access, checked, acting_user=access.user)
    return f"The advisory {advisory.readable_id} is saved."


def _set_language(request: HttpRequest, access: ReportAccess) -> str:
    language_actions.do_set_language(
        access,
        language=request.POST.get("language", "")[:8],
        preferred_language=request.POST.get("preferred_language", "")[:8],
        acting_user=access.user,
    )
    return "The language is saved."


def _translate(request: HttpRequest, access: ReportAccess) -> str:
    language_actions.do_request_translation(
        access,
        field=request.POST.get("field") or None,
        message_id=request.POST.get("message") or None,
        translation_id=request.POST.get("translation") or None,
        acting_user=access.user,
    )
    return "The translation is asked for: it appears here once the worker has it."


def _correct_translation(request: HttpRequest, access: ReportAccess) -> str:
    language_actions.do_correct_translation(
        access, request.POST.get("translation", "")[:64], request.POST.get("text", ""), acting_user=access.user
    )
    return "The translation is saved."


def _not_a_vulnerability(request: HttpRequest, access: ReportAccess) -> str:
    actions.do_close_not_a_vulnerability(access, note=request.POST.get("note", ""), acting_user=access.user)
    return "The report is closed as not a vulnerability; the reporter is told where to file it in public."


def _release_hold(request: HttpRequest, access: ReportAccess) -> str:
    actions.do_release_hold(access, acting_user=access.user)
    return "The report is in the inbox; the team is told."


def _spam(request: HttpRequest, access: ReportAccess) -> str:
    actions.do_mark_spam(access, acting_user=access.user)
    return "The report is marked as spam: it is closed and out of the inbox."


HANDLERS: dict[str, Handler] = {
    "not_a_vulnerability": _not_a_vulnerability,
    "spam": _spam,
    "release_hold": _release_hold,
    "language": _set_language,
    "translate": _translate,
    "correct_translation": _correct_translation,
    "message": _post_message,
    "transition": _transition,
    "attach": _attach,
    "credit": _credit,
    "assign": _assign,
    "invite": _invite,
    "uninvite": _uninvite,
    "revoke_links": _revoke_links,
    "add_fix": _add_fix,
    "add_patch": _add_patch,
    "reproduce": _reproduce,
    "confirm_fix": _confirm_fix,
    "advisory": _save_advisory,
    # The reporter's OpenPGP key, from their link or session (reports/reporter_key.py).
    "set_key": reporter_key.set_key,
    "remove_key": reporter_key.remove_key,
    "adopt_key": reporter_key.adopt_key,
}


# Report pages hold unpublished vulnerabilities: no browser or proxy may keep a copy.
@never_cache
@require_http_methods(["GET", "POST"])
def report_page(request: HttpRequest, report_id: str, token: str | None = None) -> HttpResponse:
    resolved = _resolve(request, report_id, token)
    if isinstance(resolved, HttpResponse):
        return resolved
    access, base = resolved
    error: dict[str, str] | None = None
    if request.method == "POST":
        handler = HANDLERS.get(request.POST.get("action", ""))
        if handler is None:
            raise Http404
        try:
            done = handler(request, access)
        except ratelimit.RateLimited as refusal:
            return ratelimit.rate_limited_page(request, refusal)
        except (ActionError, TransitionRefused, Forbidden) as e:
            error = {"action": request.POST.get("action", ""), "message": getattr(e, "message", str(e))}
        else:
            messages.success(request, done)
            return redirect(base)
    else:
        via = Via.PRIVATE_LINK if token else None
        record_read(request, Kind.REPORT, report=access.report, user=access.user, via=via)
    return render(request, "reports/report.html", _page_context(access, base, error, request.POST if error else None))


def _page_context(access: ReportAccess, base: str, error: dict[str, str] | None, posted: Any) -> dict[str, Any]:
    report = access.report
    team, guests = queries.people_of(report)
    thread = list(queries.thread(access).order_by("created_at", "id"))
    roles = {m.pk: queries.role_of(m.author_id, report, team, guests) for m in thread}
    can_transition = access.can(Permission.REQUEST_TRANSITION)
    targets = (
        workflow.allowed_targets(State(report.state), access.actors, requestable_only=True) if can_transition else []
    )
    return {
        "report": report,
        "access": access,
        "base": base,
        "is_team": access.is_team,
        "is_reporter": access.is_reporter,
        "via_link": base.startswith("/r/"),
        "thread": [(m, roles[m.pk]) for m in thread],
        "attachments": list(queries.attachments(access).order_by("created_at", "id")),
        "collaborators": list(queries.collaborators(access).order_by("created_at", "id")),
        "events": list(queries.timeline(access).order_by("id")),
        "targets": [(t, (State(report.state), t) in REQUIRES_COMMENT) for t in targets],
        "members": (
            [
                m.user
                for m in Membership.objects.filter(project=report.project)
                .select_related("user")
                .order_by("user__email")
            ]
            if access.is_team
            else []
        ),
        "next_step": STATE_NEWS.get(report.state, ("", ""))[1],
        "clocks": [c for c in timing.report_clocks(report) if access.is_team or c.name != "packagers"],
        "needs_info_time": timing.needs_info_total(report),
        # The reporter reads the promises made to their report and whether they are kept (reports/track_record.py).
        "promises": track_record.promises_of(report) if access.is_reporter else [],
        "fixes": list(fix_queries.fixes(access).prefetch_related("patches__data_key").order_by("created_at", "id")),
        "reproductions": list(fix_queries.reproductions(access).order_by("-created_at", "-id")[:20]),
        "reproduction_summary": fix_queries.reproduction_summary(access),
        "branches": report.project.supported_branches or ["main"],
        "advisory": _advisory_view(report),
        "can_confirm": access.can(Permission.CONFIRM_FIX)
        and report.state == "fix_ready"
        and report.confirmation_answered_at is None,
        "error": error,
        "posted": posted,
        "policy": report.project.policy,
        "release": _release_view(access),
        **_language_view(access),
        "can_moderate": access.can(Permission.MODERATE),
        "report_is_open": workflow.is_open(State(report.state)) and report.spam_at is None,
        # Where the report came from (reports/transfers.py), and whether this team may hand it on.
        "transfers": list(transfers.transfers_of_report(report)) if access.is_team else [],
        # How a report that came by e-mail arrived, and whether it was signed (mailin/).
        "intake_note": mail_queries.intake_note(report) if access.is_team else "",
        "can_transfer": access.can(Permission.TRANSFER_REPORT) and workflow.is_open(State(report.state)),
        # The reporter's "Encrypted e-mail" section (None for everyone else).
        "key_section": reporter_key.section(access, error, posted),
    }


def _language_view(access: ReportAccess) -> dict[str, Any]:
    """The report's language, the team's translations of it, and whether a reply can go out translated."""
    from embargo.domain.language import needs_translation
    from embargo.languages import names, providers
    from embargo.languages import queries as language_queries

    report = access.report
    project = report.project
    can_translate = access.can(Permission.MANAGE_TRANSLATIONS)
    available = language_actions.translation_available(project)
    reply = report.reply_language
    reply_translation = ""
    untranslated_hint = ""
    if access.is_team and needs_translation(reply, project.languages_read):
        reply_translation = "available" if available else "off"
    if can_translate and needs_translation(report.language, project.languages_read) and not available:
        untranslated_hint = (
            f"The report is in {names.name(report.language)}. Machine translation is off for this project"
            " (an owner can turn it on in the project's settings)."
        )
    return {
        "translated": language_queries.of_report_fields(access),
        "can_translate": can_translate and available,
        "can_set_language": access.can(Permission.SET_LANGUAGE),
        "language_choices": names.choices([report.language, report.preferred_language, *project.languages_read]),
        "reply_translation": reply_translation,
        "translation_service": (providers.describe() or "") if available else "",
        "untranslated_hint": untranslated_hint,
    }


def _release_view(access: ReportAccess) -> dict[str, Any] | None:
    """The report's security release as its facts show it (the team and the reporter; collaborators do not see it)."""
    from embargo.releases import queries as release_queries

    if not access.can(Permission.VIEW_RELEASE):
        return None
    release = release_queries.release_of_report(access.report)
    if release is None:
        return None
    from embargo.releases.notices import moment

    return {
        "release": release,
        "moment": moment(release) if release.release_at else None,
        "state": release_queries.release_state(release),
    }


@require_GET
def download(request: HttpRequest, report_id: str, attachment_id: str, token: str | None = None) -> HttpResponse:
    resolved = _resolve(request, report_id, token)
    if isinstance(resolved, HttpResponse):
        return resolved
    access, _ = resolved
    attachment = queries.attachment(access, attachment_id)
    if attachment is None:
        raise Http404
    record_read(request, Kind.ATTACHMENT, report=access.report, user=access.user, object_id=attachment_id,
                via=Via.PRIVATE_LINK if token else None)  # fmt: skip
    return attachment_response(attachment)


def _advisory_view(report: Report) -> dict[str, Any] | None:
    """The advisory as the page shows it: the draft's fields, scored severities, CWE names, and the lists as
    JSON for the editor."""
    import json

    from embargo.advisories import records
    from embargo.advisories.models import Advisory
    from embargo.domain import advisory as domain

    advisory = Advisory.objects.select_related("data_key", "report").filter(report=report).first()
    if advisory is None:
        return None
    data = json.loads(advisory.draft or "{}")
    scored = []
    for entry in data.get("severity", []):
        severity = domain.Severity(entry["type"], entry["score"])
        scored.append(
            {"type": entry["type"], "vector": entry["score"], "score": severity.score, "rating": severity.rating}
        )
    vectors = {entry["type"]: entry["score"] for entry in data.get("severity", [])}
    return {
        "id": advisory.readable_id,
        "cve_id": advisory.cve_id,
        "summary": data.get("summary", ""),
        "details": data.get("details", ""),
        "severity": scored,
        "cvss_v3": vectors.get("CVSS_V3", ""),
        "cvss_v4": vectors.get("CVSS_V4", ""),
        "cwes": [(c, domain.cwe_name(c) or "") for c in data.get("cwe_ids", [])],
        "cwe_ids": ", ".join(data.get("cwe_ids", [])),
        "affected": data.get("affected", []),
        "references": data.get("references", []),
        "credits": records.public_credits(advisory),
        "reporter_credit": records.reporter_credit(advisory),
        "affected_json": json.dumps(data.get("affected", []), indent=2),
        "references_json": json.dumps(data.get("references", []), indent=2),
        "credits_json": json.dumps(data.get("credits", []), indent=2),
    }
