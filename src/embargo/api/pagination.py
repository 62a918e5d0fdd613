"""Keyset pagination: `{"items": [...], "next_cursor": "…" | null}` with `?limit=` (≤ 100) and `?cursor=`.

The cursor holds the sort values of the last item returned; the next page starts strictly after it,
so pages cost what they return whatever the table's size. Nullable sort columns sort last."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Model, Q, QuerySet

from embargo.api.errors import invalid

MAX_LIMIT = 100
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Key:
    field: str
    descending: bool = False
    nullable: bool = False
    is_datetime: bool = False


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, keys: Sequence[Key]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError
        values: list[Any] = []
        for key, value in zip(keys, raw, strict=True):
            if value is None:
                if not key.nullable:
                    raise ValueError
                values.append(None)
            elif key.is_datetime:
                values.append(dt.datetime.fromisoformat(value))
            else:
                if not isinstance(value, int | str):
                    raise ValueError
                values.append(value)
        return values
    except (ValueError, TypeError):
        raise invalid("cursor", "This cursor is not one that this list gave out; start again without it.") from None


def _after(key: Key, value: Any) -> Q:
    """Rows strictly after `value` in this key's order (nulls last in either direction)."""
    if value is None:
        return Q(pk__in=[])
    beyond = Q(**{f"{key.field}__lt" if key.descending else f"{key.field}__gt": value})
    if key.nullable:
        beyond |= Q(**{f"{key.field}__isnull": True})
    return beyond


def _equal(key: Key, value: Any) -> Q:
    return Q(**{f"{key.field}__isnull": True}) if value is None else Q(**{key.field: value})


def _order(keys: Sequence[Key]) -> list[Any]:
    return [F(k.field).desc(nulls_last=True) if k.descending else F(k.field).asc(nulls_last=True) for k in keys]


def paginate[M: Model](
    queryset: QuerySet[M],
    keys: Sequence[Key],
    *,
    limit: int | None,
    cursor: str | None,
    serialize: Callable[[M], Any],
) -> dict[str, Any]:
    if limit is None:
        limit = DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"`limit` is between 1 and {MAX_LIMIT}.")
    queryset = queryset.order_by(*_order(keys))
    if cursor:
        values = _decode(cursor, keys)
        condition = Q(pk__in=[])
        for i, key in enumerate(keys):
            step = _after(key, values[i])
            for prior, prior_value in zip(keys[:i], values[:i], strict=True):
                step &= _equal(prior, prior_value)
            condition |= step
        queryset = queryset.filter(condition)
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode([_value(last, k.field) for k in keys])
    return {"items": [serialize(r) for r in rows], "next_cursor": next_cursor}


def _value(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj
