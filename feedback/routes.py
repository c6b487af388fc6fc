"""HTTP routes of cases: the taxonomy, opening, listing and showing cases, their workflow, comments and evidence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from aiohttp import web

from callcenter import service as staff
from callcenter.keys import add_card_section
from feedback import complaints, customer_routes, evidence, rating_routes, rating_service, service, store, taxonomy
from feedback.events import LINKS, category_json, complaint_json, event_json
from feedback.keys import LINK_KEY, SLA_POLICY
from feedback.model import (
    Actor,
    ActorKind,
    CategoryEdit,
    ComplaintChannel,
    ComplaintFilter,
    ComplaintRequest,
    ComplaintStatus,
    Kind,
    Links,
    Outcome,
    Priority,
    StatusRequest,
    TriageRequest,
)
from feedback.sla import SlaPolicy
from subscribers.keys import add_merge_participant
from taxicrm.auth import STAFF_ROLES, Role, allow
from taxicrm.errors import InvalidInput
from taxicrm.keys import DB, PRINCIPAL, PUBLISHER, SETTINGS
from taxicrm.validation import json_object, optional, path_id, required

MAX_LISTED = 500
MAX_CATEGORY_CODE = 40
MAX_ID = 2**63 - 1  # PostgreSQL's bigint
E = TypeVar("E", bound=StrEnum)


def setup(app: web.Application) -> None:
    """Register the case and rating routes; the screen-pop shows open complaints and a merge moves them."""
    settings = app[SETTINGS]
    app[SLA_POLICY] = SlaPolicy.from_settings(settings.complaint_first_response_minutes,
                                              settings.complaint_resolution_hours)
    app.cleanup_ctx.append(_link_key)
    add_card_section(app, service.open_complaints_on_card)
    add_merge_participant(app, store.move_complaints)
    app.router.add_get("/api/complaint-categories", list_categories)
    app.router.add_post("/api/complaint-categories", add_category)
    app.router.add_patch("/api/complaint-categories/{code}", edit_category)
    app.router.add_get("/api/complaint-assignees", list_assignees)
    app.router.add_post("/api/complaints", open_complaint)
    app.router.add_get("/api/complaints", list_complaints)
    app.router.add_get("/api/complaints/{complaint_id}", get_complaint)
    app.router.add_get("/api/complaints/{complaint_id}/evidence", get_evidence)
    app.router.add_post("/api/complaints/{complaint_id}/comments", add_comment)
    app.router.add_post("/api/complaints/{complaint_id}/assign", assign)
    app.router.add_post("/api/complaints/{complaint_id}/status", change_status)
    app.router.add_post("/api/complaints/{complaint_id}/triage", triage)
    rating_routes.setup(app)
    customer_routes.setup(app)


async def _link_key(app: web.Application) -> AsyncIterator[None]:
    # After the database's context: every instance reads the same key, so any checks a link another issued.
    app[LINK_KEY] = await rating_service.signing_key(app[DB])
    yield


@allow(*STAFF_ROLES)
async def list_categories(request: web.Request) -> web.Response:
    """List the categories new cases may use (`kind` for one kind, `retired=true` with the retired ones)."""
    query = request.query
    kind = query.get("kind")
    found = await service.categories(request.app[DB], retired=_flag(query.get("retired"), "retired") or False,
                                     kind=None if not kind else _choice(Kind, kind, "kind"))
    return web.json_response({"categories": [category_json(c) for c in found]})


@allow(Role.ADMIN)
async def add_category(request: web.Request) -> web.Response:
    """Add a complaint or praise category to the taxonomy (admins)."""
    body = await json_object(request)
    names = required(body, "names", dict)
    priority = optional(body, "default_priority", str)
    category = taxonomy.new_category(
        code=required(body, "code", str, max_length=MAX_CATEGORY_CODE),
        name_en=required(names, "en", str, max_length=taxonomy.MAX_NAME * 2),
        name_fa=required(names, "fa", str, max_length=taxonomy.MAX_NAME * 2),
        kind=_choice(Kind, optional(body, "kind", str) or Kind.COMPLAINT.value, "kind"),
        default_priority=None if priority is None else _choice(Priority, priority, "default_priority"),
        position=optional(body, "position", int))
    added = await service.add_category(request.app[DB], category, datetime.now(UTC))
    return web.json_response({"category": category_json(added)}, status=201)


@allow(Role.ADMIN)
async def edit_category(request: web.Request) -> web.Response:
    """Rename, reorder, re-prioritise, retire (`is_active: false`) or reinstate a category (admins)."""
    body = await json_object(request)
    names = optional(body, "names", dict) or {}
    priority = optional(body, "default_priority", str)
    edit = CategoryEdit(name_en=optional(names, "en", str, max_length=taxonomy.MAX_NAME * 2),
                        name_fa=optional(names, "fa", str, max_length=taxonomy.MAX_NAME * 2),
                        default_priority=None if priority is None else _choice(Priority, priority, "default_priority"),
                        position=optional(body, "position", int), is_active=optional(body, "is_active", bool))
    changed = await service.edit_category(request.app[DB], request.match_info["code"][:MAX_CATEGORY_CODE + 1], edit,
                                          datetime.now(UTC))
    return web.json_response({"category": category_json(changed)})


@allow(*STAFF_ROLES)
async def list_assignees(request: web.Request) -> web.Response:
    """List the staff a case may be assigned to: every active account, by name."""
    users = sorted((u for u in await staff.list_users(request.app[DB]) if u.is_active),
                   key=lambda u: u.display_name.casefold())
    return web.json_response({"assignees": [{"id": u.id, "name": u.display_name, "role": u.role} for u in users]})


@allow(*STAFF_ROLES)
async def open_complaint(request: web.Request) -> web.Response:
    """Open a case; one about a ride takes the ride's subscriber and driver, the caller is who opened it."""
    body = await json_object(request)
    priority = optional(body, "priority", str)
    asked = ComplaintRequest(
        category=required(body, "category", str, max_length=MAX_CATEGORY_CODE),
        description=required(body, "description", str),
        priority=None if priority is None else _choice(Priority, priority, "priority"),
        channel=_choice(ComplaintChannel, optional(body, "channel", str) or "phone", "channel"),
        links=Links(**{name: _id(optional(body, name, int), name) for name in LINKS}),
    )
    now = datetime.now(UTC)
    opened = await service.open_complaint(request.app[DB], request.app[PUBLISHER], request.app[SLA_POLICY], asked,
                                          _actor(request), now)
    return web.json_response({"complaint": complaint_json(opened, now)}, status=201)


