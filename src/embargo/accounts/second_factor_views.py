"""Pages of the second factor: set it up (QR code and key, then a first code), enter a code after the password,
new recovery codes, turn it off (reporters)."""

from __future__ import annotations

import io
from base64 import b32encode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo import ratelimit
from embargo.accounts import second_factor as sf
from embargo.accounts.access import signed_in_user
from embargo.errors import ActionError


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


def _next(request: HttpRequest, default: str = "/reports/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if ok and target.startswith("/") else default


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = CodeForm(request.POST if action else None)
    codes: list[str] = []
    if action and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if action == "confirm":
                codes = sf.do_confirm_totp(user, code)
                device = sf.confirmed_totp(user)
                if device is not None:
                    from django_otp import login as otp_login

                    otp_login(request, device)  # this session just proved it
                messages.success(request, "Your second factor is on. Keep the recovery codes below somewhere safe.")
            elif action == "recovery":
                codes = sf.do_regenerate_recovery_codes(user, code)
                messages.success(request, "New recovery codes: the old ones no longer work.")
            elif action == "off":
                sf.do_turn_off(user, code)
                messages.success(request, "Your second factor is off.")
                return redirect("second-factor")
            else:
                raise Http404
        except ActionError as e:
            form.add_error("code" if e.field == "code" else None, e.message)
    enabled = sf.has_second_factor(user)
    pending = None if enabled else sf.pending_totp(user)
    return render(
        request,
        "accounts/second_factor.html",
        {
            "enabled": enabled,
            "form": form,
            "codes": codes,
            "secret": b32encode(pending.bin_key).decode() if pending is not None else "",
            "on_a_team": user.memberships.exists(),
            "next": _next(request, ""),
        },
    )


@never_cache
@login_required
def qr_code(request: HttpRequest) -> HttpResponse:
    """The set-up QR code (the otpauth:// URL of the device being set up), as SVG from Embargo itself."""
    user = signed_in_user(request)
    if sf.has_second_factor(user):
        raise Http404
    device = sf.pending_totp(user)
    svg = io.BytesIO()  # a standalone SVG document (with its namespace), as an <img> needs
    segno.make(device.config_url, error="m").save(svg, kind="svg", scale=5, dark="#111", light="#fff")
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """The code asked after the password."""
    user = signed_in_user(request)
    if not sf.has_second_factor(user) or sf.session_verified(user):
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Wrong codes count like wrong passwords: the same back-off (ratelimit.py) on top of the device's own.
        try:
            ratelimit.check_login(request, user.email)
        except ratelimit.RateLimited as refusal:
            return ratelimit.rate_limited_page(request, refusal)
        try:
            sf.do_sign_in_second_step(request, user, form.cleaned_data["code"])
        except ActionError as e:
            ratelimit.record_login_failure(request, user.email)
            form.add_error("code", e.message)
        else:
            ratelimit.clear_login_failures(request, user.email)
            return redirect(_next(request))
    return render(request, "accounts/second_factor_verify.html", {"form": form, "next": _next(request)})


urlpatterns = [
    path("2fa/", settings_page, name="second-factor"),
    path("2fa/qr.svg", qr_code, name="second-factor-qr"),
    path("2fa/verify/", verify_page, name="second-factor-verify"),
]


class ConfirmForm(forms.Form):
    password = forms.CharField(label="Your password", widget=forms.PasswordInput, max_length=200)
    code = forms.CharField(
        label="Code of your authenticator app", max_length=32, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )  # fmt: skip


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def confirm_page(request: HttpRequest) -> HttpResponse:
    """Re-authentication before a sensitive action (accounts/reauth.py): the password, and the code for a person
    with a second factor."""
    from embargo.accounts import reauth

    user = signed_in_user(request)
    with_code = sf.has_second_factor(user)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.check_login(request, user.email)
        except ratelimit.RateLimited as refusal:
            return ratelimit.rate_limited_page(request, refusal)
        if not user.check_password(form.cleaned_data["password"]):
            ratelimit.record_login_failure(request, user.email)
            form.add_error("password", "The password is not right.")
        elif with_code and sf.verify(user, form.cleaned_data["code"]) is None:
            ratelimit.record_login_failure(request, user.email)
            form.add_error("code", "That code is not right.")
        else:
            ratelimit.clear_login_failures(request, user.email)
            reauth.mark(request)
            return redirect(_next(request))
    if not with_code:
        del form.fields["code"]
    return render(request, "accounts/confirm.html", {"form": form, "next": _next(request)})


urlpatterns.append(path("confirm/", confirm_page, name="reauth"))
