"""Live driver positions and availability in Redis: cheap to ingest, searchable around a pickup, rebuildable.

Nothing here is a record: every key is rebuilt within seconds from what the apps keep sending, so losing
Redis loses no history, only a few seconds of dispatch.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dispatch.errors import InvalidCoordinates
from dispatch.model import DriverAvailability, DriverId, LivePosition
from dispatch.traces import LatLng, haversine_m

log = logging.getLogger("taxicrm.dispatch.positions")

GEO_KEY = "taxicrm:drivers:geo"
SEEN_KEY = "taxicrm:drivers:seen"  # sorted set: driver id -> epoch seconds of the last position
STATUS_KEY = "taxicrm:drivers:status"  # hash: driver id -> DriverAvailability value
IDLE_KEY = "taxicrm:drivers:idle"  # hash: driver id -> epoch seconds since which the driver has been available
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
# Atomic, so "available since" is set exactly when a driver becomes available, whoever writes the status.
_SET_STATUS = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[2] == 'available' and old ~= 'available' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end
return old
"""

# ARGV holds (driver id, status, epoch seconds) triples: each status only where Redis has none, and for an
# available driver the idle-since time likewise.
_RESTORE_STATUSES = """
for i = 1, #ARGV, 3 do
    redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
    if ARGV[i + 1] == 'available' then redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 2]) end
end
return 0
"""


