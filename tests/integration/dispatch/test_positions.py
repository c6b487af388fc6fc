from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dispatch.errors import InvalidCoordinates
from dispatch.model import DriverAvailability, DriverId
from dispatch.positions import GEO_KEY, IDLE_KEY, SEEN_KEY, STATUS_KEY, LivePositions
from dispatch.ride_changes import Changes, publish
from realtime.bus import RedisEventBus

NOW = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)
# Azadi Square, Tehran; 0.001° of latitude is about 111 m.
LAT, LNG = 35.6997, 51.3380
FRESH = timedelta(seconds=30)


@pytest.fixture
def live(redis_client) -> LivePositions:
    return LivePositions(redis_client)


async def command_calls(redis_client, command: str) -> int:
    return (await redis_client.info("commandstats")).get(f"cmdstat_{command}", {}).get("calls", 0)


async def test_a_thousand_fixes_of_ten_drivers_are_written_as_ten_positions_in_one_pipeline(live, redis_client):
    for i in range(1_000):
        driver = DriverId(i % 10 + 1)
        live.record(driver, LAT + i / 100_000, LNG, NOW + timedelta(milliseconds=i),
                    status=DriverAvailability.AVAILABLE)
    assert live.pending == 10
    await redis_client.config_resetstat()

    assert await live.flush() == 10

    assert await command_calls(redis_client, "geoadd") == 1 and await command_calls(redis_client, "zadd") == 1
    # The statuses a restarted Redis would have lost are restored by one script for the batch, not per driver.
    assert await command_calls(redis_client, "eval") == 1
    assert await redis_client.hlen(STATUS_KEY) == 10 and await redis_client.hlen(IDLE_KEY) == 10
    assert await redis_client.zcard(GEO_KEY) == 10 and live.pending == 0
    # Each driver is where its newest fix put it: driver 10 last sent fix 999.
    (lng, lat), = await redis_client.geopos(GEO_KEY, "10")
    assert lat == pytest.approx(LAT + 999 / 100_000, abs=1e-5) and lng == pytest.approx(LNG, abs=1e-5)
    assert await redis_client.zscore(SEEN_KEY, "10") == pytest.approx((NOW + timedelta(milliseconds=999)).timestamp())
    assert await live.flush() == 0


async def test_a_late_older_fix_does_not_move_a_driver_back(live, redis_client):
    live.record(DriverId(1), LAT, LNG, NOW)
    live.record(DriverId(1), LAT + 0.01, LNG, NOW - timedelta(seconds=5))
    await live.flush()
    live.record(DriverId(1), LAT + 0.01, LNG, NOW - timedelta(seconds=5))
    await live.flush()
    assert await redis_client.zscore(SEEN_KEY, "1") == NOW.timestamp()


async def test_nearby_finds_fresh_drivers_inside_the_radius_nearest_first_with_their_status(live):
    live.record(DriverId(1), LAT + 0.002, LNG, NOW)  # ~220 m
    live.record(DriverId(2), LAT + 0.001, LNG, NOW - timedelta(seconds=10))  # ~110 m
    live.record(DriverId(3), LAT + 0.02, LNG, NOW)  # ~2.2 km
    live.record(DriverId(4), LAT, LNG + 0.0005, NOW - timedelta(minutes=5))  # close, but stale
    await live.flush()
    await live.set_status(DriverId(1), DriverAvailability.AVAILABLE)
    await live.set_status(DriverId(2), DriverAvailability.BUSY)

    found = await live.nearby(LAT, LNG, 1_000, NOW, FRESH)

    assert [p.driver_id for p in found] == [2, 1]
    assert found[0].distance_m == pytest.approx(111, abs=2) and found[1].distance_m == pytest.approx(222, abs=3)
    assert [p.status for p in found] == [DriverAvailability.BUSY, DriverAvailability.AVAILABLE]
    assert found[1].last_seen == NOW and found[1].lat == pytest.approx(LAT + 0.002, abs=1e-5)
    # A growing radius reaches the farther driver.
    assert [p.driver_id for p in await live.nearby(LAT, LNG, 3_000, NOW, FRESH)] == [2, 1, 3]


async def test_a_driver_who_never_said_they_are_ready_is_offline(live):
    live.record(DriverId(7), LAT, LNG, NOW)
    await live.flush()
    assert [p.status for p in await live.nearby(LAT, LNG, 100, NOW, FRESH)] == [DriverAvailability.OFFLINE]


async def test_silent_drivers_are_swept_off_the_map_and_shown_unreachable(live, redis_client):
    live.record(DriverId(1), LAT, LNG, NOW - timedelta(minutes=3))
    live.record(DriverId(2), LAT, LNG, NOW - timedelta(seconds=20))
    await live.flush()
    await live.set_status(DriverId(1), DriverAvailability.AVAILABLE)

    assert await live.sweep_silent(NOW, timedelta(minutes=2)) == [1]

    assert await redis_client.zrange(GEO_KEY, 0, -1) == ["2"]
    assert await redis_client.zrange(SEEN_KEY, 0, -1) == ["2"]
    assert await redis_client.hget(STATUS_KEY, "1") == "unreachable"
    assert await live.sweep_silent(NOW, timedelta(minutes=2)) == []
    # Back on the map when it sends again, but not offered work until the app says it is available.
    live.record(DriverId(1), LAT, LNG, NOW)
    await live.flush()
    back, = [p for p in await live.nearby(LAT, LNG, 100, NOW, FRESH) if p.driver_id == 1]
    assert back.status is DriverAvailability.UNREACHABLE


