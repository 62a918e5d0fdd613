"""The person's own data: download everything Embargo holds about them, delete their account."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo import clock
from embargo.accounts import lifecycle
from embargo.accounts.access import signed_in_user
from embargo.errors import ActionError


def export_response(archive: bytes) -> HttpResponse:
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="embargo-export-{clock.now():%Y%m%d}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """GET explains, POST downloads (a link a crawler follows makes no archive)."""
    if request.method == "POST":
        return export_response(lifecycle.export_archive(signed_in_user(request)))
    return render(request, "accounts/export.html")


class DeleteForm(forms.Form):
    password = forms.CharField(label="Your password", widget=forms.PasswordInput, max_length=200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.do_delete_account(user, password=form.cleaned_data["password"])
        except ActionError as e:
            form.add_error("password" if e.field == "password" else None, e.message)
        else:
            logout(request)
            messages.success(
                request, "Your account is deleted. Your reports stay with the projects, without your name."
            )
            return redirect("home")
    return render(request, "accounts/delete.html", {"form": form, "on_a_team": user.memberships.exists()})


urlpatterns = [
    path("export/", export, name="account-export"),
    path("delete/", delete, name="account-delete"),
]
