"""Reading and checking request bodies, so every handler refuses bad input the same way."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from aiohttp import web

from taxicrm.errors import InvalidInput, NotFound

T = TypeVar("T")

_TYPE_NAMES = {str: "text", int: "a whole number", bool: "true or false", dict: "an object", list: "a list"}


async def json_object(request: web.Request) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise InvalidInput saying what is wrong."""
    if request.content_type != "application/json":
        raise InvalidInput("Send the request body as JSON (Content-Type: application/json).",
                           code="unsupported_media_type", status=415)
    raw = await request.read()  # Raises 413 past the app's client_max_size.
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The request body is not valid JSON.", code="malformed_json") from None
    except RecursionError:  # Thousands of nested brackets exhaust the parser's stack; no real request nests so.
        raise InvalidInput("The request body is nested too deeply.", code="malformed_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", code="malformed_json")
    return body


def required(body: dict[str, Any], name: str, kind: type[T], *, max_length: int | None = None) -> T:
    """Return `body[name]` if present with the right type and length, else raise InvalidInput naming it."""
    value = optional(body, name, kind, max_length=max_length)
    if value is None:
        raise InvalidInput(f"'{name}' is required.", code="missing_field")
    return value


def optional(body: dict[str, Any], name: str, kind: type[T], *, max_length: int | None = None) -> T | None:
    """Return `body[name]`, None if absent, or raise InvalidInput if it has the wrong type or length."""
    value = body.get(name)
    if value is None:
        return None
    # bool is an int in Python; a JSON true must not pass as a number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"'{name}' must be {_TYPE_NAMES.get(kind, kind.__name__)}.", code="wrong_type")
    if max_length is not None and isinstance(value, str | list) and len(value) > max_length:
        raise InvalidInput(f"'{name}' is longer than {max_length} characters.", code="too_long")
    return value


def path_id(request: web.Request, name: str, what: str) -> int:
    """Return the whole-number id in the route's `{name}`, or raise NotFound coded `<what>_not_found`."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        raise NotFound(f"There is no {what} {raw[:20]!r}.", code=f"{what}_not_found")
    return int(raw)


def parse_time(raw: str | None, name: str, wall_clock: tzinfo) -> datetime | None:
    """Read an ISO 8601 time (None if absent); one without an offset is on `wall_clock` (what people type)."""
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw[:40])
    except ValueError:
        raise InvalidInput(f"'{name}' must be an ISO 8601 time.", code="invalid_time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=wall_clock)
