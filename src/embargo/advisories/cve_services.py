"""CVE Services, the CVE program's API for CNAs: reserving CVE IDs and publishing CVE records.

A small interface (`CveServices`), the real client through `cvelib` (`CvelibClient`) and a do-nothing
implementation (`NoCveServices`), chosen by `client_for` from the project's configuration. Every failure
comes out as a `CveServicesError` whose `code` the API can answer with and whose `message` tells an owner
what happened and what to do. The API key never appears in a message, a repr or a chained exception.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin

import requests
from cvelib.cve_api import CveApi, CveRecordValidationError

from embargo import clock

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")

# CVE Services' `error` values (CVEProject/cve-services) that say the ID quota is used up.
_QUOTA_ERRORS = {"EXCEEDED_ID_QUOTA", "TRANSITION_STATE_RESERVED_NO_QUOTA"}
# 403 answers that are not about the credentials but about the ID or record asked for.
_REFUSALS = {
    "CANNOT_RESERVE_FOR_YEAR",
    "YEAR_RANGE_FULL",
    "CVE_RECORD_EXISTS",
    "CVE_RECORD_DNE",
    "CVEID_DNE",
    "CVE_ID_NOT_FOUND",
    "CVE_UNSUPPORTED_RECORD_STATE",
    "ORG_DOES_NOT_OWN_ID",
}
_MAX_DETAILS = 5
# What cvelib lets out: requests' errors (HTTP answers raised by raise_for_status, connection, timeout), its
# own schema check, and ValueError/KeyError/TypeError from an answer that is not the JSON it expects.
_FAILURES = (requests.RequestException, CveRecordValidationError, ValueError, KeyError, TypeError)


@dataclass(frozen=True)
class CnaCredentials:
    """A CNA's account on CVE Services. `url` is the API's base URL, e.g. https://cveawg.mitre.org/api/."""

    org: str
    user: str
    api_key: str = field(repr=False)
    url: str


class CveServicesError(Exception):
    """`code` is one of "rate_limited", "bad_credentials", "quota_exceeded", "unavailable", "rejected";
    `status` the HTTP status CVE Services answered with (None when it did not answer); `retry_after` the
    seconds it asked to wait, if it said."""

    CODES = ("rate_limited", "bad_credentials", "quota_exceeded", "unavailable", "rejected")

    def __init__(self, code: str, message: str, *, status: int | None = None, retry_after: int | None = None):
        if code not in self.CODES:
            raise ValueError(f"unknown CVE Services error code {code!r}")
        super().__init__(message)
        self.code, self.message, self.status, self.retry_after = code, message, status, retry_after

    def __repr__(self) -> str:
        return f"CveServicesError({self.code!r}, {self.message!r})"


class CveServices(Protocol):
    def reserve(self) -> str:
        """Reserves one CVE ID for the current year and returns it."""
        ...

    def publish(self, cve_id: str, cna_container: dict[str, Any]) -> None:
        """Publishes the CVE record of a reserved ID from its CNA container (or a full CVE JSON 5 record)."""
        ...

    def reject(self, cve_id: str, reason: str) -> None:
        """Turns the published CVE record into a REJECTED one, giving `reason` (an advisory withdrawn)."""
        ...


class NoCveServices:
    """What a project gets without CVE Services credentials: every call fails with `unavailable`."""

    MESSAGE = (
        "CVE Services is not configured for this project: an owner can enter the project's CNA credentials "
        "in the project settings, or switch the project to manual CVE IDs."
    )

    def reserve(self) -> str:
        raise CveServicesError("unavailable", self.MESSAGE)

    def publish(self, cve_id: str, cna_container: dict[str, Any]) -> None:
        raise CveServicesError("unavailable", self.MESSAGE)

    def reject(self, cve_id: str, reason: str) -> None:
        raise CveServicesError("unavailable", self.MESSAGE)


class _CveApi(CveApi):
    """cvelib's client with a configurable timeout (cvelib fixes it at 60 s in `_http_request`); the
    request is the one cvelib sends: the same URL joining, the same three authentication headers."""

    def __init__(self, credentials: CnaCredentials, timeout: float) -> None:
        url = credentials.url if credentials.url.endswith("/") else credentials.url + "/"
        super().__init__(username=credentials.user, org=credentials.org, api_key=credentials.api_key, url=url)
        self.timeout = timeout

    def _http_request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"CVE-API-KEY": self.api_key, "CVE-API-ORG": self.org, "CVE-API-USER": self.username}
        response = requests.request(
            method=method, url=urljoin(self.url, path), timeout=self.timeout, headers=headers, **kwargs
        )
        response.raise_for_status()
        return response


