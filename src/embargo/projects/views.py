"""A project's public page with its policy and report form, its OpenPGP keys and the packagers' form to ask to
join; the team's inbox and dashboard; the owners' settings and packager list."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo import clock, ratelimit
from embargo.accounts import reauth
from embargo.accounts.access import NotFound, Permission, access_project_by_slug, signed_in_user
from embargo.accounts.actions import do_find_or_add_contact
from embargo.domain.policy import Policy
from embargo.domain.workflow import State
from embargo.errors import ActionError
from embargo.languages import providers
from embargo.projects import actions as project_actions
from embargo.projects import keys, queries
from embargo.projects.actions import do_change_policy
from embargo.projects.forms import (
    DecisionForm,
    IntakeForm,
    JoinForm,
    LanguagesForm,
    ListsForm,
    MastodonForm,
    PackagerForm,
    PolicyForm,
    ProjectKeyUploadForm,
    RetentionForm,
)
from embargo.projects.models import MastodonAccount, Membership, PackagerRequestStatus, Project
from embargo.reports import actions as report_actions
from embargo.reports import queries as report_queries
from embargo.reports import transfers as report_transfers
from embargo.reports.api import INBOX_ORDER
from embargo.reports.forms import ReportForm
from embargo.vault.openpgp import fingerprint_display
from embargo.web import charts
from embargo.web.paging import page_of

# A packager's key this close to its expiry is flagged on the list.
KEY_EXPIRY_WARNING = dt.timedelta(days=30)


@require_http_methods(["GET", "POST"])
@ratelimit.limit_page("report", account=ratelimit.signed_in_or_posted)
def project_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_object_or_404(Project.objects.select_related("policy"), slug=slug)
    anonymous = not request.user.is_authenticated
    form = ReportForm(request.POST or None, anonymous=anonymous)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reporter = do_find_or_add_contact(data["email"], acting_user=None) if anonymous else signed_in_user(request)
            submission = report_actions.Submission(**{k: v for k, v in data.items() if k != "email"})
            report = report_actions.do_submit_report(project, submission, acting_user=reporter, by_link=anonymous)
        except ActionError as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            if anonymous:
                return render(request, "projects/report_sent.html", {"project": project, "email": data["email"]})
            return redirect("report", report.public_id)
    context = {"project": project, "policy": project.policy, "form": form, "has_key": keys.has_active_key(project)}
    return render(request, "projects/project.html", context)


@require_http_methods(["GET", "HEAD"])
def project_key(request: HttpRequest, slug: str) -> HttpResponse:
    """`pgp-key.asc`: the project's public keys, the active one first, for anyone to check its signatures."""
    project = get_object_or_404(Project, slug=slug)
    text = keys.keyring_text(project)
    if not text:
        raise Http404
    response = HttpResponse(text, content_type="application/pgp-keys")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-pgp-key.asc"'
    return response


def _form_error(form: Any, error: ActionError) -> None:
    """An action's error on the form's field (`emails.1` is the field `emails`), else on the form."""
    field = (error.field or "").split(".")[0]
    form.add_error(field if field in form.fields else None, error.message)


@require_http_methods(["GET", "POST"])
@ratelimit.limit_page("packager_join")
def packager_join(request: HttpRequest, slug: str) -> HttpResponse:
    """Anyone (no account needed) asks to join the project's packager list; the owners decide."""
    project = get_object_or_404(Project, slug=slug)
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            asked = project_actions.do_request_packager(project, **form.cleaned_data)
        except ActionError as e:
            _form_error(form, e)
        else:
            return render(request, "projects/join_sent.html", {"project": project, "request": asked})
    return render(request, "projects/join.html", {"project": project, "form": form})


