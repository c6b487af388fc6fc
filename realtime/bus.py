"""The event bus: one Redis stream every instance appends to and reads from."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from realtime.streams import ZERO, StreamId, StreamState, holds_everything_after
from taxicrm.events import Event, PublishedEvent

log = logging.getLogger(__name__)

STREAM_KEY = "taxicrm:events"
# A backlog is read in pages so one reconnect never makes Redis build a reply of the whole history.
PAGE_SIZE = 1000
# Blocking reads return this often even when idle, so a silently dead connection is noticed; it is
# also well under redis-py's default socket timeout, in case the reader shares the app's client.
BLOCK_MS = 2000
# The reader takes every entry that arrived since its last read in one go, up to this many.
READ_BATCH = 1000
RETRY_MIN_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0

# A listener may answer True to ask the reader to let the event loop run before the next event (see _read_new).
Listener = Callable[[PublishedEvent], bool | None]
Entry = tuple[str, dict[str, str]]
T = TypeVar("T")


class RedisEventBus:
    """Publish events to every instance and hand each instance's listeners what any instance published."""

    def __init__(self, redis: aioredis.Redis, *, retention: int, reader: aioredis.Redis | None = None) -> None:
        """Publish and read backlogs with `redis`; block waiting for new events on `reader` (default: `redis`)."""
        self._redis = redis
        self._reader = reader or redis
        self._retention = retention
        self._listeners: list[Listener] = []
        self._reading = asyncio.Event()

    async def publish(self, event: Event) -> str:
        """Append the event to the stream and return its id."""
        return (await self.publish_all([event]))[0]

    async def publish_all(self, events: Sequence[Event]) -> list[str]:
        """Append the events together, in order, in one round trip; return their ids."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for event in events:
                # Approximate trimming lets Redis drop whole nodes at once; it keeps at least `retention`.
                pipe.xadd(STREAM_KEY, _encode(event),  # type: ignore[arg-type]  # redis-py's stub is too narrow.
                          maxlen=self._retention, approximate=True)
            return list(await pipe.execute())

    async def last_id(self) -> str:
        """Return the id of the newest event ever published (`0-0` before the first)."""
        state = await self._state()
        return str(state.last_generated if state else ZERO)

    async def read_since(self, last_id: str) -> list[PublishedEvent] | None:
        """Return the events after `last_id` in order, or None if some are gone and the caller must resync.

        Raises ValueError when `last_id` is not a stream id.
        """
        after = StreamId.parse(last_id)
        events: list[PublishedEvent] = []
        while True:
            entries, state = await self._page_after(after)
            if not holds_everything_after(after, state):
                return None
            events += _decode_all(entries)
            if len(entries) < PAGE_SIZE:
                return events
            after = StreamId.parse(entries[-1][0])

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event from any instance, from now on; return the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def wait_reading(self) -> None:
        """Return once the reader knows where the stream stands, so no later event can be missed."""
        await self._reading.wait()

    async def run(self) -> None:
        """Read new events forever and hand them to the listeners; survive Redis outages; stop on cancel."""
        position: StreamId | None = None
        delay = RETRY_MIN_SECONDS
        me = asyncio.current_task()
        while True:
            # redis-py can swallow a cancellation that lands mid-command (it retries, or raises an error of its
            # own): look for a pending cancel on every turn, or shutdown would wait on this loop forever.
            if me is not None and me.cancelling():
                raise asyncio.CancelledError
            try:
                if position is None:
                    state = await self._state()
                    position = state.last_generated if state else ZERO
                    self._reading.set()
                position = await self._read_new(position)
                delay = RETRY_MIN_SECONDS
            except (RedisError, OSError, TimeoutError) as err:
                if me is not None and me.cancelling():
                    raise asyncio.CancelledError from err
                # Resuming from `position` after the outage loses nothing the stream still holds.
                log.warning("event bus read failed (%s); retrying in %.1fs", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def _read_new(self, position: StreamId) -> StreamId:
        # The timeout catches a connection that died without a word, which a blocking read would not.
        async with asyncio.timeout(BLOCK_MS / 1000 + 5):
            reply: list[tuple[str, list[Entry]]] = await self._reader.xread(  # type: ignore[assignment]
                {STREAM_KEY: str(position)}, count=READ_BATCH, block=BLOCK_MS)
        for _stream, entries in reply or ():
            for entry_id, fields in entries:
                position = StreamId.parse(entry_id)
                event = _decode(entry_id, fields)
                if event is not None and self._dispatch(event):
                    # Let connections send before the next event: a burst longer than a client's queue must cut
                    # off only the clients that really are slow, not every one of them. Only when a listener
                    # asks: with thousands of sockets busy, one turn of the loop can take milliseconds, and a
                    # turn per event made the reader fall seconds behind the stream.
                    await asyncio.sleep(0)
        return position

    def _dispatch(self, event: PublishedEvent) -> bool:
        """Hand the event to every listener; return whether one asked for the loop to run first."""
        pause = False
        for listener in list(self._listeners):
            try:
                pause = bool(listener(event)) or pause
            except Exception:  # One broken listener must not starve the others or stop the reader.
                log.exception("event listener %r failed on %s", listener, event.id)
        return pause

    async def _page_after(self, after: StreamId) -> tuple[list[Entry], StreamState | None]:
        # Reading the page and the stream's extent in one transaction means no trim can slip between.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xrange(STREAM_KEY, min=f"({after}", count=PAGE_SIZE)
            pipe.exists(STREAM_KEY)
            pipe.xinfo_stream(STREAM_KEY)
            entries, exists, info = await pipe.execute(raise_on_error=False)
        return _checked(entries), _stream_state(exists, info)

    async def _state(self) -> StreamState | None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(STREAM_KEY)
            pipe.xinfo_stream(STREAM_KEY)
            exists, info = await pipe.execute(raise_on_error=False)
        return _stream_state(exists, info)


def _checked(result: T | Exception) -> T:
    if isinstance(result, Exception):
        raise result
    return result


def _stream_state(exists: int | Exception, info: dict[str, Any] | Exception) -> StreamState | None:
    """Read `XINFO STREAM`'s answer; its "no such key" error just means nothing was ever published."""
    if not _checked(exists):
        return None
    info = _checked(info)
    first = info.get("first-entry")
    return StreamState(
        last_generated=StreamId.parse(info["last-generated-id"]),
        first=StreamId.parse(first[0]) if first else None,
        length=int(info["length"]),
        entries_added=int(info["entries-added"]) if "entries-added" in info else None,
    )


def _encode(event: Event) -> dict[str, str]:
    return {
        "topic": event.topic,
        "audiences": json.dumps(list(event.audiences)),
        "data": json.dumps(dict(event.data), ensure_ascii=False, separators=(",", ":")),
    }


def _decode_all(entries: list[Entry]) -> list[PublishedEvent]:
    return [event for entry_id, fields in entries if (event := _decode(entry_id, fields)) is not None]


def _decode(entry_id: str, fields: Mapping[str, str]) -> PublishedEvent | None:
    """Turn a stream entry into an event; skip (and log) one that another writer malformed."""
    try:
        audiences = json.loads(fields["audiences"])
        data = json.loads(fields["data"])
        topic = fields["topic"]
    except (KeyError, ValueError) as err:
        log.warning("skipping malformed stream entry %s: %r", entry_id, err)
        return None
    if not isinstance(audiences, list) or not isinstance(data, dict):
        log.warning("skipping malformed stream entry %s: wrong field types", entry_id)
        return None
    return PublishedEvent(id=entry_id, topic=topic, audiences=tuple(map(str, audiences)), data=data)
