"""What this instance takes in from the driver apps connected to it, buffered and written in batches."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from redis.exceptions import RedisError

from dispatch.model import DriverAvailability, DriverId, RideId
from dispatch.positions import LivePositions
from dispatch.presence import Presence
from dispatch.trace_store import TraceBuffer
from dispatch.traces import TracePoint
from dispatch.zone_queue import LEAVE_GRACE, QueueUpdate, ZoneQueues
from dispatch.zone_service import ZoneMap

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.15
# How long after leaving every zone a driver's fixes still go to the rank queues: past their leave grace.
QUEUE_WATCH = 2 * LEAVE_GRACE


@dataclass(frozen=True)
class _Seen:
    lat: float
    lng: float
    at: datetime
    is_available: bool


class Fleet:
    """Positions for the live map, fixes for trip traces, and rank-queue membership, for the next flush."""

    def __init__(self, positions: LivePositions, traces: TraceBuffer, presence: Presence,
                 zone_map: ZoneMap | None = None, queues: ZoneQueues | None = None) -> None:
        self.positions, self.traces, self.presence = positions, traces, presence
        self.zone_map, self.queues = zone_map, queues
        self._seen: dict[DriverId, _Seen] = {}
        # When each driver was last in a zone (None: not since connecting here). Outside every zone and past
        # the queues' leave grace, a driver gives the rank queues nothing to do: most of the fleet, most of the time.
        self._last_in_zone: dict[DriverId, datetime | None] = {}

    def record(self, driver_id: DriverId, point: TracePoint, *, is_available: bool, on_trip: RideId | None,
               status: DriverAvailability | None = None) -> None:
        """Take in one fix from a driver's app (coordinates already checked), with the status its connection knows."""
        self.positions.record(driver_id, point.lat, point.lng, point.at, status)
        if on_trip is not None:
            self.traces.add(on_trip, point)
        held = self._seen.get(driver_id)
        if held is None or point.at >= held.at:
            self._seen[driver_id] = _Seen(point.lat, point.lng, point.at, is_available)

    def note_availability(self, driver_id: DriverId, is_available: bool) -> None:
        """Correct what the next flush tells the rank queues about a driver whose status just changed."""
        held = self._seen.get(driver_id)
        if held is not None:
            self._seen[driver_id] = _Seen(held.lat, held.lng, held.at, is_available)

    async def flush(self) -> None:
        """Write what came in since the last flush: positions, trace fixes, connection marks, queue joins and leaves."""
        seen, self._seen = self._seen, {}
        await self.positions.flush()
        await self.traces.flush()
        await self.presence.flush()
        if self.queues is not None and self.zone_map is not None and seen:
            updates = []
            for driver_id, fix in seen.items():
                zone_id = self.zone_map.zone_id_at(fix.lat, fix.lng)
                if zone_id is not None:
                    self._last_in_zone[driver_id] = fix.at
                # A driver new here may be queued from another instance: their first fix is always told.
                last = self._last_in_zone.setdefault(driver_id, fix.at if zone_id is None else None)
                if zone_id is not None or (last is not None and fix.at - last <= QUEUE_WATCH):
                    updates.append(QueueUpdate(driver_id, zone_id, fix.is_available, fix.at))
            if updates:
                await self.queues.sync(updates)

    async def run(self, interval: float = FLUSH_SECONDS) -> None:
        """Flush every `interval` seconds until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(interval)
                await self._flush_logged()
        finally:
            await self._flush_logged()

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except (RedisError, OSError, asyncpg.PostgresError):
            # Redis or PostgreSQL being away must not end ingestion: positions and fixes are kept and retried.
            log.warning("could not write the fleet's positions; retrying", exc_info=True)