@allow(*STAFF_ROLES)
async def list_complaints(request: web.Request) -> web.Response:
    """List cases by subscriber, ride, driver, status, kind, category, priority, assignee or lateness, newest first."""
    query = request.query
    statuses = frozenset(_choice(ComplaintStatus, s, "status") for s in _list(query.get("status")))
    now = datetime.now(UTC)
    kind = query.get("kind")
    wanted = ComplaintFilter(
        subscriber_id=_query_id(query.get("subscriber_id"), "subscriber_id"),
        ride_id=_query_id(query.get("ride_id"), "ride_id"),
        driver_id=_query_id(query.get("driver_id"), "driver_id"),
        statuses=complaints.wanted_statuses(statuses, _flag(query.get("open"), "open")),
        kind=None if not kind else _choice(Kind, kind, "kind"),
        categories=frozenset(c[:MAX_CATEGORY_CODE] for c in _list(query.get("category"))),
        priorities=frozenset(_choice(Priority, p, "priority") for p in _list(query.get("priority"))),
        assignee_id=_assignee(request, query.get("assignee")),
        overdue=_flag(query.get("overdue"), "overdue"), now=now,
        limit=min(_query_id(query.get("limit"), "limit") or 100, MAX_LISTED),
    )
    found = await service.list_complaints(request.app[DB], wanted)
    return web.json_response({"complaints": [complaint_json(c, now) for c in found]})