@never_cache
@login_required
def inbox(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        project, _ = access_project_by_slug(request.user, slug, Permission.LIST_PROJECT_REPORTS)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    members = [
        m.user for m in Membership.objects.filter(project=project).select_related("user").order_by("user__email")
    ]
    state = request.GET.get("state") or None
    assignee_id = request.GET.get("assignee") or None
    overdue = request.GET.get("overdue") == "1"
    assignee = next((m for m in members if m.public_id == assignee_id), None)
    reports = report_queries.project_inbox(
        project,
        state=State(state) if state in {s.value for s in State} else None,
        assignee=assignee,
        overdue_at=clock.now() if overdue else None,
        held=request.GET.get("held") == "1",
    )
    if assignee_id and assignee is None:
        reports = reports.none()
    # The page shows the title, state, assignee and clocks: neither the other sealed fields nor the project again.
    reports = reports.select_related(None).select_related("data_key", "assignee").defer(*INBOX_UNSHOWN)
    page = page_of(request, reports, INBOX_ORDER, limit=50)
    return render(
        request,
        "projects/inbox.html",
        {
            "project": project,
            "reports": page["items"],
            "next_cursor": page["next_cursor"],
            "query": page["query"],
            "members": members,
            "states": list(State),
            "selected": {"state": state or "", "assignee": assignee_id or "", "overdue": overdue},
            # The newest stubs of reports handed to other projects (reports/transfers.py).
            "transfers": list(report_transfers.transfers_out(project)[:5]),
        },
    )


INBOX_UNSHOWN = ("description", "affected_versions", "reproduction", "impact", "severity_proposed")


def _project_for(request: HttpRequest, slug: str, permission: Permission) -> Project:
    try:
        project, _ = access_project_by_slug(signed_in_user(request), slug, permission)
    except NotFound:
        raise Http404 from None
    return project


# Settings-page forms saved by do_change_project, and what the owner is told then.
SETTINGS_FORMS = {
    "lists": "The announcement lists are saved.",
    "languages": "The team's languages are saved.",
    "intake": "The intake settings are saved.",
    "retention": "The retention rule is saved; the spam and rejected reports follow it.",
}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The owners' page: the project's policy, its OpenPGP key and its announcement lists. A POST names the
    form it comes from in `action` (the policy's form names none)."""
    project = _project_for(request, slug, Permission.MANAGE_PROJECT)
    user = signed_in_user(request)
    if request.method == "POST":
        reauth.require(request)  # policy, keys, lists, accounts: a recent log-in
    action = request.POST.get("action", "policy") if request.method == "POST" else ""
    current = project.policy.as_domain()
    initial = {**dataclasses.asdict(current), "release_weekdays": [str(d) for d in current.release_weekdays]}
    form = PolicyForm(request.POST if action == "policy" else None, initial=initial)
    key_form = ProjectKeyUploadForm(request.POST if action == "upload_key" else None)
    lists = {"preannounce_lists": project.preannounce_lists, "announce_lists": project.announce_lists}
    lists_form = ListsForm(request.POST if action == "lists" else None, initial=lists)
    mastodon_account = MastodonAccount.objects.filter(project=project).first()
    mastodon_initial = {"mastodon_instance_url": mastodon_account.instance_url if mastodon_account else ""}
    mastodon_form = MastodonForm(request.POST if action == "mastodon" else None, initial=mastodon_initial)
    languages_initial = {
        "team_languages": ", ".join(project.languages_read),
        "translation_enabled": project.translation_enabled,
    }
    languages_form = LanguagesForm(request.POST if action == "languages" else None, initial=languages_initial)
    intake_names = (
        "public_issues_url", "intake_address", "require_poc", "hold_new_accounts", "require_2fa_collaborators",
    )  # fmt: skip
    intake_initial = {name: getattr(project, name) for name in intake_names}
    intake_form = IntakeForm(request.POST if action == "intake" else None, initial=intake_initial)
    retention_initial = {name: getattr(project, name) for name in project_actions.RETENTION_DAYS}
    retention_form = RetentionForm(request.POST if action == "retention" else None, initial=retention_initial)
    settings_forms = {
        "lists": lists_form, "languages": languages_form, "intake": intake_form, "retention": retention_form,
    }  # fmt: skip
    if action == "policy" and form.is_valid():
        data = dict(form.cleaned_data)
        data["release_weekdays"] = tuple(sorted(int(d) for d in data["release_weekdays"]))
        try:
            do_change_policy(project, Policy(**data), acting_user=user)
        except ActionError as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, "The policy is saved; the open reports' deadlines follow it.")
            return redirect("project-settings", project.slug)
    elif action in ("generate_key", "upload_key") and (action == "generate_key" or key_form.is_valid()):
        try:
            if action == "generate_key":
                key = keys.do_generate_project_key(project, acting_user=user)
            else:
                key = keys.do_upload_project_key(project, key_form.cleaned_data["secret_key"], acting_user=user)
        except ActionError as e:
            if action == "upload_key":
                _form_error(key_form, e)
            else:
                messages.error(request, e.message)
        else:
            messages.success(request, f"The project's key is now {fingerprint_display(key.fingerprint)}.")
            return redirect("project-settings", project.slug)
    elif action in SETTINGS_FORMS and settings_forms[action].is_valid():
        # The forms whose fields are the project's own settings: one action saves them.
        try:
            project_actions.do_change_project(project, dict(settings_forms[action].cleaned_data), acting_user=user)
        except ActionError as e:
            _form_error(settings_forms[action], e)
        else:
            messages.success(request, SETTINGS_FORMS[action])
            return redirect("project-settings", project.slug)
    elif action == "mastodon" and mastodon_form.is_valid():
        changes = {k: v for k, v in mastodon_form.cleaned_data.items() if v or k == "mastodon_instance_url"}
        try:
            project_actions.do_set_mastodon_account(project, changes, acting_user=user)
        except ActionError as e:
            _form_error(mastodon_form, e)
        else:
            messages.success(request, "The Mastodon account is saved.")
            return redirect("project-settings", project.slug)
    elif action not in ("", "policy", "generate_key", "upload_key", "mastodon", *SETTINGS_FORMS):
        raise Http404
    published: list[dict[str, Any]] = [
        {"key": k, "fingerprint": fingerprint_display(k.fingerprint)} for k in keys.published_keys(project)
    ]
    context = {
        "project": project,
        "form": form,
        "key_form": key_form,
        "lists_form": lists_form,
        "mastodon_form": mastodon_form,
        "mastodon_account": mastodon_account,
        "languages_form": languages_form,
        "intake_form": intake_form,
        "retention_form": retention_form,
        "translation_service": providers.describe(),
        "active_key": next((row for row in published if row["key"].retired_at is None), None),
        "retired_keys": [row for row in published if row["key"].retired_at is not None],
    }
    return render(request, "projects/settings.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_packagers(request: HttpRequest, slug: str) -> HttpResponse:
    """The owners' page: the packager list (add, remove) and the requests to join it (approve, decline)."""
    project = _project_for(request, slug, Permission.MANAGE_PROJECT)
    user = signed_in_user(request)
    if request.method == "POST":
        reauth.require(request)  # the packager list: a recent log-in
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = PackagerForm(request.POST if action == "add" else None)
    decision = DecisionForm(request.POST if action == "decide" else None)
    try:
        if action == "add" and form.is_valid():
            packager = project_actions.do_add_packager(project, **form.cleaned_data, acting_user=user)
            messages.success(request, f"{packager.organisation} is on the packager list.")
            return redirect("project-packagers", project.slug)
        if action == "remove":
            packager = queries.packager_by_id(project, request.POST.get("packager_id", ""))
            project_actions.do_remove_packager(packager, acting_user=user)
            messages.success(request, f"{packager.organisation} is off the packager list; its links stop working.")
            return redirect("project-packagers", project.slug)
        if action == "decide" and decision.is_valid():
            data = decision.cleaned_data
            asked = queries.packager_request_by_id(project, data["request_id"])
            project_actions.do_decide_packager_request(
                asked, approve=data["approve"], note=data["note"], acting_user=user
            )
            verb = "approved: it is on the list" if data["approve"] else "declined"
            messages.success(request, f"The request of {asked.organisation} is {verb}; they are told by e-mail.")
            return redirect("project-packagers", project.slug)
        if action not in ("", "add", "decide"):
            raise Http404
        if action == "decide":
            messages.error(request, "Choose approve or decline.")
    except NotFound:
        raise Http404 from None
    except ActionError as e:
        if action == "add":
            _form_error(form, e)
        else:
            messages.error(request, e.message)
    soon = clock.now() + KEY_EXPIRY_WARNING
    rows = [
        {
            "packager": p,
            "fingerprint": fingerprint_display(p.key_fingerprint) if p.key_fingerprint else "",
            "expiring": p.key_expires_at is not None and p.key_expires_at <= soon,
        }
        for p in queries.packagers(project).order_by("organisation", "id")
    ]
    pending = [
        {"request": r, "fingerprint": fingerprint_display(r.key_fingerprint) if r.key_fingerprint else ""}
        for r in queries.packager_requests(project).filter(status=PackagerRequestStatus.PENDING).order_by("created_at")
    ]
    context = {"project": project, "packagers": rows, "pending": pending, "form": form}
    return render(request, "projects/packagers.html", context)


@never_cache
@login_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The team's view of whether the policy is kept."""
    project = _project_for(request, slug, Permission.LIST_PROJECT_REPORTS)
    now = clock.now()
    since = now - dt.timedelta(days=365)
    result = queries.project_metrics(project, since, now)
    rows = report_queries.project_inbox(project).filter(created_at__gte=since).order_by("created_at")[:500]
    points = [
        charts.ResponsePoint(
            received_at=r.created_at,
            hours=(r.first_response_at - r.created_at).total_seconds() / 3600 if r.first_response_at else None,
            label=r.public_id,
        )
        for r in rows
        if r.state != State.DUPLICATE
    ]
    policy = project.policy
    chart = charts.response_chart(
        points, target_hours=policy.response_target_hours, limit_hours=policy.response_limit_hours, now=now
    )
    problems = list(queries.delivery_problems(project)[:50])
    return render(
        request,
        "projects/dashboard.html",
        {"project": project, "metrics": result, "chart": chart, "policy": policy, "problems": problems},
    )
