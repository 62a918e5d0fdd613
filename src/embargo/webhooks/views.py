"""The owners' pages for the project's webhooks: the list with a form to add one, and a page per hook (edit,
remove, new secret, "send test", the delivery log). Changes need a recent log-in (accounts/reauth.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo.accounts import reauth
from embargo.accounts.access import NotFound, Permission, access_project_by_slug, signed_in_user
from embargo.errors import ActionError
from embargo.projects.models import Project
from embargo.webhooks import actions, queries
from embargo.webhooks.forms import WebhookForm
from embargo.webhooks.models import Webhook

LOG_ROWS = 50


def _project(request: HttpRequest, slug: str) -> Project:
    try:
        project, _ = access_project_by_slug(signed_in_user(request), slug, Permission.MANAGE_PROJECT)
    except NotFound:
        raise Http404 from None
    return project


def _form_error(form: WebhookForm, error: ActionError) -> None:
    field = (error.field or "").split(".")[0]
    form.add_error(field if field in form.fields else None, error.message)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        reauth.require(request)  # a new destination for the project's news: a recent log-in
        if form.is_valid():
            try:
                hook = actions.do_add_webhook(project, **form.cleaned_data, acting_user=signed_in_user(request))
            except ActionError as e:
                _form_error(form, e)
            else:
                messages.success(request, f"The webhook to {hook.host} is added. Give its secret to the receiver.")
                return redirect("project-webhook", project.slug, hook.public_id)
    hooks = list(queries.webhooks(project).order_by("-created_at", "-id"))
    return render(request, "webhooks/list.html", {"project": project, "hooks": hooks, "form": form})


def _initial(hook: Webhook) -> dict[str, Any]:
    return {
        "url": hook.url, "description": hook.description, "events": hook.events, "format": hook.format,
        "include_content": hook.include_content, "active": hook.active,
    }  # fmt: skip


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def webhook_page(request: HttpRequest, slug: str, webhook_id: str) -> HttpResponse:
    project = _project(request, slug)
    try:
        hook = queries.webhook_by_id(project, webhook_id)
    except NotFound:
        raise Http404 from None
    user = signed_in_user(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = WebhookForm(request.POST if action == "save" else None, initial=_initial(hook))
    try:
        if action == "test":
            row = actions.do_test_webhook(hook, acting_user=user)
            messages.success(
                request, f"A test delivery ({row.public_id}) is queued: the worker sends it in its next pass."
            )
            return redirect("project-webhook", project.slug, hook.public_id)
        if action in ("save", "remove", "rotate"):
            reauth.require(request)
        if action == "save" and form.is_valid():
            actions.do_change_webhook(hook, form.cleaned_data, acting_user=user)
            messages.success(request, "The webhook is saved.")
            return redirect("project-webhook", project.slug, hook.public_id)
        if action == "rotate":
            actions.do_change_webhook(hook, {}, rotate_secret=True, acting_user=user)
            messages.success(request, "The webhook has a new secret: give it to the receiver.")
            return redirect("project-webhook", project.slug, hook.public_id)
        if action == "remove":
            actions.do_remove_webhook(hook, acting_user=user)
            messages.success(request, f"The webhook to {hook.host} is removed.")
            return redirect("project-webhooks", project.slug)
        if action not in ("", "save"):
            raise Http404
    except ActionError as e:
        if action == "save":
            _form_error(form, e)
        else:
            messages.error(request, e.message)
    context = {
        "project": project,
        "hook": hook,
        "form": form,
        "show_secret": reauth.recent(request),
        "deliveries": list(queries.deliveries(hook).order_by("-id")[:LOG_ROWS]),
    }
    return render(request, "webhooks/webhook.html", context)


urlpatterns = [
    path("", webhooks_page, name="project-webhooks"),
    path("<str:webhook_id>/", webhook_page, name="project-webhook"),
]
