"""Use cases of cases (complaints and praise): open, list, show, comment, assign, move along the workflow."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import asyncpg

from callcenter import service as staff
from callcenter.model import UserId
from dispatch import booking
from dispatch import service as drivers
from dispatch.errors import DriverAlreadySuspended
from dispatch.model import DriverId
from feedback import complaints, store, taxonomy
from feedback.errors import AssigneeNotFound, CategoryExists, CategoryNotFound, ComplaintNotFound, LinkNotFound
from feedback.events import complaint_changed, complaint_opened
from feedback.model import (
    Actor,
    ActorKind,
    Category,
    CategoryEdit,
    Complaint,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintFilter,
    ComplaintRecord,
    ComplaintRequest,
    ComplaintStatus,
    EventKind,
    Kind,
    Links,
    NewComplaint,
    StatusChange,
    StatusRequest,
    TriageRequest,
)
from feedback.sla import SlaPolicy
from subscribers import service as subscribers
from subscribers.model import SubscriberId
from taxicrm.auth import Principal
from taxicrm.errors import NotFound
from taxicrm.events import Publisher, publish_committed

COMPLAINTS_ON_CARD: Final = 5
CARD_SUMMARY_LENGTH: Final = 140
# Which link a foreign-key violation is about, by the name PostgreSQL gives the constraint.
_LINK_CONSTRAINTS: Final = {f"complaints_{name}_id_fkey": name
                            for name in ("ride", "subscriber", "driver", "call", "operator")}


async def categories(pool: asyncpg.Pool, *, retired: bool = False, kind: Kind | None = None) -> list[Category]:
    """Return the categories a new case may use, and the retired ones if asked."""
    async with pool.acquire() as conn:
        return await store.categories(conn, retired=retired, kind=kind)


async def add_category(pool: asyncpg.Pool, category: Category, now: datetime) -> Category:
    """Add a category to the taxonomy (see taxonomy.new_category); its code is taken for good."""
    async with pool.acquire() as conn:
        added = await store.insert_category(conn, category, now)
    if added is None:
        raise CategoryExists(category.code)
    return added


async def edit_category(pool: asyncpg.Pool, code: str, edit: CategoryEdit, now: datetime) -> Category:
    """Rename, reorder, re-prioritise, retire or reinstate a category; its cases keep it whatever is done."""
    checked = taxonomy.check_edit(edit)
    async with pool.acquire() as conn:
        changed = await store.update_category(conn, code, checked, now)
    if changed is None:
        raise CategoryNotFound(code)
    return changed


async def _known_links(pool: asyncpg.Pool, asked: Links) -> Links:
    """Return what the records named already say: a ride knows its subscriber and driver (dispatch tells us)."""
    if asked.ride_id is None:
        return Links()
    ride = await booking.find_ride(pool, asked.ride_id)
    return Links(ride_id=ride.id, subscriber_id=ride.subscriber_id, driver_id=ride.driver_id)


async def open_complaint(pool: asyncpg.Pool, publisher: Publisher, policy: SlaPolicy, request: ComplaintRequest,
                         by: Actor, now: datetime) -> Complaint:
    """Record a complaint (or praise) as a new case, linked to everything it concerns, its SLA clocks started."""
    async with pool.acquire() as conn:
        category = complaints.check_category(request.category, await store.category(conn, request.category))
    links = complaints.combine_links(request.links, await _known_links(pool, request.links))
    if request.links.subscriber_id is not None:
        # Raises for a subscriber who does not exist or was merged away (the error names the kept one).
        await subscribers.get_subscriber(pool, SubscriberId(request.links.subscriber_id))
    new = complaints.new_complaint(request, category, links, by.id, now, policy)
    async with pool.acquire() as conn, conn.transaction():
        opened = await _insert_opened(conn, new, by)
    await publish_committed(publisher, [complaint_opened(opened, now)])
    return opened


async def open_by_customer(pool: asyncpg.Pool, publisher: Publisher, policy: SlaPolicy, ride_id: int, category: str,
                           description: str, now: datetime) -> Complaint:
    """Record a customer's own report about their ride (from the customer page or a rating link) as a new case.

    The case is about the ride, its subscriber and driver, came by the customer page and was opened by the
    customer; a few such reports per ride are taken (complaints.MAX_CUSTOMER_REPORTS_PER_RIDE).
    """
    links = await _known_links(pool, Links(ride_id=ride_id))
    asked = ComplaintRequest(category=category, description=description, channel=ComplaintChannel.CUSTOMER_PAGE,
                             links=links)
    by = Actor(ActorKind.CUSTOMER, links.subscriber_id)  # a walk-in customer has no record to name
    async with pool.acquire() as conn, conn.transaction():
        earlier = await store.customer_reports(conn, ride_id, lock=True)
        found = complaints.check_customer_report(category, await store.category(conn, category), len(earlier))
        opened = await _insert_opened(conn, complaints.new_complaint(asked, found, links, None, now, policy), by)
    await publish_committed(publisher, [complaint_opened(opened, now)])
    return opened


async def customer_reports(pool: asyncpg.Pool, ride_id: int) -> tuple[list[Category], list[Complaint]]:
    """Return what a customer may report a ride under (the complaint categories) and what they reported already."""
    async with pool.acquire() as conn:
        return (await store.categories(conn, kind=Kind.COMPLAINT), await store.customer_reports(conn, ride_id))


async def _insert_opened(conn: asyncpg.Connection, new: NewComplaint, by: Actor) -> Complaint:
    """Store a validated new case with its first history entry; a link to nothing is refused by name."""
    try:
        complaint_id = await store.insert_complaint(conn, new)
    except asyncpg.ForeignKeyViolationError as err:
        what = _LINK_CONSTRAINTS.get(err.constraint_name or "")
        if what is None:
            raise
        raise LinkNotFound(what, getattr(new.links, f"{what}_id")) from err
    await store.insert_event(conn, complaint_id, EventKind.OPENED, by, new.at, to_status=ComplaintStatus.NEW)
    return await _existing(conn, complaint_id)


async def list_complaints(pool: asyncpg.Pool, wanted: ComplaintFilter) -> list[Complaint]:
    """Return the complaints a filter asks for, newest first."""
    async with pool.acquire() as conn:
        return await store.list_complaints(conn, wanted)


async def get_complaint(pool: asyncpg.Pool, complaint_id: int) -> ComplaintRecord:
    """Return a complaint with its whole history."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        return ComplaintRecord(await _existing(conn, complaint_id), tuple(await store.events_of(conn, complaint_id)))