async def test_sweeping_more_than_a_chunk_takes_every_silent_driver(live, redis_client):
    for i in range(1, 1_201):
        live.record(DriverId(i), LAT, LNG, NOW - timedelta(minutes=10))
    await live.flush()
    assert len(await live.sweep_silent(NOW, timedelta(minutes=2))) == 1_200
    assert await redis_client.zcard(GEO_KEY) == 0


async def test_forgetting_a_driver_takes_them_off_the_map_at_once(live, redis_client):
    live.record(DriverId(1), LAT, LNG, NOW)
    await live.flush()
    live.record(DriverId(1), LAT, LNG, NOW)
    await live.forget(DriverId(1))
    await live.flush()
    assert await live.nearby(LAT, LNG, 100, NOW, FRESH) == []
    assert await redis_client.exists(GEO_KEY, SEEN_KEY, STATUS_KEY) == 0


@pytest.mark.parametrize(("lat", "lng"), [
    (91, LNG), (-86, LNG), (LAT, 180.5), (LAT, -181), (float("nan"), LNG), (LAT, float("inf")), (True, LNG),
    ("35.7", LNG),
])
async def test_bad_coordinates_are_refused_before_anything_is_buffered(live, lat, lng):
    with pytest.raises(InvalidCoordinates):
        live.record(DriverId(1), lat, lng, NOW)
    with pytest.raises(InvalidCoordinates):
        await live.nearby(lat, lng, 500, NOW, FRESH)
    assert live.pending == 0


@pytest.mark.parametrize("radius", [0, -5, 100_001])
async def test_a_search_radius_must_be_sensible(live, radius):
    with pytest.raises(InvalidCoordinates):
        await live.nearby(LAT, LNG, radius, NOW, FRESH)


# Redis restarting empty (found by the fault suite, tests/faults): connected drivers' statuses are gone, and a
# driver without a status gets no offers; the apps' next positions bring them back.

async def test_a_status_lost_with_redis_comes_back_with_the_driver_s_next_position(live, redis_client):
    driver = DriverId(7)
    live.record(driver, LAT, LNG, NOW, status=DriverAvailability.AVAILABLE)
    await live.flush()
    await redis_client.flushdb()  # The test's own Redis database, emptied as a restart without its data would.
    assert await live.status_of(driver) is None
    live.record(driver, LAT, LNG, NOW + timedelta(seconds=3), status=DriverAvailability.AVAILABLE)
    await live.flush()
    assert await live.status_of(driver) is DriverAvailability.AVAILABLE
    [found] = await live.nearby(LAT, LNG, 500, NOW + timedelta(seconds=3), FRESH)
    assert (found.driver_id, found.status, found.idle_since) == (driver, DriverAvailability.AVAILABLE,
                                                                  NOW + timedelta(seconds=3))


async def test_a_position_never_overwrites_a_status_the_center_set(live):
    driver = DriverId(8)
    await live.set_status(driver, DriverAvailability.BUSY, NOW)  # e.g. another instance saw the accept
    live.record(driver, LAT, LNG, NOW, status=DriverAvailability.AVAILABLE)
    await live.flush()
    assert await live.status_of(driver) is DriverAvailability.BUSY


async def test_a_status_redis_could_not_take_after_a_commit_is_written_with_the_next_flush(redis_url, redis_client):
    # A driver completing a ride while Redis restarts stayed "busy" there, so was never offered a ride again.
    client = aioredis.from_url(redis_url, decode_responses=True)  # no retries: the dropped connection fails once
    live, driver = LivePositions(client), DriverId(9)
    assert await redis_client.client_kill_filter(_id=await client.client_id()) == 1
    await publish(Changes(statuses={driver: DriverAvailability.AVAILABLE}), RedisEventBus(client, retention=10),
                  live, None, NOW)
    await live.flush()
    assert await live.status_of(driver) is DriverAvailability.AVAILABLE
    await client.aclose()


async def test_flushing_one_driver_writes_only_their_fix_and_leaves_the_rest_for_the_flush(live, redis_client):
    # A driver who just became free must be findable at once; the rest of the buffer keeps its batch.
    for driver in (1, 2, 3):
        live.record(DriverId(driver), LAT + driver / 1_000, LNG, NOW, status=DriverAvailability.AVAILABLE)
    live.heard(DriverId(2), NOW + timedelta(seconds=1))
    live.defer_status(DriverId(2), DriverAvailability.BUSY, NOW)

    await live.flush_driver(DriverId(2))

    assert await redis_client.zrange(GEO_KEY, 0, -1) == ["2"]
    assert await redis_client.zscore(SEEN_KEY, "2") == (NOW + timedelta(seconds=1)).timestamp()
    assert await live.status_of(DriverId(2)) is DriverAvailability.BUSY
    assert live.pending == 2
    await live.flush_driver(DriverId(4))  # Nothing buffered: nothing written.
    assert await live.flush() == 2
    assert sorted(await redis_client.zrange(GEO_KEY, 0, -1)) == ["1", "2", "3"]


async def test_one_driver_s_fix_redis_could_not_take_stays_buffered_for_the_next_flush():
    client = aioredis.from_url("redis://127.0.0.1:1", socket_connect_timeout=1)  # nothing listens there
    live = LivePositions(client)
    live.record(DriverId(5), LAT, LNG, NOW)
    with pytest.raises(RedisError):
        await live.flush_driver(DriverId(5))
    assert live.pending == 1
    await client.aclose()
