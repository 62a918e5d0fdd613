"""Keyset pagination for pages (the API's, with a bad cursor as a 404 and the query string kept for the links)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from embargo.api.errors import ApiError
from embargo.api.pagination import Key, paginate


def page_of[M: Model](request: HttpRequest, rows: QuerySet[M], order: Sequence[Key], *, limit: int) -> dict[str, Any]:
    """`items`, `next_cursor`, and `query` (the request's query string without its cursor)."""
    try:
        page = paginate(rows, order, limit=limit, cursor=request.GET.get("cursor"), serialize=lambda r: r)
    except ApiError:
        raise Http404 from None
    query = request.GET.copy()
    query.pop("cursor", None)
    return {"items": page["items"], "next_cursor": page["next_cursor"], "query": query.urlencode()}
