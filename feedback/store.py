"""SQL for categories, complaints (and praise) as cases, and their history."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from feedback.model import (
    Actor,
    ActorKind,
    Category,
    CategoryEdit,
    Complaint,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintFilter,
    ComplaintId,
    ComplaintStatus,
    EventKind,
    Kind,
    Links,
    NewComplaint,
    Outcome,
    Priority,
    StatusChange,
    Triage,
)

_CATEGORY_COLUMNS = "code, name_en, name_fa, default_priority, position, is_active, kind"
SELECT_CATEGORIES = f"""
    SELECT {_CATEGORY_COLUMNS} FROM complaint_categories WHERE (is_active OR $1) AND ($2::text IS NULL OR kind = $2)
    ORDER BY position, code
"""
SELECT_CATEGORY = f"SELECT {_CATEGORY_COLUMNS} FROM complaint_categories WHERE code = $1"
INSERT_CATEGORY = f"""
    INSERT INTO complaint_categories (code, name_en, name_fa, default_priority, position, kind, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
    ON CONFLICT (code) DO NOTHING
    RETURNING {_CATEGORY_COLUMNS}
"""
UPDATE_CATEGORY = f"""
    UPDATE complaint_categories SET name_en = coalesce($2, name_en), name_fa = coalesce($3, name_fa),
        default_priority = coalesce($4, default_priority), position = coalesce($5, position),
        is_active = coalesce($6, is_active), updated_at = $7
    WHERE code = $1
    RETURNING {_CATEGORY_COLUMNS}
"""

# Staff names are read for display only (who opened a case, who wrote a comment); callcenter owns staff_users.
_COMPLAINT_COLUMNS = """c.id, c.category AS code, k.name_en, k.name_fa, k.default_priority, k.position, k.is_active,
    c.kind, c.priority, c.channel, c.status, c.description, c.ride_id, c.subscriber_id, c.driver_id, c.call_id,
    c.operator_id, c.opened_by, u.display_name AS opened_by_name, c.assignee_id, a.display_name AS assignee_name,
    c.outcome, c.outcome_note, c.duplicate_of, c.first_response_at, c.first_response_due, c.resolution_due,
    c.closed_at, c.version, c.created_at, c.updated_at"""
_COMPLAINT_FROM = """complaints c JOIN complaint_categories k ON k.code = c.category
    LEFT JOIN staff_users u ON u.id = c.opened_by LEFT JOIN staff_users a ON a.id = c.assignee_id"""
INSERT_COMPLAINT = """
    INSERT INTO complaints (category, priority, channel, description, ride_id, subscriber_id, driver_id, call_id,
                            operator_id, opened_by, created_at, updated_at, kind, first_response_due, resolution_due)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14)
    RETURNING id
"""
SELECT_COMPLAINT = f"SELECT {_COMPLAINT_COLUMNS} FROM {_COMPLAINT_FROM} WHERE c.id = $1"
# Comments on one case take turns, so its version counts every change.
LOCK_COMPLAINT = "SELECT id FROM complaints WHERE id = $1 FOR UPDATE"
# Whatever staff do with a case after opening it is its first response: the clock stops at the first of them.
TOUCH_COMPLAINT = """
    UPDATE complaints SET version = version + 1, updated_at = $2, first_response_at = coalesce(first_response_at, $2)
    WHERE id = $1
"""
ASSIGN_COMPLAINT = """
    UPDATE complaints SET assignee_id = $2, status = $3, version = version + 1, updated_at = $4,
        first_response_at = coalesce(first_response_at, $4)
    WHERE id = $1
"""
CHANGE_STATUS = """
    UPDATE complaints SET status = $2, outcome = $3, outcome_note = $4, duplicate_of = $5, closed_at = $6,
        version = version + 1, updated_at = $7, first_response_at = coalesce(first_response_at, $7)
    WHERE id = $1
"""
TRIAGE_COMPLAINT = """
    UPDATE complaints SET category = $2, priority = $3, first_response_due = $4, resolution_due = $5,
        version = version + 1, updated_at = $6, first_response_at = coalesce(first_response_at, $6)
    WHERE id = $1
"""
# A customer's own reports about a ride: opened on the customer page by nobody on the staff.
CUSTOMER_REPORTS = f"""
    SELECT {_COMPLAINT_COLUMNS} FROM {_COMPLAINT_FROM}
    WHERE c.ride_id = $1 AND c.channel = 'customer_page' AND c.opened_by IS NULL
    ORDER BY c.created_at, c.id