class CvelibClient:
    """The real client: CVE Services through cvelib's `CveApi`."""

    def __init__(self, credentials: CnaCredentials, *, timeout: float = 30) -> None:
        if not credentials.url:
            raise ValueError("CVE Services needs a base URL")
        self._credentials = credentials
        self._api = _CveApi(credentials, timeout)

    def __repr__(self) -> str:
        return f"CvelibClient(org={self._credentials.org!r}, user={self._credentials.user!r})"

    def reserve(self) -> str:
        year = str(clock.now().year)
        try:
            answer = self._api.reserve(count=1, random=False, year=year)
        except _FAILURES as exc:
            raise self._error(exc, "reserve a CVE ID") from None
        cve_ids = answer.get("cve_ids") if isinstance(answer, dict) else None
        cve_id = cve_ids[0].get("cve_id") if cve_ids and isinstance(cve_ids[0], dict) else None
        if not isinstance(cve_id, str) or not CVE_ID.match(cve_id):
            raise CveServicesError(
                "unavailable", "CVE Services answered the reservation without a CVE ID; try again later.", status=200
            )
        return cve_id

    def publish(self, cve_id: str, cna_container: dict[str, Any]) -> None:
        # cvelib adds providerMetadata and x_generator in place: the caller's record stays as it was.
        record = copy.deepcopy(cna_container)
        try:
            self._api.publish(cve_id, record)
        except _FAILURES as exc:
            raise self._error(exc, f"publish {cve_id}") from None

    def reject(self, cve_id: str, reason: str) -> None:
        # A published record becomes REJECTED through `PUT /cve/{id}/reject` with a rejected CNA container.
        container = {"rejectedReasons": [{"lang": "en", "value": reason}]}
        try:
            self._api.update_rejected(cve_id, container)
        except _FAILURES as exc:
            raise self._error(exc, f"reject {cve_id}") from None

    def _error(self, exc: Exception, action: str) -> CveServicesError:
        return _scrub(_translate(exc, action, self._credentials), self._credentials.api_key)


def client_for(credentials: CnaCredentials | None) -> CveServices:
    """The real client for a project with CNA credentials, the do-nothing one for a project without."""
    if credentials is None:
        return NoCveServices()
    return CvelibClient(credentials)


def _translate(exc: Exception, action: str, credentials: CnaCredentials) -> CveServicesError:
    if isinstance(exc, CveRecordValidationError):
        problems = [getattr(error, "message", str(error)) for error in (exc.errors or [])]
        return CveServicesError(
            "rejected", f"The CVE record is not valid CVE JSON 5, so it was not sent: {_list(problems)}."
        )
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return _from_answer(exc.response, action, credentials)
    if isinstance(exc, requests.Timeout):
        return CveServicesError(
            "unavailable", f"CVE Services did not answer in time, so Embargo could not {action}; try again later."
        )
    if isinstance(exc, requests.ConnectionError):
        return CveServicesError(
            "unavailable",
            f"CVE Services could not be reached at {credentials.url}, so Embargo could not {action}; "
            "try again later, and if it lasts, ask the operator to check the configured URL.",
        )
    if isinstance(exc, requests.RequestException) and not isinstance(exc, ValueError):
        return CveServicesError("unavailable", f"The request to CVE Services failed, so Embargo could not {action}.")
    # A 2xx answer that is not the JSON cvelib expects.
    return CveServicesError(
        "unavailable", f"CVE Services gave an answer Embargo could not read while trying to {action}; try again later."
    )


