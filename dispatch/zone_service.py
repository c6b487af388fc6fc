"""Use cases of zones (create, change, deactivate, list, show a queue) and the ZoneMap every instance keeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from dispatch import zone_store
from dispatch.errors import ZoneCodeTaken, ZoneNotFound
from dispatch.model import DriverId, Zone, ZoneId
from dispatch.zone_queue import ZoneQueues
from dispatch.zones import ZoneFields, ZoneIndex

log = logging.getLogger(__name__)

# Every instance notices a zone changed by any other within this many seconds.
REFRESH_SECONDS = 2.0
# What a refresh may fail on without ending the refresher: the map keeps its zones until the database is back.
_UNREACHABLE = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class ZoneMap:
    """The active zones, held in memory for point lookups on every position flush, reloaded when they change.

    Instances poll a digest of the active zones (one small query every few seconds) rather than trust a
    notification, so an instance that missed a message or restarted still converges.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._digest: str | None = None
        self._index = ZoneIndex(())
        self._by_id: dict[ZoneId, Zone] = {}
        # One reload at a time: a slow, older snapshot must not land after a newer one.
        self._lock = asyncio.Lock()

    @property
    def zones(self) -> tuple[Zone, ...]:
        """The active zones as last loaded."""
        return tuple(self._by_id.values())

    def zone(self, zone_id: ZoneId) -> Zone | None:
        """Return an active zone by id, or None."""
        return self._by_id.get(zone_id)

    def zone_at(self, lat: float, lng: float) -> Zone | None:
        """Return the smallest active zone holding the point, or None outside every zone."""
        return self._index.zone_at(lat, lng)

    def code_at(self, lat: float, lng: float) -> str | None:
        """Return the code of the zone holding the point (what tariffs' zone prices name), or None."""
        zone = self._index.zone_at(lat, lng)
        return None if zone is None else zone.code

    def zone_id_at(self, lat: float, lng: float) -> ZoneId | None:
        """Return the id of the zone holding the point, or None: what a QueueUpdate carries."""
        zone = self._index.zone_at(lat, lng)
        return None if zone is None else zone.id

    async def refresh(self) -> bool:
        """Reload the zones if any active one was added, changed or deactivated since; tell whether it did."""
        async with self._lock, self._pool.acquire() as conn:
            if self._digest is not None and await zone_store.active_zones_digest(conn) == self._digest:
                return False
            # One snapshot for the zones and their digest, so a change committed in between is seen next time.
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                digest = await zone_store.active_zones_digest(conn)
                loaded = await zone_store.list_zones(conn)
            self._index = ZoneIndex(loaded)
            self._by_id = {zone.id: zone for zone in loaded}
            self._digest = digest
        return True

    async def run(self, interval: float = REFRESH_SECONDS) -> None:
        """Refresh every `interval` seconds until cancelled; a database outage keeps the zones last loaded."""
        while True:
            await asyncio.sleep(interval)
            try:
                if await self.refresh():
                    log.info("reloaded %d active zones", len(self._by_id))
            except _UNREACHABLE:
                log.warning("could not check the zones for changes; keeping the %d loaded", len(self._by_id),
                            exc_info=True)


@dataclass(frozen=True)
class ZoneDesk:
    """What the zone use cases work with: the database, this instance's zone map and the queues."""

    pool: asyncpg.Pool
    zone_map: ZoneMap
    queues: ZoneQueues


@dataclass(frozen=True)
class WaitingDriver:
    """A driver in a zone's queue as the console shows them: their place, name and when they joined."""

    place: int
    driver_id: DriverId
    name: str | None
    joined_at: datetime


async def create_zone(desk: ZoneDesk, fields: ZoneFields, now: datetime) -> Zone:
    """Add a zone from a checked document (see zones.parse_zone with creating=True)."""
    async with desk.pool.acquire() as conn:
        with _constraints(fields):
            zone = await zone_store.insert_zone(conn, fields.sent(), now)
    await _reload(desk.zone_map)
    return zone


async def change_zone(desk: ZoneDesk, zone_id: ZoneId, fields: ZoneFields, now: datetime) -> Zone:
    """Change the fields sent; drivers now outside the zone leave its queue with their next positions."""
    async with desk.pool.acquire() as conn:
        with _constraints(fields):
            zone = await zone_store.update_zone(conn, zone_id, fields.sent(), now)
    if zone is None:
        raise ZoneNotFound(zone_id)
    if not zone.is_active:
        await desk.queues.clear(zone.id)
    await _reload(desk.zone_map)
    return zone


async def deactivate_zone(desk: ZoneDesk, zone_id: ZoneId, now: datetime) -> Zone:
    """Take a zone out of dispatch and empty its queue; it keeps its code for the tariffs and rides naming it."""
    async with desk.pool.acquire() as conn:
        zone = await zone_store.deactivate_zone(conn, zone_id, now)
    if zone is None:
        raise ZoneNotFound(zone_id)
    await desk.queues.clear(zone.id)
    await _reload(desk.zone_map)
    return zone


async def get_zone(pool: asyncpg.Pool, zone_id: ZoneId) -> Zone:
    """Return a zone, active or not."""
    async with pool.acquire() as conn:
        zone = await zone_store.zone(conn, zone_id)
    if zone is None:
        raise ZoneNotFound(zone_id)
    return zone


async def list_zones(pool: asyncpg.Pool, *, include_inactive: bool = False) -> list[Zone]:
    """Return the active zones by code, or every zone."""
    async with pool.acquire() as conn:
        return await zone_store.list_zones(conn, include_inactive=include_inactive)


async def zone_queue(desk: ZoneDesk, zone_id: ZoneId) -> tuple[Zone, list[WaitingDriver]]:
    """Return a zone and the drivers waiting in its queue, the next to be offered first."""
    zone = await get_zone(desk.pool, zone_id)
    queued = await desk.queues.queue(zone_id)
    async with desk.pool.acquire() as conn:
        names = await zone_store.driver_names(conn, (q.driver_id for q in queued))
    return zone, [WaitingDriver(place=place, driver_id=q.driver_id, name=names.get(q.driver_id),
                                joined_at=q.joined_at) for place, q in enumerate(queued, start=1)]


async def _reload(zone_map: ZoneMap) -> None:
    # This instance sees the change at once, the others within REFRESH_SECONDS. The change is committed
    # whatever happens here, so a failed reload is left to the refresher rather than reported as a failure.
    try:
        await zone_map.refresh()
    except _UNREACHABLE:
        log.warning("a zone changed but this instance could not reload the zones; its refresher will",
                    exc_info=True)


@contextmanager
def _constraints(fields: ZoneFields) -> Iterator[None]:
    # Two admins may create the same code at once: the unique index decides, and the loser gets a 409.
    try:
        yield
    except asyncpg.UniqueViolationError as err:
        if err.constraint_name == "zones_code_key":
            raise ZoneCodeTaken(fields.code or "given") from err
        raise
