"""No use case waits for a second pooled connection while holding one (found by the fault suite, tests/faults).

A burst of such callers takes every connection of the pool, each waiting for another, and the instance hangs
for good. With a pool of one connection, the old code waits forever; these tests give it a few seconds.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import redis.asyncio as aioredis

from callcenter import telephony
from callcenter.webhook import parse_call_event
from dispatch import booking, pricing, ride_store
from dispatch.model import Channel, NewRide, Place, RideStatus, VehicleClass
from dispatch.positions import LivePositions
from dispatch.trace_store import TraceBuffer
from dispatch.trips import Trips
from feedback.service import open_complaints_on_card
from realtime.bus import RedisEventBus
from subscribers.phones import PhonePlan

TEHRAN = ZoneInfo("Asia/Tehran")
LAT, LNG = 35.6997, 51.3380
WITHIN_SECONDS = 10


@pytest.fixture
async def one_connection(database_url: str):
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool:
        yield pool


async def test_completing_a_trip_prices_it_on_the_transaction_s_own_connection(
        one_connection, db, make_driver, redis_client: aioredis.Redis):
    driver, _ = await make_driver()
    now = datetime.now(UTC)
    new = NewRide(
        subscriber_id=None, walk_in_name="Walker", walk_in_phone="+989121112233", call_id=None,
        pickup=Place("Azadi Square", lat=LAT, lng=LNG), destination=None, passengers=1,
        vehicle_class=VehicleClass.SEDAN, notes_for_driver=None, pickup_at=None, status=RideStatus.REQUESTED,
        booked_by=None, booked_via=Channel.SELF_SERVICE, idempotency_scope="customer:1", idempotency_key="k1",
        request_hash="h", created_at=now, dispatch_after=now)
    async with db.acquire() as conn:
        ride = await ride_store.insert_ride(conn, new)
    await db.execute("UPDATE rides SET status = 'on_board', driver_id = $2, picked_up_at = $3, version = version + 1 "
                     "WHERE id = $1", ride.id, driver.id, now - timedelta(minutes=5))
    pool = one_connection
    trips = Trips(pool, RedisEventBus(redis_client, retention=10), LivePositions(redis_client), TraceBuffer(pool),
                  pricing.Pricer(pool, TEHRAN, 1.3, 25), pricing.fare_json, destination_tolerance_m=500,
                  clock=lambda: datetime.now(UTC))
    async with asyncio.timeout(WITHIN_SECONDS):
        done = await trips.complete(driver.id, ride.id)
    assert done.status is RideStatus.COMPLETED and done.fare_total_rials is not None


async def test_a_ringing_call_gathers_the_card_without_holding_a_connection(one_connection, redis_client):
    sections = (booking.rides_on_card, open_complaints_on_card)
    phone = telephony.Telephony(one_connection, RedisEventBus(redis_client, retention=10), PhonePlan(), TEHRAN,
                                sections)
    event = parse_call_event({"event": "ringing", "call_id": "pool-1", "caller": "09121234567", "extensions": "201"},
                             datetime.now(UTC))
    async with asyncio.timeout(WITHIN_SECONDS):
        outcome = await telephony.handle_call_event(phone, event)
    assert outcome.call_id is not None
