"""The zones' FIFO rank queues in Redis: who waits where, in the order they arrived.

Nothing here is a record: the queues are rebuilt within seconds from the drivers' positions (join by position)
and check-ins. Each zone has a sorted set of drivers scored by the time they joined, and one hash says which
queue a driver is in, so a driver waits in one queue at most. Every change runs as one Lua script, so two
instances moving the same driver at once cannot leave them in two queues.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import redis.asyncio as aioredis

from dispatch import zones
from dispatch.errors import NotInZone, ZoneInactive
from dispatch.model import DriverId, QueuedDriver, Zone, ZoneId
from dispatch.positions import check_coordinates

# One hash tag: every key of the queues lives in one cluster slot, so the scripts may touch any of them.
QUEUE_PREFIX = "taxicrm:{zones}:queue:"  # + zone id: sorted set, driver id -> epoch seconds they joined
QUEUED_KEY = "taxicrm:{zones}:queued"  # hash: driver id -> the zone id whose queue they are in
OUTSIDE_KEY = "taxicrm:{zones}:outside"  # hash: driver id -> epoch seconds since when they seem out of their zone
# GPS wanders 10-50 m around a parked car: a driver waiting at a rank drawn near a zone's border must not lose
# their place each time a fix lands outside it. They leave (or move) only after seeming out this long.
LEAVE_GRACE = timedelta(seconds=30)
# Bounded scripts keep Redis responsive: each blocks it for well under a millisecond.
SYNC_CHUNK = 1_000

_JOIN = """
local current = redis.call('HGET', KEYS[1], ARGV[2])
if current and current ~= ARGV[3] then
    redis.call('ZREM', ARGV[1] .. current, ARGV[2])
end
redis.call('ZADD', ARGV[1] .. ARGV[3], 'NX', ARGV[4], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[2])
return redis.call('ZSCORE', ARGV[1] .. ARGV[3], ARGV[2])
"""

_LEAVE = """
local current = redis.call('HGET', KEYS[1], ARGV[2])
if current then
    redis.call('ZREM', ARGV[1] .. current, ARGV[2])
    redis.call('HDEL', KEYS[1], ARGV[2])
end
redis.call('HDEL', KEYS[2], ARGV[2])
return current
"""

_POSITION = """
local current = redis.call('HGET', KEYS[1], ARGV[2])
if not current then return false end
local rank = redis.call('ZRANK', ARGV[1] .. current, ARGV[2])
if not rank then return false end
return {current, rank}
"""

_CLEAR = """
local ids = redis.call('ZRANGE', ARGV[1] .. ARGV[2], 0, -1)
for _, id in ipairs(ids) do
    if redis.call('HGET', KEYS[1], id) == ARGV[2] then
        redis.call('HDEL', KEYS[1], id)
        redis.call('HDEL', KEYS[2], id)
    end
end
redis.call('DEL', ARGV[1] .. ARGV[2])
return #ids
"""

# ARGV: prefix, grace seconds, then (driver, zone or '', '1' if available, epoch seconds) per driver.
# Returns (driver, zone left or '', zone joined or '') for each driver whose queue changed.
_SYNC = """
local prefix, grace = ARGV[1], tonumber(ARGV[2])
local changes = {}
for i = 3, #ARGV, 4 do
    local driver, zone, available, at = ARGV[i], ARGV[i + 1], ARGV[i + 2] == '1', ARGV[i + 3]
    local current = redis.call('HGET', KEYS[1], driver)
    if available and current and current == zone then
        redis.call('HDEL', KEYS[2], driver)
    elseif not available then
        if current then
            redis.call('ZREM', prefix .. current, driver)
            redis.call('HDEL', KEYS[1], driver)
            redis.call('HDEL', KEYS[2], driver)
            table.insert(changes, driver); table.insert(changes, current); table.insert(changes, '')
        end
    else
        local move = true
        if current then
            if grace > 0 then
                local since = redis.call('HGET', KEYS[2], driver)
                if not since then
                    redis.call('HSET', KEYS[2], driver, at)
                    since = at
                end
                move = tonumber(at) - tonumber(since) >= grace
            end
            if move then
                redis.call('ZREM', prefix .. current, driver)
                redis.call('HDEL', KEYS[1], driver)
                redis.call('HDEL', KEYS[2], driver)
            end
        end
        if move and zone ~= '' then
            redis.call('ZADD', prefix .. zone, 'NX', at, driver)
            redis.call('HSET', KEYS[1], driver, zone)
        end
        if move and (current or zone ~= '') then
            table.insert(changes, driver); table.insert(changes, current or ''); table.insert(changes, zone)
        end
    end