async def add_comment(pool: asyncpg.Pool, publisher: Publisher, complaint_id: int, body: str, by: Actor,
                      now: datetime) -> ComplaintEvent:
    """Add a comment to a case's history; closed cases take comments too. A first comment is a first response."""
    text = complaints.clean_body(body, "body", complaints.MAX_COMMENT)
    async with pool.acquire() as conn, conn.transaction():
        if not await store.lock_complaint(conn, complaint_id):
            raise ComplaintNotFound(complaint_id)
        await store.touch_complaint(conn, complaint_id, now)
        event = await store.insert_event(conn, complaint_id, EventKind.COMMENTED, by, now, body=text)
        changed = await _existing(conn, complaint_id)
    await publisher.publish(complaint_changed(changed, event, now))
    return event


async def assign(pool: asyncpg.Pool, publisher: Publisher, complaint_id: int, assignee_id: int, by: Principal,
                 now: datetime, expected_version: int | None = None) -> tuple[Complaint, ComplaintEvent]:
    """Give a case to an active staff member; a new case becomes assigned, a pending one stays pending."""
    assignee = await staff.get_user(pool, UserId(assignee_id))
    if assignee is None or not assignee.is_active:
        raise AssigneeNotFound(assignee_id)
    async with pool.acquire() as conn, conn.transaction():
        current = await _locked(conn, complaint_id)
        complaints.check_version(current, expected_version)
        status = complaints.plan_assignment(current, assignee_id)
        await store.assign_complaint(conn, complaint_id, assignee_id, status, now)
        event = await store.insert_event(
            conn, complaint_id, EventKind.ASSIGNED, _actor(by), now, from_status=current.status, to_status=status,
            details={"assignee_id": assignee_id, "assignee_name": assignee.display_name,
                     "previous_assignee_id": current.assignee_id})
        changed = await _existing(conn, complaint_id)
    await publisher.publish(complaint_changed(changed, event, now))
    return changed, event