def _from_answer(response: requests.Response, action: str, credentials: CnaCredentials) -> CveServicesError:
    status = response.status_code
    error, server_message, details = _body(response)
    said = f" CVE Services said: {server_message}" if server_message else ""

    if status == 429 or error == "TOO_MANY_REQUESTS":
        retry_after = _retry_after(response)
        wait = f"try again in {retry_after} seconds" if retry_after is not None else "try again in a few minutes"
        return CveServicesError(
            "rate_limited",
            f"CVE Services is limiting the rate of requests, so Embargo could not {action} now; {wait}.",
            status=status,
            retry_after=retry_after,
        )
    if error in _QUOTA_ERRORS or (status == 403 and error and "QUOTA" in error):
        return CveServicesError(
            "quota_exceeded",
            f"The CNA {credentials.org!r} has used up its CVE ID quota, so Embargo could not {action}. "
            "Publish or reject CVE IDs it has reserved, or ask the CVE Program to raise the quota.",
            status=status,
        )
    if error == "RESERVATION_IN_PROGRESS":
        return CveServicesError(
            "rate_limited",
            f"Another CVE ID reservation for {credentials.org!r} is in progress; try again in a moment.",
            status=status,
        )
    if status == 401 or (status == 403 and error not in _REFUSALS):
        return CveServicesError(
            "bad_credentials",
            f"CVE Services refused the CNA credentials (organization {credentials.org!r}, user "
            f"{credentials.user!r}), so Embargo could not {action}. An owner should check the organization short "
            "name, the user name and the API key in the project settings, and that the user is active." + said,
            status=status,
        )
    if status >= 500:
        return CveServicesError(
            "unavailable",
            f"CVE Services had an error (HTTP {status}), so Embargo could not {action}; try again later.",
            status=status,
        )
    problems = f" Problems: {_list(details)}." if details else ""
    return CveServicesError(
        "rejected",
        f"CVE Services refused to {action} (HTTP {status}).{said or ' It gave no reason.'}{problems}",
        status=status,
    )


def _body(response: requests.Response) -> tuple[str | None, str | None, list[str]]:
    """The `error` code, the `message` and the listed problems of a CVE Services error answer."""
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return None, text[:300] or None, []
    if not isinstance(body, dict):
        return None, None, []
    error = body.get("error") if isinstance(body.get("error"), str) else None
    message = body.get("message") if isinstance(body.get("message"), str) else None
    details = body.get("details")
    problems = details.get("errors") if isinstance(details, dict) else None
    listed = [p if isinstance(p, str) else _short(p) for p in problems] if isinstance(problems, list) else []
    return error, message, listed


def _short(problem: Any) -> str:
    if isinstance(problem, dict):
        where = problem.get("instancePath") or problem.get("property") or ""
        what = problem.get("message") or ""
        return f"{where} {what}".strip() or str(problem)
    return str(problem)


def _list(items: list[str]) -> str:
    shown = "; ".join(items[:_MAX_DETAILS])
    more = len(items) - _MAX_DETAILS
    return shown + (f" (and {more} more)" if more > 0 else "") if shown else "no details given"


def _retry_after(response: requests.Response) -> int | None:
    value = response.headers.get("Retry-After", "").strip()
    return int(value) if value.isdigit() else None


def _scrub(error: CveServicesError, api_key: str) -> CveServicesError:
    """Whatever a server echoes, the API key does not leave this module."""
    if api_key and api_key in error.message:
        message = error.message.replace(api_key, "[API key]")
        return CveServicesError(error.code, message, status=error.status, retry_after=error.retry_after)
    return error


REJECTION = "cve_record_rejection"
RETRYABLE = frozenset({"rate_limited", "unavailable"})


def deliver_rejection(row: Any) -> None:
    """The worker's delivery of a queued rejection (an outbox row `{"advisory", "reason"}`, written when an advisory
    is withdrawn): retried with back-off while CVE Services is busy or down, given up (cancelled, with the reason
    kept on the row) when it refuses for good, e.g. bad credentials."""
    from embargo.advisories.actions import credentials_of
    from embargo.advisories.models import Advisory
    from embargo.notifications.delivery import Cancelled, DeliveryError

    advisory = Advisory.objects.select_related("project").filter(readable_id=row.context.get("advisory", "")).first()
    if advisory is None or not advisory.cve_id:
        raise Cancelled("the advisory or its CVE ID is gone")
    try:
        client_for(credentials_of(advisory.project)).reject(advisory.cve_id, row.context.get("reason", ""))
    except CveServicesError as e:
        if e.code in RETRYABLE:
            raise DeliveryError(e.message) from None
        raise Cancelled(e.message) from None