end
return changes
"""


class QueueUpdate(NamedTuple):
    """What a position flush tells the queues about one driver: the zone they are in (None: none) and if free."""

    driver_id: DriverId
    zone_id: ZoneId | None
    is_available: bool
    at: datetime


@dataclass(frozen=True)
class QueueChange:
    """A driver who left a queue, joined one, or both (moved)."""

    driver_id: DriverId
    left: ZoneId | None
    joined: ZoneId | None


class ZoneQueues:
    """The rank queues of every zone."""

    def __init__(self, redis: aioredis.Redis, leave_grace: timedelta = LEAVE_GRACE) -> None:
        self._redis = redis
        self._grace = leave_grace.total_seconds()
        self._join = redis.register_script(_JOIN)
        self._leave = redis.register_script(_LEAVE)
        self._position = redis.register_script(_POSITION)
        self._clear = redis.register_script(_CLEAR)
        self._sync = redis.register_script(_SYNC)

    async def join(self, driver_id: DriverId, zone_id: ZoneId, at: datetime) -> QueuedDriver:
        """Put a driver at the back of a zone's queue, out of any other; one already in it keeps their place."""
        score = await self._join(keys=[QUEUED_KEY, OUTSIDE_KEY],
                                 args=[QUEUE_PREFIX, str(driver_id), str(zone_id), at.timestamp()])
        return QueuedDriver(driver_id=driver_id, zone_id=zone_id, joined_at=_time(score))

    async def check_in(self, driver_id: DriverId, zone: Zone, lat: float, lng: float, at: datetime) -> QueuedDriver:
        """Join a zone's queue at its rank; refused unless the driver's position is inside the zone."""
        check_coordinates(lat, lng)
        if not zone.is_active:
            raise ZoneInactive(zone.code)
        if not zones.contains(zone.polygon, lat, lng):
            raise NotInZone(zone.code)
        return await self.join(driver_id, zone.id, at)

    async def leave(self, driver_id: DriverId) -> ZoneId | None:
        """Take a driver out of whatever queue they are in; return that zone, or None if they were in none."""
        left = await self._leave(keys=[QUEUED_KEY, OUTSIDE_KEY], args=[QUEUE_PREFIX, str(driver_id)])
        return None if left is None else ZoneId(int(_text(left)))

    async def queue(self, zone_id: ZoneId, limit: int | None = None) -> list[QueuedDriver]:
        """Return a zone's queue, the driver waiting longest first."""
        entries: list[Any] = await self._redis.zrange(
            f"{QUEUE_PREFIX}{zone_id}", 0, -1 if limit is None else limit - 1, withscores=True)
        return [QueuedDriver(driver_id=DriverId(int(_text(member))), zone_id=zone_id, joined_at=_time(score))
                for member, score in entries]

    async def position_of(self, driver_id: DriverId) -> tuple[ZoneId, int] | None:
        """Return the zone whose queue the driver is in and their place in it (1 is next), or None."""
        found = await self._position(keys=[QUEUED_KEY, OUTSIDE_KEY], args=[QUEUE_PREFIX, str(driver_id)])
        if not found:
            return None
        zone_id, rank = found
        return ZoneId(int(_text(zone_id))), int(rank) + 1

    async def clear(self, zone_id: ZoneId) -> int:
        """Empty a zone's queue (the zone was deactivated) and return how many drivers were waiting."""
        return int(await self._clear(keys=[QUEUED_KEY, OUTSIDE_KEY], args=[QUEUE_PREFIX, str(zone_id)]))

    async def sync(self, updates: Iterable[QueueUpdate]) -> list[QueueChange]:
        """Apply a batch of position flushes in one round trip and return whose queue changed.

        An available driver inside a zone joins its queue unless already there (join by position); one who is
        no longer available leaves at once; one who seems to have left their queue's zone leaves (and joins
        the zone they are in, if any) once they have seemed so for the leave grace.
        """
        newest: dict[DriverId, QueueUpdate] = {}
        for update in updates:
            held = newest.get(update.driver_id)
            if held is None or update.at >= held.at:
                newest[update.driver_id] = update
        if not newest:
            return []
        batch = list(newest.values())
        async with self._redis.pipeline(transaction=False) as pipe:
            for start in range(0, len(batch), SYNC_CHUNK):
                await self._sync(keys=[QUEUED_KEY, OUTSIDE_KEY],
                                 args=[QUEUE_PREFIX, self._grace, *_sync_args(batch[start:start + SYNC_CHUNK])],
                                 client=pipe)
            replies: list[list[Any]] = await pipe.execute()
        return [QueueChange(driver_id=DriverId(int(_text(flat[i]))), left=_zone_id(flat[i + 1]),
                            joined=_zone_id(flat[i + 2]))
                for flat in replies for i in range(0, len(flat), 3)]


def _sync_args(updates: Sequence[QueueUpdate]) -> list[str | float]:
    args: list[str | float] = []
    for update in updates:
        args += [str(update.driver_id), "" if update.zone_id is None else str(update.zone_id),
                 "1" if update.is_available else "0", update.at.timestamp()]
    return args


def _zone_id(raw: bytes | str) -> ZoneId | None:
    text = _text(raw)
    return ZoneId(int(text)) if text else None


def _time(score: bytes | str | float) -> datetime:
    return datetime.fromtimestamp(float(_text(score) if isinstance(score, bytes | str) else score), UTC)


def _text(value: bytes | str) -> str:
    # The app's client decodes replies; a bare client (scripts, tests) may not.
    return value.decode() if isinstance(value, bytes) else value