async def triage(pool: asyncpg.Pool, publisher: Publisher, policy: SlaPolicy, complaint_id: int, asked: TriageRequest,
                 by: Principal, now: datetime) -> tuple[Complaint, ComplaintEvent]:
    """Put an open case in another category or priority (supervisors, admins or its assignee); the clocks follow."""
    async with pool.acquire() as conn, conn.transaction():
        current = await _locked(conn, complaint_id)
        complaints.check_version(current, asked.expected_version)
        complaints.check_may_handle(by.role, by.id, current)
        category = None if asked.category is None else await store.category(conn, asked.category)
        planned = complaints.plan_triage(current, asked, category, policy)
        await store.triage_complaint(conn, complaint_id, planned, now)
        event = await store.insert_event(
            conn, complaint_id, EventKind.TRIAGED, _actor(by), now, body=planned.comment,
            details={"category": planned.category.code, "previous_category": current.category.code,
                     "priority": planned.priority.value, "previous_priority": current.priority.value})
        changed = await _existing(conn, complaint_id)
    await publisher.publish(complaint_changed(changed, event, now))
    return changed, event


async def change_status(pool: asyncpg.Pool, publisher: Publisher, complaint_id: int, asked: StatusRequest,
                        by: Principal, now: datetime) -> tuple[Complaint, list[ComplaintEvent]]:
    """Move a case to the status asked, if the workflow allows it and the caller may; nothing changes otherwise.

    Resolving sets the outcome; resolving a complaint by suspending its driver suspends them in dispatch (one
    already suspended stays so, and the history says it). A status change with a comment keeps the comment in
    the same history entry.
    """
    async with pool.acquire() as conn, conn.transaction():
        current = await _locked(conn, complaint_id)
        complaints.check_version(current, asked.expected_version)
        complaints.check_may_handle(by.role, by.id, current)
        change = complaints.plan_status_change(current, asked, by.role, now)
        if change.duplicate_of is not None and not await store.complaint_exists(conn, change.duplicate_of):
            raise NotFound(f"There is no complaint {change.duplicate_of} to be a duplicate of.",
                           code="duplicate_of_not_found")
        # The case stays locked while dispatch suspends the driver, so nobody can move it meanwhile; if the
        # suspension is refused, this transaction rolls back and the case is as it was.
        suspension = await _suspend_driver(pool, current, change, by, now) if change.suspends_driver else None
        await store.change_status(conn, complaint_id, change, now)
        entries = [await store.insert_event(conn, complaint_id, EventKind.STATUS_CHANGED, _actor(by), now,
                                            from_status=change.from_status, to_status=change.to_status,
                                            body=change.comment, details=_status_details(change))]
        if change.outcome is not None:
            entries.append(await store.insert_event(
                conn, complaint_id, EventKind.OUTCOME_SET, _actor(by), now,
                details={"outcome": change.outcome.value, "outcome_note": change.outcome_note,
                         **({"driver_suspension": suspension} if suspension else {})}))
        changed = await _existing(conn, complaint_id)
    await publisher.publish(complaint_changed(changed, entries[-1], now))
    return changed, entries


async def _suspend_driver(pool: asyncpg.Pool, complaint: Complaint, change: StatusChange, by: Principal,
                          now: datetime) -> dict[str, Any]:
    driver_id = DriverId(complaint.links.driver_id or 0)
    reason = f"Complaint #{complaint.id} ({complaint.category.name_en}): {change.outcome_note or 'resolved'}"
    try:
        profile = await drivers.suspend_driver(pool, driver_id, reason[:drivers.MAX_SUSPENSION_REASON], by.id, now)
    except DriverAlreadySuspended:
        return {"driver_id": driver_id, "already_suspended": True}
    return {"driver_id": driver_id, "already_suspended": False, "reason": profile.suspended_reason}


def _status_details(change: StatusChange) -> dict[str, Any] | None:
    if change.duplicate_of is None:
        return None
    return {"duplicate_of": change.duplicate_of}


def _actor(principal: Principal) -> Actor:
    return Actor(ActorKind.STAFF, principal.id)


async def _locked(conn: asyncpg.Connection, complaint_id: int) -> Complaint:
    if not await store.lock_complaint(conn, complaint_id):
        raise ComplaintNotFound(complaint_id)
    return await _existing(conn, complaint_id)


async def open_complaints_on_card(pool: asyncpg.Pool, subscriber_id: int | None, phone: str) -> Mapping[str, Any]:
    """Return the ringing subscriber's open complaints (a section of the screen-pop card)."""
    if subscriber_id is None:
        return {"open_complaints": []}
    async with pool.acquire() as conn:
        found = await store.card_complaints(conn, subscriber_id, complaints.OPEN_STATUSES, COMPLAINTS_ON_CARD,
                                            CARD_SUMMARY_LENGTH)
    return {"open_complaints": found}


async def _existing(conn: asyncpg.Connection, complaint_id: int) -> Complaint:
    found = await store.complaint(conn, complaint_id)
    if found is None:
        raise ComplaintNotFound(complaint_id)
    return found
