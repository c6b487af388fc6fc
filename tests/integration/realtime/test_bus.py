import asyncio

import pytest
import redis.asyncio as aioredis

import realtime.bus
from realtime.bus import STREAM_KEY, RedisEventBus
from taxicrm.events import OPERATORS, Event, PublishedEvent, driver_audience


def ride_event(n: int) -> Event:
    return Event("ride.created", (OPERATORS,), {"ride_id": n, "note": "پیک"})


@pytest.fixture
def bus(redis_client: aioredis.Redis) -> RedisEventBus:
    return RedisEventBus(redis_client, retention=1000)


async def test_published_events_come_back_in_order_after_an_id(bus):
    ids = [await bus.publish(ride_event(n)) for n in range(5)]
    events = await bus.read_since(ids[1])
    assert [e.id for e in events] == ids[2:]
    assert events[0] == PublishedEvent(ids[2], "ride.created", (OPERATORS,), {"ride_id": 2, "note": "پیک"})
    assert await bus.read_since(ids[-1]) == []
    assert await bus.last_id() == ids[-1]


async def test_publish_all_appends_together_in_order(bus):
    before = await bus.publish(ride_event(0))
    ids = await bus.publish_all([ride_event(n) for n in range(1, 4)])
    assert [e.data["ride_id"] for e in await bus.read_since(before)] == [1, 2, 3]
    assert sorted(ids) == ids


async def test_a_long_backlog_is_read_in_pages_without_loss(bus, monkeypatch):
    monkeypatch.setattr(realtime.bus, "PAGE_SIZE", 3)
    ids = await bus.publish_all([ride_event(n) for n in range(10)])
    assert [e.id for e in await bus.read_since(ids[0])] == ids[1:]
    assert [e.id for e in await bus.read_since(ids[4])] == ids[5:]


async def test_before_anything_is_published_only_the_zero_id_is_complete(bus):
    assert await bus.last_id() == "0-0"
    assert await bus.read_since("0-0") == []
    # An id from a stream that no longer exists: what followed it is lost.
    assert await bus.read_since("1700000000000-0") is None


async def test_the_zero_id_replays_everything_while_nothing_was_trimmed(bus, redis_client):
    ids = await bus.publish_all([ride_event(n) for n in range(3)])
    if "entries-added" not in await redis_client.xinfo_stream(STREAM_KEY):
        # Before Redis 7 a stream does not count what it dropped, so the bus must assume the worst.
        assert await bus.read_since("0-0") is None
    else:
        assert [e.id for e in await bus.read_since("0-0")] == ids


async def test_trimmed_history_asks_for_a_resync(redis_client):
    bus = RedisEventBus(redis_client, retention=10)
    ids = await bus.publish_all([ride_event(n) for n in range(300)])
    assert await redis_client.xlen(STREAM_KEY) < 300  # Approximate trimming did drop the head.
    assert await bus.read_since(ids[0]) is None
    assert await bus.read_since("0-0") is None
    assert [e.id for e in await bus.read_since(ids[-4])] == ids[-3:]


async def test_an_id_the_stream_never_reached_asks_for_a_resync(bus):
    last = await bus.publish(ride_event(1))
    ms, _ = last.split("-")
    assert await bus.read_since(f"{int(ms) + 60_000}-0") is None
    # And so does one older than a never-trimmed stream's first entry: it belongs to a lost stream.
    assert await bus.read_since("1-0") is None


@pytest.mark.parametrize("bad", ["", "abc", "12", "12-", "-1", "1-2-3", "1.5-0", " 1-0", f"{2**64}-0"])
async def test_malformed_ids_are_refused(bus, bad):
    with pytest.raises(ValueError):
        await bus.read_since(bad)


async def test_malformed_entries_written_by_others_are_skipped(bus, redis_client):
    first = await bus.publish(ride_event(1))
    await redis_client.xadd(STREAM_KEY, {"topic": "junk", "audiences": "not json", "data": "{}"})
    last = await bus.publish(ride_event(2))
    assert [e.id for e in await bus.read_since(first)] == [last]


async def test_the_reader_hands_every_later_event_to_listeners(redis_client):
    publisher = RedisEventBus(redis_client, retention=1000)  # Another instance, sharing only Redis.
    await publisher.publish(ride_event(0))
    reader_bus = RedisEventBus(redis_client, retention=1000)
    received: asyncio.Queue[PublishedEvent] = asyncio.Queue()
    unsubscribe = reader_bus.subscribe(received.put_nowait)
    reader = asyncio.create_task(reader_bus.run())
    try:
        await asyncio.wait_for(reader_bus.wait_reading(), 5)
        ids = [await publisher.publish(ride_event(n)) for n in (1, 2)]
        ids += await publisher.publish_all([Event("driver.paused", (driver_audience(7),))])
        got = [await asyncio.wait_for(received.get(), 5) for _ in ids]
        assert [e.id for e in got] == ids
        assert got[2].topic == "driver.paused" and got[2].audiences == ("driver:7",)
        assert received.empty()  # Event 0 came before the reader started: listeners get only later ones.
        unsubscribe()
        await publisher.publish(ride_event(3))
        await asyncio.sleep(0.2)
        assert received.empty()
    finally:
        reader.cancel()
        await asyncio.wait({reader})
    assert reader.cancelled()


