"""Reading live dispatch for the console and supervisors: offers and searches, nearby and live drivers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dispatch import events, offer_store, ride_store, store, trace_store
from dispatch.booking import RideRecord
from dispatch.dispatcher import SEARCH_LIMIT, candidate_from
from dispatch.errors import DriverNotFound, RideNotFound
from dispatch.model import DriverAvailability, DriverId, DriverProfile, Ride, RideId
from dispatch.offers import SEARCH_RADII_M, rank_candidates
from dispatch.runtime import DispatchRuntime
from dispatch.traces import TracePoint
from taxicrm.auth import Principal
from taxicrm.errors import InvalidInput

MAX_DECISIONS_LISTED = 200
STOP_SECONDS = 5.0


def ride_json(ride: Ride) -> dict[str, Any]:
    """Render a ride for the API."""
    return events.ride_json(ride)


async def matching_record(pool: asyncpg.Pool, ride_id: RideId) -> dict[str, Any]:
    """Return a ride's offers and every search made for it, with the decision on each driver looked at."""
    async with pool.acquire() as conn:
        if await ride_store.ride(conn, ride_id) is None:
            raise RideNotFound(ride_id)
        offers = await offer_store.offers_of_ride(conn, ride_id)
        rows = await offer_store.decisions_of_ride(conn, ride_id)
    searches: dict[int, dict[str, Any]] = {}
    for row in rows:
        search = searches.setdefault(row["search_id"], {
            "id": row["search_id"], "radius_m": row["radius_m"], "strategy": row["strategy"],
            "zone_id": row["zone_id"], "searched_at": row["searched_at"].isoformat(), "decisions": []})
        search["decisions"].append(_decision_json(row))
    return {"offers": [events.offer_json(o) for o in offers], "searches": list(searches.values())}


@dataclass(frozen=True)
class RideEvidence:
    """A ride as another domain's evidence (a complaint about it): its history and offers, driver and GPS trace."""

    record: RideRecord
    driver: DriverProfile | None
    trace: tuple[TracePoint, ...]


async def ride_evidence(pool: asyncpg.Pool, ride_id: int) -> RideEvidence:
    """Return everything dispatch recorded about a ride, read in one snapshot."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        ride = await ride_store.ride(conn, ride_id)
        if ride is None:
            raise RideNotFound(ride_id)
        record = RideRecord(ride, tuple(await ride_store.steps_of(conn, ride.id)),
                            tuple(await offer_store.offers_of_ride(conn, ride.id)))
        driver = None if ride.driver_id is None else await store.driver_profile(conn, ride.driver_id)
        trace = await trace_store.points_of(conn, ride.id)
    return RideEvidence(record, driver, tuple(trace))


async def decisions_of_driver(pool: asyncpg.Pool, driver_id: DriverId, since: datetime,
                              until: datetime) -> list[dict[str, Any]]:
    """Return what searches in [since, until) made of a driver, newest first."""
    async with pool.acquire() as conn:
        rows = await offer_store.decisions_of_driver(conn, driver_id, since, until, MAX_DECISIONS_LISTED)
    return [{"search_id": r["search_id"], "ride_id": r["ride_id"], "searched_at": r["searched_at"].isoformat(),
             "radius_m": r["radius_m"], "strategy": r["strategy"], "offered": r["offered"], **_decision_json(r)}
            for r in rows]


def _decision_json(row: asyncpg.Record) -> dict[str, Any]:
    return {"driver_id": row["driver_id"], "distance_m": row["distance_m"], "rank": row["rank"], "via": row["via"],
            "skip_reason": row["skip_reason"]}


async def nearby_for_ride(runtime: DispatchRuntime, ride_id: RideId, now: datetime) -> list[dict[str, Any]]:
    """Return drivers near a ride's pickup, nearest first, each with what (if anything) stops them taking it."""
    async with runtime.pool.acquire() as conn:
        ride = await ride_store.ride(conn, ride_id)
        if ride is None:
            raise RideNotFound(ride_id)
        if ride.pickup.lat is None or ride.pickup.lng is None:
            return []
        policy = runtime.dispatcher.policy
        live = await runtime.positions.nearby(ride.pickup.lat, ride.pickup.lng, SEARCH_RADII_M[-1], now,
                                              policy.silence, limit=SEARCH_LIMIT)
        facts = await offer_store.candidate_facts(conn, [p.driver_id for p in live])
    candidates = [candidate_from(p, facts[p.driver_id], now) for p in live if p.driver_id in facts]
    decisions = rank_candidates(candidates, ride.state, now=now, radius_m=SEARCH_RADII_M[-1],
                                freshness=policy.freshness)
    where = {p.driver_id: p for p in live}
    return sorted(({
        "driver_id": d.candidate.driver_id, "name": facts[d.candidate.driver_id].name,
        "distance_m": round(d.candidate.distance_m), "status": d.candidate.status.value,
        "vehicle_class": d.candidate.vehicle_class.value, "last_seen": d.candidate.last_seen.isoformat(),
        "lat": where[d.candidate.driver_id].lat, "lng": where[d.candidate.driver_id].lng,
        "can_take": d.is_eligible, "why_not": None if d.skip_reason is None else d.skip_reason.value,
    } for d in decisions), key=lambda item: item["distance_m"])


async def live_drivers(runtime: DispatchRuntime, now: datetime) -> dict[str, Any]:
    """Return the whole fleet with live status, position and last-seen time, and the counts by status."""
    async with runtime.pool.acquire() as conn:
        fleet = await store.list_driver_profiles(conn)
    on_map, statuses = await runtime.positions.everyone()
    drivers = []
    for profile in fleet:
        live = on_map.get(profile.id)
        status = statuses.get(profile.id, DriverAvailability.OFFLINE)
        drivers.append({
            "driver_id": profile.id, "name": profile.name, "suspended": profile.status.value == "suspended",
            "vehicle_class": profile.vehicle_class.value, "plate": profile.plate_display,
            "status": status.value, "lat": None if live is None else live.lat,
            "lng": None if live is None else live.lng,
            "last_seen": None if live is None else live.last_seen.isoformat(),
            "seconds_since_seen": None if live is None else round((now - live.last_seen).total_seconds()),
        })
    counts = Counter(d["status"] for d in drivers)
    return {"counts": {s.value: counts.get(s.value, 0) for s in DriverAvailability}, "drivers": drivers}


async def message_driver(runtime: DispatchRuntime, driver_id: DriverId, text: str, sender: Principal,
                         at: datetime) -> str:
    """Send a message to a driver's app; return its event id."""
    text = " ".join(text.split())
    if not text:
        raise InvalidInput("'text' must not be empty.", code="empty_field")
    async with runtime.pool.acquire() as conn:
        if await store.driver_profile(conn, driver_id) is None:
            raise DriverNotFound(driver_id)
    who = {"id": sender.id, "name": sender.name, "role": str(sender.role)}
    return await runtime.publisher.publish(events.message_to_driver(driver_id, text, who, at))


async def wait_stopped(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Wait (a bounded time) for cancelled background loops to end."""
    if tasks:
        await asyncio.wait(tasks, timeout=STOP_SECONDS)
