"""Shaping domain records (frozen dataclasses) as JSON for clients."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any


def record_json(record: Any) -> dict[str, Any]:
    """Return a dataclass record as a JSON-safe dict, with times in ISO 8601 (UTC offset included)."""
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in asdict(record).items()}
