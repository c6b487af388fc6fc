"""The rules of the taxonomy admins edit: what a new category's code and names may be, and what an edit may change."""

from __future__ import annotations

import dataclasses
import re
from typing import Final

from feedback.model import Category, CategoryEdit, Kind, Priority
from subscribers.text import clean_text
from taxicrm.errors import InvalidInput

# The code is stable for good (the API, reports and exports use it): lower-case letters, digits and underscores.
CODE: Final = re.compile(r"[a-z][a-z0-9_]{1,39}")
MAX_NAME: Final = 100
MAX_POSITION: Final = 32_000  # PostgreSQL's smallint, with room


def new_category(code: str, name_en: str, name_fa: str, kind: Kind, default_priority: Priority | None,
                 position: int | None) -> Category:
    """Validate a category to add: new categories start active, after those already listed unless placed."""
    if not CODE.fullmatch(code):
        raise InvalidInput("'code' is 2 to 40 lower-case letters, digits or underscores, starting with a letter.",
                           code="invalid_code")
    return Category(code=code, name_en=_name(name_en, "name_en"), name_fa=_name(name_fa, "name_fa"),
                    default_priority=default_priority or (Priority.LOW if kind is Kind.PRAISE else Priority.NORMAL),
                    position=_position(MAX_POSITION if position is None else position), is_active=True, kind=kind)


def check_edit(edit: CategoryEdit) -> CategoryEdit:
    """Validate an edit of a category; an edit that changes nothing is refused."""
    if all(getattr(edit, f.name) is None for f in dataclasses.fields(edit)):
        raise InvalidInput("Say what to change: names, default_priority, position or is_active.",
                           code="nothing_to_change")
    return dataclasses.replace(
        edit, name_en=None if edit.name_en is None else _name(edit.name_en, "name_en"),
        name_fa=None if edit.name_fa is None else _name(edit.name_fa, "name_fa"),
        position=None if edit.position is None else _position(edit.position))


def _name(raw: str, field: str) -> str:
    text = clean_text(raw)
    if not text:
        raise InvalidInput(f"'{field}' must not be empty.", code="missing_field")
    if len(text) > MAX_NAME:
        raise InvalidInput(f"'{field}' is longer than {MAX_NAME} characters.", code="too_long")
    return text


def _position(position: int) -> int:
    if not 0 <= position <= MAX_POSITION:
        raise InvalidInput(f"'position' is a whole number from 0 to {MAX_POSITION}.", code="out_of_range")
    return position
