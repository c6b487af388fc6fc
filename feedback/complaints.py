"""The rules of complaints: what a valid one is, how its links combine, and the workflow of a case."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from feedback.errors import IllegalStatusChange, LinksDisagree, RetiredCategory, UnknownCategory
from feedback.model import Category, ComplaintRequest, ComplaintStatus, Links, NewComplaint
from subscribers.text import clean_text
from taxicrm.errors import InvalidInput

MAX_DESCRIPTION: Final = 4000
MAX_COMMENT: Final = 4000
OPEN_STATUSES: Final = frozenset({ComplaintStatus.NEW, ComplaintStatus.ASSIGNED, ComplaintStatus.PENDING})
CLOSED_STATUSES: Final = frozenset(ComplaintStatus) - OPEN_STATUSES

_NEW, _ASSIGNED, _PENDING = ComplaintStatus.NEW, ComplaintStatus.ASSIGNED, ComplaintStatus.PENDING
_CLOSE = frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.REJECTED, ComplaintStatus.DUPLICATE})
# From each status, where a case may go next. A closed case that needs more work is reopened as pending, so
# whoever picks it up sees it was closed once.
TRANSITIONS: Final[Mapping[ComplaintStatus, frozenset[ComplaintStatus]]] = {
    _NEW: _CLOSE | {_ASSIGNED, _PENDING},
    _ASSIGNED: _CLOSE | {_PENDING},
    _PENDING: _CLOSE | {_ASSIGNED},
    ComplaintStatus.RESOLVED: frozenset({_PENDING}),
    ComplaintStatus.REJECTED: frozenset({_PENDING}),
    ComplaintStatus.DUPLICATE: frozenset({_PENDING}),
}


def check_transition(current: ComplaintStatus, wanted: ComplaintStatus) -> None:
    """Raise unless the workflow leads from `current` to `wanted`."""
    if wanted not in TRANSITIONS[current]:
        raise IllegalStatusChange(current, wanted)


def check_category(code: str, found: Category | None) -> Category:
    """Return the category a new complaint may use, or raise saying why not."""
    if found is None:
        raise UnknownCategory(code)
    if not found.is_active:
        raise RetiredCategory(code)
    return found


def clean_body(raw: str, name: str, max_length: int) -> str:
    """Tidy a description or comment as typed; raise if nothing is left or it is too long."""
    text = clean_text(raw)
    if not text:
        raise InvalidInput(f"'{name}' must not be empty.", code="missing_field")
    if len(text) > max_length:
        raise InvalidInput(f"'{name}' is longer than {max_length} characters.", code="too_long")
    return text


def combine_links(asked: Links, known: Links) -> Links:
    """Fill the links not given from what is known (a ride's subscriber and driver); a contradiction is refused.

    A walk-in ride has no subscriber, so one given with it stands; a ride with no driver yet leaves the driver open.
    """
    combined: dict[str, int | None] = {}
    for name in (f.name for f in dataclasses.fields(Links)):
        mine, theirs = getattr(asked, name), getattr(known, name)
        if mine is not None and theirs is not None and mine != theirs:
            raise LinksDisagree(name, mine, theirs)
        combined[name] = mine if mine is not None else theirs
    return Links(**combined)


def new_complaint(request: ComplaintRequest, category: Category, links: Links, opened_by: int | None,
                  at: datetime) -> NewComplaint:
    """Validate a complaint as asked; its priority defaults to its category's."""
    description = clean_body(request.description, "description", MAX_DESCRIPTION)
    return NewComplaint(category=category.code, priority=request.priority or category.default_priority,
                        channel=request.channel, description=description, links=links, opened_by=opened_by, at=at)


def wanted_statuses(statuses: frozenset[ComplaintStatus], is_open: bool | None) -> frozenset[ComplaintStatus]:
    """Combine a list's status filter with its open / closed filter; an empty result means any status."""
    if is_open is None:
        return statuses
    side = OPEN_STATUSES if is_open else CLOSED_STATUSES
    wanted = statuses & side if statuses else side
    if not wanted:
        raise InvalidInput("No status is both among those asked for and " + ("open." if is_open else "closed."),
                           code="contradictory_filter")
    return wanted

