"""The fleet's batched writes and the drivers' connection marks, against real Redis and PostgreSQL."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.fleet import Fleet
from dispatch.model import DriverId, RideId
from dispatch.positions import GEO_KEY, LivePositions
from dispatch.presence import Presence
from dispatch.trace_store import TraceBuffer
from dispatch.traces import TracePoint

NOW = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)
LAT, LNG = 35.6997, 51.3380


@pytest.fixture
def presence(redis_client) -> Presence:
    return Presence(redis_client, ttl=timedelta(seconds=2))


async def test_a_newer_connection_keeps_the_mark_an_older_one_cannot_end_or_renew(presence, redis_client):
    driver = DriverId(7)
    await presence.connect(driver, "old")
    await presence.connect(driver, "new")  # The app reconnected before the old socket was noticed dead.
    await presence.disconnect(driver, "old")
    assert await presence.is_connected(driver)
    presence.alive(driver, "old")
    await presence.flush()
    assert await redis_client.get("taxicrm:drivers:connection:7") == "new"
    await presence.disconnect(driver, "new")
    assert not await presence.is_connected(driver)


async def test_a_mark_lapses_unless_renewed_so_a_dead_instance_leaves_no_ghost(presence, redis_client):
    await presence.connect(DriverId(1), "a")
    await presence.connect(DriverId(2), "b")
    for _ in range(3):
        await asyncio.sleep(0.8)
        presence.alive(DriverId(1), "a")  # Only driver 1's app keeps talking.
        await presence.flush()
    assert await presence.is_connected(DriverId(1)) and not await presence.is_connected(DriverId(2))



async def test_one_flush_renews_every_mark_still_held_by_the_connection_noted_alive(presence, redis_client):
    for driver in range(1, 201):
        await presence.connect(DriverId(driver), f"app-{driver}")
    await presence.connect(DriverId(200), "newer")  # Driver 200's app reconnected elsewhere; "app-200" is dead.
    await asyncio.sleep(1.2)
    for driver in range(1, 201):
        presence.alive(DriverId(driver), f"app-{driver}")
    await redis_client.config_resetstat()
    await presence.flush()
    evalsha = (await redis_client.info("commandstats")).get("cmdstat_evalsha", {})
    # The whole batch in one script, not a call per driver (a first NOSCRIPT, answered by loading it, failed).
    assert evalsha.get("calls", 0) - evalsha.get("failed_calls", 0) == 1
    await asyncio.sleep(1.2)  # Past the first TTL: only the renewed marks are left.
    assert all([await presence.is_connected(DriverId(d)) for d in range(1, 200)])
    assert not await presence.is_connected(DriverId(200))

async def test_the_fleet_flushes_in_the_background_and_once_more_when_stopped(db, redis_client, presence):
    positions = LivePositions(redis_client)
    fleet = Fleet(positions, TraceBuffer(db), presence)
    runner = asyncio.create_task(fleet.run(0.05))
    fleet.record(DriverId(1), TracePoint(LAT, LNG, NOW), is_available=True, on_trip=None)
    for _ in range(50):
        await asyncio.sleep(0.02)
        if await redis_client.zcard(GEO_KEY):
            break
    assert await redis_client.zcard(GEO_KEY) == 1
    fleet.record(DriverId(2), TracePoint(LAT, LNG, NOW), is_available=True, on_trip=None)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert await redis_client.zcard(GEO_KEY) == 2


async def test_fixes_of_a_trip_are_written_with_the_flush_and_stored_once(db, redis_client, presence):
    from dispatch import ride_store
    from dispatch.model import Channel, NewRide, Place, RideStatus, VehicleClass

    new = NewRide(subscriber_id=None, walk_in_name="W", walk_in_phone="+989121234567", call_id=None,
                  pickup=Place("Azadi"), destination=None, passengers=1, vehicle_class=VehicleClass.SEDAN,
                  notes_for_driver=None, pickup_at=None, status=RideStatus.REQUESTED, booked_by=None,
                  booked_via=Channel.SELF_SERVICE, idempotency_scope="c", idempotency_key="k", request_hash="h",
                  created_at=NOW)
    async with db.acquire() as conn:
        ride = await ride_store.insert_ride(conn, new)
    fleet = Fleet(LivePositions(redis_client), TraceBuffer(db), presence)
    fix = TracePoint(LAT, LNG, NOW, 5.0)
    for point in (fix, fix, TracePoint(LAT + 0.001, LNG, NOW + timedelta(seconds=3))):
        fleet.record(DriverId(1), point, is_available=False, on_trip=RideId(ride.id))
    await fleet.flush()
    fleet.record(DriverId(1), fix, is_available=False, on_trip=RideId(ride.id))  # Resent after a reconnect.
    await fleet.flush()
    assert await db.fetchval("SELECT count(*) FROM ride_trace_points WHERE ride_id = $1", ride.id) == 2


async def test_drivers_outside_every_zone_stop_costing_the_rank_queues_once_past_their_leave_grace(
        db, redis_client, presence):
    from dispatch.fleet import QUEUE_WATCH
    from dispatch.zone_queue import ZoneQueues
    from dispatch.zone_service import ZoneMap

    zone_map = ZoneMap(db)
    await zone_map.refresh()
    fleet = Fleet(LivePositions(redis_client), TraceBuffer(db), presence, zone_map, ZoneQueues(redis_client))

    async def scripts_run_by_a_flush(at: datetime) -> int:
        fleet.record(DriverId(1), TracePoint(LAT, LNG, at), is_available=True, on_trip=None)
        await redis_client.config_resetstat()
        await fleet.flush()
        stats = await redis_client.info("commandstats")
        return sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("evalsha", "eval"))

    # Just connected here: maybe queued by another instance, so the queues hear of the driver for a while.
    assert await scripts_run_by_a_flush(NOW) == 1
    assert await scripts_run_by_a_flush(NOW + QUEUE_WATCH) == 1
    assert await scripts_run_by_a_flush(NOW + QUEUE_WATCH + timedelta(seconds=3)) == 0
