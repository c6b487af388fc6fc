"""HTTP routes of complaints: the category list, opening, listing and showing complaints, and comments."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from aiohttp import web

from callcenter.keys import add_card_section
from feedback import complaints, service, store
from feedback.model import (
    Actor,
    ActorKind,
    Category,
    Complaint,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintFilter,
    ComplaintRequest,
    ComplaintStatus,
    Links,
    Priority,
)
from subscribers.keys import add_merge_participant
from taxicrm.auth import STAFF_ROLES, allow
from taxicrm.errors import InvalidInput
from taxicrm.keys import DB, PRINCIPAL
from taxicrm.validation import json_object, optional, path_id, required

MAX_LISTED = 500
MAX_CATEGORY_CODE = 40
MAX_ID = 2**63 - 1  # PostgreSQL's bigint
LINKS = ("ride_id", "subscriber_id", "driver_id", "call_id", "operator_id")
E = TypeVar("E", bound=StrEnum)


def setup(app: web.Application) -> None:
    """Register the complaint routes; the screen-pop shows open complaints and a merge moves them."""
    add_card_section(app, service.open_complaints_on_card)
    add_merge_participant(app, store.move_complaints)
    app.router.add_get("/api/complaint-categories", list_categories)
    app.router.add_post("/api/complaints", open_complaint)
    app.router.add_get("/api/complaints", list_complaints)
    app.router.add_get("/api/complaints/{complaint_id}", get_complaint)
    app.router.add_post("/api/complaints/{complaint_id}/comments", add_comment)


@allow(*STAFF_ROLES)
async def list_categories(request: web.Request) -> web.Response:
    """List the complaint categories new complaints may use, named in English and Persian."""
    found = await service.categories(request.app[DB])
    return web.json_response({"categories": [category_json(c) for c in found]})


@allow(*STAFF_ROLES)
async def open_complaint(request: web.Request) -> web.Response:
    """Open a complaint; one about a ride takes the ride's subscriber and driver, the caller is who opened it."""
    body = await json_object(request)
    priority = optional(body, "priority", str)
    asked = ComplaintRequest(
        category=required(body, "category", str, max_length=MAX_CATEGORY_CODE),
        description=required(body, "description", str),
        priority=None if priority is None else _choice(Priority, priority, "priority"),
        channel=_choice(ComplaintChannel, optional(body, "channel", str) or "phone", "channel"),
        links=Links(**{name: _id(optional(body, name, int), name) for name in LINKS}),
    )
    opened = await service.open_complaint(request.app[DB], asked, _actor(request), datetime.now(UTC))
    return web.json_response({"complaint": complaint_json(opened)}, status=201)


@allow(*STAFF_ROLES)
async def list_complaints(request: web.Request) -> web.Response:
    """List complaints by subscriber, ride, driver, status or openness, newest first."""
    query = request.query
    statuses = frozenset(_choice(ComplaintStatus, s.strip(), "status") for s in query.get("status", "").split(",")
                         if s.strip())
    wanted = ComplaintFilter(
        subscriber_id=_query_id(query.get("subscriber_id"), "subscriber_id"),
        ride_id=_query_id(query.get("ride_id"), "ride_id"),
        driver_id=_query_id(query.get("driver_id"), "driver_id"),
        statuses=complaints.wanted_statuses(statuses, _flag(query.get("open"), "open")),
        limit=min(_query_id(query.get("limit"), "limit") or 100, MAX_LISTED),
    )
    found = await service.list_complaints(request.app[DB], wanted)
    return web.json_response({"complaints": [complaint_json(c) for c in found]})


@allow(*STAFF_ROLES)
async def get_complaint(request: web.Request) -> web.Response:
    """Show a complaint with every change and comment in its history."""
    record = await service.get_complaint(request.app[DB], _complaint_id(request))
    return web.json_response({"complaint": complaint_json(record.complaint),
                              "events": [event_json(e) for e in record.events]})


@allow(*STAFF_ROLES)
async def add_comment(request: web.Request) -> web.Response:
    """Add a comment to a complaint's history."""
    body = required(await json_object(request), "body", str)
    event = await service.add_comment(request.app[DB], _complaint_id(request), body, _actor(request),
                                      datetime.now(UTC))
    return web.json_response({"event": event_json(event)}, status=201)


def category_json(category: Category) -> dict[str, Any]:
    """Render a category for the API."""
    return {"code": category.code, "names": {"en": category.name_en, "fa": category.name_fa},
            "default_priority": category.default_priority.value, "position": category.position,
            "is_active": category.is_active}


def complaint_json(complaint: Complaint) -> dict[str, Any]:
    """Render a complaint for the API."""
    links = complaint.links
    return {
        "id": complaint.id, "category": complaint.category.code,
        "category_names": {"en": complaint.category.name_en, "fa": complaint.category.name_fa},
        "priority": complaint.priority.value, "channel": complaint.channel.value, "status": complaint.status.value,
        "is_open": complaint.status in complaints.OPEN_STATUSES, "description": complaint.description,
        **{name: getattr(links, name) for name in LINKS},
        "opened_by": complaint.opened_by, "opened_by_name": complaint.opened_by_name,
        "assignee_id": complaint.assignee_id, "outcome": _value(complaint.outcome),
        "outcome_note": complaint.outcome_note, "duplicate_of": complaint.duplicate_of,
        "first_response_at": _time(complaint.first_response_at), "closed_at": _time(complaint.closed_at),
        "version": complaint.version, "created_at": _time(complaint.created_at),
        "updated_at": _time(complaint.updated_at),
    }


def event_json(event: ComplaintEvent) -> dict[str, Any]:
    """Render one entry of a complaint's history for the API."""
    return {"id": event.id, "complaint_id": event.complaint_id, "kind": event.kind.value,
            "actor": {"kind": event.actor.kind.value, "id": event.actor.id, "name": event.actor_name},
            "from_status": _value(event.from_status), "to_status": _value(event.to_status), "body": event.body,
            "details": event.details, "at": _time(event.at)}


def _actor(request: web.Request) -> Actor:
    return Actor(ActorKind.STAFF, request[PRINCIPAL].id)


def _complaint_id(request: web.Request) -> int:
    return path_id(request, "complaint_id", "complaint")


def _choice(kind: type[E], raw: str, name: str) -> E:
    try:
        return kind(raw)
    except ValueError:
        options = ", ".join(member.value for member in kind)
        raise InvalidInput(f"'{name}' must be one of {options}.", code="invalid_choice") from None


def _id(value: int | None, name: str) -> int | None:
    if value is not None and not 0 < value <= MAX_ID:
        raise InvalidInput(f"'{name}' must be a positive whole number.", code="wrong_type")
    return value


def _query_id(raw: str | None, name: str) -> int | None:
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        raise InvalidInput(f"'{name}' must be a positive whole number.", code="wrong_type")
    return _id(int(raw), name)


def _flag(raw: str | None, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw not in ("true", "false"):
        raise InvalidInput(f"'{name}' must be true or false.", code="wrong_type")
    return raw == "true"


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