@allow(*STAFF_ROLES)
async def get_complaint(request: web.Request) -> web.Response:
    """Show a case with every change and comment in its history."""
    record = await service.get_complaint(request.app[DB], _complaint_id(request))
    return web.json_response({"complaint": complaint_json(record.complaint, datetime.now(UTC)),
                              "events": [event_json(e) for e in record.events]})


@allow(*STAFF_ROLES)
async def get_evidence(request: web.Request) -> web.Response:
    """Show what was recorded about what a case concerns: the ride, its offers, fares and trace, the driver, calls."""
    return web.json_response(await evidence.evidence_of(request.app[DB], _complaint_id(request)))


@allow(*STAFF_ROLES)
async def add_comment(request: web.Request) -> web.Response:
    """Add a comment to a case's history."""
    body = required(await json_object(request), "body", str)
    event = await service.add_comment(request.app[DB], request.app[PUBLISHER], _complaint_id(request), body,
                                      _actor(request), datetime.now(UTC))
    return web.json_response({"event": event_json(event)}, status=201)


@allow(Role.SUPERVISOR, Role.ADMIN)
async def assign(request: web.Request) -> web.Response:
    """Give a case to a staff member (supervisors and admins)."""
    body = await json_object(request)
    now = datetime.now(UTC)
    changed, event = await service.assign(
        request.app[DB], request.app[PUBLISHER], _complaint_id(request),
        _id(required(body, "assignee_id", int), "assignee_id") or 0, request[PRINCIPAL], now,
        expected_version=optional(body, "expected_version", int))
    return web.json_response({"complaint": complaint_json(changed, now), "events": [event_json(event)]})


@allow(*STAFF_ROLES)
async def change_status(request: web.Request) -> web.Response:
    """Move a case along its workflow (supervisors, admins, or its assignee); resolving sets its outcome."""
    body = await json_object(request)
    outcome = optional(body, "outcome", str)
    asked = StatusRequest(
        status=_choice(ComplaintStatus, required(body, "status", str), "status"),
        comment=optional(body, "comment", str),
        outcome=None if outcome is None else _choice(Outcome, outcome, "outcome"),
        outcome_note=optional(body, "outcome_note", str),
        duplicate_of=_id(optional(body, "duplicate_of", int), "duplicate_of"),
        expected_version=optional(body, "expected_version", int))
    now = datetime.now(UTC)
    changed, events = await service.change_status(request.app[DB], request.app[PUBLISHER], _complaint_id(request),
                                                  asked, request[PRINCIPAL], now)
    return web.json_response({"complaint": complaint_json(changed, now), "events": [event_json(e) for e in events]})


@allow(*STAFF_ROLES)
async def triage(request: web.Request) -> web.Response:
    """Put an open case in another category or priority (supervisors, admins, or its assignee)."""
    body = await json_object(request)
    priority = optional(body, "priority", str)
    category = optional(body, "category", str, max_length=MAX_CATEGORY_CODE)
    asked = TriageRequest(category=category,
                          priority=None if priority is None else _choice(Priority, priority, "priority"),
                          comment=optional(body, "comment", str),
                          expected_version=optional(body, "expected_version", int))
    now = datetime.now(UTC)
    changed, event = await service.triage(request.app[DB], request.app[PUBLISHER], request.app[SLA_POLICY],
                                          _complaint_id(request), asked, request[PRINCIPAL], now)
    return web.json_response({"complaint": complaint_json(changed, now), "events": [event_json(event)]})


def _actor(request: web.Request) -> Actor:
    return Actor(ActorKind.STAFF, request[PRINCIPAL].id)


def _complaint_id(request: web.Request) -> int:
    return path_id(request, "complaint_id", "complaint")


def _assignee(request: web.Request, raw: str | None) -> int | None:
    if raw == "me":
        return request[PRINCIPAL].id
    return _query_id(raw, "assignee")


def _list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


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

