"""JSON bodies: UTF-8, an object at the top, no NaN or Infinity, no duplicate keys."""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import HttpRequest
from ninja.parser import Parser


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise json.JSONDecodeError(f"duplicate key {key!r}", "", 0)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", "", 0)


class StrictJsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        text = request.body.decode("utf-8")  # UnicodeDecodeError becomes 400 invalid_json
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        if not isinstance(data, dict):
            raise json.JSONDecodeError("the body must be a JSON object", text, 0)
        return cast(dict[str, Any], data)
