"""A trip's trace: fixes buffered on the instance, stored in batches, and read back (with the last ones) to price it."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import redis.asyncio as aioredis

from dispatch import pricing, ride_store, trace_store
from dispatch.errors import ActorNotAllowed
from dispatch.model import Channel, DriverId, NewRide, Place, Ride, RideId, RideStatus, VehicleClass
from dispatch.positions import LivePositions
from dispatch.trace_store import TraceBuffer
from dispatch.traces import TracePoint
from dispatch.trips import Trips
from realtime.bus import RedisEventBus

TEHRAN = ZoneInfo("Asia/Tehran")
LAT, LNG = 35.6997, 51.3380
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def fix(n: int) -> TracePoint:
    """The n-th fix of a trip north from Azadi Square, ten seconds and about 110 m apart."""
    return TracePoint(LAT + 0.001 * n, LNG, START + timedelta(seconds=10 * n), 5.0)


async def on_board(db: asyncpg.Pool, driver_id: int) -> Ride:
    new = NewRide(
        subscriber_id=None, walk_in_name="Walker", walk_in_phone="+989121112233", call_id=None,
        pickup=Place("Azadi Square", lat=LAT, lng=LNG), destination=None, passengers=1,
        vehicle_class=VehicleClass.SEDAN, notes_for_driver=None, pickup_at=None, status=RideStatus.REQUESTED,
        booked_by=None, booked_via=Channel.SELF_SERVICE, idempotency_scope="customer:1", idempotency_key="k1",
        request_hash="h", created_at=START, dispatch_after=START)
    async with db.acquire() as conn:
        ride = await ride_store.insert_ride(conn, new)
    assert ride is not None
    await db.execute("UPDATE rides SET status = 'on_board', driver_id = $2, picked_up_at = $3, version = version + 1 "
                     "WHERE id = $1", ride.id, driver_id, START)
    return ride


def trips_on(db: asyncpg.Pool, redis_client: aioredis.Redis, traces: TraceBuffer) -> Trips:
    return Trips(db, RedisEventBus(redis_client, retention=10), LivePositions(redis_client), traces,
                 pricing.Pricer(db, TEHRAN, 1.3, 25), pricing.fare_json, destination_tolerance_m=500,
                 clock=lambda: datetime.now(UTC))


async def stored(db: asyncpg.Pool, ride_id: RideId) -> int:
    return await db.fetchval("SELECT count(*) FROM ride_trace_points WHERE ride_id = $1", ride_id)


async def test_storing_the_last_fixes_and_reading_the_trace_is_one_statement_with_each_fix_once(db, make_driver):
    driver, _ = await make_driver()
    ride = await on_board(db, driver.id)
    async with db.acquire() as conn:
        await trace_store.insert_points(conn, [(ride.id, fix(0)), (ride.id, fix(2))])
        # One already stored (fix 2, resent after a reconnect), two new, one of them twice.
        trace = await trace_store.store_and_read(conn, ride.id, [fix(3), fix(2), fix(1), fix(3)])
        again = await trace_store.store_and_read(conn, ride.id, [])
    assert trace == again == [fix(0), fix(1), fix(2), fix(3)]
    assert await stored(db, ride.id) == 4


async def test_a_completion_stores_its_trip_s_buffered_fixes_itself_and_leaves_the_others(
        db, make_driver, redis_client):
    driver, _ = await make_driver()
    ride = await on_board(db, driver.id)
    traces = TraceBuffer(db)
    for n in range(4):
        traces.add(ride.id, fix(n))
    traces.add(RideId(ride.id + 1_000), fix(9))  # another instance's trip, still buffered here

    done = await trips_on(db, redis_client, traces).complete(DriverId(driver.id), ride.id, [fix(4)])

    assert done.status is RideStatus.COMPLETED and done.fare is not None
    assert done.fare["trace_points"] == 5  # No quote: the meter's own figures are the fare.
    assert await stored(db, ride.id) == 5
    assert traces.take(RideId(ride.id + 1_000)) == [fix(9)] and traces.take(ride.id) == []


async def test_a_refused_completion_puts_the_trip_s_fixes_back_for_the_next_flush(db, make_driver, redis_client):
    driver, _ = await make_driver()
    stranger, _ = await make_driver()
    ride = await on_board(db, driver.id)
    traces = TraceBuffer(db)
    traces.add(ride.id, fix(0))
    trips = trips_on(db, redis_client, traces)

    with pytest.raises(ActorNotAllowed):
        await trips.complete(DriverId(stranger.id), ride.id)

    assert await stored(db, ride.id) == 0
    assert await traces.flush() == 1 and await stored(db, ride.id) == 1
