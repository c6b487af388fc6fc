import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from dispatch.errors import InvalidCoordinates, NotInZone, ZoneInactive
from dispatch.model import DriverId, QueuedDriver, Zone, ZoneId, ZoneStrategy
from dispatch.zone_queue import OUTSIDE_KEY, QUEUE_PREFIX, QUEUED_KEY, QueueChange, QueueUpdate, ZoneQueues

T0 = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)
A, B = ZoneId(1), ZoneId(2)
RANK = Zone(id=A, code="IKA", name="Airport rank",
            polygon=((35.40, 51.14), (35.40, 51.16), (35.42, 51.16), (35.42, 51.14)),
            default_strategy=ZoneStrategy.QUEUE_FIRST, windows=(), is_active=True, updated_at=T0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def d(number: int) -> DriverId:
    return DriverId(number)


@pytest.fixture
def queues(redis_client) -> ZoneQueues:
    return ZoneQueues(redis_client, leave_grace=timedelta(0))


@pytest.fixture
def patient(redis_client) -> ZoneQueues:
    return ZoneQueues(redis_client, leave_grace=timedelta(seconds=30))


async def order(queues: ZoneQueues, zone_id: ZoneId) -> list[int]:
    return [q.driver_id for q in await queues.queue(zone_id)]


async def assert_consistent(redis_client) -> None:
    """Every queued driver is in exactly the queue the hash names, and in no other."""
    queued = await redis_client.hgetall(QUEUED_KEY)
    members: dict[str, list[str]] = {}
    async for key in redis_client.scan_iter(match=QUEUE_PREFIX + "*"):
        for member in await redis_client.zrange(key, 0, -1):
            members.setdefault(member, []).append(key.removeprefix(QUEUE_PREFIX))
    assert {driver: [zone] for driver, zone in queued.items()} == members


async def test_drivers_wait_first_come_first_served(queues):
    await queues.join(d(7), A, at(10))
    await queues.join(d(3), A, at(20))
    await queues.join(d(5), A, at(5))

    assert await queues.queue(A) == [QueuedDriver(d(5), A, at(5)), QueuedDriver(d(7), A, at(10)),
                                     QueuedDriver(d(3), A, at(20))]
    assert await queues.position_of(d(5)) == (A, 1) and await queues.position_of(d(3)) == (A, 3)
    assert [q.driver_id for q in await queues.queue(A, limit=2)] == [5, 7]
    assert await queues.queue(B) == [] and await queues.position_of(d(99)) is None


async def test_joining_again_keeps_the_first_join_time_and_the_place(queues):
    first = await queues.join(d(1), A, at(0))
    await queues.join(d(2), A, at(5))
    again = await queues.join(d(1), A, at(60))
    assert first.joined_at == again.joined_at == at(0)
    assert await order(queues, A) == [1, 2]


async def test_join_times_keep_their_microseconds(queues):
    when = T0 + timedelta(microseconds=123_457)
    assert (await queues.join(d(1), A, when)).joined_at == when
    assert (await queues.queue(A))[0].joined_at == when


async def test_a_driver_who_joins_another_zone_moves_there_at_the_back(queues, redis_client):
    await queues.join(d(1), A, at(0))
    await queues.join(d(2), B, at(1))
    moved = await queues.join(d(1), B, at(30))

    assert moved == QueuedDriver(d(1), B, at(30))
    assert await order(queues, A) == [] and await order(queues, B) == [2, 1]
    assert await queues.position_of(d(1)) == (B, 2)
    # Coming back is a new arrival: the old place in A is gone.
    assert (await queues.join(d(1), A, at(40))).joined_at == at(40)
    await assert_consistent(redis_client)


async def test_leaving_takes_a_driver_out_of_their_queue_once(queues, redis_client):
    await queues.join(d(1), A, at(0))
    await queues.join(d(2), A, at(1))
    assert await queues.leave(d(1)) == A
    assert await queues.leave(d(1)) is None
    assert await order(queues, A) == [2] and await queues.position_of(d(1)) is None
    await assert_consistent(redis_client)


async def test_check_in_inside_the_zone_joins_its_queue(queues):
    assert await queues.check_in(d(4), RANK, 35.41, 51.15, at(0)) == QueuedDriver(d(4), A, at(0))
    # On the border counts: ranks are often drawn along the kerb.
    await queues.check_in(d(5), RANK, 35.40, 51.15, at(1))
    assert await order(queues, A) == [4, 5]


async def test_check_in_from_outside_the_zone_is_refused_and_changes_nothing(queues):
    await queues.join(d(4), B, at(0))
    with pytest.raises(NotInZone) as caught:
        await queues.check_in(d(4), RANK, 35.43, 51.15, at(1))
    assert caught.value.code == "not_in_zone" and caught.value.status == 409 and "IKA" in caught.value.message
    assert await queues.position_of(d(4)) == (B, 1) and await order(queues, A) == []


async def test_check_in_at_a_deactivated_zone_or_a_bad_position_is_refused(queues):
    closed = Zone(**{**RANK.__dict__, "is_active": False})
    with pytest.raises(ZoneInactive):
        await queues.check_in(d(4), closed, 35.41, 51.15, at(0))
    with pytest.raises(InvalidCoordinates):
        await queues.check_in(d(4), RANK, float("nan"), 51.15, at(0))
    assert await order(queues, A) == []


async def test_sync_joins_available_drivers_inside_zones_and_removes_the_others_in_one_round_trip(
        queues, redis_client):
    await queues.join(d(1), A, at(0))  # will stop being available
    await queues.join(d(2), A, at(1))  # stays, keeps their place
    await queues.join(d(3), B, at(2))  # drives out of every zone
    await redis_client.config_resetstat()

    changes = await queues.sync([
        QueueUpdate(d(1), A, False, at(10)),
        QueueUpdate(d(2), A, True, at(10)),
        QueueUpdate(d(3), None, True, at(10)),
        QueueUpdate(d(4), A, True, at(10)),  # arrives: joins by position
        QueueUpdate(d(5), B, False, at(10)),  # inside, but busy: does not join
        QueueUpdate(d(6), None, True, at(10)),  # nowhere: nothing to do
    ])

    assert sorted(changes, key=lambda c: c.driver_id) == [
        QueueChange(d(1), A, None), QueueChange(d(3), B, None), QueueChange(d(4), None, A)]
    assert await queues.queue(A) == [QueuedDriver(d(2), A, at(1)), QueuedDriver(d(4), A, at(10))]
    assert await order(queues, B) == []
    stats = await redis_client.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == 1
    await assert_consistent(redis_client)


async def test_sync_of_thousands_of_drivers_is_chunked_into_one_pipeline(queues, redis_client):
    updates = [QueueUpdate(d(i), A if i % 2 else B, True, at(i / 1000)) for i in range(1, 2_501)]
    await redis_client.config_resetstat()
    changes = await queues.sync(updates)
    stats = await redis_client.info("commandstats")
    assert len(changes) == 2_500 and stats["cmdstat_evalsha"]["calls"] == 3
    assert await redis_client.zcard(QUEUE_PREFIX + "1") == 1_250
    assert (await order(queues, A))[:3] == [1, 3, 5]
    # The same positions again change nothing.
    assert await queues.sync(updates) == []


async def test_sync_uses_each_drivers_newest_update_in_a_batch(queues):
    changes = await queues.sync([QueueUpdate(d(1), A, True, at(5)), QueueUpdate(d(1), None, True, at(3))])
    assert changes == [QueueChange(d(1), None, A)] and await order(queues, A) == [1]


async def test_a_driver_moving_from_zone_to_zone_by_position_changes_queue(queues):
    await queues.sync([QueueUpdate(d(1), A, True, at(0))])
    assert await queues.sync([QueueUpdate(d(1), B, True, at(5))]) == [QueueChange(d(1), A, B)]
    assert await queues.position_of(d(1)) == (B, 1)
    assert (await queues.queue(B))[0].joined_at == at(5)


async def test_a_brief_excursion_out_of_the_zone_keeps_the_place(patient, redis_client):
    await patient.join(d(1), A, at(0))
    await patient.join(d(2), A, at(1))
    # A GPS fix lands outside the rank, then the next one is back inside.
    assert await patient.sync([QueueUpdate(d(1), None, True, at(10))]) == []
    assert await patient.sync([QueueUpdate(d(1), A, True, at(20))]) == []
    assert await redis_client.hget(OUTSIDE_KEY, "1") is None
    # Out again later: the grace counts from this new excursion, not the first.
    assert await patient.sync([QueueUpdate(d(1), None, True, at(35))]) == []
    assert await patient.sync([QueueUpdate(d(1), None, True, at(60))]) == []
    assert await order(patient, A) == [1, 2]


async def test_a_driver_out_of_the_zone_for_the_grace_leaves_and_joins_where_they_are(patient, redis_client):
    await patient.join(d(1), A, at(0))
    await patient.join(d(2), A, at(1))
    assert await patient.sync([QueueUpdate(d(1), B, True, at(10)), QueueUpdate(d(2), None, True, at(10))]) == []
    changes = await patient.sync([QueueUpdate(d(1), B, True, at(40)), QueueUpdate(d(2), None, True, at(40))])
    assert sorted(changes, key=lambda c: c.driver_id) == [QueueChange(d(1), A, B), QueueChange(d(2), A, None)]
    assert await queues_of(patient) == ([], [1])
    assert await redis_client.hlen(OUTSIDE_KEY) == 0
    await assert_consistent(redis_client)


async def queues_of(queues: ZoneQueues) -> tuple[list[int], list[int]]:
    return await order(queues, A), await order(queues, B)


async def test_a_driver_who_is_no_longer_available_leaves_at_once_whatever_the_grace(patient):
    await patient.join(d(1), A, at(0))
    assert await patient.sync([QueueUpdate(d(1), A, False, at(1))]) == [QueueChange(d(1), A, None)]
    assert await order(patient, A) == []


async def test_clearing_a_zone_empties_its_queue_only(queues, redis_client):
    await queues.join(d(1), A, at(0))
    await queues.join(d(2), A, at(1))
    await queues.join(d(3), B, at(2))
    assert await queues.clear(A) == 2
    assert await queues_of(queues) == ([], [3])
    assert await queues.position_of(d(1)) is None and await queues.position_of(d(3)) == (B, 1)
    await assert_consistent(redis_client)


async def run_all(*operations) -> None:
    """Run each list of calls in order, the lists side by side (each one an instance's request handler)."""
    async def in_order(calls):
        for call in calls:
            await call()
    await asyncio.gather(*(in_order(calls) for calls in operations))


async def test_concurrent_joins_from_two_clients_leave_each_driver_in_one_queue(redis_url, redis_client):
    first, second = (aioredis.from_url(redis_url, decode_responses=True) for _ in range(2))
    try:
        one, two = ZoneQueues(first), ZoneQueues(second)
        # Eight handlers on two instances pull the same ten drivers between five zones, all at once.
        workers = [[(lambda q=(one if w % 2 else two), n=n, w=w: q.join(d(n % 10), ZoneId(1 + (n * w) % 5), at(n)))
                    for n in range(100)] for w in range(8)]
        workers.append([(lambda n=n: two.leave(d(n % 10))) for n in range(0, 100, 7)])
        await run_all(*workers)
        await assert_consistent(redis_client)
        for driver in range(10):
            found = await one.position_of(d(driver))
            if found is not None:
                assert [q.driver_id for q in await two.queue(found[0])].count(driver) == 1
    finally:
        await first.aclose()
        await second.aclose()


async def test_concurrent_syncs_and_joins_stay_consistent(redis_url, redis_client):
    first, second = (aioredis.from_url(redis_url, decode_responses=True) for _ in range(2))
    try:
        one, two = ZoneQueues(first, leave_grace=timedelta(0)), ZoneQueues(second, leave_grace=timedelta(0))
        batches = [[QueueUpdate(d(i), ZoneId(1 + (i + b) % 3) if (i + b) % 4 else None, (i * b) % 5 != 0, at(b))
                    for i in range(50)] for b in range(20)]
        await run_all([(lambda batch=batch: one.sync(batch)) for batch in batches],
                      [(lambda i=i: two.join(d(i), ZoneId(1 + i % 3), at(i))) for i in range(50)],
                      [(lambda i=i: two.leave(d(i))) for i in range(0, 50, 3)])
        await assert_consistent(redis_client)
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_client_that_does_not_decode_replies_reads_the_same_queues(redis_url, queues):
    await queues.join(d(1), A, at(0))
    raw = aioredis.from_url(redis_url)
    try:
        bare = ZoneQueues(raw)
        assert await bare.queue(A) == [QueuedDriver(d(1), A, at(0))]
        assert await bare.position_of(d(1)) == (A, 1)
        assert await bare.sync([QueueUpdate(d(1), None, False, at(1))]) == [QueueChange(d(1), A, None)]
        assert await bare.leave(d(1)) is None
    finally:
        await raw.aclose()
