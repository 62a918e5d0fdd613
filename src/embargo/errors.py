"""The error every action raises when the input breaks a rule; the API and the CLI both render it."""

from __future__ import annotations


class ActionError(Exception):
    """`code` is the API's error code, `field` the input it concerns, `status` the HTTP status."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "validation_error", status: int = 422):
        super().__init__(message)
        self.message, self.field, self.code, self.status = message, field, code, status
