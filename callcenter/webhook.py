"""The PBX webhook's payload, in JSON or form fields, turned into the internal call event."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from callcenter.calls import CallEvent, CallEventKind, CallSource, EndCause
from taxicrm.errors import InvalidInput

# Field names, as documented for PBX integrators (OpenAPI and README).
FIELDS = ("event", "call_id", "caller", "caller_name", "dialled", "extensions", "extension", "cause", "at")
_EXTENSION = re.compile(r"^[0-9]{1,10}$")
_LIMITS = {"call_id": 200, "caller": 80, "caller_name": 200, "dialled": 80, "cause": 20, "at": 40}
MAX_EXTENSIONS = 50


def parse_call_event(payload: Mapping[str, Any], received_at: datetime) -> CallEvent:
    """Turn a webhook payload into a CallEvent or raise InvalidInput saying which field is wrong."""
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(unknown)}. Known fields: {', '.join(FIELDS)}.",
                           code="unknown_field")
    kind = _choice(payload, "event", CallEventKind)
    call_id = _text(payload, "call_id", required=True)
    extensions = _extensions(payload.get("extensions"))
    if kind is CallEventKind.ANSWERED:
        extension = _text(payload, "extension", required=False)
        if extension is not None:
            extensions = _extensions(extension)
        if len(extensions) != 1:
            raise InvalidInput("An 'answered' event needs the one 'extension' that answered.", code="missing_field")
    elif kind is CallEventKind.RINGING and not extensions:
        raise InvalidInput("A 'ringing' event needs the 'extensions' that ring.", code="missing_field")
    cause = None
    if kind is CallEventKind.ENDED:
        cause = _choice(payload, "cause", EndCause) if payload.get("cause") not in (None, "") else EndCause.NORMAL
    return CallEvent(
        kind=kind, call_id=call_id or "", source=CallSource.WEBHOOK, at=_time(payload.get("at"), received_at),
        caller=_text(payload, "caller", required=False), caller_name=_text(payload, "caller_name", required=False),
        dialled=_text(payload, "dialled", required=False), extensions=extensions, cause=cause,
    )


def _text(payload: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = payload.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"'{name}' is required.", code="missing_field")
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # PBXs send ids and numbers as JSON numbers too.
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be text.", code="wrong_type")
    if len(value) > _LIMITS.get(name, 200):
        raise InvalidInput(f"'{name}' is longer than {_LIMITS.get(name, 200)} characters.", code="too_long")
    return value.strip()


def _choice(payload: Mapping[str, Any], name: str, options: type[CallEventKind] | type[EndCause]) -> Any:
    value = _text(payload, name, required=True)
    try:
        return options(str(value).lower())
    except ValueError:
        allowed = ", ".join(option.value for option in options)
        raise InvalidInput(f"'{name}' must be one of: {allowed}.", code="invalid_choice") from None


def _extensions(value: Any) -> tuple[str, ...]:
    """Accept a list, or one string separated by commas or spaces ("201,202" as form fields send it)."""
    if value is None or value == "":
        return ()
    items = value if isinstance(value, list) else re.split(r"[\s,;]+", str(value).strip())
    extensions = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    if len(extensions) > MAX_EXTENSIONS or not all(_EXTENSION.match(e) for e in extensions):
        raise InvalidInput(f"Extensions are 1 to 10 digits each, at most {MAX_EXTENSIONS}.", code="invalid_extension")
    return extensions


def _time(value: Any, default: datetime) -> datetime:
    """Accept ISO 8601 or Unix seconds; without one, the time the webhook was received."""
    if value is None or value == "":
        return default
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        parsed = datetime.fromisoformat(str(value)[:40])
    except (ValueError, OverflowError, OSError):
        raise InvalidInput("'at' must be an ISO 8601 time or Unix seconds.", code="invalid_time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