@dataclass(frozen=True)
class _Fix:
    lat: float
    lng: float
    at: datetime
    status: DriverAvailability | None = None  # what the driver's connection knows of it


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
        # Drivers heard from without a position (a status, an accept): still alive, not moved.
        self._heard: dict[DriverId, datetime] = {}
        # Statuses that could not be written when they changed (Redis away): written with the next flush.
        self._statuses: dict[DriverId, tuple[DriverAvailability, datetime]] = {}

    @property
    def pending(self) -> int:
        """How many drivers have a position waiting for the next flush."""
        return len(self._pending)

    def record(self, driver_id: DriverId, lat: float, lng: float, at: datetime,
               status: DriverAvailability | None = None) -> None:
        """Buffer a driver's position; only the newest per driver survives until the next flush.

        `status` is what the driver's connection knows of their availability: written only where Redis has
        none (it restarted empty), so a position never overrides a status anyone set.
        """
        check_coordinates(lat, lng)
        held = self._pending.get(driver_id)
        # Apps resend after reconnecting: an older fix arriving late must not move the driver back.
        if held is None or at >= held.at:
            self._pending[driver_id] = _Fix(float(lat), float(lng), at, status)

    def heard(self, driver_id: DriverId, at: datetime) -> None:
        """Note that a driver's app is alive without moving them; written with the next flush."""
        held = self._heard.get(driver_id)
        if held is None or at > held:
            self._heard[driver_id] = at

    def defer_status(self, driver_id: DriverId, availability: DriverAvailability, at: datetime) -> None:
        """Keep a status change Redis could not take, for the next flush; a newer change replaces it."""
        held = self._statuses.get(driver_id)
        if held is None or at >= held[1]:
            self._statuses[driver_id] = (availability, at)

    async def flush(self) -> int:
        """Write the buffered positions (and deferred statuses) in one pipeline; return how many drivers it moved."""
        batch, self._pending = self._pending, {}
        heard, self._heard = self._heard, {}
        statuses, self._statuses = self._statuses, {}
        await self._write(batch, heard, statuses)
        return len(batch)

    async def flush_driver(self, driver_id: DriverId) -> None:
        """Write one driver's buffered fix (and liveness, and a deferred status) now; the rest wait for the flush.

        For a driver who just became free or checked in: a search made right after must find them where they are.
        Writing the whole buffer instead cost as much as a regular flush, every time.
        """
        fix, at, status = (self._pending.pop(driver_id, None), self._heard.pop(driver_id, None),
                           self._statuses.pop(driver_id, None))
        await self._write({} if fix is None else {driver_id: fix}, {} if at is None else {driver_id: at},
                          {} if status is None else {driver_id: status})

    async def _write(self, batch: dict[DriverId, _Fix], heard: dict[DriverId, datetime],
                     statuses: dict[DriverId, tuple[DriverAvailability, datetime]]) -> None:
        if not batch and not heard and not statuses:
            return
        # One pass over the batch: at fleet scale a flush carries about 500 fixes per instance.
        geo: list[Any] = []
        seen: dict[str, float] = {}
        known: list[Any] = []  # (driver id, status, epoch seconds) for _RESTORE_STATUSES
        for driver_id, fix in batch.items():
            member, epoch = str(driver_id), fix.at.timestamp()
            geo += (fix.lng, fix.lat, member)
            seen[member] = epoch
            if fix.status is not None:
                known += (member, fix.status.value, epoch)
        for driver_id, heard_at in heard.items():  # Heard after their last fix: alive until then.
            member, epoch = str(driver_id), heard_at.timestamp()
            if epoch > seen.get(member, 0.0):
                seen[member] = epoch
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for driver_id, (availability, at) in statuses.items():
                    pipe.eval(_SET_STATUS, 2, STATUS_KEY, IDLE_KEY, str(driver_id), availability.value,
                              at.timestamp())
                if geo:
                    pipe.geoadd(GEO_KEY, geo)
                # GT: several instances may flush the same driver; the last-seen time never goes backwards.
                # Drivers not on the map (never sent a position) are heard, but no search can find them.
                if seen:
                    pipe.zadd(SEEN_KEY, seen, gt=True)
                # Rebuilds what a Redis that restarted empty lost; a no-op while the status is there. One script
                # for the whole batch: a command per driver cost the service more than the positions themselves.
                if known:
                    pipe.eval(_RESTORE_STATUSES, 2, STATUS_KEY, IDLE_KEY, *known)
                await pipe.execute()
        except RedisError:
            self._restore(batch, heard)
            for driver_id, (availability, at) in statuses.items():
                self.defer_status(driver_id, availability, at)
            raise

    def _restore(self, batch: dict[DriverId, _Fix], heard: dict[DriverId, datetime]) -> None:
        # A failed write is retried with the next flush, unless a newer fix has come in meanwhile.
        for driver_id, fix in batch.items():
            held = self._pending.get(driver_id)
            if held is None or fix.at > held.at:
                self._pending[driver_id] = fix
        for driver_id, at in heard.items():
            self.heard(driver_id, at)

    async def set_status(self, driver_id: DriverId, availability: DriverAvailability,
                         at: datetime | None = None) -> DriverAvailability | None:
        """Record a driver's readiness for a job and return the status it replaces (None: none known).

        Becoming available starts the driver's idle time (`at`, default now), which matching's fairness reads.
        """
        since = (at or datetime.now(UTC)).timestamp()
        old = await self._redis.eval(_SET_STATUS, 2, STATUS_KEY, IDLE_KEY, str(driver_id),
                                     DriverAvailability(availability).value, since)
        return DriverAvailability(_text(old)) if old else None

    async def status_of(self, driver_id: DriverId) -> DriverAvailability | None:
        """Return what the driver last said (or the center decided) about their readiness, if anything."""
        status = await self._redis.hget(STATUS_KEY, str(driver_id))
        return DriverAvailability(_text(status)) if status else None

    async def everyone(self) -> tuple[dict[DriverId, LivePosition], dict[DriverId, DriverAvailability]]:
        """Return every driver on the map, and every status known, on or off it (the console's fleet view)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrange(SEEN_KEY, 0, -1)
            pipe.hgetall(STATUS_KEY)
            seen, statuses = await pipe.execute()
        ids = [DriverId(int(_text(member))) for member in seen]
        on_map = {p.driver_id: p for p in await self.positions_of(ids)}
        return on_map, {DriverId(int(_text(k))): DriverAvailability(_text(v)) for k, v in statuses.items()}

    async def position_of(self, driver_id: DriverId) -> LivePosition | None:
        """Return where a driver is, if on the map (`distance_m` is 0)."""
        found = await self.positions_of([driver_id])
        return found[0] if found else None

    async def positions_of(self, driver_ids: list[DriverId], lat: float | None = None,
                           lng: float | None = None) -> list[LivePosition]:
        """Return where these drivers are (those on the map), with their distance from a point if one is given."""
        if not driver_ids:
            return []
        members = [str(d) for d in driver_ids]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.geopos(GEO_KEY, *members)
            pipe.zmscore(SEEN_KEY, members)
            pipe.hmget(STATUS_KEY, members)
            pipe.hmget(IDLE_KEY, members)
            coordinates, scores, statuses, idles = await pipe.execute()
        found = []
        for driver_id, where, score, status, idle in zip(driver_ids, coordinates, scores, statuses, idles,
                                                         strict=True):
            if where is None or score is None:
                continue
            found_lng, found_lat = where
            distance = 0.0 if lat is None or lng is None else haversine_m(LatLng(lat, lng),
                                                                          LatLng(found_lat, found_lng))
            found.append(_live(driver_id, found_lat, found_lng, distance, score, status, idle))
        return found

    async def forget(self, driver_id: DriverId) -> None:
        """Take a driver off the live map at once (suspended, logged out)."""
        self._pending.pop(driver_id, None)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(GEO_KEY, str(driver_id))
            pipe.zrem(SEEN_KEY, str(driver_id))
            pipe.hdel(STATUS_KEY, str(driver_id))
            pipe.hdel(IDLE_KEY, str(driver_id))
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
            pipe.hmget(IDLE_KEY, members)
            scores, statuses, idles = await pipe.execute()
        oldest = (now - freshness).timestamp()
        positions = []
        for (member, distance, (found_lng, found_lat)), score, status, idle in zip(found, scores, statuses, idles,
                                                                                   strict=True):
            if score is None or score < oldest:
                continue  # Not yet swept, but too old to send a car by.
            positions.append(_live(DriverId(int(_text(member))), found_lat, found_lng, float(distance), score,
                                   status, idle))
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


def _live(driver_id: DriverId, lat: float, lng: float, distance_m: float, seen: float,
          status: bytes | str | None, idle: bytes | str | None) -> LivePosition:
    return LivePosition(
        driver_id=driver_id, lat=lat, lng=lng, distance_m=distance_m, last_seen=datetime.fromtimestamp(seen, UTC),
        # A position without a status means the app has not said it is ready: it is not.
        status=DriverAvailability(_text(status)) if status else DriverAvailability.OFFLINE,
        idle_since=datetime.fromtimestamp(float(_text(idle)), UTC) if idle else None,
    )


def _text(value: bytes | str) -> str:
    # The app's client decodes replies; a bare client (scripts, tests) may not.
    return value.decode() if isinstance(value, bytes) else value
