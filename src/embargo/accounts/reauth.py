"""Re-authentication before sensitive actions in the browser: changing the policy, the packager list, the keys,
API tokens, and publishing. A session proves itself with the password (and the second factor's code, for a person
who has one) at log-in or on the confirmation page; the proof counts for EMBARGO_REAUTH_MINUTES. A stolen session
cookie, or a browser left open, then cannot do those things without the password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from embargo import clock

SESSION_KEY = "embargo_authenticated_at"


class ReauthRequired(Exception):
    """A sensitive action in a session whose last proof of identity is too old."""


def mark(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = clock.now().timestamp()


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        mark(request)


def recent(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_KEY)
    return at is not None and clock.now().timestamp() - float(at) <= settings.EMBARGO_REAUTH_MINUTES * 60


def require(request: HttpRequest) -> None:
    """Called by a view before a sensitive change made in a browser session."""
    if not recent(request):
        raise ReauthRequired


class ReauthMiddleware:
    """Turns ReauthRequired into the confirmation page, which comes back to the page the action was on."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ReauthRequired):
            return None
        messages.info(request, "Confirm it is you, then do it again: this action needs a fresh log-in.")
        return HttpResponseRedirect("/account/confirm/?" + urlencode({"next": request.get_full_path()}))
