"""A project's public page with its policy and report form, and the team's inbox."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo import clock
from embargo.accounts.access import NotFound, Permission, access_project_by_slug, signed_in_user
from embargo.accounts.actions import do_find_or_add_contact
from embargo.api.errors import ApiError
from embargo.api.pagination import paginate
from embargo.domain.policy import Policy
from embargo.domain.workflow import State
from embargo.errors import ActionError
from embargo.projects import queries
from embargo.projects.actions import do_change_policy
from embargo.projects.forms import PolicyForm
from embargo.projects.models import Membership, Project
from embargo.reports import actions as report_actions
from embargo.reports import queries as report_queries
from embargo.reports.api import INBOX_ORDER
from embargo.reports.forms import ReportForm
from embargo.web import charts


@require_http_methods(["GET", "POST"])
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
    return render(request, "projects/project.html", {"project": project, "policy": project.policy, "form": form})


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
    )
    if assignee_id and assignee is None:
        reports = reports.none()
    try:
        page = paginate(reports, INBOX_ORDER, limit=50, cursor=request.GET.get("cursor"), serialize=lambda r: r)
    except ApiError:
        raise Http404 from None
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "projects/inbox.html",
        {
            "project": project,
            "reports": page["items"],
            "next_cursor": page["next_cursor"],
            "query": query.urlencode(),
            "members": members,
            "states": list(State),
            "selected": {"state": state or "", "assignee": assignee_id or "", "overdue": overdue},
        },
    )


def _project_for(request: HttpRequest, slug: str, permission: Permission) -> Project:
    try:
        project, _ = access_project_by_slug(signed_in_user(request), slug, permission)
    except NotFound:
        raise Http404 from None
    return project


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The owners' page: the project's policy."""
    project = _project_for(request, slug, Permission.MANAGE_PROJECT)
    current = project.policy.as_domain()
    initial = {**dataclasses.asdict(current), "release_weekdays": [str(d) for d in current.release_weekdays]}
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["release_weekdays"] = tuple(sorted(int(d) for d in data["release_weekdays"]))
        try:
            do_change_policy(project, Policy(**data), acting_user=signed_in_user(request))
        except ActionError as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, "The policy is saved; the open reports' deadlines follow it.")
            return redirect("project-settings", project.slug)
    return render(request, "projects/settings.html", {"project": project, "form": form})


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
