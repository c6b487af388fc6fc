"""The evidence of a case, gathered when it is looked at: what dispatch and the call center recorded about it.

A case about a ride shows the ride's history and offers, its fare lines, the driver and the GPS trace of the trip;
a case that came in on a call (or about a ride booked on one) shows the call. Each comes from its owning domain's
service functions, never from feedback's own SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, TypeVar

import asyncpg

from callcenter import call_log
from dispatch import dispatch_service
from dispatch import service as drivers
from dispatch.errors import DriverNotFound
from dispatch.events import offer_json, ride_json, step_json
from dispatch.model import DriverId, DriverProfile
from dispatch.traces import TracePoint
from feedback import rating_store, store
from feedback.errors import ComplaintNotFound
from feedback.events import rating_json
from subscribers import service as subscribers
from subscribers.model import SubscriberId
from taxicrm.errors import DomainError

# Enough for the console's small drawing of the trip; the full trace stays in dispatch.
MAX_TRACE_POINTS: Final = 400
T = TypeVar("T")


def thin(points: Sequence[T], limit: int) -> list[T]:
    """Keep at most `limit` points, evenly spread, always the first and the last."""
    if len(points) <= limit:
        return list(points)
    if limit < 2:
        return list(points[:limit])
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def trace_json(points: Sequence[TracePoint]) -> dict[str, Any]:
    """Render a trip's trace for a drawing: [lat, lng] pairs in time order, with its span."""
    kept = thin(points, MAX_TRACE_POINTS)
    return {"points": [[p.lat, p.lng] for p in kept], "count": len(points),
            "started_at": points[0].at.isoformat() if points else None,
            "ended_at": points[-1].at.isoformat() if points else None}


def driver_json(driver: DriverProfile) -> dict[str, Any]:
    """Render the driver a case is about, as staff see them."""
    return {"id": driver.id, "name": driver.name, "status": driver.status.value, "phone": driver.phone,
            "plate": driver.plate_display, "vehicle_make": driver.vehicle_make,
            "vehicle_model": driver.vehicle_model, "vehicle_colour": driver.vehicle_colour,
            "suspended_at": None if driver.suspended_at is None else driver.suspended_at.isoformat(),
            "suspended_reason": driver.suspended_reason}


async def evidence_of(pool: asyncpg.Pool, complaint_id: int) -> dict[str, Any]:
    """Return the evidence of a case: its ride (history, offers, fares, trace), driver, calls and rating."""
    async with pool.acquire() as conn:
        complaint = await store.complaint(conn, complaint_id)
        if complaint is None:
            raise ComplaintNotFound(complaint_id)
        rating = None if complaint.links.ride_id is None else await rating_store.current_rating(
            conn, complaint.links.ride_id)
    links = complaint.links
    ride: dict[str, Any] | None = None
    driver = None
    call_ids: list[tuple[str, int]] = []
    if links.call_id is not None:
        call_ids.append(("complaint", links.call_id))
    if links.ride_id is not None:
        found = await dispatch_service.ride_evidence(pool, links.ride_id)
        record = found.record
        ride = {"ride": ride_json(record.ride), "events": [step_json(s) for s in record.steps],
                "offers": [offer_json(o) for o in record.offers], "trace": trace_json(found.trace)}
        driver = found.driver
        if record.ride.call_id is not None and record.ride.call_id != links.call_id:
            call_ids.append(("booking", record.ride.call_id))
    if driver is None and links.driver_id is not None:
        driver = await _driver(pool, links.driver_id)
    calls = []
    for role, call_id in call_ids:
        call = await call_log.find_call(pool, call_id)
        if call is not None:
            calls.append({"role": role, **call})
    return {"complaint_id": complaint.id, "ride": ride, "driver": None if driver is None else driver_json(driver),
            "calls": calls, "subscriber": await _subscriber(pool, links.subscriber_id),
            "rating": None if rating is None else rating_json(rating)}


async def _driver(pool: asyncpg.Pool, driver_id: int) -> DriverProfile | None:
    try:
        return await drivers.driver_profile(pool, DriverId(driver_id))
    except DriverNotFound:
        return None


async def _subscriber(pool: asyncpg.Pool, subscriber_id: int | None) -> dict[str, Any] | None:
    if subscriber_id is None:
        return None
    try:
        record = await subscribers.get_subscriber(pool, SubscriberId(subscriber_id))
    except DomainError:  # Merged away or gone: the case keeps its id, the evidence simply lacks the record.
        return None
    return {"id": record.subscriber.id, "name": record.subscriber.name,
            "phones": [p.e164 for p in record.phones], "is_vip": record.subscriber.is_vip}
