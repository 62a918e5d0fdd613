"""Account pages: sign-up, e-mail verification, log-in and out, password reset, settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo import ratelimit
from embargo.accounts import actions
from embargo.accounts.access import signed_in_user
from embargo.accounts.forms import (
    ChoosePasswordForm,
    EmailChangeForm,
    LoginForm,
    PreferencesForm,
    ResetForm,
    SignUpForm,
)
from embargo.accounts.models import User
from embargo.accounts.verification import verification_tokens
from embargo.errors import ActionError


@require_http_methods(["GET", "POST"])
@ratelimit.limit_page("signup")
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_sign_up(data["email"], name=data["name"], password=data["password"])
        except ActionError as e:
            form.add_error("email", e.message)
        else:
            return render(request, "accounts/check_email.html", {"email": data["email"]})
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not verification_tokens.check_token(user, token):
        return render(request, "accounts/verify_failed.html", status=400)
    if request.method == "GET":
        # Mail scanners follow links; only the person's click (a POST) verifies.
        return render(request, "accounts/verify_confirm.html", {"address": user.pending_email or user.email})
    try:
        actions.do_verify_email(user)
    except ActionError as e:
        messages.error(request, e.message)
        return redirect("home")
    messages.success(request, "Your e-mail address is verified.")
    return redirect("my-reports" if request.user.is_authenticated else "login")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    preferences = PreferencesForm(initial={"name": user.name, "notify_optional": user.notify_optional})
    email_form = EmailChangeForm()
    if request.method == "POST":
        if "resend" in request.POST:
            actions.do_send_verification(user, acting_user=user)
            messages.success(request, "We sent a new verification link.")
            return redirect("account")
        if "new_email" in request.POST:
            email_form = EmailChangeForm(request.POST)
            if email_form.is_valid():
                try:
                    actions.do_request_email_change(user, email_form.cleaned_data["new_email"], acting_user=user)
                except ActionError as e:
                    email_form.add_error("new_email", e.message)
                else:
                    messages.success(request, "Follow the link we sent to the new address to finish the change.")
                    return redirect("account")
        else:
            preferences = PreferencesForm(request.POST)
            if preferences.is_valid():
                actions.do_update_preferences(
                    user,
                    name=preferences.cleaned_data["name"],
                    notify_optional=preferences.cleaned_data["notify_optional"],
                    acting_user=user,
                )
                messages.success(request, "Saved.")
                return redirect("account")
    return render(request, "accounts/account.html", {"preferences": preferences, "email_form": email_form})


_login_form = auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=LoginForm)


@ratelimit.limit_page("login", account=ratelimit.posted_email)
def login(request: HttpRequest) -> HttpResponseBase:
    """Django's log-in, with back-off: after failed log-ins for an address (or from a client), every attempt
    waits, the right password included; a success clears it. Any address counts, account or not."""
    if request.method != "POST":
        return _login_form(request)
    email = str(request.POST.get("username", ""))
    try:
        ratelimit.check_login(request, email)
    except ratelimit.RateLimited as refusal:
        return ratelimit.rate_limited_page(request, refusal)
    response = _login_form(request)
    if response.status_code == 302 and request.user.is_authenticated:
        ratelimit.clear_login_failures(request, email)
    else:
        ratelimit.record_login_failure(request, email)
    return response


urlpatterns = [
    path("signup/", signup, name="signup"),
    path("verify/<uidb64>/<token>/", verify, name="verify-email"),
    path("login/", login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "reset/",
        ratelimit.limit_page("password_reset", account=ratelimit.posted_email)(
            auth_views.PasswordResetView.as_view(
                template_name="accounts/reset.html", form_class=ResetForm, success_url=reverse_lazy("reset-sent")
            )
        ),
        name="reset",
    ),
    path(
        "reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/reset_sent.html"),
        name="reset-sent",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/reset_confirm.html",
            form_class=ChoosePasswordForm,
            success_url=reverse_lazy("login"),
        ),
        name="reset-confirm",
    ),
    path("", account, name="account"),
]