async def test_the_reader_resumes_after_losing_its_connection_without_missing_events(redis_client):
    publisher = RedisEventBus(redis_client, retention=1000)
    reader_bus = RedisEventBus(redis_client, retention=1000)
    received: asyncio.Queue[PublishedEvent] = asyncio.Queue()
    reader_bus.subscribe(received.put_nowait)
    reader = asyncio.create_task(reader_bus.run())
    try:
        await asyncio.wait_for(reader_bus.wait_reading(), 5)
        first = await publisher.publish(ride_event(1))
        assert (await asyncio.wait_for(received.get(), 5)).id == first
        await _kill_blocked_readers(redis_client)
        later = [await publisher.publish(ride_event(n)) for n in (2, 3)]
        got = [await asyncio.wait_for(received.get(), 10) for _ in later]
        assert [e.id for e in got] == later
    finally:
        reader.cancel()
        await asyncio.wait({reader})


async def test_a_failing_listener_does_not_starve_the_others(bus, redis_client):
    received: asyncio.Queue[PublishedEvent] = asyncio.Queue()

    def broken(event: PublishedEvent) -> None:
        raise RuntimeError("bug in a listener")

    bus.subscribe(broken)
    bus.subscribe(received.put_nowait)
    reader = asyncio.create_task(bus.run())
    try:
        await asyncio.wait_for(bus.wait_reading(), 5)
        ids = [await bus.publish(ride_event(n)) for n in (1, 2)]
        assert [(await asyncio.wait_for(received.get(), 5)).id for _ in ids] == ids
        assert not reader.done()
    finally:
        reader.cancel()
        await asyncio.wait({reader})


async def _kill_blocked_readers(redis_client: aioredis.Redis) -> None:
    """Cut the connection a blocking XREAD is waiting on, as a network failure or a Redis restart would."""
    for _ in range(50):
        blocked = [c for c in await redis_client.client_list() if c.get("cmd") == "xread"]
        if blocked:
            for conn in blocked:
                await redis_client.client_kill_filter(_id=conn["id"])
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no blocked XREAD found")


async def test_the_reader_stops_promptly_when_cancelled_at_any_moment(redis_url):
    # A cancel landing mid-connect or mid-read must stop the reader: redis-py may surface it as a
    # ConnectionError, which the reader must not mistake for an outage to retry.
    for attempt in range(10):
        reader = aioredis.from_url(redis_url, decode_responses=True, socket_timeout=None)
        bus = RedisEventBus(reader, retention=100)
        task = asyncio.create_task(bus.run())
        if attempt % 2:
            await bus.wait_reading()  # Let the blocking read get under way.
        await asyncio.sleep(attempt * 0.01)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=3)
        await reader.aclose()
        assert task in done, f"the reader ignored a cancel (attempt {attempt})"


@pytest.mark.parametrize("asks_for_a_pause", [False, True])
async def test_the_reader_lets_the_loop_run_between_events_only_when_a_listener_asks(bus, asks_for_a_pause):
    turns = 0

    async def spin() -> None:  # Counts the event loop's turns while the reader works.
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    seen: list[int] = []
    done = asyncio.Event()

    def listener(event: PublishedEvent) -> bool:
        seen.append(turns)
        if len(seen) == 200:
            done.set()
        return asks_for_a_pause

    bus.subscribe(listener)
    spinner, reader = asyncio.create_task(spin()), asyncio.create_task(bus.run())
    try:
        await asyncio.wait_for(bus.wait_reading(), 5)
        await bus.publish_all([ride_event(n) for n in range(200)])  # One burst, read in one go.
        await asyncio.wait_for(done.wait(), 10)
        loop_turns = seen[-1] - seen[0]
        # Asked, each event waits a turn (connections send meanwhile); otherwise the burst goes at once, since
        # with thousands of sockets a turn can take milliseconds, and a turn per event made the reader lag.
        assert loop_turns >= 199 if asks_for_a_pause else loop_turns == 0
    finally:
        for task in (spinner, reader):
            task.cancel()
        await asyncio.wait({spinner, reader})
