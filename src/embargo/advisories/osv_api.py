"""An OSV-compatible API (the shapes of the public OSV API v1), so OSV clients can be pointed at this instance:
`POST /osv/v1/query`, `POST /osv/v1/querybatch`, `GET /osv/v1/vulns/{id}`.

Plain Django views, public and CSRF-exempt (no session is read, nothing is written). Errors take the OSV API's
own shape, `{"code": <gRPC status>, "message": "…"}`, not Embargo's `{"error": …}`, because OSV clients parse
that. Only published advisories are known here (see `public`); withdrawn ones are still served by ID but no
longer match a query. Queries by `commit` need commit history and are refused as unsupported.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from embargo import ratelimit
from embargo.advisories import public
from embargo.domain import osv_match

MAX_BODY = 1024 * 1024
MAX_BATCH = 1000  # as the OSV API
INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED = 3, 5, 12
STATUS = {INVALID_ARGUMENT: 400, NOT_FOUND: 404, UNIMPLEMENTED: 501}
QUERY_FIELDS = {"package", "version", "commit", "page_token"}


class QueryError(Exception):
    def __init__(self, message: str, code: int = INVALID_ARGUMENT) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def _error(code: int, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=STATUS[code])


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise QueryError(f"The request is larger than {MAX_BODY} bytes.")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise QueryError("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise QueryError("The body is not a JSON object.")
    return data


def parse_query(data: Any) -> tuple[osv_match.Package, str | None]:
    """(package, version or None) of one OSV query; QueryError for what the OSV API refuses as well."""
    if not isinstance(data, dict):
        raise QueryError("A query is a JSON object.")
    unknown = sorted(set(data) - QUERY_FIELDS)
    if unknown:
        raise QueryError(f"Unknown field {unknown[0]!r} in the query.")
    if "commit" in data:
        raise QueryError("Queries by commit are not supported here; query by package and version.", UNIMPLEMENTED)
    version = data.get("version")
    if version is not None and (not isinstance(version, str) or not version.strip()):
        raise QueryError("`version` is a non-empty string.")
    package = data.get("package")
    if not isinstance(package, dict):
        raise QueryError("Give `package` with `ecosystem` and `name`, or `purl`.")
    if set(package) - {"ecosystem", "name", "purl"}:
        raise QueryError("`package` has `ecosystem` and `name`, or `purl`.")
    if "purl" in package:
        if "ecosystem" in package or "name" in package:
            raise QueryError("Give `purl` or `ecosystem` and `name`, not both.")
        if not isinstance(package["purl"], str):
            raise QueryError("`purl` is a string.")
        try:
            named, purl_version = osv_match.package_from_purl(package["purl"])
        except osv_match.QueryError as e:
            raise QueryError(str(e)) from None
        if purl_version is not None and version is not None:
            raise QueryError("The version is given twice: in `purl` and in `version`.")
        return named, purl_version if purl_version is not None else version
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not ecosystem or not isinstance(name, str) or not name:
        raise QueryError("`package` needs both `ecosystem` and `name`.")
    return osv_match.Package(ecosystem, name), version


@csrf_exempt
@require_http_methods(["POST"])
@ratelimit.limit_json("osv")
def query(request: HttpRequest) -> JsonResponse:
    """`{"vulns": [full OSV records]}`, or `{}` when none matches (as the OSV API answers)."""
    try:
        package, version = parse_query(_body(request))
    except QueryError as e:
        return _error(e.code, e.message)
    vulns = public.query(package, version)
    return JsonResponse({"vulns": vulns} if vulns else {})


@csrf_exempt
@require_http_methods(["POST"])
@ratelimit.limit_json("osv")
def querybatch(request: HttpRequest) -> JsonResponse:
    """`{"results": [{"vulns": [{"id", "modified"}]} | {}]}`, one result per query in order."""
    try:
        data = _body(request)
        queries = data.get("queries")
        if set(data) != {"queries"} or not isinstance(queries, list):
            raise QueryError('The body is {"queries": [...]}.')
        if len(queries) > MAX_BATCH:
            raise QueryError(f"At most {MAX_BATCH} queries in one batch.")
        parsed = [parse_query(q) for q in queries]
    except QueryError as e:
        return _error(e.code, e.message)
    results = [{"vulns": vulns} if vulns else {} for vulns in public.query_batch(parsed)]
    return JsonResponse({"results": results})


@require_http_methods(["GET", "HEAD"])
def vuln(request: HttpRequest, vuln_id: str) -> JsonResponse:
    try:
        record = public.osv(public.get(vuln_id))
    except public.NotPublished:
        return _error(NOT_FOUND, "Bug not found.")
    return JsonResponse(record, json_dumps_params={"sort_keys": True})
