"""CSV exports of report tables: UTF-8 with a byte-order mark, so spreadsheet programs show Persian names right."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

BOM = "\ufeff"


def to_csv(rows: Sequence[Any]) -> str:
    """Return dataclass rows as CSV text with a header line.

    Nested records become prefixed columns (last_event_kind); a list of numbers becomes numbered columns
    (active_0, active_1, ...); lists of points (polygons) are left out: a spreadsheet cannot use them.
    """
    flat = [dict(_flatten(row)) for row in rows]
    header: list[str] = []
    for record in flat:
        header.extend(name for name in record if name not in header)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for record in flat:
        writer.writerow([_cell(record.get(name)) for name in header])
    return BOM + out.getvalue()


def _flatten(row: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for field in fields(row):
        value = getattr(row, field.name)
        name = prefix + field.name
        if is_dataclass(value) and not isinstance(value, type):
            yield from _flatten(value, f"{name}_")
        elif isinstance(value, list | tuple):
            if all(isinstance(item, int | float) for item in value):
                yield from ((f"{name}_{index}", item) for index, item in enumerate(value))
        else:
            yield name, value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
