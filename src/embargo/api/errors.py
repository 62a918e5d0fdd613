"""One error shape for every answer of the API: `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from embargo.accounts.access import Forbidden, NotFound
from embargo.domain.workflow import TransitionRefused
from embargo.errors import ActionError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the client can fix, with the status and code DESIGN.md gives it."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.extra = status, code, message, field, extra


def invalid(field: str, message: str, code: str = "validation_error") -> ApiError:
    return ApiError(422, code, message, field)


def error_response(status: int, code: str, message: str, field: str | None = None, **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JsonResponse({"error": body}, status=status)


NOT_FOUND_MESSAGE = "Nothing here, or nothing you may see."


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in {"query", "path", "form", "file", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts)


def _validation_message(error: dict[str, Any]) -> str:
    field = _field_of(error.get("loc", ()))
    msg = str(error.get("msg", "is not valid"))
    if error.get("type") == "missing":
        return f"`{field}` is required."
    return f"`{field}`: {msg}." if field else f"{msg}."


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(exc.status, exc.code, exc.message, exc.field, **exc.extra)

    @api.exception_handler(ActionError)
    def _action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
        return error_response(exc.status, exc.code, exc.message, exc.field)

    @api.exception_handler(NotFound)
    def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
        return error_response(404, "not_found", NOT_FOUND_MESSAGE)

    @api.exception_handler(Http404)
    def _http404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", NOT_FOUND_MESSAGE)

    @api.exception_handler(Forbidden)
    def _forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
        return error_response(403, "forbidden", str(exc))

    @api.exception_handler(TransitionRefused)
    def _refused(request: HttpRequest, exc: TransitionRefused) -> HttpResponse:
        status = 409 if exc.code == "transition_not_allowed" else 422
        return error_response(status, exc.code, exc.message, allowed=[str(s) for s in exc.allowed])

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        first = exc.errors[0] if exc.errors else {}
        return error_response(
            422, "validation_error", _validation_message(first), _field_of(first.get("loc", ())) or None
        )

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response(401, "unauthenticated", "Send a valid API token: `Authorization: Bearer TOKEN`.")
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        cause = exc.__cause__
        if isinstance(cause, RequestDataTooBig):
            return error_response(413, "too_large", "The request body is too large.")
        if isinstance(cause, UnicodeDecodeError):
            return error_response(400, "invalid_json", "The request body is not UTF-8.")
        if isinstance(cause, json.JSONDecodeError):
            return error_response(400, "invalid_json", f"The request body is not valid JSON: {cause.msg}.")
        if exc.status_code == 400:
            return error_response(400, "invalid_json", "The request body could not be read as JSON.")
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 429: "rate_limited"}.get(
            exc.status_code, "error"
        )
        return error_response(exc.status_code, code, str(exc.message))

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        if isinstance(exc, RequestDataTooBig):
            return error_response(413, "too_large", "The request body is too large.")
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side; nothing was changed.")