"""
# One customer report about a ride at a time, so the per-ride limit holds however fast they are sent (rides whose
# ids share a remainder take turns too, which costs nothing at this rate).
LOCK_RIDE_REPORTS = """
    SELECT pg_advisory_xact_lock(hashtext('feedback.customer_reports'), ($1::bigint % 2147483647)::int)
"""
COMPLAINT_EXISTS = "SELECT EXISTS (SELECT FROM complaints WHERE id = $1)"
# Still open, and either clock past due and not met (see feedback/sla.py).
_OVERDUE = """(c.status IN ('new', 'assigned', 'pending') AND ((c.first_response_at IS NULL
    AND c.first_response_due < ${0}) OR c.resolution_due < ${0}))"""
# A list filters on at most a few of these; each present filter adds its condition, so every query the
# console sends can use the index on its column instead of a plan that must allow for any of them.
_LIST_CONDITIONS = {
    "subscriber_id": "c.subscriber_id = ${}",
    "ride_id": "c.ride_id = ${}",
    "driver_id": "c.driver_id = ${}",
    "statuses": "c.status = ANY(${}::text[])",
    "kind": "c.kind = ${}",
    "categories": "c.category = ANY(${}::text[])",
    "priorities": "c.priority = ANY(${}::text[])",
    "assignee_id": "c.assignee_id = ${}",
    "overdue": _OVERDUE,
    "not_overdue": f"NOT coalesce({_OVERDUE}, false)",
}

_EVENT_COLUMNS = """e.id, e.complaint_id, e.kind, e.actor_kind, e.actor_id,
    CASE WHEN e.actor_kind = 'staff' THEN u.display_name END AS actor_name,
    e.from_status, e.to_status, e.body, e.details::text AS details, e.at"""
INSERT_EVENT = f"""
    WITH e AS (
        INSERT INTO complaint_events (complaint_id, kind, actor_kind, actor_id, from_status, to_status, body,
                                      details, at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
        RETURNING *
    )
    SELECT {_EVENT_COLUMNS} FROM e LEFT JOIN staff_users u ON u.id = e.actor_id
"""
SELECT_EVENTS = f"""
    SELECT {_EVENT_COLUMNS} FROM complaint_events e LEFT JOIN staff_users u ON u.id = e.actor_id
    WHERE e.complaint_id = $1 ORDER BY e.at, e.id
"""

# The screen-pop's section (complaints, not praise), in one round trip, already as JSON.
SELECT_CARD_COMPLAINTS = """
    SELECT coalesce(json_agg(o), '[]')::text FROM (
        SELECT c.id, c.category, json_build_object('en', k.name_en, 'fa', k.name_fa) AS category_names,
               c.priority, c.status, c.ride_id, left(c.description, $3) AS summary, c.created_at
        FROM complaints c JOIN complaint_categories k ON k.code = c.category
        WHERE c.subscriber_id = $1 AND c.status = ANY($4::text[]) AND c.kind = 'complaint'
        ORDER BY c.created_at DESC LIMIT $2) o
"""
# A merged subscriber's complaints follow them, and each case's history says so.
MOVE_COMPLAINTS = """
    WITH moved AS (
        UPDATE complaints SET subscriber_id = $2, version = version + 1, updated_at = now()
        WHERE subscriber_id = $1
        RETURNING id
    )
    INSERT INTO complaint_events (complaint_id, kind, actor_kind, details, at)
    SELECT id, 'subscriber_merged', 'system',
           jsonb_build_object('from_subscriber_id', $1::bigint, 'to_subscriber_id', $2::bigint), now()
    FROM moved
"""


async def categories(conn: asyncpg.Connection, *, retired: bool = False, kind: Kind | None = None
                     ) -> list[Category]:
    """Return the categories new cases may use (and the retired ones if asked), in the order pickers show them."""
    return [_category(row) for row in await conn.fetch(SELECT_CATEGORIES, retired, _value(kind))]


async def insert_category(conn: asyncpg.Connection, category: Category, at: datetime) -> Category | None:
    """Add a category; None if its code is taken."""
    row = await conn.fetchrow(INSERT_CATEGORY, category.code, category.name_en, category.name_fa,
                              category.default_priority.value, category.position, category.kind.value, at)
    return None if row is None else _category(row)


async def update_category(conn: asyncpg.Connection, code: str, edit: CategoryEdit, at: datetime) -> Category | None:
    """Change the fields of a category the edit gives; None if there is no such category."""
    row = await conn.fetchrow(UPDATE_CATEGORY, code, edit.name_en, edit.name_fa, _value(edit.default_priority),
                              edit.position, edit.is_active, at)
    return None if row is None else _category(row)


async def category(conn: asyncpg.Connection, code: str) -> Category | None:
    """Return one category, retired or not; None if there is none with this code."""
    row = await conn.fetchrow(SELECT_CATEGORY, code)
    return None if row is None else _category(row)


async def insert_complaint(conn: asyncpg.Connection, new: NewComplaint) -> ComplaintId:
    """Store a new complaint and return its id (its case number)."""
    links = new.links
    return ComplaintId(await conn.fetchval(
        INSERT_COMPLAINT, new.category, new.priority.value, new.channel.value, new.description, links.ride_id,
        links.subscriber_id, links.driver_id, links.call_id, links.operator_id, new.opened_by, new.at,
        new.kind.value, new.first_response_due, new.resolution_due))


async def customer_reports(conn: asyncpg.Connection, ride_id: int, *, lock: bool = False) -> list[Complaint]:
    """Return the reports the customer made about a ride themselves, oldest first; `lock` takes turns with others."""
    if lock:
        await conn.execute(LOCK_RIDE_REPORTS, ride_id)
    return [_complaint(row) for row in await conn.fetch(CUSTOMER_REPORTS, ride_id)]


async def complaint_exists(conn: asyncpg.Connection, complaint_id: int) -> bool:
    """Tell whether there is a complaint with this id."""
    return bool(await conn.fetchval(COMPLAINT_EXISTS, complaint_id))


async def assign_complaint(conn: asyncpg.Connection, complaint_id: int, assignee_id: int, status: ComplaintStatus,
                           at: datetime) -> None:
    """Give a case to a staff member, in the status that puts it in."""
    await conn.execute(ASSIGN_COMPLAINT, complaint_id, assignee_id, status.value, at)


async def change_status(conn: asyncpg.Connection, complaint_id: int, change: StatusChange, at: datetime) -> None:
    """Move a case to its next status with what that status needs (outcome, duplicate, close time)."""
    await conn.execute(CHANGE_STATUS, complaint_id, change.to_status.value, _value(change.outcome),
                       change.outcome_note, change.duplicate_of, change.closed_at, at)


async def triage_complaint(conn: asyncpg.Connection, complaint_id: int, triage: Triage, at: datetime) -> None:
    """Put a case in its new category and priority, with the clocks they set."""
    await conn.execute(TRIAGE_COMPLAINT, complaint_id, triage.category.code, triage.priority.value,
                       triage.first_response_due, triage.resolution_due, at)


async def complaint(conn: asyncpg.Connection, complaint_id: int) -> Complaint | None:
    """Return one complaint, or None."""
    row = await conn.fetchrow(SELECT_COMPLAINT, complaint_id)
    return None if row is None else _complaint(row)


async def lock_complaint(conn: asyncpg.Connection, complaint_id: int) -> bool:
    """Lock a complaint for the transaction; False if there is none."""
    return await conn.fetchval(LOCK_COMPLAINT, complaint_id) is not None


async def touch_complaint(conn: asyncpg.Connection, complaint_id: int, at: datetime) -> None:
    """Count a change to the complaint (a comment on it, say)."""
    await conn.execute(TOUCH_COMPLAINT, complaint_id, at)


async def list_complaints(conn: asyncpg.Connection, wanted: ComplaintFilter) -> list[Complaint]:
    """Return the complaints the filter asks for, newest first."""
    given: dict[str, Any] = {
        "subscriber_id": wanted.subscriber_id, "ride_id": wanted.ride_id, "driver_id": wanted.driver_id,
        "statuses": sorted(s.value for s in wanted.statuses) or None, "kind": _value(wanted.kind),
        "categories": sorted(wanted.categories) or None,
        "priorities": sorted(p.value for p in wanted.priorities) or None, "assignee_id": wanted.assignee_id,
        "overdue": wanted.now if wanted.overdue else None,
        "not_overdue": wanted.now if wanted.overdue is False else None,
    }
    conditions, args = [], []
    for name, value in given.items():
        if value is not None:
            args.append(value)
            conditions.append(_LIST_CONDITIONS[name].format(len(args)))
    args.append(wanted.limit)
    where = " AND ".join(conditions) or "true"
    sql = f"SELECT {_COMPLAINT_COLUMNS} FROM {_COMPLAINT_FROM} WHERE {where} " \
          f"ORDER BY c.created_at DESC, c.id DESC LIMIT ${len(args)}"
    return [_complaint(row) for row in await conn.fetch(sql, *args)]


async def insert_event(conn: asyncpg.Connection, complaint_id: int, kind: EventKind, actor: Actor, at: datetime, *,
                       from_status: ComplaintStatus | None = None, to_status: ComplaintStatus | None = None,
                       body: str | None = None, details: dict[str, Any] | None = None) -> ComplaintEvent:
    """Add one entry to a complaint's history and return it."""
    row = await conn.fetchrow(INSERT_EVENT, complaint_id, kind.value, actor.kind.value, actor.id,
                              _value(from_status), _value(to_status), body,
                              None if details is None else json.dumps(details), at)
    return _event(row)


async def events_of(conn: asyncpg.Connection, complaint_id: int) -> list[ComplaintEvent]:
    """Return a complaint's history, oldest first."""
    return [_event(row) for row in await conn.fetch(SELECT_EVENTS, complaint_id)]


async def card_complaints(conn: asyncpg.Connection, subscriber_id: int, statuses: Iterable[ComplaintStatus],
                          limit: int, summary_length: int) -> list[dict[str, Any]]:
    """Return a subscriber's open complaints for the screen-pop card, newest first, as JSON values."""
    found: list[dict[str, Any]] = json.loads(await conn.fetchval(
        SELECT_CARD_COMPLAINTS, subscriber_id, limit, summary_length, sorted(s.value for s in statuses)))
    return found


async def move_complaints(conn: asyncpg.Connection, from_subscriber: int, to_subscriber: int) -> tuple[str, int]:
    """Re-point one subscriber's complaints at another (a merge), noting it in each history; say how many moved."""
    status = await conn.execute(MOVE_COMPLAINTS, from_subscriber, to_subscriber)
    return "complaints", int(status.split()[-1])


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def _category(row: asyncpg.Record) -> Category:
    return Category(code=row["code"], name_en=row["name_en"],
                    name_fa=row["name_fa"], default_priority=Priority(row["default_priority"]),
                    position=row["position"], is_active=row["is_active"], kind=Kind(row["kind"]))


def _complaint(row: asyncpg.Record) -> Complaint:
    return Complaint(
        id=ComplaintId(row["id"]), category=_category(row), priority=Priority(row["priority"]),
        channel=ComplaintChannel(row["channel"]), status=ComplaintStatus(row["status"]),
        description=row["description"],
        links=Links(ride_id=row["ride_id"], subscriber_id=row["subscriber_id"], driver_id=row["driver_id"],
                    call_id=row["call_id"], operator_id=row["operator_id"]),
        opened_by=row["opened_by"], opened_by_name=row["opened_by_name"], assignee_id=row["assignee_id"],
        assignee_name=row["assignee_name"],
        outcome=None if row["outcome"] is None else Outcome(row["outcome"]), outcome_note=row["outcome_note"],
        duplicate_of=None if row["duplicate_of"] is None else ComplaintId(row["duplicate_of"]),
        first_response_at=row["first_response_at"], closed_at=row["closed_at"], version=row["version"],
        created_at=row["created_at"], updated_at=row["updated_at"], kind=Kind(row["kind"]),
        first_response_due=row["first_response_due"], resolution_due=row["resolution_due"],
    )


def _event(row: asyncpg.Record) -> ComplaintEvent:
    return ComplaintEvent(
        id=row["id"], complaint_id=ComplaintId(row["complaint_id"]), kind=EventKind(row["kind"]),
        actor=Actor(ActorKind(row["actor_kind"]), row["actor_id"]), actor_name=row["actor_name"],
        from_status=None if row["from_status"] is None else ComplaintStatus(row["from_status"]),
        to_status=None if row["to_status"] is None else ComplaintStatus(row["to_status"]),
        body=row["body"], details=None if row["details"] is None else json.loads(row["details"]), at=row["at"],
    )
