"""The floors of the stack, in front of Embargo's own routes: the same server, middleware and database.

- `GET /bench/ok`: a trivial view (what the server, Django and the middleware cost).
- `POST /bench/insert`: one INSERT into `bench_floor_row` in its own transaction (autocommit), with the request's
  JSON body stored: what one write to this database costs. The table is created by `bench.floor.prepare`.
"""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from embargo import clock

TABLE = "bench_floor_row"


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt  # wrk sends no CSRF token; the intake API it is compared with needs none either (bearer tokens)
def insert(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body or b"{}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (created_at, body) VALUES (%s, %s)",  # noqa: S608 - a constant table name
            [clock.now().isoformat(), json.dumps(body)],
        )
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [
    path("bench/ok", ok),
    path("bench/insert", insert),
    path("", include("embargo.urls")),
]
