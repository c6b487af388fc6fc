"""A driver's steps through a trip, and its trace: fixes buffered on the instance, stored in batches, and read back
(with the last ones) to price it."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import redis.asyncio as aioredis

from dispatch import pricing, ride_store, trace_store
from dispatch.errors import ActorNotAllowed, IllegalTransition
from dispatch.model import Channel, DriverId, NewRide, Place, Ride, RideId, RideStatus, VehicleClass
from dispatch.positions import LivePositions
from dispatch.trace_store import TraceBuffer
from dispatch.traces import TracePoint
from dispatch.trips import Trips
from realtime.bus import RedisEventBus
from taxicrm.app import StatelessConnection

TEHRAN = ZoneInfo("Asia/Tehran")
LAT, LNG = 35.6997, 51.3380
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def fix(n: int) -> TracePoint:
    """The n-th fix of a trip north from Azadi Square, ten seconds and about 110 m apart."""
    return TracePoint(LAT + 0.001 * n, LNG, START + timedelta(seconds=10 * n), 5.0)


async def ride_of(db: asyncpg.Pool, driver_id: int, status: str = "on_board") -> Ride:
    """A walk-in ride of this driver, picked up five minutes ago, in `status` (on board unless told)."""
    new = NewRide(
        subscriber_id=None, walk_in_name="Walker", walk_in_phone="+989121112233", call_id=None,
        pickup=Place("Azadi Square", lat=LAT, lng=LNG), destination=None, passengers=1,
        vehicle_class=VehicleClass.SEDAN, notes_for_driver=None, pickup_at=None, status=RideStatus.REQUESTED,
        booked_by=None, booked_via=Channel.SELF_SERVICE, idempotency_scope="customer:1", idempotency_key="k1",
        request_hash="h", created_at=START, dispatch_after=START)
    async with db.acquire() as conn:
        ride = await ride_store.insert_ride(conn, new)
    assert ride is not None
    async with db.acquire() as conn:
        await conn.execute("UPDATE rides SET status = $4, driver_id = $2, picked_up_at = $3, version = version + 1 "
                           "WHERE id = $1", ride.id, driver_id, START, status)
        found = await ride_store.ride(conn, ride.id)
    assert found is not None
    return found


def trips_on(db: asyncpg.Pool, redis_client: aioredis.Redis, traces: TraceBuffer) -> Trips:
    return Trips(db, RedisEventBus(redis_client, retention=10), LivePositions(redis_client), traces,
                 pricing.Pricer(db, TEHRAN, 1.3, 25), pricing.fare_json, destination_tolerance_m=500,
                 clock=lambda: datetime.now(UTC))


async def stored(db: asyncpg.Pool, ride_id: RideId) -> int:
    return await db.fetchval("SELECT count(*) FROM ride_trace_points WHERE ride_id = $1", ride_id)


async def test_storing_the_last_fixes_and_reading_the_trace_is_one_statement_with_each_fix_once(db, make_driver):
    driver, _ = await make_driver()
    ride = await ride_of(db, driver.id)
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
    ride = await ride_of(db, driver.id)
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
    ride = await ride_of(db, driver.id)
    traces = TraceBuffer(db)
    traces.add(ride.id, fix(0))
    trips = trips_on(db, redis_client, traces)

    with pytest.raises(ActorNotAllowed):
        await trips.complete(DriverId(stranger.id), ride.id)

    assert await stored(db, ride.id) == 0
    assert await traces.flush() == 1 and await stored(db, ride.id) == 1


@pytest.fixture
async def counted(database_url: str):
    """A pool of one connection, and the statements it sends."""
    sent: list[str] = []

    async def init(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: sent.append(record.query))

    # The service's own connections, which send no reset query when they go back to the pool.
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1, init=init,
                                   connection_class=StatelessConnection) as pool:
        yield pool, sent


async def test_a_step_on_the_ride_the_driver_s_app_knows_is_one_statement(counted, db, make_driver, redis_client):
    pool, sent = counted
    driver, _ = await make_driver()
    assigned = await ride_of(db, driver.id, "assigned")
    trips = trips_on(pool, redis_client, TraceBuffer(pool))

    sent.clear()
    arrived = await trips.arrive(DriverId(driver.id), assigned.id, known=assigned)
    assert arrived.status is RideStatus.ARRIVED and len(sent) == 1
    # Told of it with its old view (as assigned): the update finds another version, so the ride is read again.
    sent.clear()
    aboard = await trips.pick_up(DriverId(driver.id), assigned.id, known=assigned)
    assert aboard.status is RideStatus.ON_BOARD and len(sent) == 3


async def test_a_step_refused_on_an_old_view_is_judged_again_on_the_ride_as_committed(db, make_driver, redis_client):
    driver, _ = await make_driver()
    assigned = await ride_of(db, driver.id, "assigned")
    trips = trips_on(db, redis_client, TraceBuffer(db))
    arrived = await trips.arrive(DriverId(driver.id), assigned.id)
    # The app's view is older than the arrival, where boarding is not allowed; as committed it is.
    aboard = await trips.pick_up(DriverId(driver.id), assigned.id, known=assigned)
    assert aboard.status is RideStatus.ON_BOARD and aboard.version > arrived.version
    # And the other way: the app's view allows a step the ride as committed does not.
    with pytest.raises(IllegalTransition):
        await trips.arrive(DriverId(driver.id), assigned.id, known=assigned)


async def test_a_completion_on_an_old_view_is_priced_on_the_ride_as_committed(db, make_driver, redis_client):
    driver, _ = await make_driver()
    ride = await ride_of(db, driver.id)
    # An operator set the destination and a locked price meanwhile; the driver's app still has the ride without.
    quote = {"total_rials": 1_230_000, "lines": [], "rule": "meter"}
    await db.execute("UPDATE rides SET destination_text = 'Tajrish', destination_lat = $3, destination_lng = $4, "
                     "quote = $2, quote_total_rials = 1230000, quote_locked = true, version = version + 1 "
                     "WHERE id = $1", ride.id, json.dumps(quote), fix(1).lat, fix(1).lng)
    traces = TraceBuffer(db)
    traces.add(ride.id, fix(0))

    done = await trips_on(db, redis_client, traces).complete(DriverId(driver.id), ride.id, [fix(1)], known=ride)

    assert done.status is RideStatus.COMPLETED and done.fare_total_rials == 1_230_000
    assert await stored(db, ride.id) == 2  # The fixes were stored once, by the attempt that committed.


async def test_a_completion_of_a_ride_cancelled_since_the_app_saw_it_is_refused_and_stores_nothing(
        db, make_driver, redis_client):
    driver, _ = await make_driver()
    ride = await ride_of(db, driver.id)
    await db.execute("UPDATE rides SET status = 'cancelled', cancel_reason = 'x', version = version + 1 "
                     "WHERE id = $1", ride.id)
    traces = TraceBuffer(db)
    traces.add(ride.id, fix(0))

    with pytest.raises(IllegalTransition):
        await trips_on(db, redis_client, traces).complete(DriverId(driver.id), ride.id, [fix(1)], known=ride)

    assert await stored(db, ride.id) == 0 and traces.take(ride.id) == [fix(0)]


async def test_completing_a_trip_prices_it_on_the_transaction_s_own_connection(database_url, db, make_driver,
                                                                             redis_client):
    # With a pool of one connection, a completion that priced on a second connection waited for itself for good
    # (a burst of completions took the whole pool that way: found by tests/faults; see test_pool_use.py).
    driver, _ = await make_driver()
    ride = await ride_of(db, driver.id)
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool, asyncio.timeout(10):
        done = await trips_on(pool, redis_client, TraceBuffer(pool)).complete(DriverId(driver.id), ride.id)
    assert done.status is RideStatus.COMPLETED and done.fare_total_rials is not None
