"""Site-wide HTTP concerns."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from embargo import clock
from embargo.api.errors import NOT_FOUND_MESSAGE, error_response

API_PREFIX = "/api/"
_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthenticated", "Send a valid API token: `Authorization: Bearer TOKEN`."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", NOT_FOUND_MESSAGE),
    405: ("method_not_allowed", "This route does not take this HTTP method."),
    413: ("too_large", "The request body is too large."),
    500: ("internal_error", "Something went wrong on our side; nothing was changed."),
}


class ApiResponses:
    """Gives every API error the DESIGN.md shape, the framework's own (unknown URL, wrong method,
    oversized body, crash) included, refuses oversized bodies before reading them, and keeps
    report data out of every cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.EMBARGO_MAX_ATTACHMENT_BYTES + 1024 * 1024:
            response = error_response(413, "too_large", "The request body is too large.")
        else:
            response = self.get_response(request)
        if response.status_code >= 400 and not _is_shaped(response):
            code, message = _CODES.get(response.status_code, ("error", "The request failed."))
            shaped = error_response(response.status_code, code, message)
            for header in ("Allow", "WWW-Authenticate", "Retry-After"):
                if header in response:
                    shaped[header] = response[header]
            response = shaped
        response["Cache-Control"] = "no-store"
        return response


def _is_shaped(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        body = json.loads(response.content)
    except (ValueError, AttributeError):
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


# Session keys of SessionTimeouts: when the signed-in session began, and when it was last used (Unix seconds).
SESSION_STARTED = "embargo_started_at"
SESSION_SEEN = "embargo_seen_at"
# Last-use times closer than this are not rewritten, so that a busy page does not write its session each time.
_SEEN_GRANULARITY = 60


class SessionTimeouts:
    """Ends a signed-in session after EMBARGO_SESSION_IDLE_MINUTES without a request, or
    EMBARGO_SESSION_MAX_HOURS after it began, whatever its use: the person is logged out and sent to log in
    again, with a message. (The API authenticates by token, not session, and is left alone.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if not request.user.is_authenticated:
            response = self.get_response(request)
            if request.user.is_authenticated:  # this request logged in: the session begins now
                now = int(clock.now().timestamp())
                request.session[SESSION_STARTED] = request.session[SESSION_SEEN] = now
            return response
        session = request.session
        now = int(clock.now().timestamp())
        started = session.get(SESSION_STARTED)
        seen = session.get(SESSION_SEEN)
        idle = settings.EMBARGO_SESSION_IDLE_MINUTES * 60
        absolute = settings.EMBARGO_SESSION_MAX_HOURS * 3600
        if started is None:
            session[SESSION_STARTED] = session[SESSION_SEEN] = now
        elif now - int(started) >= absolute or (seen is not None and now - int(seen) >= idle):
            logout(request)
            messages.info(request, "Your session expired; please log in again.")
            return redirect_to_login(request.get_full_path())
        elif seen is None or now - int(seen) >= _SEEN_GRANULARITY:
            session[SESSION_SEEN] = now
        return self.get_response(request)
