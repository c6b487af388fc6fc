"""The events feedback publishes, and the JSON shapes of categories, cases, their history and ratings.

Every case event carries the whole case (`complaint_json`) with its SLA clocks as of publishing, so a console
list can put it in place whatever it missed; the console recomputes the clocks as time passes from `due_at`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from feedback import complaints, sla
from feedback.model import Category, Complaint, ComplaintEvent, Rating
from taxicrm.events import OPERATORS, SUPERVISORS, Event

OPENED: Final = "complaint.opened"
CHANGED: Final = "complaint.changed"
AUDIENCES: Final = (OPERATORS, SUPERVISORS)
LINKS: Final = ("ride_id", "subscriber_id", "driver_id", "call_id", "operator_id")


def complaint_opened(complaint: Complaint, now: datetime) -> Event:
    """Tell the consoles a case was opened."""
    return Event(OPENED, AUDIENCES, {"complaint": complaint_json(complaint, now)})


def complaint_changed(complaint: Complaint, entry: ComplaintEvent | None, now: datetime) -> Event:
    """Tell the consoles a case changed, with the history entry that changed it (if one did)."""
    return Event(CHANGED, AUDIENCES, {"complaint": complaint_json(complaint, now),
                                      "event": None if entry is None else event_json(entry)})


def category_json(category: Category) -> dict[str, Any]:
    """Render a category for the API."""
    return {"code": category.code, "kind": category.kind.value,
            "names": {"en": category.name_en, "fa": category.name_fa},
            "default_priority": category.default_priority.value, "position": category.position,
            "is_active": category.is_active}


def complaint_json(complaint: Complaint, now: datetime) -> dict[str, Any]:
    """Render a case for the API, with where its SLA clocks stand at `now`."""
    links = complaint.links
    return {
        "id": complaint.id, "kind": complaint.kind.value, "category": complaint.category.code,
        "category_names": {"en": complaint.category.name_en, "fa": complaint.category.name_fa},
        "priority": complaint.priority.value, "channel": complaint.channel.value, "status": complaint.status.value,
        "is_open": complaint.status in complaints.OPEN_STATUSES, "description": complaint.description,
        **{name: getattr(links, name) for name in LINKS},
        "opened_by": complaint.opened_by, "opened_by_name": complaint.opened_by_name,
        "assignee_id": complaint.assignee_id, "assignee_name": complaint.assignee_name,
        "outcome": _value(complaint.outcome),
        "outcome_note": complaint.outcome_note, "duplicate_of": complaint.duplicate_of,
        "first_response_at": _time(complaint.first_response_at), "closed_at": _time(complaint.closed_at),
        "sla": {"first_response": _clock(sla.first_response_clock(complaint, now)),
                "resolution": _clock(sla.resolution_clock(complaint, now))},
        "is_overdue": sla.is_overdue(complaint, now),
        "version": complaint.version, "created_at": _time(complaint.created_at),
        "updated_at": _time(complaint.updated_at),
    }


def event_json(event: ComplaintEvent) -> dict[str, Any]:
    """Render one entry of a case's history for the API."""
    return {"id": event.id, "complaint_id": event.complaint_id, "kind": event.kind.value,
            "actor": {"kind": event.actor.kind.value, "id": event.actor.id, "name": event.actor_name},
            "from_status": _value(event.from_status), "to_status": _value(event.to_status), "body": event.body,
            "details": event.details, "at": _time(event.at)}


def rating_json(rating: Rating, *, for_staff: bool = True) -> dict[str, Any]:
    """Render a rating; a customer sees their stars and comment, staff also see who entered it and how."""
    shown: dict[str, Any] = {"ride_id": rating.ride_id, "value": rating.value, "comment": rating.comment,
                             "rated_at": _time(rating.created_at)}
    if for_staff:
        shown.update(id=rating.id, driver_id=rating.driver_id, subscriber_id=rating.subscriber_id,
                     channel=rating.channel.value, entered_by=rating.entered_by,
                     entered_by_name=rating.entered_by_name, call_id=rating.call_id, is_current=rating.is_current,
                     replaced_at=_time(rating.replaced_at))
    return shown


def _clock(found: sla.Clock | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {"due_at": found.due_at.isoformat(), "met_at": _time(found.met_at), "state": found.state.value}


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
