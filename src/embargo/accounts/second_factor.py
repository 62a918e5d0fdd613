"""The second factor: TOTP (an authenticator app) with single-use recovery codes, on django-otp's devices.

Who needs it: every team member (maintainer, owner) before any report or team page of their projects opens in
a browser, and a project's collaborators when the project asks for it; reporters may turn it on. A session is
verified once its person entered a code (django-otp keeps the verified device in the session); a person with a
second factor is asked for a code right after the password, before any page. API tokens are credentials of
their own and are not asked for codes.

Refusals: `SecondFactorRequired`, raised by the access checks (accounts/access.py), which the middleware turns
into a redirect to the set-up page (or to the code page when a factor exists but this session has not used it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.errors import ActionError

if TYPE_CHECKING:
    from embargo.accounts.models import User

RECOVERY_CODES = 10
TOTP_NAME = "authenticator app"
RECOVERY_NAME = "recovery codes"
# Pages a signed-in person reaches before entering their code.
OPEN_PATHS = ("/account/2fa/", "/account/logout/", "/static/", "/api/", "/favicon")


class SecondFactorRequired(Exception):
    """A session reaches team-only data without a verified second factor."""


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_verified(user: Any) -> bool:
    """False only for a browser session that has not passed a second factor (django-otp's middleware gives the
    session's user `is_verified`); a user loaded any other way (an API token, an action, the CLI) is not a
    session and is not asked."""
    check = getattr(user, "is_verified", None)
    return True if check is None else bool(check())


def _event(tag: Tag, user: User, **data: Any) -> None:
    record_event(tag, actor=user, target=user, data=data)


def pending_totp(user: User) -> TOTPDevice:
    """The device being set up (created on first call), not yet confirmed by a code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def do_confirm_totp(user: User, code: str) -> list[str]:
    """The first code from the app turns the second factor on; returns the recovery codes (shown once)."""
    code = "".join(code.split())
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            raise ActionError("Start the set-up again: no authenticator app is waiting for a code.", field="code")
        if not device.verify_token(code):
            raise ActionError(
                "That code is not right. Check the time on your phone and enter the 6 digits the app shows now.",
                field="code",
            )
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        _event(Tag.SECOND_FACTOR_ENABLED, user)
    return codes


def verify(user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts `code` (a TOTP code, or a recovery code, which is then used up), or None."""
    code = "".join(code.split())
    if not code:
        return None
    if code.isdigit() and len(code) == 6:
        # An app's code: only the app's device is asked (so a wrong one slows down the app's device alone).
        totp = confirmed_totp(user)
        return totp if totp is not None and totp.verify_token(code) else None
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):
            with transaction.atomic():
                _event(Tag.RECOVERY_CODE_USED, user, left=device.token_set.count())
            return device
    return None


def do_sign_in_second_step(request: HttpRequest, user: User, code: str) -> None:
    device = verify(user, code)
    if device is None:
        raise ActionError("That code is not right.", field="code", code="wrong_code", status=403)
    otp_login(request, device)


def do_regenerate_recovery_codes(user: User, code: str) -> list[str]:
    totp = confirmed_totp(user)
    if totp is None or not totp.verify_token("".join(code.split())):
        raise ActionError("Enter the code your authenticator app shows now.", field="code")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        _event(Tag.RECOVERY_CODES_REGENERATED, user)
    return codes


def do_turn_off(user: User, code: str) -> None:
    """Reporters may turn the second factor off (with a current code); team members keep it."""
    if user.memberships.exists():
        raise ActionError("Team members keep their second factor: it guards the project's reports.", status=409)
    totp = confirmed_totp(user)
    if totp is None or not totp.verify_token("".join(code.split())):
        raise ActionError("Enter the code your authenticator app shows now.", field="code")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _event(Tag.SECOND_FACTOR_DISABLED, user)


class SecondFactorMiddleware:
    """After django-otp's middleware: a person with a second factor enters a code before any page; a refusal
    for want of one (SecondFactorRequired) becomes a redirect to the set-up page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(OPEN_PATHS)
            and not session_verified(user)
            and has_second_factor(user)
        ):
            return HttpResponseRedirect("/account/2fa/verify/?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SecondFactorRequired):
            return None
        messages.info(
            request, "Your place on a project's team needs a second factor: set one up to see the project's reports."
        )
        return HttpResponseRedirect("/account/2fa/?" + urlencode({"next": request.get_full_path()}))
