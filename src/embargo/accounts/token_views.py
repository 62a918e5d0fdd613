"""The person's API tokens: what each may do and reach, when it was last used; make one, revoke one."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo import clock
from embargo.accounts import reauth
from embargo.accounts.access import signed_in_user
from embargo.accounts.actions import do_create_token, do_revoke_token
from embargo.accounts.models import ApiToken
from embargo.errors import ActionError
from embargo.projects.models import Project


class TokenForm(forms.Form):
    name = forms.CharField(label="What it is for", max_length=100, required=False)
    scope = forms.ChoiceField(
        label="It may",
        choices=[
            ("read", "read only"),
            ("write", "read and change (not publish)"),
            ("publish", "everything, publishing too"),
        ],
        initial="write",
    )
    projects = forms.MultipleChoiceField(
        label="Projects", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every project you work on or report to.",
    )  # fmt: skip
    expires_in_days = forms.TypedChoiceField(
        label="Expires", coerce=int, initial=90,
        choices=[(7, "in a week"), (30, "in 30 days"), (90, "in 90 days"), (365, "in a year"), (0, "never")],
    )  # fmt: skip


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    mine = Project.objects.filter(memberships__user=user).order_by("slug")
    form = TokenForm(request.POST if request.POST.get("action") == "create" else None)
    form.fields["projects"].choices = [(p.slug, p.name) for p in mine]  # type: ignore[attr-defined]
    new_token = ""
    if request.method == "POST" and request.POST.get("action") == "revoke":
        try:
            do_revoke_token(user, int(request.POST.get("token_id", "0") or 0), acting_user=user)
        except (ActionError, ValueError):
            messages.error(request, "No such token of yours.")
        else:
            messages.success(request, "The token is revoked: it no longer works.")
        return redirect("account-tokens")
    if request.method == "POST" and form.is_valid():
        reauth.require(request)  # a new credential: a recent log-in
        days = form.cleaned_data["expires_in_days"]
        try:
            new_token = do_create_token(
                user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                projects=list(mine.filter(slug__in=form.cleaned_data["projects"])),
                expires_at=clock.now() + dt.timedelta(days=days) if days else None,
                acting_user=user,
            )
        except ActionError as e:
            form.add_error(None, e.message)
        else:
            form = TokenForm()
            form.fields["projects"].choices = [(p.slug, p.name) for p in mine]  # type: ignore[attr-defined]
    rows = ApiToken.objects.filter(user=user).prefetch_related("projects").order_by("-created_at", "-id")
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": rows, "new_token": new_token, "now": clock.now()}
    )


urlpatterns = [path("tokens/", tokens_page, name="account-tokens")]
