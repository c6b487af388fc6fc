"""Live driver positions and availability in Redis: cheap to ingest, searchable around a pickup, rebuildable.

Nothing here is a record: every key is rebuilt within seconds from what the apps keep sending, so losing
Redis loses no history, only a few seconds of dispatch.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dispatch.errors import InvalidCoordinates
from dispatch.model import DriverAvailability, DriverId, LivePosition

log = logging.getLogger("taxicrm.dispatch.positions")

GEO_KEY = "taxicrm:drivers:geo"
SEEN_KEY = "taxicrm:drivers:seen"  # sorted set: driver id -> epoch seconds of the last position
STATUS_KEY = "taxicrm:drivers:status"  # hash: driver id -> DriverAvailability value
# Redis GEO stores Web Mercator cells: latitudes beyond these cannot be indexed.
MAX_LATITUDE = 85.05112878
MAX_RADIUS_M = 100_000
# Sweeping in bounded chunks keeps each script short and its Lua argument list within limits.
SWEEP_CHUNK = 500

# Atomic, so a position flushed while the sweep runs is never removed with the silent ones.
_SWEEP = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids > 0 then
    redis.call('ZREM', KEYS[1], unpack(ids))
    redis.call('ZREM', KEYS[2], unpack(ids))
    for _, id in ipairs(ids) do redis.call('HSET', KEYS[3], id, ARGV[3]) end
end
return ids
"""


@dataclass(frozen=True)
class _Fix:
    lat: float
    lng: float
    at: datetime


def check_coordinates(lat: float, lng: float) -> None:
    """Raise InvalidCoordinates unless the point is one Redis GEO can store."""
    for value in (lat, lng):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidCoordinates("Latitude and longitude must be finite numbers.")
    if not -MAX_LATITUDE <= lat <= MAX_LATITUDE:
        raise InvalidCoordinates(f"Latitude {lat} is outside ±{MAX_LATITUDE}.")
    if not -180 <= lng <= 180:
        raise InvalidCoordinates(f"Longitude {lng} is outside ±180.")


class LivePositions:
    """Where each online driver is and what they are doing, buffered in memory and written in batches."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._pending: dict[DriverId, _Fix] = {}

    @property
    def pending(self) -> int:
        """How many drivers have a position waiting for the next flush."""
        return len(self._pending)

    def record(self, driver_id: DriverId, lat: float, lng: float, at: datetime) -> None:
        """Buffer a driver's position; only the newest per driver survives until the next flush."""
        check_coordinates(lat, lng)
        held = self._pending.get(driver_id)
        # Apps resend after reconnecting: an older fix arriving late must not move the driver back.
        if held is None or at >= held.at:
            self._pending[driver_id] = _Fix(float(lat), float(lng), at)

    async def flush(self) -> int:
        """Write the buffered positions in one pipeline and return how many drivers it moved."""
        batch, self._pending = self._pending, {}
        if not batch:
            return 0
        geo: list[Any] = []
        for driver_id, fix in batch.items():
            geo.extend((fix.lng, fix.lat, str(driver_id)))
        seen = {str(driver_id): fix.at.timestamp() for driver_id, fix in batch.items()}
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.geoadd(GEO_KEY, geo)
                # GT: several instances may flush the same driver; the last-seen time never goes backwards.
                pipe.zadd(SEEN_KEY, seen, gt=True)
                await pipe.execute()
        except RedisError:
            self._restore(batch)
            raise
        return len(batch)

    def _restore(self, batch: dict[DriverId, _Fix]) -> None:
        # A failed write is retried with the next flush, unless a newer fix has come in meanwhile.
        for driver_id, fix in batch.items():
            held = self._pending.get(driver_id)
            if held is None or fix.at > held.at:
                self._pending[driver_id] = fix

    async def run_flusher(self, interval: float = 0.15) -> None:
        """Flush every `interval` seconds until cancelled, then flush what is left."""
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self.flush()
                except RedisError:
                    # Redis being away must not end ingestion: the batch is kept and retried.
                    log.warning("could not write %d driver positions; retrying", self.pending, exc_info=True)
        finally:
            if self._pending:
                try:
                    await self.flush()
                except RedisError:
                    log.warning("lost %d driver positions at shutdown", self.pending, exc_info=True)

    async def set_status(self, driver_id: DriverId, availability: DriverAvailability) -> None:
        """Record what the driver's app says about their readiness for a job."""
        await self._redis.hset(STATUS_KEY, str(driver_id), DriverAvailability(availability).value)

    async def forget(self, driver_id: DriverId) -> None:
        """Take a driver off the live map at once (suspended, logged out)."""
        self._pending.pop(driver_id, None)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(GEO_KEY, str(driver_id))
            pipe.zrem(SEEN_KEY, str(driver_id))
            pipe.hdel(STATUS_KEY, str(driver_id))
            await pipe.execute()

    async def nearby(self, lat: float, lng: float, radius_m: float, now: datetime, freshness: timedelta,
                     limit: int | None = None) -> list[LivePosition]:
        """Return drivers seen within `freshness` of `now` inside the radius, nearest first, whatever their status."""
        check_coordinates(lat, lng)
        if not 0 < radius_m <= MAX_RADIUS_M:
            raise InvalidCoordinates(f"The search radius must be between 0 and {MAX_RADIUS_M} metres.")
        found: list[Any] = await self._redis.geosearch(GEO_KEY, longitude=lng, latitude=lat, radius=radius_m, unit="m",
                                                       sort="ASC", count=limit, withdist=True, withcoord=True)
        if not found:
            return []
        members = [_text(member) for member, _, _ in found]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zmscore(SEEN_KEY, members)
            pipe.hmget(STATUS_KEY, members)
            scores, statuses = await pipe.execute()
        oldest = (now - freshness).timestamp()
        positions = []
        for (member, distance, (found_lng, found_lat)), score, status in zip(found, scores, statuses, strict=True):
            if score is None or score < oldest:
                continue  # Not yet swept, but too old to send a car by.
            positions.append(LivePosition(
                driver_id=DriverId(int(_text(member))), lat=found_lat, lng=found_lng, distance_m=float(distance),
                last_seen=datetime.fromtimestamp(score, UTC),
                # A position without a status means the app has not said it is ready: it is not.
                status=DriverAvailability(_text(status)) if status else DriverAvailability.OFFLINE,
            ))
        return positions

    async def sweep_silent(self, now: datetime, silence: timedelta) -> list[DriverId]:
        """Take drivers silent for longer than `silence` off the map, mark them unreachable, and return them."""
        cutoff = (now - silence).timestamp()
        swept: list[DriverId] = []
        while True:
            ids = await self._redis.eval(_SWEEP, 3, SEEN_KEY, GEO_KEY, STATUS_KEY, f"({cutoff}", SWEEP_CHUNK,
                                         DriverAvailability.UNREACHABLE.value)
            swept.extend(DriverId(int(_text(i))) for i in ids)
            if len(ids) < SWEEP_CHUNK:
                return swept


def _text(value: bytes | str) -> str:
    # The app's client decodes replies; a bare client (scripts, tests) may not.
    return value.decode() if isinstance(value, bytes) else value
