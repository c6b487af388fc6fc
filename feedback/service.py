"""Use cases of complaints: open one tied to what it concerns, list and show them, comment on them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import asyncpg

from dispatch import booking
from feedback import complaints, store
from feedback.errors import ComplaintNotFound, LinkNotFound
from feedback.model import (
    Actor,
    Category,
    Complaint,
    ComplaintEvent,
    ComplaintFilter,
    ComplaintRecord,
    ComplaintRequest,
    ComplaintStatus,
    EventKind,
    Links,
)
from subscribers import service as subscribers
from subscribers.model import SubscriberId

COMPLAINTS_ON_CARD: Final = 5
CARD_SUMMARY_LENGTH: Final = 140
# Which link a foreign-key violation is about, by the name PostgreSQL gives the constraint.
_LINK_CONSTRAINTS: Final = {f"complaints_{name}_id_fkey": name
                            for name in ("ride", "subscriber", "driver", "call", "operator")}


async def categories(pool: asyncpg.Pool) -> list[Category]:
    """Return the categories a new complaint may use."""
    async with pool.acquire() as conn:
        return await store.categories(conn)


async def _known_links(pool: asyncpg.Pool, asked: Links) -> Links:
    """Return what the records named already say: a ride knows its subscriber and driver (dispatch tells us)."""
    if asked.ride_id is None:
        return Links()
    ride = await booking.find_ride(pool, asked.ride_id)
    return Links(ride_id=ride.id, subscriber_id=ride.subscriber_id, driver_id=ride.driver_id)


async def open_complaint(pool: asyncpg.Pool, request: ComplaintRequest, by: Actor, now: datetime) -> Complaint:
    """Record a complaint as a new case, linked to everything it concerns, with its first history entry."""
    async with pool.acquire() as conn:
        category = complaints.check_category(request.category, await store.category(conn, request.category))
    links = complaints.combine_links(request.links, await _known_links(pool, request.links))
    if request.links.subscriber_id is not None:
        # Raises for a subscriber who does not exist or was merged away (the error names the kept one).
        await subscribers.get_subscriber(pool, SubscriberId(request.links.subscriber_id))
    new = complaints.new_complaint(request, category, links, by.id, now)
    async with pool.acquire() as conn, conn.transaction():
        try:
            complaint_id = await store.insert_complaint(conn, new)
        except asyncpg.ForeignKeyViolationError as err:
            what = _LINK_CONSTRAINTS.get(err.constraint_name or "")
            if what is None:
                raise
            raise LinkNotFound(what, getattr(links, f"{what}_id")) from err
        await store.insert_event(conn, complaint_id, EventKind.OPENED, by, now, to_status=ComplaintStatus.NEW)
        return await _existing(conn, complaint_id)


async def list_complaints(pool: asyncpg.Pool, wanted: ComplaintFilter) -> list[Complaint]:
    """Return the complaints a filter asks for, newest first."""
    async with pool.acquire() as conn:
        return await store.list_complaints(conn, wanted)


async def get_complaint(pool: asyncpg.Pool, complaint_id: int) -> ComplaintRecord:
    """Return a complaint with its whole history."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        return ComplaintRecord(await _existing(conn, complaint_id), tuple(await store.events_of(conn, complaint_id)))


async def add_comment(pool: asyncpg.Pool, complaint_id: int, body: str, by: Actor, now: datetime) -> ComplaintEvent:
    """Add a comment to a complaint's history; closed cases take comments too."""
    text = complaints.clean_body(body, "body", complaints.MAX_COMMENT)
    async with pool.acquire() as conn, conn.transaction():
        if not await store.lock_complaint(conn, complaint_id):
            raise ComplaintNotFound(complaint_id)
        await store.touch_complaint(conn, complaint_id, now)
        return await store.insert_event(conn, complaint_id, EventKind.COMMENTED, by, now, body=text)


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
