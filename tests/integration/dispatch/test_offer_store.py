import json
from datetime import UTC, datetime, timedelta

import asyncpg

from dispatch import offer_store
from dispatch.model import DriverId, OfferVia, RideId, ZoneStrategy

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

ADD_DRIVERS = """
    INSERT INTO drivers (name, phone, vehicle_class)
    SELECT 'Driver ' || g, '+98935' || lpad(g::text, 7, '0'), 'sedan' FROM generate_series(1, $1) AS g
    RETURNING id
"""
# A ride per driver, in the given status: offered to them while offering, theirs after.
ADD_RIDES = """
    INSERT INTO rides (status, walk_in_name, walk_in_phone, pickup_text, booked_via, idempotency_scope,
                       idempotency_key, request_hash, offered_to, driver_id)
    SELECT $2, 'Walker', '+989121234567', 'Azadi Square', 'self_service', 'test', $2 || d, 'h',
           CASE WHEN $2 = 'offering' THEN d END, CASE WHEN $2 <> 'offering' THEN d END
    FROM unnest($1::bigint[]) AS d
    RETURNING id
"""


async def _drivers(conn: asyncpg.Connection, count: int) -> list[DriverId]:
    return [DriverId(r["id"]) for r in await conn.fetch(ADD_DRIVERS, count)]


async def _rides(conn: asyncpg.Connection, drivers: list[DriverId], status: str) -> list[int]:
    return [r["id"] for r in await conn.fetch(ADD_RIDES, drivers, status)]


async def _offer(conn: asyncpg.Connection, ride_id: int, driver_id: DriverId) -> None:
    offer = offer_store.NewOffer(RideId(ride_id), driver_id, 1, 100.0, OfferVia.NEAREST, NOW,
                                 NOW + timedelta(seconds=15))
    _, made = await offer_store.insert_search(conn, RideId(ride_id), 1000, ZoneStrategy.NEAREST, None, NOW, [], offer)
    assert made is not None


async def test_candidate_facts_tell_a_pending_offer_from_a_ride_in_progress(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        free, offered, driving, finished = await _drivers(conn, 4)
        (offering,) = await _rides(conn, [offered], "offering")
        await _offer(conn, offering, offered)
        await _rides(conn, [driving], "on_board")
        await _rides(conn, [finished], "completed")
        facts = await offer_store.candidate_facts(conn, [free, offered, driving, finished, DriverId(10**9)])
    assert set(facts) == {free, offered, driving, finished}
    assert [(facts[d].has_offer, facts[d].on_a_ride) for d in (free, offered, driving, finished)] == [
        (False, False), (True, False), (False, True), (False, False)]


async def test_candidate_facts_look_each_driver_up_whatever_the_rides_in_progress(db: asyncpg.Pool) -> None:
    # Hundreds of rides in progress and no statistics gathered (autovacuum has not come by): the search's drivers
    # are still looked up one by one in the unique indexes, not found by reading every active ride and offer.
    async with db.acquire() as conn:
        drivers = await _drivers(conn, 600)
        busy, offered = drivers[:300], drivers[300:500]
        await _rides(conn, busy, "assigned")
        for ride_id, driver_id in zip(await _rides(conn, offered, "offering"), offered, strict=True):
            await _offer(conn, ride_id, driver_id)
        plan = json.dumps(json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {offer_store.SELECT_CANDIDATE_FACTS}",
                                                         drivers[-30:])))
    assert "rides_one_active_per_driver" in plan and "ride_offers_one_pending_per_driver" in plan
    assert "hashed" not in plan.lower()
